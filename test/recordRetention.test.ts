/**
 * Finished task records do not stay in memory for the life of the process: past
 * `retention.maxRecords` or `retention.maxAgeMs` the oldest finished go; with a store they
 * are read back from its archive (`findTask`, `waitForTask`), without one they are gone. A
 * task's dependencies stay until it has run (its executor gets their results).
 */
import { SimulatedClock } from 'xstate';
import { z } from 'zod';
import { MemorySnapshotStore, SnapshotWriter, UnknownTaskError, createNeuroFlux, type TaskOrchestratorOptions } from '../src';
import { cleanupAfterEach } from './support/cleanup';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

async function runtime(orchestrator: Omit<TaskOrchestratorOptions, 'bus'> = {}) {
  const clock = new SimulatedClock();
  const nf = cleanup.add(createNeuroFlux({ clock, orchestrator }));
  nf.orchestrator.registerAgent('worker', { capabilities: ['x'], maxConcurrentTasks: 10, execute: (task) => `${task.taskId}!` });
  await nf.start();
  const run = async (taskId: string) => {
    nf.orchestrator.submitTask({ taskId, requiredCapabilities: ['x'] });
    return nf.orchestrator.waitForTask(taskId);
  };
  return { clock, nf, run };
}

describe('retention of finished task records', () => {
  test('past maxRecords the oldest finished records leave memory; without a store they are gone', async () => {
    const { nf, run } = await runtime({ retention: { maxRecords: 3 } });
    for (const id of ['t1', 't2', 't3', 't4', 't5']) await run(id);
    expect(nf.orchestrator.getTask('t1')).toBeUndefined();
    expect(nf.orchestrator.getTask('t2')).toBeUndefined();
    expect(nf.orchestrator.getTask('t3')).toMatchObject({ status: 'completed', result: 't3!' });
    expect(nf.orchestrator.getTask('t5')).toMatchObject({ status: 'completed', result: 't5!' });
    await expect(nf.orchestrator.findTask('t1')).resolves.toBeUndefined();
    await expect(nf.orchestrator.waitForTask('t1')).rejects.toBeInstanceOf(UnknownTaskError);
    // The counters count every task, kept or not.
    expect(nf.orchestrator.getStats()).toMatchObject({ tasksCreated: 5, tasksCompleted: 5 });
  });

  test('a record older than maxAgeMs goes when a later task finishes (clock time)', async () => {
    const { nf, run, clock } = await runtime({ retention: { maxAgeMs: 60_000 } });
    await run('old');
    clock.increment(60_000);
    await run('edge'); // exactly maxAgeMs old is not older than it
    expect(nf.orchestrator.getTask('old')).toBeDefined();
    clock.increment(1);
    await run('new');
    expect(nf.orchestrator.getTask('old')).toBeUndefined();
    expect(nf.orchestrator.getTask('edge')).toBeDefined();
    expect(nf.orchestrator.getTask('new')).toBeDefined();
  });

  test('the default keeps 10 000 records for 1 h; 0 keeps every record for ever', async () => {
    const { nf, run, clock } = await runtime();
    await run('first');
    clock.increment(3_600_000);
    await run('second');
    expect(nf.orchestrator.getTask('first')).toBeDefined();
    clock.increment(1);
    await run('third');
    expect(nf.orchestrator.getTask('first')).toBeUndefined();

    const unbounded = await runtime({ retention: { maxRecords: 0, maxAgeMs: 0 } });
    await unbounded.run('a');
    unbounded.clock.increment(365 * 24 * 3_600_000);
    await unbounded.run('b');
    expect(unbounded.nf.orchestrator.getTask('a')).toBeDefined();
  });

  test('with a store, a record let go is read back from the archive by findTask and waitForTask', async () => {
    const store = new MemorySnapshotStore();
    const { nf, run } = await runtime({ store, archiveSegmentSize: 2, retention: { maxRecords: 2 } });
    const ids = ['t0', 't1', 't2', 't3', 't4', 't5', 't6'];
    for (const id of ids) await run(id);
    await settle();
    expect(nf.orchestrator.getTask('t0')).toBeUndefined();
    expect(nf.orchestrator.getStats().persistence?.archive?.segments).toBeGreaterThan(0);
    // t0 is in a sealed segment, t4 in the tail the value carries.
    await expect(nf.orchestrator.findTask('t0')).resolves.toMatchObject({ taskId: 't0', status: 'completed', result: 't0!' });
    await expect(nf.orchestrator.findTask('t4')).resolves.toMatchObject({ taskId: 't4', result: 't4!' });
    await expect(nf.orchestrator.waitForTask('t1')).resolves.toMatchObject({ taskId: 't1', status: 'completed' });
    await expect(nf.orchestrator.findTask('never')).resolves.toBeUndefined();
    await expect(nf.orchestrator.waitForTask('never')).rejects.toBeInstanceOf(UnknownTaskError);
    await expect(nf.orchestrator.findTask('t6')).resolves.toMatchObject({ result: 't6!' }); // in memory

    // A restart holds the same bounded number in memory and reads the rest from the archive.
    await nf.stop();
    const second = await runtime({ store, archiveSegmentSize: 2, retention: { maxRecords: 2 } });
    expect(second.nf.orchestrator.getTask('t0')).toBeUndefined();
    expect(second.nf.orchestrator.getTask('t6')).toBeDefined();
    await expect(second.nf.orchestrator.waitForTask('t0')).resolves.toMatchObject({ result: 't0!' });
  });

  test("a finished task stays while a task depending on it has not run: its executor gets the dependency's result", async () => {
    const clock = new SimulatedClock();
    const nf = cleanup.add(createNeuroFlux({ clock, orchestrator: { retention: { maxRecords: 1 } } }));
    let releaseSlow: (value: string) => void = () => undefined;
    const inputs: Record<string, unknown>[] = [];
    nf.orchestrator.registerAgent('worker', {
      capabilities: ['x'],
      maxConcurrentTasks: 10,
      execute: (task, { dependencyResults }) => {
        if (task.taskId === 'slow') return new Promise<string>((resolve) => (releaseSlow = resolve));
        if (task.taskId === 'child') inputs.push(dependencyResults);
        return `${task.taskId}!`;
      },
    });
    await nf.start();
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'dep', requiredCapabilities: ['x'] },
        { taskId: 'slow', requiredCapabilities: ['x'] },
        { taskId: 'child', dependencies: ['dep', 'slow'], requiredCapabilities: ['x'] },
      ],
    });
    await nf.orchestrator.waitForTask('dep');
    for (const id of ['x1', 'x2']) {
      nf.orchestrator.submitTask({ taskId: id, requiredCapabilities: ['x'] });
      await nf.orchestrator.waitForTask(id);
    }
    expect(nf.orchestrator.getTask('x1')).toBeUndefined(); // the limit is applied
    expect(nf.orchestrator.getTask('dep')).toBeDefined(); // but `child` still needs this one
    releaseSlow('slow!');
    await nf.orchestrator.waitForTask('child');
    expect(inputs).toEqual([{ dep: 'dep!', slow: 'slow!' }]);
    expect(nf.orchestrator.getTask('dep')).toBeUndefined(); // let go once `child` ran
  });

  test('a restoring owner takes the loaded archive from the writer: the writer keeps no reference to what retention lets go', async () => {
    const store = new MemorySnapshotStore();
    const writerOn = () =>
      new SnapshotWriter({ store, key: 'k', schema: z.object({ n: z.number() }), snapshot: () => ({ n: 1 }), archive: { itemSchema: z.number(), segmentSize: 2 } });
    const first = writerOn();
    for (const item of [1, 2, 3]) first.archive(item);
    await first.flush();
    const second = writerOn();
    await second.load();
    expect(second.takeArchived()).toEqual([1, 2, 3]);
    expect(second.archived()).toEqual([]);
    expect(second.takeArchived()).toEqual([]);
    // Still readable from the store when asked for.
    await expect(second.findArchived((item) => item === 1)).resolves.toBe(1);
  });

  test('retention options are validated, naming the field', () => {
    const fieldOf = (retention: unknown) => {
      try {
        createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { retention: retention as never } });
      } catch (error) {
        return (error as { field?: string }).field;
      }
      return 'accepted';
    };
    expect(fieldOf({ maxRecords: -1 })).toBe('retention.maxRecords');
    expect(fieldOf({ maxRecords: 1.5 })).toBe('retention.maxRecords');
    expect(fieldOf({ maxAgeMs: Number.NaN })).toBe('retention.maxAgeMs');
    expect(fieldOf({ maxAgeMs: Infinity })).toBe('retention.maxAgeMs');
    expect(fieldOf({ maxRecord: 5 })).toBe('retention');
    expect(fieldOf('all')).toBe('retention');
    expect(fieldOf({ maxRecords: 0, maxAgeMs: 0 })).toBe('accepted');
  });
});
