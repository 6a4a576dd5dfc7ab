/**
 * The orchestrator's stored layout (issue #20): open tasks under a key each, so that a write
 * after one change is small however many tasks are open; a store written by the previous
 * version (every open task in the head) still restores; task ids that are user input are
 * safe as keys.
 */
import { SimulatedClock } from 'xstate';
import { MemorySnapshotStore, createNeuroFlux, type SnapshotStore, type StoredSnapshot } from '../src';
import { encodeRecordId } from '../src/store/snapshotRecords';
import { settle } from './support/settle';

/** A memory store that records the key and size of every save and delete. */
class RecordingStore implements SnapshotStore {
  readonly inner = new MemorySnapshotStore();
  readonly saves: { key: string; bytes: number }[] = [];
  readonly deletes: string[] = [];
  load<T>(key: string): Promise<StoredSnapshot<T> | undefined> {
    return this.inner.load<T>(key);
  }
  async save(key: string, value: unknown, expectedRevision?: number): Promise<number> {
    const revision = await this.inner.save(key, value, expectedRevision);
    this.saves.push({ key, bytes: JSON.stringify(value).length });
    return revision;
  }
  async delete(key: string): Promise<void> {
    this.deletes.push(key);
    await this.inner.delete(key);
  }
  keys(): Promise<string[]> {
    return this.inner.keys();
  }
  async close(): Promise<void> {}
}

/** Lets turns pass until a round of them writes nothing (a large workflow spawns its actors over several turns). */
async function quiet(store: RecordingStore): Promise<void> {
  for (let rounds = 0, before = -1; store.saves.length !== before && rounds < 1000; rounds++) {
    before = store.saves.length;
    await settle();
  }
}

const recordKeys = async (store: SnapshotStore) => (await store.keys()).filter((key) => key.startsWith('orchestrator.records.'));

describe('orchestrator store layout', () => {
  test('with 1 500 open tasks, the write after one change is the head alone, small; every task restores', async () => {
    const store = new RecordingStore();
    const nf = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store } });
    await nf.start();
    nf.orchestrator.submitWorkflow({ tasks: Array.from({ length: 1500 }, (_, i) => ({ taskId: `open-${i}`, requiredCapabilities: ['nobody'] })) }, { requireCapableAgents: false });
    await quiet(store);
    expect(nf.orchestrator.cancelTask('open-41')).toBe(true);
    await quiet(store); // this write also takes the records the last one kept in the head to their keys
    store.saves.length = 0;
    store.deletes.length = 0;

    expect(nf.orchestrator.cancelTask('open-42')).toBe(true);
    await quiet(store);
    expect(store.saves.map((s) => s.key)).toEqual(['orchestrator']);
    expect(store.saves[0]?.bytes).toBeLessThan(4096); // two cancelled tasks (in the archive's tail), not 1 500 open ones
    expect(store.deletes).toEqual([`orchestrator.records.${encodeRecordId('open-42')}`]);

    store.saves.length = 0;
    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'one-more', requiredCapabilities: ['nobody'] }] }, { requireCapableAgents: false });
    await quiet(store);
    expect(store.saves.map((s) => s.key)).toEqual(['orchestrator']); // the new task rides in the head until the next write
    expect(store.saves[0]?.bytes).toBeLessThan(4096);
    await nf.stop(); // flushed: every open task in its key
    expect(await recordKeys(store)).toHaveLength(1499);

    const next = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store } });
    await next.start();
    expect(next.orchestrator.getStats()).toMatchObject({ tasksCreated: 1501, pendingTasks: 1499 });
    expect(next.orchestrator.getTask('open-42')?.status).toBe('cancelled');
    await next.stop();
  });

  test("a task's record key follows its transitions before it finishes: a retrying task's key carries its retryCount (the table names the entry it changed)", async () => {
    const store = new RecordingStore();
    const nf = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store } });
    await nf.start();
    const poke = async (taskId: string) => {
      nf.orchestrator.submitWorkflow({ tasks: [{ taskId, requiredCapabilities: ['nobody'] }] }, { requireCapableAgents: false });
      await quiet(store);
    };
    const keyOfR = async () =>
      (await store.load<{ item: { record: { state: string; retryCount: number; error: string | null } } }>(`orchestrator.records.${encodeRecordId('r')}`))?.value.item.record;
    // The backoff is an hour on a clock that does not move: the task stays `retrying`.
    nf.orchestrator.submitTask({ taskId: 'r', requiredCapabilities: ['x'], retryPolicy: { maxRetries: 3, initialDelay: 3600 } });
    await quiet(store);
    // One more change: its write takes the records the last one kept in the head to their keys.
    await poke('poke-1');
    expect(await keyOfR()).toMatchObject({ state: 'queued', retryCount: 0 });
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: () => Promise.reject(new Error('not yet')) });
    await quiet(store);
    expect(nf.orchestrator.getTask('r')).toMatchObject({ state: 'retrying', retryCount: 1 });
    await poke('poke-2');
    expect(await keyOfR()).toMatchObject({ state: 'retrying', retryCount: 1, error: 'not yet' });
    await nf.stop();
  });

  test('a store written by the previous version (open and finished tasks in the head) restores, and is rewritten in the new layout', async () => {
    const store = new MemorySnapshotStore();
    const seed = createNeuroFlux({ clock: new SimulatedClock() });
    seed.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: () => 'seeded' });
    await seed.start();
    seed.orchestrator.submitWorkflow({ tasks: [{ taskId: 'done', requiredCapabilities: ['x'] }] });
    const [done] = await seed.orchestrator.waitForWorkflow(['done']);
    await seed.stop();
    // What the previous version wrote: an envelope whose state holds every open task.
    const running = { ...done, taskId: 'open', state: 'running', status: 'running', result: undefined, completedAt: null, assignedAgent: 'gone', startedAt: 5 };
    const waiting = { ...running, taskId: 'after', state: 'waiting', status: 'pending', dependencies: ['open'], assignedAgent: null, startedAt: null };
    await store.save('orchestrator', {
      state: {
        version: 1,
        savedAt: 0,
        tasks: [
          { record: running, balancer: 'default' },
          { record: waiting, balancer: 'default' },
        ],
      },
      written: 'previous.1',
      archive: { segments: [], tail: [{ record: done, balancer: 'default' }] },
    });

    const runs: string[] = [];
    const nf = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store } });
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: (task) => (runs.push(task.taskId), 'again') });
    await nf.start();
    expect(nf.orchestrator.getTask('done')).toMatchObject({ status: 'completed', result: 'seeded' });
    const records = await nf.orchestrator.waitForWorkflow(['open', 'after']);
    expect(records.map((r) => r.result)).toEqual(['again', 'again']);
    expect(runs).toEqual(['open', 'after']);
    await nf.stop();
    const head = (await store.load<{ state: object }>('orchestrator'))?.value;
    expect(head?.state).toEqual({ version: 2, savedAt: expect.any(Number) });
    expect(await recordKeys(store)).toEqual([]); // all finished: in the archive
  });

  test('a previous-version head with a task still open restores it into a record key of its own', async () => {
    const store = new MemorySnapshotStore();
    const seed = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store: new MemorySnapshotStore() } });
    await seed.start();
    seed.orchestrator.submitWorkflow({ tasks: [{ taskId: 'parked', requiredCapabilities: ['nobody'] }] }, { requireCapableAgents: false });
    const record = seed.orchestrator.getTask('parked');
    await seed.stop();
    await store.save('orchestrator', { version: 1, savedAt: 0, tasks: [{ record, balancer: null }] }); // no envelope: the oldest layout

    const nf = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store } });
    await nf.start();
    expect(nf.orchestrator.getTask('parked')?.status).toBe('pending');
    await nf.stop();
    expect(await recordKeys(store)).toHaveLength(1);
  });

  test('task ids that are user input (__proto__, /, ., unicode, 10 000 characters) are stored and restored', async () => {
    const ids = ['__proto__', 'constructor', 'a/b', '.', '..', 'x.y', '任务🚀', 'x'.repeat(10_000)];
    const store = new MemorySnapshotStore();
    const first = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store } });
    await first.start();
    first.orchestrator.submitWorkflow({ tasks: ids.map((taskId) => ({ taskId, requiredCapabilities: ['nobody'] })) }, { requireCapableAgents: false });
    await first.stop();
    expect(first.orchestrator.getStats().persistence).toMatchObject({ saveErrors: 0, records: { keys: ids.length } });
    expect(await recordKeys(store)).toHaveLength(ids.length);

    const second = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store } });
    await second.start();
    for (const id of ids) expect(second.orchestrator.getTask(id)?.taskId).toBe(id);
    expect(second.orchestrator.getStats().tasksCreated).toBe(ids.length);
    await second.stop();
  });
});
