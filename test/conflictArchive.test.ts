/**
 * Finished conflicts whose outcome is recorded never change again: they leave the state the
 * conflict engine rewrites on every change for the writer's write-once archive, and a
 * restart restores them from it. A state written before the archive existed still restores.
 */
import { SimulatedClock } from 'xstate';
import { CommunicationBus } from '../src/bus/communicationBus';
import { ConflictResolutionEngine, ConflictStateError, type ConflictResolutionEngineOptions } from '../src/conflict';
import { MemorySnapshotStore, type SnapshotStore } from '../src/store';
import { cleanupAfterEach } from './support/cleanup';
import { signalConflict } from './support/conflictFixtures';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

/** One "process": its own clock and bus, an engine on `store`, voters `a`, `b`, `c` answering BUY. */
async function processOn(store: SnapshotStore, options: Omit<ConflictResolutionEngineOptions, 'bus' | 'store'> = {}, clock = new SimulatedClock()) {
  const bus = cleanup.add(new CommunicationBus({ clock }));
  await bus.start();
  const engine = cleanup.add(new ConflictResolutionEngine({ bus, store, ...options }));
  for (const id of ['a', 'b', 'c']) {
    bus.registerAgent(id, { handler: (message, handle) => void (message.topic === 'conflict_vote' && handle.respond(message, { decision: 'BUY', confidence: 0.9 })) });
  }
  return engine;
}

interface Stored {
  state: { finished: { record: { conflict: { conflictId: string } }; outcomeRecorded: boolean }[] };
  archive?: { segments: string[]; tail: { record: { conflict: { conflictId: string } } }[] };
}

const idsOf = (items: readonly { record: { conflict: { conflictId: string } } }[] | undefined) => items?.map((f) => f.record.conflict.conflictId);

describe('conflict archive', () => {
  test('a conflict whose outcome is recorded leaves the rewritten state for archive segments; a restart restores it as it was', async () => {
    const store = new MemorySnapshotStore();
    const first = await processOn(store, { archiveSegmentSize: 2 });
    await first.restore();
    const ids = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    const resolutions = [];
    for (const conflictId of ids) resolutions.push(await first.resolveConflict(signalConflict({ conflictId })));
    for (const conflictId of ['c1', 'c2', 'c3', 'c5', 'c6']) first.recordOutcome(conflictId, 'BUY');
    await settle();
    await first.flush();
    const stored = (await store.load<Stored>('conflicts'))?.value;
    // Only the conflict still waiting for its outcome is rewritten; the others are sealed (2 × 2) or in the tail.
    expect(idsOf(stored?.state.finished)).toEqual(['c4']);
    expect(stored?.archive?.segments).toHaveLength(2);
    expect(idsOf(stored?.archive?.tail)).toEqual(['c6']);
    expect(first.getStats().persistence?.archive).toEqual({ segments: 2, pending: 1 });
    await first.stop();

    const second = await processOn(store, { archiveSegmentSize: 2 });
    expect(await second.restore()).toBe(6);
    for (const [i, conflictId] of ids.entries()) expect(second.getConflict(conflictId)?.resolution).toEqual(resolutions[i]);
    expect(() => second.recordOutcome('c1', 'BUY')).toThrow(ConflictStateError);
    expect(() => second.recordOutcome('c6', 'BUY')).toThrow(ConflictStateError);
    expect(second.recordOutcome('c4', 'SELL').consensusCorrect).toBe(false);
    await settle();
    await second.flush();
    const after = (await store.load<Stored>('conflicts'))?.value;
    expect(after?.state.finished).toEqual([]);
    await second.stop();
  });

  test('a state written before the archive existed restores, and its conflicts with an outcome move to the archive', async () => {
    const store = new MemorySnapshotStore();
    const seed = await processOn(new MemorySnapshotStore());
    await seed.restore();
    const old = await seed.resolveConflict(signalConflict({ conflictId: 'old' }));
    const pending = await seed.resolveConflict(signalConflict({ conflictId: 'pending' }));
    const recordOf = (conflictId: string) => seed.getConflict(conflictId);
    // The earlier layout: the state alone, every finished conflict in `finished`.
    await store.save('conflicts', {
      version: 1,
      savedAt: 0,
      open: [],
      finished: [
        { record: recordOf('old'), outcomeRecorded: true },
        { record: recordOf('pending'), outcomeRecorded: false },
      ],
      ledger: [],
      counters: { detected: 2, resolved: 2, escalated: 0, consensusAttempts: 2, consensusSuccesses: 2, resolutionTimeTotal: 0, votes: 6, abstentions: 0, executed: 2, held: 0 },
    });

    const engine = await processOn(store, { archiveSegmentSize: 1 });
    expect(await engine.restore()).toBe(2);
    expect(engine.getConflict('old')?.resolution).toEqual(old);
    expect(engine.getConflict('pending')?.resolution).toEqual(pending);
    expect(() => engine.recordOutcome('old', 'BUY')).toThrow(ConflictStateError);
    await settle();
    await engine.flush();
    const stored = (await store.load<Stored>('conflicts'))?.value;
    expect(idsOf(stored?.state.finished)).toEqual(['pending']);
    expect(stored?.archive?.segments).toHaveLength(1);
    await engine.stop();

    // And the archived one comes back from its segment.
    const next = await processOn(store);
    expect(await next.restore()).toBe(2);
    expect(() => next.recordOutcome('old', 'BUY')).toThrow(ConflictStateError);
    expect(next.getConflict('old')?.resolution).toEqual(old);
  });

  test('the restored order is the order conflicts finished, so `maxFinishedRecords` still evicts the oldest', async () => {
    const store = new MemorySnapshotStore();
    const clock = new SimulatedClock();
    const first = await processOn(store, {}, clock);
    await first.restore();
    for (const conflictId of ['first', 'second', 'third']) {
      await first.resolveConflict(signalConflict({ conflictId }));
      clock.increment(1_000);
    }
    first.recordOutcome('third', 'BUY'); // archived before the two older ones
    await settle();
    await first.stop();

    const second = await processOn(store, { maxFinishedRecords: 2 });
    await second.restore();
    expect(second.getConflict('first')).toBeUndefined();
    expect(second.getConflict('second')).toBeDefined();
    expect(second.getConflict('third')).toBeDefined();
  });

  test('archiveSegmentSize is validated', () => {
    const bus = new CommunicationBus({ clock: new SimulatedClock() });
    expect(() => new ConflictResolutionEngine({ bus, archiveSegmentSize: 0 })).toThrow(expect.objectContaining({ field: 'archiveSegmentSize' }));
    expect(() => new ConflictResolutionEngine({ bus, archiveSegmentSize: 1.5 })).toThrow(expect.objectContaining({ field: 'archiveSegmentSize' }));
  });
});

describe('retention of finished conflict records', () => {
  test('past finishedRecordMaxAgeMs a finished conflict leaves memory; with a store findConflict reads it from the archive', async () => {
    const store = new MemorySnapshotStore();
    const clock = new SimulatedClock();
    const engine = await processOn(store, { finishedRecordMaxAgeMs: 60_000, archiveSegmentSize: 1 }, clock);
    await engine.restore();
    const old = await engine.resolveConflict(signalConflict({ conflictId: 'old' }));
    clock.increment(60_001);
    await engine.resolveConflict(signalConflict({ conflictId: 'new' }));
    expect(engine.getConflict('old')).toBeUndefined();
    expect(engine.getConflict('new')).toBeDefined();
    await expect(engine.findConflict('old')).resolves.toMatchObject({ status: 'resolved', resolution: old });
    await expect(engine.findConflict('never')).resolves.toBeUndefined();
    await settle();
    await engine.flush();
    // Let go without an outcome, it is in the archive, not in the rewritten value.
    const stored = (await store.load<Stored>('conflicts'))?.value;
    expect(idsOf(stored?.state.finished)).toEqual(['new']);

    // Without a store it is gone.
    const plainClock = new SimulatedClock();
    const bus = cleanup.add(new CommunicationBus({ clock: plainClock }));
    await bus.start();
    const plain = cleanup.add(new ConflictResolutionEngine({ bus, finishedRecordMaxAgeMs: 1 }));
    for (const id of ['a', 'b', 'c']) bus.registerAgent(id, { handler: (m, h) => void (m.topic === 'conflict_vote' && h.respond(m, { decision: 'BUY', confidence: 0.9 })) });
    await plain.resolveConflict(signalConflict({ conflictId: 'x' }));
    plainClock.increment(2);
    await plain.resolveConflict(signalConflict({ conflictId: 'y' }));
    await expect(plain.findConflict('x')).resolves.toBeUndefined();
  });

  test('a conflict let go before its outcome, restored and then given one, is not given one twice after the next restart', async () => {
    const store = new MemorySnapshotStore();
    const first = await processOn(store, { maxFinishedRecords: 1 });
    await first.restore();
    await first.resolveConflict(signalConflict({ conflictId: 'early' }));
    await first.resolveConflict(signalConflict({ conflictId: 'late' })); // `early` is let go, to the archive
    expect(first.getConflict('early')).toBeUndefined();
    await settle();
    await first.stop();

    const second = await processOn(store);
    await second.restore();
    second.recordOutcome('early', 'BUY');
    await settle();
    await second.stop();

    const third = await processOn(store);
    expect(await third.restore()).toBe(2);
    expect(() => third.recordOutcome('early', 'BUY')).toThrow(ConflictStateError);
    expect(third.recordOutcome('late', 'BUY').consensusCorrect).toBe(true);
  });

  test('finishedRecordMaxAgeMs is validated', () => {
    const bus = new CommunicationBus({ clock: new SimulatedClock() });
    for (const bad of [-1, Number.NaN, Infinity]) {
      expect(() => new ConflictResolutionEngine({ bus, finishedRecordMaxAgeMs: bad })).toThrow(expect.objectContaining({ field: 'finishedRecordMaxAgeMs' }));
    }
  });
});
