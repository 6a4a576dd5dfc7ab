import type { PersistedFinishedConflict } from './conflictPersistence';

/** A finished conflict to restore, and whether it came from the writer's archive. @internal */
export interface RestoredFinishedConflict extends PersistedFinishedConflict {
  readonly archived: boolean;
}

/**
 * The finished conflicts of a loaded state, oldest finish first: those the writer's archive
 * holds (their outcome was recorded) and those the rewritten value still carries (no
 * outcome yet, or a value written before the archive existed). Merged by `finishedAt`
 * because the engine evicts the oldest first (`maxFinishedRecords`): the archive is in
 * the order outcomes were recorded, not the order conflicts finished.
 * @internal
 */
export function finishedToRestore(
  archived: readonly PersistedFinishedConflict[],
  rewritten: readonly PersistedFinishedConflict[],
): RestoredFinishedConflict[] {
  const all: RestoredFinishedConflict[] = [
    ...archived.map((item) => ({ ...item, archived: true })),
    ...rewritten.map((item) => ({ ...item, archived: false })),
  ];
  // Array.prototype.sort is stable: equal times keep archive-then-value order.
  return all.sort((a, b) => finishedAtOf(a) - finishedAtOf(b));
}

function finishedAtOf(item: PersistedFinishedConflict): number {
  return item.record.resolution?.finishedAt ?? 0;
}
