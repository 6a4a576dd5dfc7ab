/**
 * Per-record keys under a takeover (review of issue #20's durable state, findings 1, 2, 3
 * and 6): a deposed writer's late create never brings back a record the new writer
 * finished, its late overwrite never wins over the new writer's value, distinct ids never
 * share a key (lone surrogates, case-insensitive file systems), and the stats count only
 * keys that were written. Ordering is controlled by a store wrapper that holds requests or
 * loses replies; no timing.
 */
import { z } from 'zod';
import { MemorySnapshotStore, RevisionMismatchError, SnapshotWriter, type SnapshotStore, type StoredSnapshot } from '../src/store';
import { encodeRecordId } from '../src/store/snapshotRecords';
import { settle } from './support/settle';

const HeadSchema = z.object({ n: z.number() });
const ItemSchema = z.object({ id: z.string(), value: z.number() });
type Item = z.output<typeof ItemSchema>;

const isRecordKey = (key: string): boolean => key.startsWith('head.records.');

/** One writer's view of a shared memory store: it can hold its saves or loads of chosen keys, and lose the reply of a save that landed. */
class ControlledView implements SnapshotStore {
  private holdSaves: ((key: string) => boolean) | undefined;
  private holdLoads: ((key: string) => boolean) | undefined;
  private readonly heldSaves: (() => void)[] = [];
  private readonly heldLoads: (() => void)[] = [];
  /** The next save to a key this accepts lands, then reports a timeout. */
  loseReplyOf: ((key: string) => boolean) | undefined;
  /** Saves to keys `failSaves` accepts fail without landing. */
  failSaves: ((key: string) => boolean) | undefined;

  constructor(readonly inner: MemorySnapshotStore) {}

  holdSavesOf(match: (key: string) => boolean): void {
    this.holdSaves = match;
  }

  holdLoadsOf(match: (key: string) => boolean): void {
    this.holdLoads = match;
  }

  get held(): number {
    return this.heldSaves.length + this.heldLoads.length;
  }

  releaseAll(): void {
    this.holdSaves = undefined;
    this.holdLoads = undefined;
    for (const go of [...this.heldSaves.splice(0), ...this.heldLoads.splice(0)]) go();
  }

  async load<T>(key: string): Promise<StoredSnapshot<T> | undefined> {
    if (this.holdLoads?.(key)) await new Promise<void>((resolve) => this.heldLoads.push(resolve));
    return this.inner.load<T>(key);
  }

  async save(key: string, value: unknown, expectedRevision?: number): Promise<number> {
    if (this.holdSaves?.(key)) await new Promise<void>((resolve) => this.heldSaves.push(resolve));
    if (this.failSaves?.(key)) throw new Error('store down');
    const revision = await this.inner.save(key, value, expectedRevision);
    if (this.loseReplyOf?.(key)) {
      this.loseReplyOf = undefined;
      throw new Error('timeout (the write landed)');
    }
    return revision;
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  keys(): Promise<string[]> {
    return this.inner.keys();
  }

  async close(): Promise<void> {}
}

function recordWriter(store: SnapshotStore, items: Map<string, Item>, onFenced?: (error: RevisionMismatchError) => void) {
  let n = 0;
  return new SnapshotWriter<{ n: number }, never, Item>({
    store,
    key: 'head',
    schema: HeadSchema,
    snapshot: () => ({ n: n++ }),
    records: { itemSchema: ItemSchema, current: (id) => items.get(id) },
    ...(onFenced && { onFenced }),
  });
}

/** What a restart would find. */
async function restored(store: SnapshotStore): Promise<readonly Item[]> {
  const reader = recordWriter(store, new Map());
  await reader.load();
  return [...reader.takeRecords()].sort((a, b) => a.id.localeCompare(b.id));
}

/** A writer that took the head over and holds what it restored. */
async function takeOver(store: SnapshotStore) {
  const items = new Map<string, Item>();
  const writer = recordWriter(store, items);
  await writer.takeOver();
  for (const item of writer.takeRecords()) items.set(item.id, item);
  return { writer, items };
}

describe('a deposed writer cannot bring a record back nor overwrite a newer one', () => {
  test("a deposed writer's late create of a record key, landing after the new writer finished the record, is fenced", async () => {
    const inner = new MemorySnapshotStore();
    const viewA = new ControlledView(inner);
    const itemsA = new Map<string, Item>();
    const fencedA: RevisionMismatchError[] = [];
    const a = recordWriter(viewA, itemsA, (error) => fencedA.push(error));
    await a.takeOver();
    // A's head carrying x lands; the create of x's key is held (in flight, or A paused).
    viewA.holdSavesOf(isRecordKey);
    itemsA.set('x', { id: 'x', value: 1 });
    a.recordChanged('x');
    const aWrite = a.flush();
    await settle();
    expect(viewA.held).toBe(1);

    const b = await takeOver(inner);
    expect([...b.items.keys()]).toEqual(['x']);
    b.items.delete('x'); // x finishes at B
    b.writer.recordChanged('x');
    await b.writer.flush();

    viewA.releaseAll(); // A's late create arrives
    await aWrite;
    expect(fencedA).toHaveLength(1);
    expect(await restored(inner)).toEqual([]);
    b.items.set('y', { id: 'y', value: 0 });
    b.writer.recordChanged('y');
    await b.writer.flush();
    expect(await restored(inner)).toEqual([{ id: 'y', value: 0 }]);
    expect(b.writer.fenced).toBe(false);
  });

  test("the late create landing before the new writer finishes the record is overwritten, not kept (the new writer's finish wins)", async () => {
    const inner = new MemorySnapshotStore();
    const viewA = new ControlledView(inner);
    const itemsA = new Map<string, Item>();
    const a = recordWriter(viewA, itemsA);
    await a.takeOver();
    viewA.holdSavesOf(isRecordKey);
    itemsA.set('x', { id: 'x', value: 1 });
    a.recordChanged('x');
    const aWrite = a.flush();
    await settle();

    const b = await takeOver(inner);
    viewA.releaseAll(); // lands before B writes anything about x
    await aWrite;
    b.items.delete('x');
    b.writer.recordChanged('x');
    await b.writer.flush();
    expect(b.writer.fenced).toBe(false);
    expect(await restored(inner)).toEqual([]);
  });

  test("a deposed writer whose record write failed its compare-and-set, paused before reading the key again, does not overwrite the new writer's value", async () => {
    const inner = new MemorySnapshotStore();
    const viewA = new ControlledView(inner);
    const itemsA = new Map<string, Item>([['x', { id: 'x', value: 1 }]]);
    const fencedA: RevisionMismatchError[] = [];
    const a = recordWriter(viewA, itemsA, (error) => fencedA.push(error));
    await a.takeOver();
    viewA.loseReplyOf = isRecordKey;
    a.recordChanged('x');
    await a.flush(); // x's key landed, A heard a timeout
    expect(a.stats().failingWrites?.consecutive).toBe(1);

    viewA.holdLoadsOf(isRecordKey); // A pauses before it reads x's key again
    a.markDirty();
    const aWrite = a.flush();
    await settle();
    expect(viewA.held).toBe(1);

    const b = await takeOver(inner);
    b.items.set('x', { id: 'x', value: 3 });
    b.writer.recordChanged('x');
    await b.writer.flush();
    b.writer.markDirty();
    await b.writer.flush(); // B's later head no longer names x

    viewA.releaseAll();
    await aWrite;
    expect(fencedA).toHaveLength(1);
    expect(await restored(inner)).toEqual([{ id: 'x', value: 3 }]);
  });

  test('a write whose reply was lost is confirmed by the next one (our own value is overwritten), and the writer is not fenced by it', async () => {
    const inner = new MemorySnapshotStore();
    const view = new ControlledView(inner);
    const items = new Map<string, Item>([['x', { id: 'x', value: 1 }]]);
    const writer = recordWriter(view, items);
    await writer.takeOver();
    view.loseReplyOf = isRecordKey;
    writer.recordChanged('x');
    await writer.flush();
    items.set('x', { id: 'x', value: 2 });
    writer.recordChanged('x');
    await writer.flush();
    expect(writer.fenced).toBe(false);
    expect(writer.stats().records).toEqual({ keys: 1, pending: 0, keptInHead: 0 });
    expect(await restored(inner)).toEqual([{ id: 'x', value: 2 }]);
  });

  test("tombstones a writer leaves are skipped by a restore and deleted after the next writer's first head", async () => {
    const inner = new MemorySnapshotStore();
    const a = await takeOver(inner);
    a.items.set('x', { id: 'x', value: 1 });
    a.writer.recordChanged('x');
    await a.writer.flush();
    const b = await takeOver(inner);
    b.items.delete('x');
    b.writer.recordChanged('x');
    await b.writer.flush();
    const key = `head.records.${encodeRecordId('x')}`;
    expect((await inner.load(key))?.value).toMatchObject({ id: 'x', gone: true });
    expect(await restored(inner)).toEqual([]);
    const c = await takeOver(inner);
    c.writer.markDirty();
    await c.writer.flush();
    expect(await inner.keys()).toEqual(['head']);
  });

  test('stats().records.keys counts only keys whose write was confirmed', async () => {
    const inner = new MemorySnapshotStore();
    const view = new ControlledView(inner);
    const items = new Map<string, Item>();
    const writer = recordWriter(view, items);
    await writer.takeOver();
    view.failSaves = isRecordKey;
    for (let i = 0; i < 5; i++) {
      items.set(`t${i}`, { id: `t${i}`, value: i });
      writer.recordChanged(`t${i}`);
    }
    await writer.flush();
    await writer.flush();
    expect(await inner.keys()).toEqual(['head']);
    expect(writer.stats().records?.keys).toBe(0);
  });
});

describe('distinct ids never share a record key', () => {
  test('lone surrogates and U+FFFD make distinct keys, and each restores', async () => {
    const ids = ['job\uD800', 'job\uDBFF', 'job\uFFFD', 'job\uDC00\uD800'];
    expect(new Set(ids.map(encodeRecordId)).size).toBe(ids.length);
    const store = new MemorySnapshotStore();
    const { writer, items } = await takeOver(store);
    ids.forEach((id, value) => {
      items.set(id, { id, value });
      writer.recordChanged(id);
    });
    await writer.flush();
    expect(writer.stats().records?.keys).toBe(ids.length);
    expect((await restored(store)).map((item) => item.id).sort()).toEqual([...ids].sort());
  });

  test('keys are lowercase, so ids differing only in case stay distinct on a case-insensitive file system', () => {
    const ids = ['task-aaa', 'task-Gaa', 'TASK-AAA', 'Task-aaa', 'x', 'X', 'é', 'É', 'x'.repeat(200), 'X'.repeat(200)];
    const keys = ids.map(encodeRecordId);
    for (const key of keys) expect(key).toBe(key.toLowerCase());
    expect(new Set(keys).size).toBe(ids.length);
  });

  test('a record key whose value names another id is reported, never merged', async () => {
    const store = new MemorySnapshotStore();
    const { writer, items } = await takeOver(store);
    items.set('x', { id: 'x', value: 1 });
    writer.recordChanged('x');
    await writer.flush();
    await store.save(`head.records.${encodeRecordId('x')}`, { id: 'X', item: { id: 'X', value: 2 }, epoch: 1 });
    await expect(restored(store)).rejects.toThrow(/another id/);
  });
});
