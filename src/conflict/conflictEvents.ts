import { frozenJsonCopyAround } from '../jsonValue';
import type { ConflictResolution } from './conflictRecord';
import type { Conflict, ConsensusAlgorithm, Decision, ResolutionStrategy, Vote } from './model/conflictTypes';
import type { SnapshotWriterProblem } from '../store/snapshotWriter';
import type { VoterOutcome } from './performanceLedger';

/** What the conflict engine reports on `events$`, as it happens. `at` is clock time. */
export type ConflictEvent =
  | { readonly type: 'CONFLICT_DETECTED'; readonly conflictId: string; readonly conflict: Conflict; readonly at: number }
  | {
      readonly type: 'RESOLUTION_STARTED';
      readonly conflictId: string;
      readonly strategy: ResolutionStrategy;
      readonly algorithm: ConsensusAlgorithm;
      readonly at: number;
    }
  /** A voter answered or abstained (decision null). */
  | { readonly type: 'VOTE_RECEIVED'; readonly conflictId: string; readonly vote: Vote; readonly at: number }
  | { readonly type: 'HUMAN_DECISION_REQUESTED'; readonly conflictId: string; readonly conflict: Conflict; readonly at: number }
  | { readonly type: 'CONFLICT_RESOLVED'; readonly conflictId: string; readonly resolution: ConflictResolution; readonly at: number }
  | { readonly type: 'CONFLICT_ESCALATED'; readonly conflictId: string; readonly resolution: ConflictResolution; readonly at: number }
  /** A resolved decision was sent as a command. */
  | {
      readonly type: 'DECISION_EXECUTED';
      readonly conflictId: string;
      readonly topic: string;
      readonly recipients: readonly string[];
      readonly at: number;
    }
  /** A resolved decision's confidence was not above the execution threshold: nothing was sent. */
  | { readonly type: 'DECISION_HELD'; readonly conflictId: string; readonly confidence: number; readonly at: number }
  /** The bus refused a command or the escalation broadcast. */
  | {
      readonly type: 'DELIVERY_FAILED';
      readonly conflictId: string;
      readonly topic: string;
      readonly error: string;
      readonly at: number;
    }
  /** The store keeps failing, works again, or was given the state with non-JSON parts as null (see `SnapshotWriterProblem`). */
  | { readonly type: 'STORE_PROBLEM'; readonly problem: SnapshotWriterProblem; readonly at: number };

/** Published on `outcomes$` after `recordOutcome`: what the swarm can learn from. */
export interface ConsensusOutcome {
  readonly conflictId: string;
  readonly conflictType: Conflict['conflictType'];
  readonly actualDecision: Decision;
  /** The decision the conflict was resolved with; null if it escalated. */
  readonly consensusDecision: Decision | null;
  /** Whether that decision was right; null if the conflict escalated. */
  readonly consensusCorrect: boolean | null;
  /** One entry per non-abstaining voter. */
  readonly voters: readonly VoterOutcome[];
  readonly at: number;
}

/**
 * What a subscriber of `events$` or `outcomes$` gets: a frozen copy in which each object
 * field (the engine's own conflict, votes, resolution, voters) is a frozen JSON copy, as the
 * engine's schemas accept it (a `toJSON` value becomes what it returns); the primitive fields
 * are taken as they are. One event object reaches every subscriber. A part that cannot be
 * written as JSON (a `toJSON` that throws) is `null` in the copy: the event still goes out,
 * and nothing of the engine's is shared. @internal
 */
export function readOnlyCopy<T extends object>(event: T): T {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(event)) {
    const value = (event as Record<string, unknown>)[key];
    // JSON rather than structuredClone: structuredClone refused a function behind a `toJSON`, from inside XState's listeners.
    if (value !== undefined) copy[key] = typeof value === 'object' && value !== null ? frozenJsonCopyAround(value) : value;
  }
  return Object.freeze(copy) as T;
}
