/**
 * Durable state almost free (issue #20), at the level of the writer: a write starts no
 * earlier than the turn after the change whatever the store's latency (a same-turn store
 * included), records live under keys of their own so a write carries what changed, a
 * deposed writer's late record write never wins, and ids that are user input make safe keys.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { FileSnapshotStore, MemorySnapshotStore, RevisionMismatchError, SnapshotKeySchema, SnapshotWriter, type SnapshotStore, type StoredSnapshot } from '../src/store';
import { encodeRecordId } from '../src/store/snapshotRecords';
import { settle } from './support/settle';

const HeadSchema = z.object({ n: z.number() });
const ItemSchema = z.object({ id: z.string(), value: z.number() });
type Item = z.output<typeof ItemSchema>;

/** A memory store that records every save and delete, and can hold the writes to chosen keys. */
class RecordingStore implements SnapshotStore {
  readonly inner = new MemorySnapshotStore();
  readonly saves: { key: string; bytes: number }[] = [];
  readonly deletes: string[] = [];
  private readonly held: { match: (key: string) => boolean; waiting: (() => void)[] }[] = [];

  /** Holds writes to keys `match` accepts until the returned function is called. */
  hold(match: (key: string) => boolean): { release: () => void; releaseLast: () => void; waiting: () => number } {
    const gate = { match, waiting: [] as (() => void)[] };
    this.held.push(gate);
    return {
      release: () => {
        this.held.splice(this.held.indexOf(gate), 1);
        for (const go of gate.waiting.splice(0)) go();
      },
      releaseLast: () => gate.waiting.pop()?.(),
      waiting: () => gate.waiting.length,
    };
  }

  load<T>(key: string): Promise<StoredSnapshot<T> | undefined> {
    return this.inner.load<T>(key);
  }

  async save(key: string, value: unknown, expectedRevision?: number): Promise<number> {
    const gate = this.held.find((g) => g.match(key));
    if (gate) await new Promise<void>((resolve) => gate.waiting.push(resolve));
    let revision: number;
    try {
      revision = await this.inner.save(key, value, expectedRevision);
    } catch (e) {
      if (process.env.DBG) console.log('FAIL', key, expectedRevision, JSON.stringify(value).slice(0, 100));
      throw e;
    }
    if (process.env.DBG) console.log('save', key, expectedRevision, revision, JSON.stringify(value).slice(0, 100));
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

/** A writer of a head `{ n }` and records `items` by id. */
function recordWriter(
  store: SnapshotStore,
  items: Map<string, Item>,
  options: { onFenced?: (error: RevisionMismatchError) => void; scheduleWrite?: (write: () => void) => void } = {},
) {
  let n = 0;
  return new SnapshotWriter<{ n: number }, never, Item>({
    store,
    key: 'head',
    schema: HeadSchema,
    snapshot: () => ({ n: n++ }),
    records: { itemSchema: ItemSchema, current: (id) => items.get(id) },
    ...options,
  });
}

/** A manual `scheduleWrite`: nothing runs until `run()`. */
function manualTurns() {
  const queued: (() => void)[] = [];
  return {
    schedule: (write: () => void) => void queued.push(write),
    get queued() {
      return queued.length;
    },
    run: () => {
      for (const write of queued.splice(0)) write();
    },
  };
}

describe('SnapshotWriter: one write per turn of the event loop', () => {
  test('changes spread over the microtasks of one turn, on a store that answers in the same turn, make one write', async () => {
    const store = new RecordingStore();
    let count = 0;
    const writer = new SnapshotWriter({ store, key: 'counter', schema: HeadSchema, snapshot: () => ({ n: count }) });
    const turnEnded = new Promise<void>((resolve) => setImmediate(resolve));
    for (let i = 1; i <= 50; i++) {
      count = i;
      writer.markDirty();
      await Promise.resolve(); // the memory store's write would complete here: a microtask per change
      await Promise.resolve();
    }
    await turnEnded;
    await writer.flush();
    expect(store.saves).toHaveLength(1);
    expect((await store.load<{ state: unknown }>('counter'))?.value.state).toEqual({ n: 50 });
  });

  test('a write starts only when the scheduler runs it; flush() writes at once without it', async () => {
    const store = new RecordingStore();
    const turns = manualTurns();
    let count = 0;
    const writer = new SnapshotWriter({ store, key: 'counter', schema: HeadSchema, snapshot: () => ({ n: count }), scheduleWrite: turns.schedule });
    count = 1;
    writer.markDirty();
    await settle();
    expect(store.saves).toHaveLength(0);
    expect(turns.queued).toBe(1);
    turns.run();
    await settle();
    expect(store.saves).toHaveLength(1);
    count = 2;
    writer.markDirty();
    count = 3;
    writer.markDirty();
    await writer.flush(); // the scheduler never ran: flush does not wait for it
    expect(store.saves).toHaveLength(2);
    expect((await store.load<{ state: unknown }>('counter'))?.value.state).toEqual({ n: 3 });
  });

  test('changes made while a write is in flight go into one more write, started on a later turn', async () => {
    const store = new RecordingStore();
    const turns = manualTurns();
    let count = 0;
    const writer = new SnapshotWriter({ store, key: 'counter', schema: HeadSchema, snapshot: () => ({ n: count }), scheduleWrite: turns.schedule });
    const gate = store.hold(() => true);
    writer.markDirty();
    turns.run();
    await settle();
    expect(gate.waiting()).toBe(1);
    for (let i = 1; i <= 5; i++) {
      count = i;
      writer.markDirty();
    }
    gate.release();
    await settle();
    expect(store.saves).toHaveLength(1); // the second write waits for its turn
    turns.run();
    await settle();
    expect(store.saves).toHaveLength(2);
    expect((await store.load<{ state: unknown }>('counter'))?.value.state).toEqual({ n: 5 });
    await writer.flush();
  });
});

describe('SnapshotWriter records: one key per record', () => {
  test('after 1 000 records are stored, a write after one change touches the head and that record only', async () => {
    const store = new RecordingStore();
    const items = new Map<string, Item>();
    const writer = recordWriter(store, items);
    for (let i = 0; i < 1000; i++) {
      items.set(`r${i}`, { id: `r${i}`, value: i });
      writer.recordChanged(`r${i}`);
    }
    await writer.flush();
    expect((await store.keys()).filter((key) => key.startsWith('head.records.'))).toHaveLength(1000);
    store.saves.length = 0;

    items.set('r7', { id: 'r7', value: -7 });
    writer.recordChanged('r7');
    await writer.flush();
    expect(store.saves.map((s) => s.key)).toEqual(['head', writer['recordsOf']?.keyOf('r7')]);
    expect(store.saves[0]?.bytes).toBeLessThan(300); // the head names the change, not the 1 000 records

    items.delete('r8');
    writer.recordChanged('r8');
    store.saves.length = 0;
    await writer.flush();
    expect(store.saves.map((s) => s.key)).toEqual(['head']);
    expect(store.deletes).toEqual([writer['recordsOf']?.keyOf('r8')]);
    expect(writer.stats().records).toEqual({ keys: 999, pending: 0, keptInHead: 0 });

    // A new writer loads them all, with the change.
    const reader = recordWriter(store, new Map());
    await reader.load();
    const loaded = reader.takeRecords();
    expect(loaded).toHaveLength(999);
    expect(loaded.find((r) => r.id === 'r7')).toEqual({ id: 'r7', value: -7 });
    expect(loaded.find((r) => r.id === 'r8')).toBeUndefined();
  });

  test('a record changed in a write rides in the head until the next write; gone by then, it never costs a key write nor a delete', async () => {
    const store = new RecordingStore();
    const turns = manualTurns();
    const items = new Map<string, Item>();
    const writer = recordWriter(store, items, { scheduleWrite: turns.schedule });
    const write = async () => {
      turns.run();
      await settle();
    };
    items.set('short', { id: 'short', value: 1 });
    items.set('long', { id: 'long', value: 2 });
    writer.recordChanged('short');
    writer.recordChanged('long');
    await write();
    expect(store.saves.map((s) => s.key)).toEqual(['head']); // both in the head only
    expect(writer.stats().records).toEqual({ keys: 0, pending: 0, keptInHead: 2 });
    items.delete('short');
    writer.recordChanged('short');
    await write();
    // The head no longer carries `short` (gone: no key to delete) nor `long`, which reached its key.
    expect(store.saves.map((s) => s.key)).toEqual(['head', 'head', writer['recordsOf']?.keyOf('long')]);
    expect(store.deletes).toEqual([]);
    const head = (await store.load<{ records: { puts: unknown[]; removes: unknown[] } }>('head'))?.value.records;
    expect(head).toEqual({ puts: [{ id: 'long', item: { id: 'long', value: 2 } }], removes: [] });
    expect(writer.stats().records).toEqual({ keys: 1, pending: 0, keptInHead: 0 });
    const reader = recordWriter(store, new Map());
    await reader.load();
    expect(reader.takeRecords()).toEqual([{ id: 'long', value: 2 }]);
  });

  test('a record created and gone between two writes costs no key', async () => {
    const store = new RecordingStore();
    const items = new Map<string, Item>();
    const writer = recordWriter(store, items);
    items.set('brief', { id: 'brief', value: 1 });
    writer.recordChanged('brief');
    items.delete('brief');
    writer.recordChanged('brief');
    await writer.flush();
    expect(store.saves.map((s) => s.key)).toEqual(['head']);
    expect(store.deletes).toEqual([]);
  });

  test('a head whose records were not all written yet (the writer died) loads with its changes applied', async () => {
    const store = new RecordingStore();
    const items = new Map<string, Item>([['a', { id: 'a', value: 1 }]]);
    const writer = recordWriter(store, items);
    writer.recordChanged('a');
    await writer.flush();
    const gate = store.hold((key) => key.startsWith('head.records.'));
    items.set('a', { id: 'a', value: 2 });
    items.set('b', { id: 'b', value: 3 });
    writer.recordChanged('a');
    writer.recordChanged('b');
    const written = writer.flush();
    await settle();
    expect(gate.waiting()).toBe(2); // the head landed; its records are held (the process "dies" here)

    const next = recordWriter(store, new Map());
    await next.takeOver();
    expect(next.takeRecords()).toEqual(
      expect.arrayContaining([
        { id: 'a', value: 2 },
        { id: 'b', value: 3 },
      ]),
    );
    gate.release();
    await written;
  });

  test("a deposed writer's late record write does not win over the new writer's, in either order", async () => {
    for (const lateFirst of [true, false]) {
      const store = new RecordingStore();
      const oldItems = new Map<string, Item>([['x', { id: 'x', value: 1 }]]);
      let fenced = false;
      const old = recordWriter(store, oldItems, { onFenced: () => (fenced = true) });
      await old.takeOver();
      old.recordChanged('x');
      await old.flush();

      // The old writer's head carrying x = 2 lands; its record write is held (a slow process).
      const gate = store.hold((key) => key.startsWith('head.records.'));
      oldItems.set('x', { id: 'x', value: 2 });
      old.recordChanged('x');
      const oldWrite = old.flush();
      await settle();
      expect(gate.waiting()).toBe(1);

      // A new writer takes over: it loads x = 2 from the head's changes.
      const newItems = new Map<string, Item>();
      const next = recordWriter(store, newItems);
      await next.takeOver();
      for (const record of next.takeRecords()) newItems.set(record.id, record);
      expect(newItems.get('x')).toEqual({ id: 'x', value: 2 });
      newItems.set('x', { id: 'x', value: 3 });
      next.recordChanged('x');
      const nextWrite = next.flush();
      await settle();
      expect(gate.waiting()).toBe(2); // the old writer's x = 2, then the new writer's x = 3
      if (lateFirst) {
        gate.release(); // the late write lands first: the new writer's compare-and-set fails, the head is its own, it writes again
        await oldWrite;
        await nextWrite;
      } else {
        gate.releaseLast(); // the new writer's lands first: the late one's compare-and-set fails
        await nextWrite;
        gate.release();
        await oldWrite;
      }
      await settle();
      // A later head no longer names x: what counts is its record key.
      newItems.set('y', { id: 'y', value: 0 });
      next.recordChanged('y');
      await next.flush();
      const reader = recordWriter(store, new Map());
      await reader.load();
      expect(reader.takeRecords()).toEqual([
        { id: 'x', value: 3 },
        { id: 'y', value: 0 },
      ]);
      expect(next.stats().fenced).toBe(false);
      // The old writer never wins; when its late write is refused it learns it is deposed.
      old.recordChanged('x');
      await old.flush();
      expect(fenced).toBe(true);
      expect(old.stats().fenced).toBe(true);
    }
  });

  test('a deposed writer whose head write is refused writes none of its records', async () => {
    const store = new RecordingStore();
    const items = new Map<string, Item>([['x', { id: 'x', value: 1 }]]);
    let fencedBy: RevisionMismatchError | undefined;
    const old = recordWriter(store, items, { onFenced: (error) => (fencedBy = error) });
    await old.takeOver();
    old.recordChanged('x');
    await old.flush();
    const next = recordWriter(store, new Map());
    await next.takeOver();
    store.saves.length = 0;
    items.set('x', { id: 'x', value: 99 });
    old.recordChanged('x');
    await old.flush();
    expect(fencedBy).toBeInstanceOf(RevisionMismatchError);
    expect(store.saves).toEqual([]);
    expect((await store.load<Item & { item: Item }>(old['recordsOf']?.keyOf('x') ?? ''))?.value.item).toEqual({ id: 'x', value: 1 });
  });

  test('a store error on a record write keeps it for the next write', async () => {
    const store = new RecordingStore();
    const items = new Map<string, Item>([['x', { id: 'x', value: 1 }]]);
    const writer = recordWriter(store, items);
    let failNext = true;
    const save = store.save.bind(store);
    store.save = async (key, value, expected) => {
      if (failNext && key.startsWith('head.records.')) {
        failNext = false;
        throw new Error('disk full');
      }
      return save(key, value, expected);
    };
    writer.recordChanged('x');
    await writer.flush();
    expect(writer.stats()).toMatchObject({ saveErrors: 1, records: { pending: 1 } });
    writer.markDirty();
    await writer.flush();
    expect(writer.stats()).toMatchObject({ saveErrors: 1, records: { pending: 0, keys: 1 } });
    const reader = recordWriter(store, new Map());
    await reader.load();
    expect(reader.takeRecords()).toEqual([{ id: 'x', value: 1 }]);
  });

  test('a record key holding the record of another id, or a bad record, is refused naming the key', async () => {
    const store = new MemorySnapshotStore();
    const items = new Map<string, Item>([['x', { id: 'x', value: 1 }]]);
    const writer = recordWriter(store, items);
    writer.recordChanged('x');
    await writer.flush();
    const key = `head.records.${encodeRecordId('x')}`;
    await store.save(key, { id: 'y', item: { id: 'y', value: 2 }, epoch: 1 });
    await expect(recordWriter(store, new Map()).load()).rejects.toThrow(/another id/);
    await store.save(key, { id: 'x', item: { id: 'x', value: 'two' }, epoch: 1 });
    await expect(recordWriter(store, new Map()).load()).rejects.toThrow(/item\.value/);
  });
});

describe('record ids are user input', () => {
  const hostile = ['__proto__', 'constructor', 'a/b', '.', '..', 'x.y', '-', ' spaced id ', '任务🚀', 'é'.repeat(200), 'x'.repeat(10_000), 'orchestrator'];

  test('every id makes a valid key (letters, digits, - _), short enough for a file name; the same id always the same key', () => {
    const keys = hostile.map(encodeRecordId);
    for (const key of keys) {
      expect(SnapshotKeySchema.safeParse(`orchestrator.records.${key}`).success).toBe(true);
      expect(key.length).toBeLessThanOrEqual(121);
    }
    expect(new Set(keys).size).toBe(hostile.length);
    expect(encodeRecordId('x'.repeat(10_000))).toBe(encodeRecordId('x'.repeat(10_000)));
    expect(encodeRecordId('x'.repeat(10_000))).not.toBe(encodeRecordId('x'.repeat(10_001)));
  });

  test.each([
    ['memory', () => ({ store: new MemorySnapshotStore() as SnapshotStore, done: () => undefined })],
    [
      'file',
      () => {
        const directory = mkdtempSync(join(tmpdir(), 'nf-records-'));
        return { store: new FileSnapshotStore({ directory }) as SnapshotStore, done: () => rmSync(directory, { recursive: true, force: true }) };
      },
    ],
  ])('they are stored, loaded and deleted through the %s store', async (_name, make) => {
    const { store, done } = make();
    try {
      const items = new Map(hostile.map((id, i) => [id, { id, value: i }]));
      const writer = recordWriter(store, items);
      for (const id of hostile) writer.recordChanged(id);
      await writer.flush();
      expect(writer.stats()).toMatchObject({ saveErrors: 0, records: { keys: hostile.length } });
      const reader = recordWriter(store, new Map());
      await reader.load();
      const loaded = reader.takeRecords();
      expect(loaded.map((r) => r.id).sort()).toEqual([...hostile].sort());
      expect(Object.getPrototypeOf(loaded.find((r) => r.id === '__proto__'))).toBe(Object.prototype);
      for (const id of hostile) {
        items.delete(id);
        writer.recordChanged(id);
      }
      await writer.flush();
      expect((await store.keys()).filter((key) => key.startsWith('head.records.'))).toEqual([]);
    } finally {
      done();
    }
  });
});
