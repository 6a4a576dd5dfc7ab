import { z } from 'zod';
import { ValidationError } from '../../errors';
import { ConsensusAlgorithm, ConsensusAlgorithmSchema, ConsensusFailure, VoteSchema, type ConsensusResult, type Decision, type Vote } from './conflictTypes';
import { decisionKey } from './decisionKey';

/** Share of the stake a simple or stake-weighted majority needs to exceed. */
export const MAJORITY_THRESHOLD = 0.5;
/** Share a supermajority needs to exceed (the original code used 0.66). */
export const SUPERMAJORITY_THRESHOLD = 2 / 3;
/** The smallest quorum of `quorum_based`, whatever the number of agents. */
export const MIN_QUORUM = 3;

/** Options of {@link achieveConsensus}. */
export interface ConsensusOptions {
  /**
   * The agents of the conflict. With voters, they make up the `n` of bft and
   * quorum_based; without them, `n` is the number of distinct voters.
   */
  readonly involvedAgents?: readonly string[];
}

/** Votes for one decision. */
interface DecisionGroup {
  readonly decision: Decision;
  readonly votes: Vote[];
  stake: number;
}

/** The votes sorted into decisions, with the totals every algorithm needs. */
interface Tally {
  /** Every agent's last vote (abstentions included), in first-vote order. */
  readonly votes: readonly Vote[];
  /** Non-abstaining votes. */
  readonly ballots: readonly Vote[];
  /** Stake of every vote, abstentions included: abstainers dilute agreement. */
  readonly totalStake: number;
  /** The decision with the most stake; the first one seen wins a tie. */
  readonly leader: DecisionGroup | undefined;
}

function tally(votes: readonly Vote[]): Tally {
  // One agent, one vote: a later vote replaces an earlier one, so a voter cannot weigh
  // in twice (which bft's fault bound assumes).
  const lastVote = new Map<string, Vote>();
  for (const vote of votes) {
    lastVote.delete(vote.agentId);
    lastVote.set(vote.agentId, vote);
  }
  const unique = [...lastVote.values()];
  const groups = new Map<string, DecisionGroup>();
  let totalStake = 0;
  let leader: DecisionGroup | undefined;
  const ballots: Vote[] = [];
  for (const vote of unique) {
    totalStake += vote.stake;
    if (vote.decision === null) continue;
    ballots.push(vote);
    const key = decisionKey(vote.decision);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { decision: vote.decision, votes: [], stake: 0 }));
    group.votes.push(vote);
    group.stake += vote.stake;
  }
  for (const group of groups.values()) if (!leader || group.stake > leader.stake) leader = group;
  return { votes: unique, ballots, totalStake, leader };
}

function meanConfidence(votes: readonly Vote[]): number {
  return votes.reduce((sum, v) => sum + v.confidence, 0) / votes.length;
}

function stakeWeightedConfidence(group: DecisionGroup): number {
  if (group.stake === 0) return meanConfidence(group.votes);
  return group.votes.reduce((sum, v) => sum + v.stake * v.confidence, 0) / group.stake;
}

/** `n` for bft and quorum_based: the involved agents and anyone else who voted. */
function agentCount(t: Tally, options: ConsensusOptions): number {
  const agents = new Set(options.involvedAgents ?? []);
  for (const vote of t.votes) agents.add(vote.agentId);
  return agents.size;
}

/** Votes an algorithm needs before it looks at the majority; 0 when it has no quorum. */
function requiredVotes(algorithm: ConsensusAlgorithm, n: number): number {
  if (algorithm === ConsensusAlgorithm.BFT) return n - Math.floor((n - 1) / 3);
  if (algorithm === ConsensusAlgorithm.QUORUM_BASED) return Math.max(MIN_QUORUM, Math.floor(n / 2) + 1);
  return 0;
}

const ConsensusArgsSchema = z.object({
  votes: z.array(VoteSchema),
  algorithm: ConsensusAlgorithmSchema,
  involvedAgents: z.array(z.string().min(1)).optional(),
});

/**
 * Turns votes into one decision. Votes are grouped by decision (compared by value) and
 * weighed by stake; abstentions (decision null) never win but their stake counts in the
 * total, so they dilute agreement. `agreement` is the leading decision's share of all
 * stake. Per algorithm:
 * - `simple_majority`: agreement > 0.5; confidence = mean of the winners' confidences.
 * - `weighted_consensus`: agreement > 0.5; confidence = stake-weighted mean.
 * - `supermajority`: agreement > 2/3; confidence = mean.
 * - `bft`: n agents, f = ⌊(n − 1)/3⌋; at least n − f non-abstaining votes, then agreement > 0.5.
 * - `quorum_based`: at least max(3, ⌊n/2⌋ + 1) non-abstaining votes, then simple majority.
 *
 * A tie for the lead can never exceed half the stake, so ties are never achieved.
 * Pure; validates its input and throws `ValidationError` on a malformed vote.
 *
 * @example
 * ```ts
 * const result = achieveConsensus(
 *   [
 *     { agentId: 'a', decision: 'BUY', confidence: 0.9, reasoning: '', timestamp: 0, stake: 1.5 },
 *     { agentId: 'b', decision: 'SELL', confidence: 0.6, reasoning: '', timestamp: 0, stake: 0.5 },
 *     { agentId: 'c', decision: 'SELL', confidence: 0.8, reasoning: '', timestamp: 0, stake: 0.5 },
 *   ],
 *   'weighted_consensus',
 * );
 * // { achieved: true, decision: 'BUY', agreement: 0.6, confidence: 0.9, ... }
 * ```
 */
export function achieveConsensus(votes: readonly Vote[], algorithm: ConsensusAlgorithm, options: ConsensusOptions = {}): ConsensusResult {
  const parsed = ConsensusArgsSchema.safeParse({ votes, algorithm, involvedAgents: options.involvedAgents });
  if (!parsed.success) throw ValidationError.fromZod('consensus input', parsed.error);
  const t = tally(parsed.data.votes);
  const participants = t.ballots.map((v) => v.agentId);
  const agreement = t.leader && t.totalStake > 0 ? t.leader.stake / t.totalStake : 0;
  const failed = (failure: ConsensusFailure): ConsensusResult => ({
    achieved: false,
    decision: null,
    confidence: 0,
    agreement,
    algorithm,
    participants,
    failure,
  });

  if (!t.leader) return failed(ConsensusFailure.NO_VOTES);
  const needed = requiredVotes(algorithm, agentCount(t, options));
  if (t.ballots.length < needed) return failed(ConsensusFailure.INSUFFICIENT_VOTES);
  if (t.totalStake === 0) return failed(ConsensusFailure.NO_STAKE);
  const threshold = algorithm === ConsensusAlgorithm.SUPERMAJORITY ? SUPERMAJORITY_THRESHOLD : MAJORITY_THRESHOLD;
  if (!(agreement > threshold)) return failed(ConsensusFailure.NO_MAJORITY);
  const confidence = algorithm === ConsensusAlgorithm.WEIGHTED_CONSENSUS ? stakeWeightedConfidence(t.leader) : meanConfidence(t.leader.votes);
  return { achieved: true, decision: t.leader.decision, confidence, agreement, algorithm, participants };
}
