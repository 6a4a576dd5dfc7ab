/** Regression tests for failure paths found in review: none may leave a task waiting forever or take the runtime down. */
import { SimulatedClock, createMachine } from 'xstate';
import { NotRunningError, createNeuroFlux, type TaskExecutor } from '../src';
import { ShardedSupervisor } from '../src/kernel/shardedSupervisor';
import { createRuntimeRoot } from '../src/kernel/runtimeRoot';
import { settle } from './support/settle';

describe('orchestrator robustness', () => {
  test('dependents of a task that fails while it is being spawned do not wait forever', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.orchestrator.registerAgent('a', { capabilities: ['x'], execute: (t) => (t.taskId === 'X' ? Promise.reject(new Error('no')) : 'ok') });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'X', requiredCapabilities: ['x'], retryPolicy: { retryOnFailure: false } });
    await nf.orchestrator.waitForTask('X');
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'A', dependencies: ['X'], requiredCapabilities: ['x'] },
        { taskId: 'B', dependencies: ['A'], requiredCapabilities: ['x'] },
      ],
    });
    const [a, b] = await nf.orchestrator.waitForWorkflow(['A', 'B']);
    expect([a?.status, b?.status]).toEqual(['failed', 'failed']);
    expect(b?.reason).toBe('dependency_failed');
    await nf.stop();
  });

  test('a run aborted by agent loss cannot answer for the next dispatch of the same attempt', async () => {
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock });
    const signals: AbortSignal[] = [];
    const finishers: ((v: unknown) => void)[] = [];
    const execute: TaskExecutor = (_t, { signal }) =>
      new Promise((resolve) => {
        signals.push(signal);
        finishers.push(resolve);
      });
    nf.orchestrator.registerAgent('A', { capabilities: ['x'], execute });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'T', requiredCapabilities: ['x'], timeoutSeconds: 10, retryPolicy: { retryOnFailure: false } });
    await settle();
    nf.orchestrator.unregisterAgent('A');
    nf.orchestrator.registerAgent('A', { capabilities: ['x'], execute }); // the agent reconnects under the same id
    await settle();
    expect(nf.orchestrator.getTask('T')?.state).toBe('running');
    finishers[0]?.('stale answer'); // the first run ignores its abort and answers late
    await settle();
    expect(nf.orchestrator.getTask('T')?.state).toBe('running');
    expect(nf.orchestrator.getStats().lateResults).toBe(1);
    clock.increment(10_000); // the second run times out: its own signal fires
    await settle();
    expect(signals[1]?.aborted).toBe(true);
    expect(nf.orchestrator.getTask('T')?.status).toBe('timeout');
    await nf.stop();
  });

  test('a user balancer that throws leaves the task waiting and the runtime running', async () => {
    const nf = createNeuroFlux({
      clock: new SimulatedClock(),
      orchestrator: {
        balancers: [
          {
            name: 'broken',
            choose: () => {
              throw new Error('bug');
            },
          },
          {
            name: 'brokenScore',
            score: () => {
              throw new Error('bug');
            },
          },
        ],
      },
    });
    nf.orchestrator.registerAgent('a', { capabilities: ['x'], execute: () => 'ok' });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'waits', requiredCapabilities: ['x'], balancer: 'broken' });
    nf.orchestrator.submitTask({ taskId: 'runs', requiredCapabilities: ['x'], balancer: 'brokenScore' });
    expect((await nf.orchestrator.waitForTask('runs')).status).toBe('completed');
    await settle();
    expect(nf.orchestrator.getTask('waits')?.state).toBe('queued');
    expect(nf.orchestrator.getStats().balancerErrors).toBeGreaterThan(0);
    expect(nf.system.getSnapshot().status).toBe('active');
    await nf.stop();
  });

  test('stop() answers every waiter, and the orchestrator refuses new work', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.orchestrator.registerAgent('a', { capabilities: ['x'], execute: () => new Promise(() => undefined) });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'long', requiredCapabilities: ['x'] });
    await settle();
    const waiting = nf.orchestrator.waitForTask('long');
    await nf.stop();
    await expect(waiting).resolves.toMatchObject({ taskId: 'long', status: 'running' });
    expect(() => nf.orchestrator.submitTask({ requiredCapabilities: ['x'] })).toThrow(NotRunningError);
  });
});

describe('supervision', () => {
  test('a crashing child is reported and its shard, siblings and root keep running', () => {
    const root = createRuntimeRoot({ clock: new SimulatedClock() });
    const crashes: string[] = [];
    const logic = createMachine({
      on: {
        CRASH: {
          actions: () => {
            throw new Error('effect failed');
          },
        },
      },
    });
    const supervisor = new ShardedSupervisor(root, 'worker', logic, 16, (id, error) => crashes.push(`${id}: ${(error as Error).message}`));
    const [a, b] = supervisor.spawnMany([
      { id: 'a', input: {} },
      { id: 'b', input: {} },
    ]);
    a?.send({ type: 'CRASH' });
    expect(crashes).toEqual(['a: effect failed']);
    expect(b?.getSnapshot().status).toBe('active');
    expect(root.getSnapshot().status).toBe('active');
    root.stop();
  });
});
