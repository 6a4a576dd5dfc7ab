import type { SnapshotFrom } from 'xstate';
import { CONFLICT_PHASES, type ConflictMachine, type ConflictPhase } from '../../machines/conflict.machine';
import type { PersistedConflictEngine, PersistedOpenConflict } from './conflictPersistence';
import type { FinishedConflict } from './finishedConflicts';
import type { Conflict } from './model/conflictTypes';

const PHASES: ReadonlySet<string> = new Set<ConflictPhase>(CONFLICT_PHASES);

/** The phase of an open conflict's state value; undefined once it has ended. @internal */
export function phaseOf(value: unknown): ConflictPhase | undefined {
  const phase = (value as { open?: unknown } | null)?.open;
  return typeof phase === 'string' && PHASES.has(phase) ? (phase as ConflictPhase) : undefined;
}

/**
 * An open conflict as stored: the phase its actor is in and what it has gathered, for
 * `resumeOf` to give it an actor again. Undefined for an actor that has ended: it is
 * finished (and recorded) within the same notification, there is no phase to resume, and
 * resuming one would run its decision twice.
 * @internal
 */
export function persistedOpenConflictOf(conflict: Conflict, snapshot: SnapshotFrom<ConflictMachine>): PersistedOpenConflict | undefined {
  const phase = phaseOf(snapshot.value);
  if (!phase) return undefined;
  const c = snapshot.context;
  return {
    conflict,
    phase,
    voteTimeoutMs: c.voteTimeoutMs,
    strategy: c.strategy,
    algorithm: c.algorithm,
    requestedAt: c.requestedAt,
    stakes: c.stakes,
    expertId: c.expertId,
    votes: c.votes,
    expertAnswer: c.expertAnswer,
    humanDecision: c.humanDecision,
  };
}

/** What the engine's state is made of when it is saved. @internal */
export interface ConflictEngineParts {
  readonly open: Iterable<{ readonly conflict: Conflict; readonly actor: { getSnapshot(): SnapshotFrom<ConflictMachine> } }>;
  readonly finished: Iterable<FinishedConflict>;
  readonly ledger: PersistedConflictEngine['ledger'];
  readonly counters: PersistedConflictEngine['counters'];
  readonly savedAt: number;
}

/**
 * The engine's state as written to its store: open conflicts in their phase, finished ones
 * not yet in the writer's archive, the performance ledger and the counters.
 * @internal
 */
export function conflictEngineStateOf({ open, finished, ledger, counters, savedAt }: ConflictEngineParts): PersistedConflictEngine {
  const openToSave: PersistedOpenConflict[] = [];
  for (const entry of open) {
    const stored = persistedOpenConflictOf(entry.conflict, entry.actor.getSnapshot());
    if (stored) openToSave.push(stored);
  }
  const finishedToSave: PersistedConflictEngine['finished'][number][] = [];
  for (const { record, outcomeRecorded, archived } of finished) {
    // Records without a resolution are conflicts cut short by a stop: they are open in the store.
    if (record.resolution && !archived) finishedToSave.push({ record, outcomeRecorded });
  }
  return { version: 1, savedAt, open: openToSave, finished: finishedToSave, ledger, counters };
}
