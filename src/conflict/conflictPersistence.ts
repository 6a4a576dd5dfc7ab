import { z } from 'zod';
import { idRecordSchema } from '../idRecord';
import { CONFLICT_PHASES, type ConflictResume } from '../../machines/conflict.machine';
import type { ConflictRecord, ConflictResolution } from './conflictRecord';
import type { CounterValues } from './conflictStats';
import {
  ConflictStatus,
  ConflictTypeSchema,
  enumOf,
  unit,
  VoteSchema,
  ConsensusAlgorithmSchema,
  ConsensusFailure,
  DecisionAction,
  DecisionSchema,
  EscalationReason,
  ResolutionStrategySchema,
  type Conflict,
  type ConflictType,
} from './model/conflictTypes';

const id = z.string().min(1);
const time = z.number().finite();
const count = z.number().finite().nonnegative();

// The stored shapes are checked field by field (not `z.unknown()` + cast): a store is
// outside input, and a bad field must be named when it is loaded, not crash later.

const ConflictSchema = z.object({
  conflictId: id,
  conflictType: ConflictTypeSchema,
  description: z.string(),
  involvedAgents: z.array(id).min(1),
  conflictingElements: z.record(z.string(), z.unknown()),
  severity: unit,
  detectedAt: time,
  resolutionDeadline: time,
  options: z.array(DecisionSchema),
  executors: z.array(id).optional(),
}) satisfies z.ZodType<Conflict>;

const ConsensusResultFields = {
  achieved: z.boolean(),
  decision: DecisionSchema.nullable(),
  // Computed, not given: a rounding ulp above 1 must not make the whole state unreadable.
  confidence: count,
  agreement: count,
  algorithm: ConsensusAlgorithmSchema,
  participants: z.array(id),
  failure: enumOf(ConsensusFailure).optional(),
};

/** A conflict's resolution, validated when loaded (or received from the leader). @internal */
export const ResolutionSchema = z.object({
  ...ConsensusResultFields,
  conflictId: id,
  status: z.enum(['resolved', 'escalated']),
  strategy: ResolutionStrategySchema.nullable(),
  action: z.enum([DecisionAction.EXECUTE, DecisionAction.HOLD, 'escalate']),
  reason: enumOf(EscalationReason).nullable(),
  detail: z.string().nullable(),
  finishedAt: time,
}) satisfies z.ZodType<ConflictResolution>;

const ExpertAnswerSchema = z.object({ agentId: id, decision: DecisionSchema, confidence: unit, reasoning: z.string() });

const HumanDecisionSchema = z.object({
  decision: DecisionSchema,
  confidence: unit,
  decidedBy: id,
  reasoning: z.string(),
  decidedAt: time,
});

/** An open conflict: enough to give it an actor again where it was. */
const OpenConflictSchema = z
  .object({
    conflict: ConflictSchema,
    phase: z.enum(CONFLICT_PHASES),
    // Kept per conflict: the window's end (requestedAt + voteTimeoutMs) is an absolute time.
    voteTimeoutMs: z.number().positive(),
    strategy: ResolutionStrategySchema.nullable(),
    algorithm: ConsensusAlgorithmSchema.nullable(),
    requestedAt: time,
    // Keyed by agent ids: z.record would drop a voter named `__proto__`.
    stakes: idRecordSchema(count),
    expertId: id.nullable(),
    votes: z.array(VoteSchema),
    expertAnswer: ExpertAnswerSchema.nullable(),
    humanDecision: HumanDecisionSchema.nullable(),
  })
  .refine((c) => c.phase === 'detected' || c.strategy !== null, {
    message: 'a conflict past `detected` has a strategy',
    path: ['strategy'],
  });

/** A finished conflict: its record (outcome included) and whether its true outcome was given. */
const FinishedConflictSchema = z.object({
  record: z
    .object({
      conflict: ConflictSchema,
      status: z.enum([ConflictStatus.RESOLVED, ConflictStatus.ESCALATED]),
      strategy: ResolutionStrategySchema.nullable(),
      algorithm: ConsensusAlgorithmSchema.nullable(),
      votes: z.array(VoteSchema),
      resolution: ResolutionSchema,
    })
    .refine((r) => r.resolution.status === r.status, { message: 'must match the resolution status', path: ['status'] }),
  outcomeRecorded: z.boolean(),
});

const LedgerEntrySchema = z.object({
  agentId: id,
  overall: count,
  byType: z.partialRecord(ConflictTypeSchema, count),
});

const CountersSchema = z.object({
  detected: count,
  resolved: count,
  escalated: count,
  consensusAttempts: count,
  consensusSuccesses: count,
  // Detection times may be given by callers, so a total can in principle be negative.
  resolutionTimeTotal: time,
  votes: count,
  abstentions: count,
  executed: count,
  held: count,
}) satisfies z.ZodType<CounterValues>;

/** An open conflict as stored: the conflict and where it was. @internal */
export interface PersistedOpenConflict extends ConflictResume {
  readonly conflict: Conflict;
  readonly voteTimeoutMs: number;
}

/** A finished conflict as stored. @internal */
export interface PersistedFinishedConflict {
  readonly record: ConflictRecord;
  readonly outcomeRecorded: boolean;
}

/** What the conflict engine writes to its store. @internal */
export interface PersistedConflictEngine {
  readonly version: 1;
  /** Clock time of the write. */
  readonly savedAt: number;
  readonly open: readonly PersistedOpenConflict[];
  /** Oldest first: the order in which `maxFinishedRecords` evicts them. */
  readonly finished: readonly PersistedFinishedConflict[];
  readonly ledger: readonly { readonly agentId: string; readonly overall: number; readonly byType: Readonly<Partial<Record<ConflictType, number>>> }[];
  readonly counters: CounterValues;
}

/**
 * What the conflict engine writes to its store, validated when it is loaded.
 * @internal
 */
export const PersistedConflictEngineSchema: z.ZodType<PersistedConflictEngine> = z.object({
  version: z.literal(1),
  savedAt: time,
  open: z.array(OpenConflictSchema),
  finished: z.array(FinishedConflictSchema),
  ledger: z.array(LedgerEntrySchema),
  counters: CountersSchema,
});

/**
 * A finished conflict in the writer's archive (one whose outcome was recorded), validated when loaded.
 * @internal
 */
export const PersistedFinishedConflictSchema: z.ZodType<PersistedFinishedConflict> = FinishedConflictSchema;

/**
 * Where a restored open conflict resumes.
 * @internal
 */
export function resumeOf(stored: PersistedOpenConflict): ConflictResume {
  const { phase, strategy, algorithm, requestedAt, stakes, expertId, votes, expertAnswer, humanDecision } = stored;
  return { phase, strategy, algorithm, requestedAt, stakes, expertId, votes, expertAnswer, humanDecision };
}
