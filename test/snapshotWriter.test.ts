/**
 * The generic snapshot writer: one write in flight, changes of a tick coalesced, every
 * write a compare-and-set, fencing when another instance loads the key, store errors
 * counted and retried on the next change.
 */
import { z } from 'zod';
import { ValidationError } from '../src/errors';
import { MemorySnapshotStore, RevisionMismatchError, SnapshotWriter, type SnapshotStore } from '../src/store';
import { ControlledStore } from './support/controlledStore';
import { storedState } from './support/storedState';
import { settle } from './support/settle';

const StateSchema = z.object({ count: z.number().int(), names: z.array(z.string()) });
type State = z.output<typeof StateSchema>;

function writerOn(store: SnapshotStore, state: { current: State }, onFenced?: (error: RevisionMismatchError) => void) {
  return new SnapshotWriter<State>({
    store,
    key: 'counter',
    schema: StateSchema,
    name: 'counter state',
    snapshot: () => ({ ...state.current, names: [...state.current.names] }),
    ...(onFenced && { onFenced }),
  });
}

describe('SnapshotWriter', () => {
  test('every change of a tick goes into one write, holding the latest state', async () => {
    const store = new ControlledStore();
    const state = { current: { count: 0, names: [] as string[] } };
    const writer = writerOn(store, state);
    for (let i = 1; i <= 5; i++) {
      state.current = { count: i, names: [...state.current.names, `n${i}`] };
      writer.markDirty();
    }
    await writer.flush();
    expect(store.writtenStates).toEqual([{ count: 5, names: ['n1', 'n2', 'n3', 'n4', 'n5'] }]);
    expect(writer.stats()).toEqual({ saves: 1, saveErrors: 0, fenced: false });
  });

  test('at most one write in flight: changes made meanwhile go into one more write', async () => {
    const store = new ControlledStore();
    const state = { current: { count: 1, names: [] as string[] } };
    const writer = writerOn(store, state);
    store.hold();
    writer.markDirty();
    await settle();
    expect(store.waiting).toBe(1);
    for (let i = 2; i <= 4; i++) {
      state.current = { count: i, names: [] };
      writer.markDirty();
      await settle(); // separate ticks: still no second write while the first is held
    }
    expect(store.waiting).toBe(1);
    store.release();
    await writer.flush();
    // The held write carries the state of its start; everything after it, one more write.
    expect(store.writtenStates).toEqual([
      { count: 1, names: [] },
      { count: 4, names: [] },
    ]);
    expect(writer.saves).toBe(2);
  });

  test('each write is a compare-and-set on the last revision: a writer that loads the key fences the previous one', async () => {
    const store = new MemorySnapshotStore();
    const a = { current: { count: 1, names: ['a'] } };
    const fenced: RevisionMismatchError[] = [];
    const first = writerOn(store, a, (error) => fenced.push(error));
    first.markDirty();
    await first.flush();

    const b = { current: { count: 0, names: [] as string[] } };
    const second = writerOn(store, b);
    expect(await second.load()).toEqual({ count: 1, names: ['a'] });
    b.current = { count: 2, names: ['b'] };
    second.markDirty();
    await second.flush();

    a.current = { count: 99, names: ['stale'] };
    first.markDirty();
    await first.flush();
    expect(fenced).toHaveLength(1);
    expect(fenced[0]).toBeInstanceOf(RevisionMismatchError);
    expect(first.stats()).toEqual({ saves: 1, saveErrors: 0, fenced: true });
    // Fenced for good: later changes are not written.
    first.markDirty();
    await first.flush();
    expect(fenced).toHaveLength(1);
    expect((await storedState(store, 'counter')).value).toEqual({ count: 2, names: ['b'] });
    expect(second.fenced).toBe(false);
  });

  test('a writer that never loaded cannot overwrite an existing key (create only): it is fenced', async () => {
    const store = new MemorySnapshotStore();
    await store.save('counter', { count: 7, names: [] });
    const writer = writerOn(store, { current: { count: 0, names: [] } });
    writer.markDirty();
    await writer.flush();
    expect(writer.fenced).toBe(true);
    expect((await store.load('counter'))?.value).toEqual({ count: 7, names: [] });
  });

  test('a store error is counted; the change is kept and written with the next one', async () => {
    const store = new ControlledStore();
    const state = { current: { count: 1, names: [] as string[] } };
    const writer = writerOn(store, state);
    store.failures = 2;
    writer.markDirty();
    await writer.flush();
    expect(writer.stats()).toEqual({ saves: 0, saveErrors: 1, fenced: false, failingWrites: { consecutive: 1, lastError: 'disk full', failing: false } });
    state.current = { count: 2, names: [] };
    writer.markDirty();
    await writer.flush();
    expect(writer.stats()).toEqual({ saves: 0, saveErrors: 2, fenced: false, failingWrites: { consecutive: 2, lastError: 'disk full', failing: false } });
    state.current = { count: 3, names: ['x'] };
    writer.markDirty();
    await writer.flush();
    expect(writer.stats()).toEqual({ saves: 1, saveErrors: 2, fenced: false });
    expect(store.writtenStates).toEqual([{ count: 3, names: ['x'] }]);
  });

  test('a write whose reply was lost but which landed is recognised by the next write: the writer is not fenced by itself', async () => {
    const store = new ControlledStore();
    const state = { current: { count: 1, names: [] as string[] } };
    const fenced: unknown[] = [];
    const writer = writerOn(store, state, (error) => fenced.push(error));
    store.faults.push({ match: () => true, landed: true });
    writer.markDirty();
    await writer.flush();
    expect(writer.saveErrors).toBe(1);
    state.current = { count: 2, names: [] };
    writer.markDirty();
    await writer.flush();
    expect(fenced).toEqual([]);
    expect(writer.stats()).toEqual({ saves: 1, saveErrors: 1, fenced: false });
    expect((await storedState(store, 'counter')).value).toEqual({ count: 2, names: [] });
  });

  test('takeOver loads and claims the key; a write landing in between makes it load again; a cancelled takeover claims nothing', async () => {
    const store = new MemorySnapshotStore();
    const old = { current: { count: 1, names: ['old'] } };
    const previous = writerOn(store, old);
    previous.markDirty();
    await previous.flush();
    // The previous writer writes once more between the new writer's load and its claim.
    let interfered = false;
    const racing: SnapshotStore = Object.assign(Object.create(store) as SnapshotStore, {
      load: async <T>(key: string) => {
        const loaded = await store.load<T>(key);
        if (!interfered) {
          interfered = true;
          old.current = { count: 2, names: ['late'] };
          previous.markDirty();
          await previous.flush();
        }
        return loaded;
      },
    });
    const next = writerOn(racing, { current: { count: 0, names: [] } });
    expect(await next.takeOver()).toEqual({ count: 2, names: ['late'] });
    old.current = { count: 3, names: ['stale'] };
    previous.markDirty();
    await previous.flush();
    expect(previous.fenced).toBe(true);
    expect(next.fenced).toBe(false);
    expect((await storedState(store, 'counter')).value).toEqual({ count: 2, names: ['late'] });

    const cancelled = writerOn(store, { current: { count: 0, names: [] } });
    const revision = (await store.load('counter'))?.revision;
    await expect(cancelled.takeOver(() => new Error('stopped meanwhile'))).rejects.toThrow('stopped meanwhile');
    expect((await store.load('counter'))?.revision).toBe(revision);
  });

  test('with loadFirst, changes marked before the load wait for it and are written on the loaded revision', async () => {
    const store = new MemorySnapshotStore();
    await store.save('counter', { count: 7, names: [] });
    const state = { current: { count: 8, names: ['early'] } };
    const writer = new SnapshotWriter<State>({ store, key: 'counter', schema: StateSchema, snapshot: () => state.current, loadFirst: true });
    writer.markDirty();
    await writer.flush();
    expect(writer.saves).toBe(0);
    expect(await writer.load()).toEqual({ count: 7, names: [] });
    await writer.flush();
    expect(writer.stats()).toEqual({ saves: 1, saveErrors: 0, fenced: false });
    expect((await storedState(store, 'counter')).value).toEqual({ count: 8, names: ['early'] });
  });

  test('a snapshot function that throws is a counted error, not an unhandled rejection', async () => {
    const store = new MemorySnapshotStore();
    let broken = true;
    const writer = new SnapshotWriter<State>({
      store,
      key: 'counter',
      schema: StateSchema,
      snapshot: () => {
        if (broken) throw new Error('inconsistent');
        return { count: 1, names: [] };
      },
    });
    writer.markDirty();
    await writer.flush();
    expect(writer.saveErrors).toBe(1);
    broken = false;
    writer.markDirty();
    await writer.flush();
    expect(writer.saves).toBe(1);
  });

  test('load validates with the schema and names the bad field', async () => {
    const store = new MemorySnapshotStore();
    await store.save('counter', { count: 1, names: ['ok', 3] });
    const writer = writerOn(store, { current: { count: 0, names: [] } });
    const error = await writer.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('names.1');
    expect((error as ValidationError).message).toContain("counter state 'counter'");
    expect(await writerOn(new MemorySnapshotStore(), { current: { count: 0, names: [] } }).load()).toBeUndefined();
  });

  test('options are validated', () => {
    const store = new MemorySnapshotStore();
    const snapshot = () => ({ count: 0, names: [] });
    expect(() => new SnapshotWriter({ store, key: '.bad', schema: StateSchema, snapshot })).toThrow(ValidationError);
    expect(() => new SnapshotWriter({ store, key: 'k', schema: {} as never, snapshot })).toThrow(/schema/);
    expect(() => new SnapshotWriter({ store: {} as never, key: 'k', schema: StateSchema, snapshot })).toThrow(/store/);
  });
});
