/**
 * Orchestrator state in a snapshot store: a new orchestrator restores it, finished tasks
 * stay finished (results recorded once), unfinished ones run again, and the previous writer
 * is fenced.
 */
import { SimulatedClock } from 'xstate';
import { MemorySnapshotStore, TaskOrchestrator, ValidationError, createNeuroFlux, type SnapshotStore, type TaskExecutor } from '../src';
import { settle } from './support/settle';

function runtime(store: SnapshotStore, execute: TaskExecutor) {
  const nf = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store } });
  nf.orchestrator.registerAgent('worker', { capabilities: ['x'], maxConcurrentTasks: 10, execute });
  return nf;
}

describe('orchestrator persistence', () => {
  test('a restarted orchestrator completes the workflow; finished tasks do not run again', async () => {
    const store = new MemorySnapshotStore();
    const runs: string[] = [];
    // First process: `a` completes, `b` hangs (the process will "die" with it).
    const first = runtime(store, (task) => {
      runs.push(`first:${task.taskId}`);
      return task.taskId === 'a' ? 'A' : new Promise(() => undefined);
    });
    await first.start();
    first.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'a', requiredCapabilities: ['x'] },
        { taskId: 'b', dependencies: ['a'], requiredCapabilities: ['x'] },
        { taskId: 'c', dependencies: ['b'], requiredCapabilities: ['x'] },
        { taskId: 'late', dependencies: ['c'], requiredCapabilities: ['x'], retryPolicy: { maxRetries: 1 } },
      ],
    });
    await settle();
    expect(first.orchestrator.getTask('b')?.state).toBe('running');
    await settle(); // the write of this state lands

    // Second process, same store: it takes over.
    const second = runtime(store, (task, { dependencyResults }) => {
      runs.push(`second:${task.taskId}`);
      return { from: task.taskId, inputs: dependencyResults };
    });
    await second.start();
    const records = await second.orchestrator.waitForWorkflow(['a', 'b', 'c', 'late']);
    expect(records.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(records[0]?.result).toBe('A'); // recorded once, by the first process
    expect(records[1]?.result).toEqual({ from: 'b', inputs: { a: 'A' } });
    expect(runs).toEqual(['first:a', 'first:b', 'second:b', 'second:c', 'second:late']);

    // The first process is fenced: its next write finds the key taken over, and it stops.
    first.orchestrator.submitTask({ taskId: 'stale', requiredCapabilities: ['x'] });
    await settle();
    expect(first.orchestrator.getStats().persistence).toMatchObject({ fenced: true });
    expect(() => first.orchestrator.submitTask({ requiredCapabilities: ['x'] })).toThrow(/not running/);
    await second.stop();
    await first.stop();

    // A third process sees everything finished and runs nothing.
    const third = runtime(store, () => {
      runs.push('third');
      return 'x';
    });
    await third.start();
    expect(third.orchestrator.getStats()).toMatchObject({ tasksCompleted: 4, pendingTasks: 0 });
    expect(runs).not.toContain('third');
    await third.stop();
  });

  test('retries already spent survive a restart', async () => {
    const store = new MemorySnapshotStore();
    const clock = new SimulatedClock();
    const first = createNeuroFlux({ clock, orchestrator: { store } });
    first.orchestrator.registerAgent('w', { capabilities: ['x'], execute: () => Promise.reject(new Error('flaky')) });
    await first.start();
    first.orchestrator.submitTask({ taskId: 't', requiredCapabilities: ['x'], retryPolicy: { maxRetries: 2, initialDelay: 1 } });
    await settle();
    clock.increment(1000);
    await settle();
    expect(first.orchestrator.getTask('t')?.retryCount).toBe(2);
    await first.stop();

    // Same clock: absolute deadlines are wall-clock times shared by the processes.
    const second = createNeuroFlux({ clock, orchestrator: { store } });
    second.orchestrator.registerAgent('w', { capabilities: ['x'], execute: () => Promise.reject(new Error('still flaky')) });
    await second.start();
    clock.increment(2000); // the backoff left when the first process stopped
    const record = await second.orchestrator.waitForTask('t');
    expect(record).toMatchObject({ status: 'failed', retryCount: 2, error: 'still flaky' });
    await second.stop();
  });

  test('a task restored in the middle of a retry backoff waits only for what is left of it', async () => {
    const store = new MemorySnapshotStore();
    const clock = new SimulatedClock();
    const runsAt: number[] = [];
    const first = createNeuroFlux({ clock, orchestrator: { store } });
    first.orchestrator.registerAgent('w', {
      capabilities: ['x'],
      execute: () => {
        runsAt.push(clock.now());
        return Promise.reject(new Error('flaky'));
      },
    });
    await first.start();
    first.orchestrator.submitTask({ taskId: 't', requiredCapabilities: ['x'], retryPolicy: { maxRetries: 1, initialDelay: 10 } });
    await settle();
    expect(first.orchestrator.getTask('t')).toMatchObject({ state: 'retrying', retryAt: 10_000 });
    clock.increment(4000);
    await settle();
    await first.stop(); // "dies" 4 s into a 10 s backoff

    const second = createNeuroFlux({ clock, orchestrator: { store } });
    second.orchestrator.registerAgent('w', {
      capabilities: ['x'],
      execute: () => {
        runsAt.push(clock.now());
        return 'done';
      },
    });
    await second.start();
    await settle();
    expect(second.orchestrator.getTask('t')).toMatchObject({ state: 'retrying', retryCount: 1, retryAt: 10_000 });
    clock.increment(5999);
    await settle();
    expect(runsAt).toEqual([0]); // not re-queued at once, nor after a fresh 10 s
    clock.increment(1);
    const record = await second.orchestrator.waitForTask('t');
    expect(record).toMatchObject({ status: 'completed', result: 'done', retryCount: 1 });
    expect(runsAt).toEqual([0, 10_000]);
    await second.stop();
  });

  test('a corrupt stored state is refused with an error naming the field', async () => {
    const store = new MemorySnapshotStore();
    await store.save('orchestrator', { version: 1, savedAt: 0, tasks: [{ record: { taskId: 'x' }, balancer: null }] });
    const nf = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store } });
    await expect(nf.start()).rejects.toBeInstanceOf(ValidationError);
    await nf.stop();
  });

  test('finished tasks leave the rewritten state for write-once archive segments; a restart restores them all as finished', async () => {
    const store = new MemorySnapshotStore();
    const runs: string[] = [];
    const make = () => {
      const nf = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store, archiveSegmentSize: 50 } });
      nf.orchestrator.registerAgent('worker', { capabilities: ['x'], maxConcurrentTasks: 100, execute: (task) => (runs.push(task.taskId), task.taskId) });
      return nf;
    };
    const first = make();
    await first.start();
    const ids = Array.from({ length: 620 }, (_, i) => `t${i}`);
    first.orchestrator.submitWorkflow({ tasks: ids.map((taskId) => ({ taskId, requiredCapabilities: ['x'] })) });
    first.orchestrator.submitTask({ taskId: 'open', requiredCapabilities: ['nobody-has-it'] });
    await first.orchestrator.waitForWorkflow(ids);
    await first.stop();
    expect(first.orchestrator.getStats().persistence?.archive).toEqual({ segments: 12, pending: 20 });
    // The rewritten head holds the 20 finished tasks not sealed yet; the open task has a key of its own.
    const stored = (await store.load<{ state: object; archive: { segments: string[]; tail: unknown[] } }>('orchestrator'))?.value;
    expect(stored?.state).toEqual({ version: 2, savedAt: expect.any(Number) });
    expect(stored?.archive.segments).toHaveLength(12);
    expect(stored?.archive.tail).toHaveLength(20);
    expect((await store.keys()).filter((key) => key.startsWith('orchestrator.records.'))).toHaveLength(1);

    const second = make();
    await second.start();
    expect(second.orchestrator.getStats()).toMatchObject({ tasksCreated: 621, tasksCompleted: 620 });
    expect(second.orchestrator.getTask('t0')).toMatchObject({ status: 'completed', result: 't0' });
    expect(second.orchestrator.getTask('t619')).toMatchObject({ status: 'completed', result: 't619' });
    expect(second.orchestrator.getTask('open')?.status).toBe('pending');
    expect(runs).toHaveLength(620); // nothing ran twice
    await second.stop();
  });

  test('a state written before the archive existed is restored, and its finished tasks move to the archive', async () => {
    const store = new MemorySnapshotStore();
    const seed = createNeuroFlux({ clock: new SimulatedClock() });
    seed.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: () => 'done' });
    await seed.start();
    seed.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'a', requiredCapabilities: ['x'] },
        { taskId: 'b', requiredCapabilities: ['x'] },
      ],
    });
    const done = await seed.orchestrator.waitForWorkflow(['a', 'b']);
    await seed.stop();
    // The earlier layout: every task in `tasks`, no envelope.
    const record = (r: (typeof done)[number]) => ({ record: { ...r }, balancer: 'default' });
    await store.save('orchestrator', { version: 1, savedAt: 0, tasks: done.map(record) });

    const nf = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store, archiveSegmentSize: 2 } });
    await nf.start();
    expect(nf.orchestrator.getTask('b')).toMatchObject({ status: 'completed', result: 'done' });
    await nf.stop();
    const stored = (await store.load<{ state: object; archive: { segments: string[] } }>('orchestrator'))?.value;
    expect(stored?.state).toEqual({ version: 2, savedAt: expect.any(Number) });
    expect(stored?.archive.segments).toHaveLength(1);
    expect((await store.keys()).filter((key) => key.startsWith('orchestrator.records.'))).toEqual([]);
  });

  test('tasks that finish before restore() are written after it, with the restored ones: the orchestrator is not fenced by its own key', async () => {
    const store = new MemorySnapshotStore();
    const first = runtime(store, () => 'first');
    await first.start();
    first.orchestrator.submitTask({ taskId: 'old', requiredCapabilities: ['x'] });
    await first.orchestrator.waitForTask('old');
    await first.stop();

    const second = runtime(store, () => 'second');
    second.orchestrator.submitTask({ taskId: 'early', requiredCapabilities: ['x'] });
    await second.orchestrator.waitForTask('early'); // finished before start() restores
    await second.start();
    await settle();
    expect(second.orchestrator.getStats().persistence).toMatchObject({ fenced: false, saveErrors: 0 });
    expect(second.orchestrator.getTask('old')).toMatchObject({ status: 'completed', result: 'first' });
    await second.stop();

    const third = runtime(store, () => 'third');
    await third.start();
    expect(third.orchestrator.getTask('old')?.result).toBe('first');
    expect(third.orchestrator.getTask('early')?.result).toBe('second');
    await third.stop();
  });

  test('an activation that failed (store unreachable) can be tried again', async () => {
    const inner = new MemorySnapshotStore();
    let down = true;
    const store: SnapshotStore = Object.assign(Object.create(inner) as SnapshotStore, {
      load: async <T>(key: string) => {
        if (down) throw new Error('store unreachable');
        return inner.load<T>(key);
      },
    });
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    await nf.start();
    const standby = new TaskOrchestrator({ bus: nf.bus, store, role: 'standby', orchestratorId: 'candidate' });
    await expect(standby.activate()).rejects.toThrow('store unreachable');
    down = false;
    await expect(standby.activate()).resolves.toBe(0);
    expect(standby.getStats().active).toBe(true);
    await standby.stop();
    await nf.stop();
  });
});
