/** The behaviour every SnapshotStore shares; run against memory, file and NATS KV. */
import { RevisionMismatchError, type SnapshotStore } from '../../src/store';

export function snapshotStoreContract(make: () => Promise<SnapshotStore>): void {
  let store: SnapshotStore;
  beforeEach(async () => {
    store = await make();
  });
  afterEach(async () => {
    await store.close();
  });

  test('save then load returns a copy with an increasing revision', async () => {
    const value = { tasks: [{ taskId: 't1', deadline: 123 }] };
    const r1 = await store.save('orchestrator.main', value);
    const r2 = await store.save('orchestrator.main', { tasks: [] });
    expect(r2).toBeGreaterThan(r1);
    expect(await store.load('orchestrator.main')).toEqual({ value: { tasks: [] }, revision: r2 });
    expect(await store.load('orchestrator.other')).toBeUndefined();
  });

  test('compare-and-set: expectedRevision 0 creates once, a stale revision is refused', async () => {
    const r1 = await store.save('result.t1', { by: 'a' }, 0);
    await expect(store.save('result.t1', { by: 'b' }, 0)).rejects.toBeInstanceOf(RevisionMismatchError);
    const r2 = await store.save('result.t1', { by: 'c' }, r1);
    await expect(store.save('result.t1', { by: 'd' }, r1)).rejects.toMatchObject({ code: 'ERR_REVISION_MISMATCH', actualRevision: r2 });
    expect((await store.load('result.t1'))?.value).toEqual({ by: 'c' });
  });

  test('of concurrent creates exactly one wins', async () => {
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.save('once', i, 0)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  test('delete removes a key, which can then be created again; keys lists what is stored', async () => {
    await store.save('a.b', 1);
    await store.save('c', 2);
    expect(await store.keys()).toEqual(['a.b', 'c']);
    await store.delete('a.b');
    await store.delete('a.b');
    expect(await store.load('a.b')).toBeUndefined();
    expect(await store.keys()).toEqual(['c']);
    await store.save('a.b', 3, 0);
    expect((await store.load('a.b'))?.value).toBe(3);
  });

  test('bad keys and values are validation errors', async () => {
    await expect(store.save('', 1)).rejects.toMatchObject({ code: 'ERR_VALIDATION', field: 'key' });
    await expect(store.save('a..b', 1)).rejects.toMatchObject({ field: 'key' });
    await expect(store.save('a b', 1)).rejects.toMatchObject({ field: 'key' });
    await expect(store.save('k', () => 1)).rejects.toMatchObject({ field: 'value' });
    await expect(store.save('k', 1, -1)).rejects.toMatchObject({ field: 'expectedRevision' });
  });
}
