import {
  type Conflict,
  type ConflictStatus,
  type ConflictVerdict,
  type ConsensusAlgorithm,
  type ConsensusResult,
  type DecisionAction,
  type EscalationReason,
  type ResolutionStrategy,
  type Vote,
} from './model/conflictTypes';

/** How a conflict ended: the consensus result plus what was done with it. */
export interface ConflictResolution extends ConsensusResult {
  readonly conflictId: string;
  readonly status: 'resolved' | 'escalated';
  /** Null when the conflict escalated before any strategy ran (deadline). */
  readonly strategy: ResolutionStrategy | null;
  /** `execute` or `hold` for a resolved conflict, `escalate` otherwise. */
  readonly action: DecisionAction | 'escalate';
  readonly reason: EscalationReason | null;
  readonly detail: string | null;
  /** Clock time at which the conflict ended. */
  readonly finishedAt: number;
}

/** What `getConflict` returns: the conflict, where it is, and how it ended. */
export interface ConflictRecord {
  readonly conflict: Conflict;
  readonly status: ConflictStatus;
  readonly strategy: ResolutionStrategy | null;
  readonly algorithm: ConsensusAlgorithm | null;
  /** Votes received so far (abstentions included), in arrival order. */
  readonly votes: readonly Vote[];
  /** Null while the conflict is open. */
  readonly resolution: ConflictResolution | null;
}

/**
 * Builds the resolution of a finished conflict from its verdict.
 * @internal
 */
export function toResolution(
  conflict: Conflict,
  verdict: ConflictVerdict,
  strategy: ResolutionStrategy | null,
  algorithm: ConsensusAlgorithm,
  finishedAt: number,
): ConflictResolution {
  const base = { conflictId: conflict.conflictId, strategy, finishedAt };
  if (verdict.status === 'resolved') {
    return { ...verdict.result, ...base, status: 'resolved', action: verdict.action, reason: null, detail: null };
  }
  const result: ConsensusResult = verdict.result ?? {
    achieved: false,
    decision: null,
    confidence: 0,
    agreement: 0,
    algorithm,
    participants: [],
  };
  return {
    ...result,
    ...base,
    achieved: false,
    decision: null,
    status: 'escalated',
    action: 'escalate',
    reason: verdict.reason,
    detail: verdict.detail,
  };
}
