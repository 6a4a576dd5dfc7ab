import { finishedToRestore } from './conflictArchive';
import type { PersistedConflictEngine, PersistedFinishedConflict } from './conflictPersistence';
import type { ConflictCounters } from './conflictStats';
import type { FinishedConflicts } from './finishedConflicts';
import type { OpenConflicts } from './openConflicts';
import type { PerformanceLedger } from './performanceLedger';

/** What `restore()` loaded: the rewritten state (none yet under the key) and the archive's records. @internal */
export interface LoadedConflictState {
  readonly state: PersistedConflictEngine | undefined;
  readonly archived: readonly PersistedFinishedConflict[];
}

/** The parts of an engine that a restored state goes into. @internal */
export interface RestoredConflictParts {
  readonly counters: ConflictCounters;
  readonly ledger: PerformanceLedger;
  readonly finished: FinishedConflicts;
  readonly open: OpenConflicts;
}

/**
 * Carries an engine on from a loaded state: the counters added to its own, the ledger
 * weights of agents it does not know yet, finished conflicts as records (the archive's and
 * the value's, latest copy each), open ones given an actor again in their phase and
 * followed. Conflicts the engine already holds are kept as they are (the stored ones with
 * the same id are skipped). Nothing is emitted for what comes back as it was stored (it is
 * not new); a conflict restored past its deadline escalates here, so its `CONFLICT_ESCALATED`
 * and the events of its effects (the escalation broadcast, or its `DELIVERY_FAILED`) are
 * published during the restore. Votes an open conflict gathers after it is resumed are
 * reported as they come.
 *
 * @returns How many conflicts were restored (open and finished).
 * @internal
 */
export function restoreConflicts({ state, archived: fromArchive }: LoadedConflictState, { counters, ledger, finished, open }: RestoredConflictParts): number {
  if (!state) return 0;
  const known = (conflictId: string) => open.has(conflictId) || finished.has(conflictId);
  let restored = 0;
  counters.add(state.counters);
  for (const entry of state.ledger) {
    if (!ledger.knows(entry.agentId)) ledger.setPerformance(entry.agentId, entry);
  }
  for (const { record, outcomeRecorded, archived } of finishedToRestore(fromArchive, state.finished)) {
    if (known(record.conflict.conflictId)) continue;
    finished.keep(record.conflict.conflictId, record, outcomeRecorded, archived);
    restored++;
  }
  for (const stored of state.open) {
    if (known(stored.conflict.conflictId)) continue;
    open.resume(stored);
    restored++;
  }
  return restored;
}
