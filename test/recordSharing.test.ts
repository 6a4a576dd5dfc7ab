/**
 * The lists and retry policy of a task record are shared with other records (equal ones are
 * stored once) and reach users and executors through shallow copies. A caller that mutates
 * them (`record.dependencies.push(...)`, `.sort()`, `retryPolicy.maxRetries = 99`) must not
 * change other tasks or break the orchestrator: before, it changed every task with the same
 * list (and the schema's default policy), and the next submission threw a TypeError from
 * inside the orchestrator.
 */
import { SimulatedClock } from 'xstate';
import { createNeuroFlux, MemorySnapshotStore, type TaskRecord } from '../src';
import { cleanupAfterEach } from './support/cleanup';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

/** Every way a caller could change a record's shared parts; each must throw (they are frozen). */
function tamperWith(record: Pick<TaskRecord, 'dependencies' | 'requiredCapabilities' | 'retryPolicy'>): number {
  const attempts = [
    () => (record.dependencies as string[]).push('ghost'),
    () => (record.requiredCapabilities as string[]).push('ghost'),
    () => (record.requiredCapabilities as string[]).sort(),
    () => ((record.retryPolicy as { maxRetries: number }).maxRetries = 99),
  ];
  let refused = 0;
  for (const attempt of attempts) {
    try {
      attempt();
    } catch (error) {
      if (error instanceof TypeError) refused++;
    }
  }
  return refused;
}

describe('shared parts of task records', () => {
  test('a record from getTask cannot change other tasks, the defaults or later submissions', async () => {
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock() }));
    nf.orchestrator.registerAgent('a', { capabilities: ['w', 'v'], execute: () => 1 });
    await nf.start();
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'x', requiredCapabilities: ['w', 'v'] },
        { taskId: 'y', requiredCapabilities: ['w', 'v'] },
      ],
    });
    expect(tamperWith(nf.orchestrator.getTask('x') as TaskRecord)).toBe(4);
    const y = nf.orchestrator.getTask('y') as TaskRecord;
    expect([y.dependencies, y.requiredCapabilities, y.retryPolicy.maxRetries]).toEqual([[], ['w', 'v'], 3]);
    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'z', requiredCapabilities: ['w', 'v'] }] });
    expect(nf.orchestrator.getTask('z')).toMatchObject({ dependencies: [], retryPolicy: { maxRetries: 3 } });
    const records = await nf.orchestrator.waitForWorkflow(['x', 'y', 'z']);
    expect(records.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
  });

  test('an executor that changes its task fails its own attempt, not the other tasks', async () => {
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock() }));
    nf.orchestrator.registerAgent('a', {
      capabilities: ['w'],
      execute: (task) => {
        if (task.taskId === 'bad') (task.requiredCapabilities as string[]).push('ghost');
        return task.taskId;
      },
    });
    await nf.start();
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'bad', requiredCapabilities: ['w'], retryPolicy: { maxRetries: 0 } },
        { taskId: 'good', requiredCapabilities: ['w'] },
      ],
    });
    const [bad, good] = await nf.orchestrator.waitForWorkflow(['bad', 'good']);
    expect(bad).toMatchObject({ status: 'failed', requiredCapabilities: ['w'] });
    expect(good).toMatchObject({ status: 'completed', requiredCapabilities: ['w'] });
  });

  test('a record restored from the store is frozen the same way', async () => {
    const store = new MemorySnapshotStore();
    const clock = new SimulatedClock();
    const first = cleanup.add(createNeuroFlux({ clock, orchestrator: { store } }));
    first.orchestrator.registerAgent('a', { capabilities: ['w', 'v'], execute: () => new Promise(() => {}) });
    await first.start();
    first.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'p', requiredCapabilities: ['w', 'v'] },
        { taskId: 'q', requiredCapabilities: ['w', 'v'], dependencies: ['p'] },
      ],
    });
    await settle();
    await first.stop();
    const second = cleanup.add(createNeuroFlux({ clock, orchestrator: { store } }));
    await second.start();
    expect(tamperWith(second.orchestrator.getTask('q') as TaskRecord)).toBe(4);
    expect(second.orchestrator.getTask('q')).toMatchObject({ dependencies: ['p'], requiredCapabilities: ['w', 'v'] });
  });
});
