import { z } from 'zod';
import { ValidationError } from '../../errors';
import { TASK_FAILURE_CAUSES } from './failureAttribution';
import { SWARM_DEFAULTS, type SwarmRules } from './swarmTypes';

/**
 * Schemas of everything that enters the swarm from outside (options, ids, signals,
 * strengths, outcomes). Validated once at the facade; the machine trusts its events.
 */

const unit = z.number().min(0).max(1);
const nonNegative = z.number().min(0);
const count = z.int().min(0);
const positiveCount = z.int().min(1);

/** Rules whose values are fractions, strengths or probabilities. */
const unitRules = [
  'initialStrength',
  'learningRate',
  'initialPerformance',
  'performanceAlpha',
  'knowledgeShareBoost',
  'pruneThreshold',
  'highPerformerThreshold',
  'newLinkStrength',
  'newLinkProbability',
  'successRateHigh',
  'successRateLow',
  'successRateStep',
  'successRateFloor',
  'neutralSuccessRate',
  'correlationThreshold',
  'amplifyConfidence',
  'amplifyStrengthStep',
  'thresholdStep',
  'minThreshold',
  'maxThreshold',
  'patternSuccessRate',
  'transferBoost',
  'banditDiscount',
] as const satisfies readonly (keyof SwarmRules)[];
const positiveCountRules = ['maxLayers', 'historySize', 'consensusHistorySize', 'successWindowSize'] as const;
const countRules = ['teacherCount', 'patternMinUses', 'minSharedConsensus', 'minCorrelationSamples'] as const;

function ruleSchema(key: keyof SwarmRules): z.ZodType<number> {
  if ((unitRules as readonly string[]).includes(key)) return unit;
  if ((positiveCountRules as readonly string[]).includes(key)) return positiveCount;
  if ((countRules as readonly string[]).includes(key)) return count;
  if (key === 'cycleIntervalMs') return z.number().positive();
  if (key === 'bias') return z.number();
  return nonNegative;
}

/** Pairs of rules that must stay ordered (low ≤ high) once merged with the defaults. */
const orderedRules: readonly (readonly [keyof SwarmRules, keyof SwarmRules])[] = [
  ['successRateLow', 'successRateHigh'],
  ['minThreshold', 'maxThreshold'],
];

/** Overrides of the swarm's rule constants; unknown keys are refused. */
export const SwarmRulesSchema = z
  .strictObject(
    Object.fromEntries((Object.keys(SWARM_DEFAULTS) as (keyof SwarmRules)[]).map((key) => [key, ruleSchema(key).optional()])) as {
      [K in keyof SwarmRules]: z.ZodOptional<z.ZodType<number>>;
    },
  )
  .superRefine((rules, ctx) => {
    for (const [low, high] of orderedRules) {
      const lowValue = rules[low] ?? SWARM_DEFAULTS[low];
      const highValue = rules[high] ?? SWARM_DEFAULTS[high];
      if (lowValue > highValue) {
        ctx.addIssue({ code: 'custom', path: [low], message: `must not exceed ${high} (${highValue})` });
      }
    }
  });

export const agentIdSchema = z.string().min(1, 'must be a non-empty string');

/** Options of a `NeuralSwarmNetwork`, minus the objects (bus, clock) checked by the facade. */
export const SwarmOptionsSchema = z.object({
  networkId: agentIdSchema,
  /** Seed of the random generator; default: derived from `networkId`. */
  seed: z.int().min(0).max(0xffffffff).optional(),
  /** Period of the automatic cycle once `initialize()` ran (default 10 s). */
  cycleIntervalMs: z.number().positive().optional(),
  rules: SwarmRulesSchema.optional(),
});

export const AgentSettingsSchema = z.strictObject({
  agentId: agentIdSchema,
  activationThreshold: unit.optional(),
  bias: z.number().optional(),
  refractoryPeriodMs: nonNegative.optional(),
});

export const ConnectionArgsSchema = z
  .strictObject({ source: agentIdSchema, target: agentIdSchema, initialStrength: unit.optional() })
  .refine((a) => a.source !== a.target, { message: 'must differ from source (no self-connections)', path: ['target'] });

export const StrengthArgsSchema = z.strictObject({ connectionId: z.string().min(1), strength: unit });

export const SignalArgsSchema = z.strictObject({
  source: agentIdSchema,
  /** Strength of the signal injected into the source, in [0, 1]. */
  signal: unit,
  maxLayers: positiveCount.max(1000).optional(),
});

export const ShareArgsSchema = z.strictObject({
  source: agentIdSchema,
  key: z.string().min(1),
  value: z.unknown(),
  targets: z.array(agentIdSchema).optional(),
});

/**
 * Most producers one task outcome names: the balancer draws once per candidate × producer,
 * and learning touches one pair per producer (the runtime passes the first distinct ones).
 */
export const MAX_PRODUCERS_PER_OUTCOME = 64;

/**
 * Most pairs one producer keeps evidence for: a new consumer beyond this makes room by
 * dropping the {@link PAIRS_DROPPED_AT_CAP} pairs with the least evidence left (consumers
 * launched under fresh ids would otherwise grow it without bound).
 */
export const MAX_PAIRS_PER_PRODUCER = 256;

/**
 * Pairs a producer at {@link MAX_PAIRS_PER_PRODUCER} drops at once, those with the least
 * evidence left, when it meets a new consumer: finding them is one scan of its pairs (a
 * lookup and a power per pair), which one pair per new consumer paid every time (two thirds
 * of learning at the cap); 16 at once pay it once per 16 new consumers. The producer then
 * holds 241 to 256 pairs.
 */
export const PAIRS_DROPPED_AT_CAP = 16;

export const TaskOutcomeSchema = z.object({
  taskId: z.string().min(1),
  agentId: agentIdSchema,
  taskType: z.string().min(1).optional(),
  producerAgentIds: z.array(agentIdSchema).max(MAX_PRODUCERS_PER_OUTCOME).default([]),
  durationMs: nonNegative.optional(),
  at: nonNegative.optional(),
  failureCause: z.enum(TASK_FAILURE_CAUSES).optional(),
});

/** The argument of `NeuralSwarmNetwork.recordTaskOutcomes` (checked there by hand, equivalently). */
export const TaskOutcomesSchema = z.array(z.object({ outcome: TaskOutcomeSchema, success: z.boolean() }));

export const ConsensusOutcomeSchema = z.object({
  conflictId: z.string().min(1),
  conflictType: z.string().min(1),
  voters: z.array(z.object({ agentId: agentIdSchema, decision: z.string().nullable(), correct: z.boolean() })),
  at: nonNegative.optional(),
});

/**
 * Parses `value` or throws a `ValidationError` naming the first bad field.
 * @internal
 */
export function parseSwarmInput<T extends z.ZodType>(schema: T, what: string, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw ValidationError.fromZod(what, parsed.error);
  return parsed.data;
}
