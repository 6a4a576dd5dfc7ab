import { z } from 'zod';
import { JsonValueSchema } from '../../jsonValue';

/** What two or more agents disagree about. Values are the original lowercase strings. */
export const ConflictType = {
  SIGNAL_CONFLICT: 'signal_conflict',
  RESOURCE_CONFLICT: 'resource_conflict',
  PRIORITY_CONFLICT: 'priority_conflict',
  TIMING_CONFLICT: 'timing_conflict',
  STRATEGY_CONFLICT: 'strategy_conflict',
  RISK_CONFLICT: 'risk_conflict',
} as const;
export type ConflictType = (typeof ConflictType)[keyof typeof ConflictType];

/** How votes are turned into one decision (see `achieveConsensus`). */
export const ConsensusAlgorithm = {
  SIMPLE_MAJORITY: 'simple_majority',
  SUPERMAJORITY: 'supermajority',
  WEIGHTED_CONSENSUS: 'weighted_consensus',
  BFT: 'bft',
  QUORUM_BASED: 'quorum_based',
} as const;
export type ConsensusAlgorithm = (typeof ConsensusAlgorithm)[keyof typeof ConsensusAlgorithm];

/** How a conflict is settled. */
export const ResolutionStrategy = {
  /** Every involved agent votes over the bus (`conflict_vote`); a consensus algorithm decides. */
  VOTING_CONSENSUS: 'voting_consensus',
  /** The involved agent with the best record for the conflict type decides (`expert_resolution`). */
  EXPERT_PRECEDENCE: 'expert_precedence',
  /** Every involved agent votes; the most confident vote wins if it is above a threshold. */
  CONFIDENCE_THRESHOLD: 'confidence_threshold',
  /** A fixed safe decision per conflict type (HOLD, REDUCE, CONSERVATIVE). */
  FALLBACK_PROTOCOL: 'fallback_protocol',
  /** Waits for `submitHumanDecision`. */
  HUMAN_INTERVENTION: 'human_intervention',
  /** Splits a resource by stake, or takes the stake-weighted median of numeric votes. */
  COMPROMISE_SOLUTION: 'compromise_solution',
} as const;
export type ResolutionStrategy = (typeof ResolutionStrategy)[keyof typeof ResolutionStrategy];

/**
 * Where a conflict is in its life. The original had detected → resolving → resolved |
 * escalated; `awaiting_human` is ours, for the human-intervention strategy.
 */
export const ConflictStatus = {
  DETECTED: 'detected',
  RESOLVING: 'resolving',
  AWAITING_HUMAN: 'awaiting_human',
  RESOLVED: 'resolved',
  ESCALATED: 'escalated',
} as const;
export type ConflictStatus = (typeof ConflictStatus)[keyof typeof ConflictStatus];

/** Why a conflict was escalated instead of resolved. */
export const EscalationReason = {
  DEADLINE_PASSED: 'deadline_passed',
  NO_CONSENSUS: 'no_consensus',
  EXPERT_UNAVAILABLE: 'expert_unavailable',
  BELOW_CONFIDENCE_THRESHOLD: 'below_confidence_threshold',
  NO_FALLBACK: 'no_fallback',
  COMPROMISE_NOT_APPLICABLE: 'compromise_not_applicable',
  INTERNAL_ERROR: 'internal_error',
} as const;
export type EscalationReason = (typeof EscalationReason)[keyof typeof EscalationReason];

/** Topics the conflict engine uses on the bus. */
export const ConflictTopic = {
  VOTE: 'conflict_vote',
  EXPERT_RESOLUTION: 'expert_resolution',
  ESCALATION: 'conflict_escalation',
  EXECUTE_DECISION: 'execute_decision',
  /** The guide's command for a resolved trading-signal conflict. */
  EXECUTE_TRADE: 'execute_trade',
} as const;
export type ConflictTopic = (typeof ConflictTopic)[keyof typeof ConflictTopic];

/** @internal A zod enum of an `as const` object's values. */
export const enumOf = <T extends Record<string, string>>(values: T) => z.enum(Object.values(values) as [T[keyof T], ...T[keyof T][]]);

export const ConflictTypeSchema = enumOf(ConflictType);
export const ConsensusAlgorithmSchema = enumOf(ConsensusAlgorithm);
export const ResolutionStrategySchema = enumOf(ResolutionStrategy);

const nonEmpty = z.string().min(1, 'must be a non-empty string');
/** @internal A number within [0, 1]. */
export const unit = z.number().min(0, 'must be within [0, 1]').max(1, 'must be within [0, 1]');

/**
 * What an agent can decide: a JSON value other than null (null is an abstention).
 * Decisions are compared by value, so `{ a: 1, b: 2 }` and `{ b: 2, a: 1 }` are one decision.
 */
export type Decision = string | number | boolean | { readonly [key: string]: unknown } | readonly unknown[];

export const DecisionSchema: z.ZodType<Decision> = z.union([z.string(), z.number().finite(), z.boolean(), z.array(JsonValueSchema), z.record(z.string(), JsonValueSchema)]);

/**
 * A conflict as a caller reports it. Times are milliseconds on the runtime's clock;
 * `detectedAt` defaults to now and `resolutionDeadline` to the engine's default delay.
 */
export const ConflictInputSchema = z
  .object({
    conflictId: nonEmpty.optional(),
    conflictType: ConflictTypeSchema,
    description: z.string().default(''),
    involvedAgents: z
      .array(nonEmpty)
      .min(1, 'a conflict involves at least one agent')
      .transform((agents) => [...new Set(agents)]),
    conflictingElements: z.record(z.string(), JsonValueSchema).default({}),
    severity: unit,
    detectedAt: z.number().finite().nonnegative().optional(),
    resolutionDeadline: z.number().finite().optional(),
    /** Decisions the voters may choose from; empty means any decision. */
    options: z.array(DecisionSchema).default([]),
    /**
     * Who executes the resolved decision (see `planExecution`); each must be an involved agent.
     * Default: the agents whose vote won.
     */
    executors: z
      .array(nonEmpty)
      .min(1, 'names at least one agent when given')
      .transform((agents) => [...new Set(agents)])
      .optional(),
  })
  .superRefine((input, ctx) => {
    if (input.executors === undefined) return;
    const involved = new Set(input.involvedAgents);
    input.executors.forEach((id, index) => {
      if (!involved.has(id)) ctx.addIssue({ code: 'custom', path: ['executors', index], message: `'${id}' is not an involved agent` });
    });
  });

/** A conflict as callers write it (before defaults). */
export type ConflictInput = z.input<typeof ConflictInputSchema>;

/** A reported conflict: every field filled in. */
export interface Conflict {
  readonly conflictId: string;
  readonly conflictType: ConflictType;
  readonly description: string;
  readonly involvedAgents: readonly string[];
  readonly conflictingElements: Readonly<Record<string, unknown>>;
  /** 0 (cosmetic) to 1 (critical). */
  readonly severity: number;
  /** Milliseconds on the runtime's clock. */
  readonly detectedAt: number;
  /** Milliseconds on the runtime's clock; an open conflict escalates when it passes. */
  readonly resolutionDeadline: number;
  readonly options: readonly Decision[];
  /** Who executes the resolved decision; absent: the default of `planExecution`. */
  readonly executors?: readonly string[];
}

/** One agent's ballot. `decision: null` is an abstention. */
export interface Vote {
  readonly agentId: string;
  readonly decision: Decision | null;
  /** 0..1 */
  readonly confidence: number;
  readonly reasoning: string;
  /** Milliseconds on the runtime's clock. */
  readonly timestamp: number;
  /** Voting weight, normally within [0.1, 2.0] (see `computeStake`). */
  readonly stake: number;
  readonly evidence?: unknown;
}

export const VoteSchema = z.object({
  agentId: nonEmpty,
  decision: DecisionSchema.nullable(),
  confidence: unit,
  reasoning: z.string().default(''),
  timestamp: z.number().finite().default(0),
  stake: z.number().finite().nonnegative('must be a non-negative number'),
  evidence: JsonValueSchema.optional(),
});

/**
 * What an agent answers to a `conflict_vote` (or `expert_resolution`) request, or what
 * a registered vote function returns.
 */
export const VoteAnswerSchema = z.object({
  decision: DecisionSchema,
  confidence: unit,
  reasoning: z.string().default(''),
  evidence: JsonValueSchema.optional(),
});
export type VoteAnswer = z.input<typeof VoteAnswerSchema>;

/** Why a consensus attempt failed. */
export const ConsensusFailure = {
  /** No vote other than abstentions. */
  NO_VOTES: 'no_votes',
  /** Every vote has stake 0. */
  NO_STAKE: 'no_stake',
  /** Fewer votes than the algorithm's quorum (bft's n − f, quorum's max(3, ⌊n/2⌋ + 1)). */
  INSUFFICIENT_VOTES: 'insufficient_votes',
  /** The leading decision holds too little of the stake. */
  NO_MAJORITY: 'no_majority',
} as const;
export type ConsensusFailure = (typeof ConsensusFailure)[keyof typeof ConsensusFailure];

/** The outcome of a consensus attempt (or of another strategy, in the same shape). */
export interface ConsensusResult {
  readonly achieved: boolean;
  /** The winning decision; null when not achieved. */
  readonly decision: Decision | null;
  /** 0..1; 0 when not achieved. */
  readonly confidence: number;
  /** Share of all stake (abstentions included) behind the leading decision, 0..1. */
  readonly agreement: number;
  readonly algorithm: ConsensusAlgorithm;
  /** Agents whose non-abstaining votes were counted, in vote order. */
  readonly participants: readonly string[];
  /** Set when not achieved. */
  readonly failure?: ConsensusFailure;
}

/** What happens to a resolved decision. */
export const DecisionAction = {
  /** Confidence above the execution threshold: sent as a command. */
  EXECUTE: 'execute',
  /** Confidence at or below the threshold: nothing is sent, positions are held. */
  HOLD: 'hold',
} as const;
export type DecisionAction = (typeof DecisionAction)[keyof typeof DecisionAction];

/** How a conflict ended, as the conflict machine decides it. */
export type ConflictVerdict =
  | { readonly status: 'resolved'; readonly result: ConsensusResult; readonly action: DecisionAction }
  | {
      readonly status: 'escalated';
      readonly reason: EscalationReason;
      readonly detail: string;
      readonly result: ConsensusResult | null;
    };

/** A decision supplied by a person for a conflict awaiting one. */
export interface HumanDecision {
  readonly decision: Decision;
  /** Default 1. */
  readonly confidence: number;
  readonly decidedBy: string;
  readonly reasoning: string;
  readonly decidedAt: number;
}

export const HumanDecisionOptionsSchema = z.object({
  confidence: unit.default(1),
  decidedBy: nonEmpty.default('human'),
  reasoning: z.string().default(''),
});
export type HumanDecisionOptions = z.input<typeof HumanDecisionOptionsSchema>;

/** A human decision as a conflict actor takes it (what `HumanDecision` says, checked). */
export const HumanDecisionSchema = z.object({
  decision: DecisionSchema,
  confidence: unit,
  decidedBy: nonEmpty,
  reasoning: z.string(),
  decidedAt: z.number().finite(),
});
