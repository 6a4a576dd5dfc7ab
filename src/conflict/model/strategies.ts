import { achieveConsensus } from './consensus';
import { proposeCompromise } from './compromise';
import {
  ConflictType,
  DecisionAction,
  EscalationReason,
  ResolutionStrategy,
  type Conflict,
  type ConflictVerdict,
  type ConsensusAlgorithm,
  type ConsensusResult,
  type Decision,
  type HumanDecision,
  type Vote,
} from './conflictTypes';
import { decisionKey } from './decisionKey';

/** Confidence of a fallback decision. */
export const FALLBACK_CONFIDENCE = 0.5;
/** Confidence of an expert's answer that does not state one. */
export const DEFAULT_EXPERT_CONFIDENCE = 0.8;
/** Default execution threshold: a decision is executed only when its confidence is above it. */
export const DEFAULT_EXECUTION_THRESHOLD = 0.7;

/** The safe decision of each conflict type that has one. */
export const FALLBACK_DECISIONS: Readonly<Partial<Record<ConflictType, Decision>>> = {
  [ConflictType.SIGNAL_CONFLICT]: 'HOLD',
  [ConflictType.RESOURCE_CONFLICT]: 'REDUCE',
  [ConflictType.RISK_CONFLICT]: 'CONSERVATIVE',
};

/** An expert's answer, already validated. */
export interface ExpertAnswer {
  readonly agentId: string;
  readonly decision: Decision;
  readonly confidence: number;
  readonly reasoning: string;
}

/** Everything a conflict's tally depends on; all of it is in the conflict actor's context. */
export interface TallyInput {
  readonly conflict: Conflict;
  readonly strategy: ResolutionStrategy;
  readonly algorithm: ConsensusAlgorithm;
  readonly votes: readonly Vote[];
  /** Stakes of the involved agents for this conflict type, taken when resolution started. */
  readonly stakes: Readonly<Record<string, number>>;
  readonly expertAnswer: ExpertAnswer | null;
  readonly humanDecision: HumanDecision | null;
  /** The confidence_threshold strategy's bar (strictly above). */
  readonly confidenceThreshold: number;
  /** A resolved decision is executed when its confidence is strictly above this. */
  readonly executionThreshold: number;
}

/**
 * Picks the expert of a conflict: the involved agent with the best record for its type
 * (first involved agent on ties). Undefined when no agent is involved.
 *
 * @example
 * ```ts
 * selectExpert(['a', 'b'], (id) => (id === 'b' ? 0.9 : 0.5)); // 'b'
 * ```
 */
export function selectExpert(involvedAgents: readonly string[], recordOf: (agentId: string) => number): string | undefined {
  let best: string | undefined;
  let bestRecord = -Infinity;
  for (const agentId of involvedAgents) {
    const record = recordOf(agentId);
    if (record > bestRecord) {
      best = agentId;
      bestRecord = record;
    }
  }
  return best;
}

/** Votes in the order of the conflict's involved agents, so ties break the same way every run. */
function inAgentOrder(conflict: Conflict, votes: readonly Vote[]): Vote[] {
  const rank = new Map(conflict.involvedAgents.map((id, i) => [id, i]));
  const last = conflict.involvedAgents.length;
  return [...votes].sort((a, b) => (rank.get(a.agentId) ?? last) - (rank.get(b.agentId) ?? last));
}

function escalate(reason: EscalationReason, detail: string, result: ConsensusResult | null = null): ConflictVerdict {
  return { status: 'escalated', reason, detail, result };
}

function resolve(result: ConsensusResult, executionThreshold: number): ConflictVerdict {
  const action = result.confidence > executionThreshold ? DecisionAction.EXECUTE : DecisionAction.HOLD;
  return { status: 'resolved', result, action };
}

/**
 * The most confident vote wins when its confidence is strictly above `threshold`.
 * Equal confidence: more stake wins; a remaining tie between different decisions
 * escalates. Agreement is the stake share of the votes for the winning decision.
 */
function mostConfident(votes: readonly Vote[], threshold: number, algorithm: ConsensusAlgorithm): ConflictVerdict | ConsensusResult {
  const ballots = votes.filter((v) => v.decision !== null);
  if (ballots.length === 0) return escalate(EscalationReason.BELOW_CONFIDENCE_THRESHOLD, 'no votes');
  let best = ballots[0] as Vote;
  let tied = false;
  for (const vote of ballots.slice(1)) {
    const better = vote.confidence > best.confidence || (vote.confidence === best.confidence && vote.stake > best.stake);
    if (better) {
      best = vote;
      tied = false;
    } else if (vote.confidence === best.confidence && vote.stake === best.stake) {
      tied ||= decisionKey(vote.decision as Decision) !== decisionKey(best.decision as Decision);
    }
  }
  if (!(best.confidence > threshold)) {
    return escalate(EscalationReason.BELOW_CONFIDENCE_THRESHOLD, `highest confidence ${best.confidence} is not above ${threshold}`);
  }
  if (tied) return escalate(EscalationReason.BELOW_CONFIDENCE_THRESHOLD, 'tie between equally confident votes');
  const winner = decisionKey(best.decision as Decision);
  const totalStake = votes.reduce((sum, v) => sum + v.stake, 0);
  const behind = ballots.filter((v) => decisionKey(v.decision as Decision) === winner).reduce((sum, v) => sum + v.stake, 0);
  return {
    achieved: true,
    decision: best.decision,
    confidence: best.confidence,
    agreement: totalStake === 0 ? 0 : behind / totalStake,
    algorithm,
    participants: ballots.map((v) => v.agentId),
  };
}

function isVerdict(x: ConflictVerdict | ConsensusResult): x is ConflictVerdict {
  return 'status' in x;
}

/**
 * Decides how a conflict ends once its strategy has what it needs (votes, the expert's
 * answer, the human decision). Pure: the conflict machine calls it in `tallying`.
 * A resolved decision is executed when its confidence is above the execution
 * threshold, held otherwise.
 *
 * @example
 * ```ts
 * const verdict = tallyConflict({ conflict, strategy: 'voting_consensus', algorithm: 'weighted_consensus', votes,
 *   stakes: {}, expertAnswer: null, humanDecision: null, confidenceThreshold: 0.7, executionThreshold: 0.7 });
 * if (verdict.status === 'resolved') console.log(verdict.result.decision, verdict.action);
 * ```
 */
export function tallyConflict(input: TallyInput): ConflictVerdict {
  const { conflict, algorithm, executionThreshold } = input;
  const votes = inAgentOrder(conflict, input.votes);
  switch (input.strategy) {
    case ResolutionStrategy.VOTING_CONSENSUS: {
      const result = achieveConsensus(votes, algorithm, { involvedAgents: conflict.involvedAgents });
      if (result.achieved) return resolve(result, executionThreshold);
      return escalate(EscalationReason.NO_CONSENSUS, `${algorithm}: ${result.failure ?? 'not achieved'}`, result);
    }
    case ResolutionStrategy.CONFIDENCE_THRESHOLD: {
      const outcome = mostConfident(votes, input.confidenceThreshold, algorithm);
      return isVerdict(outcome) ? outcome : resolve(outcome, executionThreshold);
    }
    case ResolutionStrategy.EXPERT_PRECEDENCE: {
      const answer = input.expertAnswer;
      if (!answer) return escalate(EscalationReason.EXPERT_UNAVAILABLE, 'the expert gave no valid answer in time');
      const result: ConsensusResult = {
        achieved: true,
        decision: answer.decision,
        confidence: answer.confidence,
        agreement: 1,
        algorithm,
        participants: [answer.agentId],
      };
      return resolve(result, executionThreshold);
    }
    case ResolutionStrategy.FALLBACK_PROTOCOL: {
      const decision = FALLBACK_DECISIONS[conflict.conflictType];
      if (decision === undefined) {
        return escalate(EscalationReason.NO_FALLBACK, `no fallback decision for ${conflict.conflictType}`);
      }
      const result: ConsensusResult = {
        achieved: true,
        decision,
        confidence: FALLBACK_CONFIDENCE,
        agreement: 0,
        algorithm,
        participants: [],
      };
      return resolve(result, executionThreshold);
    }
    case ResolutionStrategy.HUMAN_INTERVENTION: {
      const human = input.humanDecision;
      if (!human) return escalate(EscalationReason.INTERNAL_ERROR, 'tallied without a human decision');
      const result: ConsensusResult = {
        achieved: true,
        decision: human.decision,
        confidence: human.confidence,
        agreement: 1,
        algorithm,
        participants: [human.decidedBy],
      };
      return resolve(result, executionThreshold);
    }
    case ResolutionStrategy.COMPROMISE_SOLUTION: {
      const outcome = proposeCompromise(conflict, votes, input.stakes, algorithm);
      if (!outcome.applicable) return escalate(EscalationReason.COMPROMISE_NOT_APPLICABLE, outcome.detail);
      return resolve(outcome.result, executionThreshold);
    }
  }
}

/**
 * True when a strategy needs every involved agent's vote before tallying (a resource
 * compromise needs only stakes).
 *
 * @example
 * ```ts
 * strategyNeedsVotes('compromise_solution', 'resource_conflict'); // false
 * ```
 */
export function strategyNeedsVotes(strategy: ResolutionStrategy, conflictType: ConflictType): boolean {
  return (
    strategy === ResolutionStrategy.VOTING_CONSENSUS ||
    strategy === ResolutionStrategy.CONFIDENCE_THRESHOLD ||
    (strategy === ResolutionStrategy.COMPROMISE_SOLUTION && conflictType !== ConflictType.RESOURCE_CONFLICT)
  );
}
