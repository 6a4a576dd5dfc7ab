/**
 * The conflict engine's finished-record store: records kept within retention limits, handed
 * to the archive when they leave memory or get their outcome (only while an archive is
 * attached), and the saved state built from open and finished conflicts.
 */
import { SimulatedClock } from 'xstate';
import { conflictEngineStateOf, phaseOf } from '../src/conflict/conflictEngineState';
import type { PersistedFinishedConflict } from '../src/conflict/conflictPersistence';
import { toResolution, type ConflictRecord } from '../src/conflict/conflictRecord';
import { ConflictCounters } from '../src/conflict/conflictStats';
import { FinishedConflicts } from '../src/conflict/finishedConflicts';
import { EscalationReason, ConflictStatus } from '../src/conflict/model/conflictTypes';
import { machineConflict } from './support/conflictFixtures';

/** A record of conflict `id`, escalated at `finishedAt` (or cut short by a stop: no resolution). */
function recordOf(id: string, finishedAt: number | null): ConflictRecord {
  const conflict = { ...machineConflict, conflictId: id };
  const resolution =
    finishedAt === null
      ? null
      : toResolution(conflict, { status: 'escalated', reason: EscalationReason.DEADLINE_PASSED, detail: 'late', result: null }, null, 'simple_majority', finishedAt);
  return { conflict, status: resolution ? resolution.status : ConflictStatus.RESOLVING, strategy: null, algorithm: null, votes: [], resolution };
}

function storeWith(limits: { maxRecords: number; maxAgeMs: number }) {
  const clock = new SimulatedClock();
  const archived: PersistedFinishedConflict[] = [];
  const finished = new FinishedConflicts(limits, () => clock.now());
  return { clock, finished, archived, archive: { archive: (item: PersistedFinishedConflict) => void archived.push(item) } };
}

const idsOf = (items: Iterable<{ record: ConflictRecord }>) => [...items].map((item) => item.record.conflict.conflictId);

describe('FinishedConflicts', () => {
  test('past maxRecords the oldest finish goes, and without an archive it is gone', () => {
    const { finished, archived } = storeWith({ maxRecords: 2, maxAgeMs: Infinity });
    finished.keep('c1', recordOf('c1', 10));
    finished.keep('c2', recordOf('c2', 20));
    finished.keep('c3', recordOf('c3', 30));
    expect(idsOf(finished.values())).toEqual(['c2', 'c3']);
    expect(finished.has('c1')).toBe(false);
    expect(finished.evicted).toBe(1);
    expect(archived).toEqual([]);
  });

  test('with an archive attached, a record let go is archived first (with its outcome flag), once', () => {
    const { finished, archived, archive } = storeWith({ maxRecords: 1, maxAgeMs: Infinity });
    finished.attachArchive(archive);
    finished.keep('c1', recordOf('c1', 10));
    finished.keep('c2', recordOf('c2', 20));
    expect(archived.map((item) => [item.record.conflict.conflictId, item.outcomeRecorded])).toEqual([['c1', false]]);
    // Already archived (restored from the archive): not archived a second time when let go.
    finished.keep('c3', recordOf('c3', 30), true, true);
    finished.keep('c4', recordOf('c4', 40));
    expect(idsOf(archived)).toEqual(['c1', 'c2']);
  });

  test('a record cut short by a stop (no resolution) is never archived', () => {
    const { finished, archived, archive } = storeWith({ maxRecords: 1, maxAgeMs: Infinity });
    finished.attachArchive(archive);
    finished.keep('open', recordOf('open', null));
    finished.keep('c2', recordOf('c2', 20));
    expect(finished.has('open')).toBe(false);
    expect(archived).toEqual([]);
  });

  test('age is measured from the finish, or from when a record without one is kept', () => {
    const { clock, finished } = storeWith({ maxRecords: Infinity, maxAgeMs: 100 });
    clock.increment(1_000);
    finished.keep('old', recordOf('old', 850));
    finished.keep('cut', recordOf('cut', null));
    expect(idsOf(finished.values())).toEqual(['cut']);
  });

  test('an outcome archives the record only while an archive is attached; a stale copy is archived again', () => {
    const { finished, archived, archive } = storeWith({ maxRecords: Infinity, maxAgeMs: Infinity });
    finished.keep('c1', recordOf('c1', 10));
    finished.keep('c2', recordOf('c2', 20), false, true);
    finished.outcomeRecorded(finished.get('c1')!);
    expect(archived).toEqual([]);
    finished.attachArchive(archive);
    finished.archiveRecordedOutcomes();
    expect(archived.map((item) => [item.record.conflict.conflictId, item.outcomeRecorded])).toEqual([['c1', true]]);
    finished.outcomeRecorded(finished.get('c2')!);
    expect(idsOf(archived)).toEqual(['c1', 'c2']);
    finished.detachArchive();
    finished.keep('c3', recordOf('c3', 30));
    finished.outcomeRecorded(finished.get('c3')!);
    expect(idsOf(archived)).toEqual(['c1', 'c2']);
    expect(finished.get('c3')).toMatchObject({ outcomeRecorded: true, archived: false });
  });
});

describe('conflictEngineStateOf', () => {
  test('keeps finished records with a resolution that are not archived, with their outcome flag', () => {
    const state = conflictEngineStateOf({
      open: [],
      finished: [
        { record: recordOf('kept', 10), outcomeRecorded: true, archived: false },
        { record: recordOf('archived', 20), outcomeRecorded: true, archived: true },
        { record: recordOf('cut', null), outcomeRecorded: false, archived: false },
      ],
      ledger: [],
      counters: new ConflictCounters().values(),
      savedAt: 42,
    });
    expect(state.finished.map((item) => [item.record.conflict.conflictId, item.outcomeRecorded])).toEqual([['kept', true]]);
    expect(state).toMatchObject({ version: 1, savedAt: 42, open: [] });
  });

  test.each([
    [{ open: 'collectingVotes' }, 'collectingVotes'],
    [{ open: 'awaitingHumanDecision' }, 'awaitingHumanDecision'],
    [{ open: 'not_a_phase' }, undefined],
    ['resolved', undefined],
    [null, undefined],
    [{ open: { nested: 1 } }, undefined],
  ])('phaseOf(%j) is %j', (value, phase) => {
    expect(phaseOf(value)).toBe(phase);
  });
});
