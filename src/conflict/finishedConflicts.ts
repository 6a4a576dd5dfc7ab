import { RecordRetention, type RetentionLimits } from '../kernel/recordRetention';
import type { PersistedFinishedConflict } from './conflictPersistence';
import type { ConflictRecord } from './conflictRecord';

/** What is kept of a finished conflict once its actor is gone. @internal */
export interface FinishedConflict {
  readonly record: ConflictRecord;
  outcomeRecorded: boolean;
  /** Handed to the writer's archive: no longer in the rewritten state. */
  archived: boolean;
}

/** Where finished conflicts go once they never change again (the snapshot writer's archive). @internal */
export interface FinishedConflictArchive {
  archive(item: PersistedFinishedConflict): void;
}

/**
 * The records of finished conflicts, within the engine's retention limits
 * (`maxFinishedRecords`, `finishedRecordMaxAgeMs`). While an archive is attached (from the
 * engine's `restore()` until it stops) a record leaves the rewritten state for the archive
 * once its outcome is recorded, or when it leaves memory.
 * @internal
 */
export class FinishedConflicts {
  private readonly records = new Map<string, FinishedConflict>();
  private readonly retention: RecordRetention<string>;
  private archiveTo: FinishedConflictArchive | undefined;

  constructor(
    limits: RetentionLimits,
    /** The engine's clock: a record's age runs from its finish, or from when it is kept. */
    private readonly now: () => number,
  ) {
    this.retention = new RecordRetention(limits, (id) => this.evict(id));
  }

  /** Records let go from memory so far. */
  get evicted(): number {
    return this.retention.evicted;
  }

  get(conflictId: string): FinishedConflict | undefined {
    return this.records.get(conflictId);
  }

  has(conflictId: string): boolean {
    return this.records.has(conflictId);
  }

  values(): IterableIterator<FinishedConflict> {
    return this.records.values();
  }

  /** Keeps a finished conflict's record (older ones past a limit go). */
  keep(conflictId: string, record: ConflictRecord, outcomeRecorded = false, archived = false): void {
    this.records.set(conflictId, { record, outcomeRecorded, archived });
    const now = this.now();
    this.retention.add(conflictId, record.resolution?.finishedAt ?? now, now);
  }

  /** Starts handing records to `archive` (records let go from memory from now on, outcomes recorded). */
  attachArchive(archive: FinishedConflictArchive): void {
    this.archiveTo = archive;
  }

  /** Archives the records whose outcome is recorded but are not archived yet (recorded before the archive existed, or before a restore). */
  archiveRecordedOutcomes(): void {
    for (const finished of this.records.values()) this.archiveRecorded(finished);
  }

  /** Stops archiving: the engine is stopping and the stored state is frozen. */
  detachArchive(): void {
    this.archiveTo = undefined;
  }

  /** Its outcome is recorded: the record is archived (again, when a stale copy was archived without it). */
  outcomeRecorded(finished: FinishedConflict): void {
    finished.outcomeRecorded = true;
    finished.archived = false;
    this.archiveRecorded(finished);
  }

  /**
   * Its outcome recorded, a finished conflict never changes again: it leaves the state
   * rewritten on every change for the writer's write-once archive, so that a write costs
   * the open conflicts and the finished ones still waiting for an outcome, not the history.
   */
  private archiveRecorded(finished: FinishedConflict): void {
    if (!this.archiveTo || finished.archived || !finished.outcomeRecorded || !finished.record.resolution) return;
    finished.archived = true;
    this.archiveTo.archive({ record: finished.record, outcomeRecorded: true });
  }

  /**
   * A finished conflict leaves memory. With an archive it goes there first (unless it is
   * there already), so that `findConflict` still reads it and the value rewritten on every
   * change does not carry it either.
   */
  private evict(conflictId: string): void {
    const finished = this.records.get(conflictId);
    this.records.delete(conflictId);
    if (!finished || finished.archived || !finished.record.resolution || !this.archiveTo) return;
    this.archiveTo.archive({ record: finished.record, outcomeRecorded: finished.outcomeRecorded });
  }
}
