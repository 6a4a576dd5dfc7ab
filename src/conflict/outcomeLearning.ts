import type { ConsensusOutcome } from './conflictEvents';
import type { ConflictRecord } from './conflictRecord';
import type { Decision } from './model/conflictTypes';
import { sameDecision } from './model/decisionKey';
import type { PerformanceLedger } from './performanceLedger';

/**
 * Learns from a finished conflict's true decision: every non-abstaining voter's weights in
 * the ledger are updated (wrong × β, right × reward, within floor and cap), and the answer
 * says whether the consensus was right (null if the conflict escalated) and how each voter
 * fared. What `recordOutcome` publishes on `outcomes$`.
 *
 * @example
 * ```ts
 * const outcome = learnFromOutcome(record, 'SELL', ledger, clock.now());
 * outcome.voters.filter((v) => !v.correct); // the voters that got it wrong
 * ```
 * @internal
 */
export function learnFromOutcome({ conflict, votes, resolution }: ConflictRecord, actualDecision: Decision, ledger: PerformanceLedger, at: number): ConsensusOutcome {
  const voters = ledger.applyOutcome(conflict.conflictType, votes, actualDecision);
  const consensusDecision = resolution?.status === 'resolved' ? resolution.decision : null;
  return {
    conflictId: conflict.conflictId,
    conflictType: conflict.conflictType,
    actualDecision,
    consensusDecision,
    consensusCorrect: consensusDecision === null ? null : sameDecision(consensusDecision, actualDecision),
    voters,
    at,
  };
}
