import type { SnapshotStore, StoredSnapshot } from '../../src/store';

/** What a `SnapshotWriter` stored under `key`: the state out of its envelope, with the revision. */
export async function storedState<T>(store: SnapshotStore, key: string): Promise<StoredSnapshot<T>> {
  const stored = await store.load<{ state: T }>(key);
  if (!stored) throw new Error(`nothing stored under '${key}'`);
  return { value: stored.value.state, revision: stored.revision };
}
