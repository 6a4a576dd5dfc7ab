/**
 * The snapshot writer's archive: items that no longer change leave the rewritten value,
 * sealed every `segmentSize` into a write-once key; a load returns each archived item once,
 * in order, whatever failed on the way.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { ValidationError } from '../src/errors';
import { MemorySnapshotStore, SnapshotWriter, type SnapshotStore } from '../src/store';
import { ControlledStore } from './support/controlledStore';

const StateSchema = z.object({ open: z.array(z.number()) });
type State = z.output<typeof StateSchema>;
const ItemSchema = z.object({ n: z.number().int() });
type Item = z.output<typeof ItemSchema>;

function writerOn(store: SnapshotStore, state: { current: State }, segmentSize = 4, onFenced?: () => void) {
  return new SnapshotWriter<State, Item>({
    store,
    key: 'work',
    schema: StateSchema,
    snapshot: () => ({ open: [...state.current.open] }),
    archive: { itemSchema: ItemSchema, segmentSize },
    ...(onFenced && { onFenced }),
  });
}

/** What a new writer loads: state and archived items. */
async function loadFresh(store: SnapshotStore): Promise<{ state: State | undefined; archived: Item[] }> {
  const reader = writerOn(store, { current: { open: [] } });
  const state = await reader.load();
  return { state, archived: [...reader.archived()] };
}

const items = (from: number, to: number): Item[] => Array.from({ length: to - from }, (_, i) => ({ n: from + i }));

describe('SnapshotWriter archive', () => {
  test('archived items leave the rewritten value: every segmentSize of them is written once under a key of its own', async () => {
    const store = new ControlledStore();
    const state = { current: { open: [1, 2] } };
    const writer = writerOn(store, state, 4);
    for (const item of items(0, 10)) writer.archive(item);
    await writer.flush();
    const keys = await store.keys();
    const segments = keys.filter((k) => k.startsWith('work.archive.'));
    expect(segments).toHaveLength(2);
    expect(keys).toContain('work');
    const stored = (await store.load<{ state: State; archive: { segments: string[]; tail: Item[] } }>('work'))?.value;
    expect(stored).toEqual({ state: { open: [1, 2] }, archive: { segments, tail: items(8, 10) }, written: expect.any(String) });
    expect((await store.load(segments[0] as string))?.value).toEqual(items(0, 4));
    expect(writer.stats()).toEqual({ saves: 1, saveErrors: 0, fenced: false, archive: { segments: 2, pending: 2 } });

    // Later writes carry the tail and the segment names only, not the sealed items.
    store.written.length = 0;
    state.current = { open: [3] };
    writer.markDirty();
    await writer.flush();
    expect(store.written).toEqual([{ state: { open: [3] }, archive: { segments, tail: items(8, 10) }, written: expect.any(String) }]);
    expect(await loadFresh(store)).toEqual({ state: { open: [3] }, archived: items(0, 10) });
  });

  test('a new writer adopts the loaded archive and carries it on; its segments come after the old ones', async () => {
    const store = new MemorySnapshotStore();
    const first = writerOn(store, { current: { open: [] } }, 3);
    for (const item of items(0, 7)) first.archive(item);
    await first.flush();
    const state = { current: { open: [9] } };
    const second = writerOn(store, state, 3);
    await second.load();
    expect(second.archived()).toEqual(items(0, 7));
    for (const item of items(7, 12)) second.archive(item);
    await second.flush();
    expect(await loadFresh(store)).toEqual({ state: { open: [9] }, archived: items(0, 12) });
    expect(second.stats().archive).toEqual({ segments: 4, pending: 0 });
  });

  test('items archived before load() (finished while it ran) follow the loaded ones; none is lost', async () => {
    const store = new MemorySnapshotStore();
    const first = writerOn(store, { current: { open: [] } }, 2);
    for (const item of items(0, 5)) first.archive(item);
    await first.flush();
    const second = new SnapshotWriter<State, Item>({
      store,
      key: 'work',
      schema: StateSchema,
      snapshot: () => ({ open: [] }),
      archive: { itemSchema: ItemSchema, segmentSize: 2 },
      loadFirst: true, // nothing written before the takeover
    });
    second.archive({ n: 100 });
    second.archive({ n: 101 });
    await second.takeOver();
    expect(second.archived()).toEqual(items(0, 5));
    second.archive({ n: 102 });
    await second.flush();
    expect((await loadFresh(store)).archived).toEqual([...items(0, 5), { n: 100 }, { n: 101 }, { n: 102 }]);
  });

  test('a takeover that loads twice (a late write landed before its claim) archives each loaded item once', async () => {
    // Found by the chaos run (bench/chaos.ts): a new leader's first claim lost to the deposed
    // leader's last write, and the tail of the first load was carried into the second.
    const store = new MemorySnapshotStore();
    const first = writerOn(store, { current: { open: [] } }, 4);
    for (const item of items(0, 2)) first.archive(item);
    await first.flush();
    let lateWrite = true;
    const racing: SnapshotStore = {
      load: (key) => store.load(key),
      delete: (key) => store.delete(key),
      keys: () => store.keys(),
      close: () => store.close(),
      async save(key, value, expected) {
        if (lateWrite) {
          lateWrite = false;
          first.archive({ n: 2 });
          await first.flush();
        }
        return store.save(key, value, expected);
      },
    };
    const second = writerOn(racing, { current: { open: [] } }, 4);
    await second.takeOver();
    expect(second.archived()).toEqual(items(0, 3));
    second.archive({ n: 3 });
    second.archive({ n: 4 });
    await second.flush();
    expect((await loadFresh(store)).archived).toEqual(items(0, 5));
  });

  test('a failed segment write keeps its items in the tail; nothing is named before it is written', async () => {
    const store = new ControlledStore();
    const writer = writerOn(store, { current: { open: [] } }, 2);
    store.faults.push({ match: (k) => k.startsWith('work.archive.'), landed: false });
    for (const item of items(0, 5)) writer.archive(item);
    await writer.flush();
    expect(writer.stats()).toMatchObject({ saves: 0, saveErrors: 1 });
    expect(await store.load('work')).toBeUndefined();
    writer.archive({ n: 5 });
    await writer.flush();
    expect(await loadFresh(store)).toEqual({ state: { open: [] }, archived: items(0, 6) });
  });

  test('a segment write that landed but reported an error is not named: the items go to the next key', async () => {
    const store = new ControlledStore();
    const writer = writerOn(store, { current: { open: [] } }, 2);
    store.faults.push({ match: (k) => k.endsWith('.0'), landed: true });
    for (const item of items(0, 3)) writer.archive(item);
    await writer.flush();
    expect(writer.saveErrors).toBe(1);
    writer.markDirty();
    await writer.flush();
    const loaded = await loadFresh(store);
    expect(loaded.archived).toEqual(items(0, 3));
    const stored = (await store.load<{ archive: { segments: string[] } }>('work'))?.value;
    expect(stored?.archive.segments).toEqual([expect.stringMatching(/\.1$/)]);
  });

  test('a value write whose reply was lost is recognised by the next write as its own: the writer is not fenced', async () => {
    const store = new ControlledStore();
    const fenced: string[] = [];
    const state = { current: { open: [1] } };
    const writer = writerOn(store, state, 2, () => fenced.push('fenced'));
    store.faults.push({ match: (k) => k === 'work', landed: true });
    for (const item of items(0, 3)) writer.archive(item);
    await writer.flush();
    expect(writer.saveErrors).toBe(1);
    state.current = { open: [2] };
    writer.markDirty();
    await writer.flush();
    expect(fenced).toEqual([]);
    expect(writer.stats()).toMatchObject({ saves: 1, fenced: false, archive: { segments: 1, pending: 1 } });
    expect(await loadFresh(store)).toEqual({ state: { open: [2] }, archived: items(0, 3) });
  });

  test('a fenced writer removes the segments it wrote for a value that never landed, and archives nothing more', async () => {
    const store = new ControlledStore();
    const fenced: string[] = [];
    const old = writerOn(store, { current: { open: [] } }, 2, () => fenced.push('old'));
    old.archive({ n: 0 });
    await old.flush();
    const next = writerOn(store, { current: { open: [] } }, 2);
    await next.load();
    await next.claim({ open: [] });
    for (const item of items(1, 5)) old.archive(item);
    await old.flush();
    expect(fenced).toEqual(['old']);
    expect((await store.keys()).filter((k) => k.startsWith('work.archive.'))).toEqual([]);
    old.archive({ n: 99 });
    expect(old.stats().archive?.pending).toBe(5);
    expect(await loadFresh(store)).toEqual({ state: { open: [] }, archived: [{ n: 0 }] });
  });

  test('a value written before the archive existed loads as the state, with nothing archived', async () => {
    const store = new MemorySnapshotStore();
    await store.save('work', { open: [4, 5] });
    expect(await loadFresh(store)).toEqual({ state: { open: [4, 5] }, archived: [] });
  });

  test('a missing or invalid segment is a validation error naming it', async () => {
    const store = new MemorySnapshotStore();
    const writer = writerOn(store, { current: { open: [] } }, 2);
    for (const item of items(0, 4)) writer.archive(item);
    await writer.flush();
    const [first, second] = (await store.keys()).filter((k) => k.startsWith('work.archive.')) as [string, string];
    await store.save(second, [{ n: 'two' }]);
    await expect(loadFresh(store)).rejects.toThrow(new RegExp(`segment '${second.replace(/\./g, '\\.')}'`));
    await store.delete(first);
    const error = await loadFresh(store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toContain(first);
  });

  test('options are validated, naming the field', () => {
    const make = (archive: unknown) => () =>
      new SnapshotWriter({
        store: new MemorySnapshotStore(),
        key: 'k',
        schema: StateSchema,
        snapshot: () => ({ open: [] }),
        archive: archive as { itemSchema: typeof ItemSchema },
      });
    expect(make({ itemSchema: ItemSchema, segmentSize: 0 })).toThrow(expect.objectContaining({ field: 'archive.segmentSize' }));
    expect(make({ itemSchema: 'no' })).toThrow(expect.objectContaining({ field: 'archive.itemSchema' }));
    const plain = new SnapshotWriter({ store: new MemorySnapshotStore(), key: 'k', schema: StateSchema, snapshot: () => ({ open: [] }) });
    expect(() => (plain as unknown as SnapshotWriter<State, Item>).archive({ n: 1 })).toThrow(expect.objectContaining({ field: 'archive' }));
  });

  test('property: whatever fails, every write that landed holds each item archived before it exactly once, in order', async () => {
    type Step = { kind: 'archive'; count: number } | { kind: 'fail'; segment: boolean; landed: boolean } | { kind: 'flush' };
    const step = fc.oneof(
      fc.record({ kind: fc.constant('archive' as const), count: fc.integer({ min: 1, max: 7 }) }),
      fc.record({ kind: fc.constant('fail' as const), segment: fc.boolean(), landed: fc.boolean() }),
      fc.constant({ kind: 'flush' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), fc.integer({ min: 1, max: 5 }), async (steps: Step[], size) => {
        const store = new ControlledStore();
        const writer = writerOn(store, { current: { open: [] } }, size);
        let next = 0;
        let landedUpTo = 0;
        for (const s of [...steps, { kind: 'flush' } as const, { kind: 'flush' } as const]) {
          if (s.kind === 'archive') for (let i = 0; i < s.count; i++) writer.archive({ n: next++ });
          else if (s.kind === 'fail') store.faults.push({ match: (k) => k.includes('.archive.') === s.segment, landed: s.landed });
          else {
            const saves = writer.saves;
            writer.markDirty();
            await writer.flush();
            const { archived } = await loadFresh(store);
            // A prefix of what was archived, never less than what an earlier landed write held.
            expect(archived).toEqual(items(0, archived.length));
            expect(archived.length).toBeGreaterThanOrEqual(landedUpTo);
            if (writer.saves > saves) {
              expect(archived).toHaveLength(next);
              landedUpTo = next;
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
