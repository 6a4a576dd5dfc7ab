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
export function finishedToRestore(archived: readonly PersistedFinishedConflict[], rewritten: readonly PersistedFinishedConflict[]): RestoredFinishedConflict[] {
  // One per conflict, the latest copy: a conflict let go without its outcome, restored and
  // then given one is archived twice, and the second copy is the true one.
  const latest = new Map<string, RestoredFinishedConflict>();
  for (const item of archived) latest.set(item.record.conflict.conflictId, { ...item, archived: true });
  for (const item of rewritten) latest.set(item.record.conflict.conflictId, { ...item, archived: false });
  // Array.prototype.sort is stable: equal times keep archive-then-value order.
  return [...latest.values()].sort((a, b) => finishedAtOf(a) - finishedAtOf(b));
}

function finishedAtOf(item: PersistedFinishedConflict): number {
  return item.record.resolution?.finishedAt ?? 0;
}
