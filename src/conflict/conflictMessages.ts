import type { ConflictMachineEvent } from '../../machines/conflict.machine';
import { ValidationError } from '../errors';
import { DecisionSchema, HumanDecisionOptionsSchema, ResolutionStrategy, type Conflict, type ConsensusAlgorithm } from './model/conflictTypes';
import { selectExpert } from './model/strategies';
import type { StakeSource } from './stakeSource';

/** The message that starts a conflict's resolution. @internal */
export type ResolutionRequested = Extract<ConflictMachineEvent, { type: 'RESOLUTION_REQUESTED' }>;
/** The message that gives a conflict the human decision it waits for. @internal */
export type HumanDecisionSubmitted = Extract<ConflictMachineEvent, { type: 'HUMAN_DECISION_SUBMITTED' }>;

/**
 * The `RESOLUTION_REQUESTED` message for a conflict: the stakes of its involved agents,
 * fixed now for the whole resolution, and for `expert_precedence` the involved agent with
 * the best record for the conflict's type.
 *
 * @example
 * ```ts
 * actor.send(resolutionRequestOf(conflict, 'voting_consensus', 'weighted_consensus', clock.now(), stakes));
 * ```
 * @internal
 */
export function resolutionRequestOf(
  conflict: Conflict,
  strategy: ResolutionStrategy,
  algorithm: ConsensusAlgorithm,
  requestedAt: number,
  stakes: StakeSource,
): ResolutionRequested {
  const { involvedAgents, conflictType } = conflict;
  // fromEntries defines each key as its own property: assigning `stakes['__proto__']` would not.
  const fixed = Object.fromEntries(involvedAgents.map((agentId) => [agentId, stakes.stakeOf(agentId, conflictType)]));
  const expertId = strategy === ResolutionStrategy.EXPERT_PRECEDENCE ? (selectExpert(involvedAgents, (agentId) => stakes.expertRecordOf(agentId, conflictType)) ?? null) : null;
  return { type: 'RESOLUTION_REQUESTED', strategy, algorithm, requestedAt, stakes: fixed, expertId };
}

/**
 * The `HUMAN_DECISION_SUBMITTED` message for what a person decided: the decision and its
 * options validated (confidence 1, `decidedBy` 'human' and empty reasoning unless given),
 * stamped with `decidedAt`.
 *
 * @throws ValidationError naming the bad field (`human decision`, or `human decision options.<field>`).
 * @example
 * ```ts
 * actor.send(humanDecisionSubmittedOf('HOLD', { decidedBy: 'ops-oncall' }, clock.now()));
 * ```
 * @internal
 */
export function humanDecisionSubmittedOf(decision: unknown, options: unknown, decidedAt: number): HumanDecisionSubmitted {
  const parsedDecision = DecisionSchema.safeParse(decision);
  if (!parsedDecision.success) throw ValidationError.fromZod('human decision', parsedDecision.error);
  const parsed = HumanDecisionOptionsSchema.safeParse(options);
  if (!parsed.success) throw ValidationError.fromZod('human decision options', parsed.error);
  return { type: 'HUMAN_DECISION_SUBMITTED', decision: { decision: parsedDecision.data, ...parsed.data, decidedAt } };
}
