// The engine's options, their schemas and defaults, and the shapes its public methods take:
// types beside their feature, out of the facade (as orchestratorOptions.ts for the orchestrator).
import { z } from 'zod';
import { CommunicationBus } from '../bus/communicationBus';
import { isSnapshotStore, SnapshotKeySchema, type SnapshotStore } from '../store/snapshotStore';
import type { DecisionExecutors } from './decisionExecution';
import { ConflictType, ConsensusAlgorithm, ConsensusAlgorithmSchema, ResolutionStrategy, ResolutionStrategySchema, unit } from './model/conflictTypes';
import type { StakeProvider } from './model/stakes';
import { DEFAULT_EXECUTION_THRESHOLD } from './model/strategies';
import type { WeightUpdateOptions } from './performanceLedger';

/** Deadline of a reported conflict that does not give one, by type. */
export const DEFAULT_DEADLINE_MS: Readonly<Record<ConflictType, number>> = {
  [ConflictType.SIGNAL_CONFLICT]: 60_000,
  [ConflictType.RESOURCE_CONFLICT]: 120_000,
  [ConflictType.PRIORITY_CONFLICT]: 30_000,
  [ConflictType.TIMING_CONFLICT]: 60_000,
  [ConflictType.STRATEGY_CONFLICT]: 300_000,
  [ConflictType.RISK_CONFLICT]: 300_000,
};

/** @internal */
export const EngineOptionsSchema = z.object({
  bus: z.instanceof(CommunicationBus, { message: 'must be a CommunicationBus' }),
  consensusAlgorithm: ConsensusAlgorithmSchema.default(ConsensusAlgorithm.WEIGHTED_CONSENSUS),
  resolutionStrategy: ResolutionStrategySchema.default(ResolutionStrategy.VOTING_CONSENSUS),
  executionThreshold: unit.default(DEFAULT_EXECUTION_THRESHOLD),
  confidenceThreshold: unit.default(DEFAULT_EXECUTION_THRESHOLD),
  voteTimeoutMs: z.number().positive().default(30_000),
  stakeProvider: z.custom<StakeProvider>((v) => typeof v === 'function', 'must be a function').optional(),
  weightUpdate: z.custom<WeightUpdateOptions>((v) => typeof v === 'object' && v !== null, 'must be an object').optional(),
  agentId: z.string().min(1).default('conflict_resolver'),
  maxFinishedRecords: z.number().int().nonnegative().default(10_000),
  finishedRecordMaxAgeMs: z.number().nonnegative().default(0),
  store: z.custom<SnapshotStore>(isSnapshotStore, 'must be a SnapshotStore').optional(),
  storeKey: SnapshotKeySchema.default('conflicts'),
  archiveSegmentSize: z.number().int().positive().default(256),
  storeFlushTimeoutMs: z.number().positive().max(2_147_483_647).default(30_000),
  decisionExecutors: z.custom<DecisionExecutors>((v) => typeof v === 'function', 'must be a function').optional(),
});

/** Options of a {@link ConflictResolutionEngine}. */
export interface ConflictResolutionEngineOptions {
  /** The bus voters are asked on and decisions are sent over; conflict actors join its root's system. */
  readonly bus: CommunicationBus;
  /** Default `weighted_consensus`. */
  readonly consensusAlgorithm?: ConsensusAlgorithm;
  /** Default `voting_consensus`. */
  readonly resolutionStrategy?: ResolutionStrategy;
  /** A resolved decision is executed when its confidence is above this; held otherwise. Default 0.7. */
  readonly executionThreshold?: number;
  /** The bar of the `confidence_threshold` strategy (strictly above). Default 0.7. */
  readonly confidenceThreshold?: number;
  /** How long each voter (and the expert) has to answer. Default 30 000 ms. */
  readonly voteTimeoutMs?: number;
  /**
   * Where voters' stakes come from; default: the engine's performance ledger. Results are
   * clamped to [0.1, 2.0]; a provider that throws gives the default stake 0.5.
   */
  readonly stakeProvider?: StakeProvider;
  /** Multiplicative-weights parameters for `recordOutcome` (β 0.5, reward 1, floor 0.1, cap 2). */
  readonly weightUpdate?: WeightUpdateOptions;
  /** The engine's sender id on the bus. Default `conflict_resolver`. */
  readonly agentId?: string;
  /** How many finished conflicts are kept for `getConflict` and `recordOutcome`. Default 10 000. */
  readonly maxFinishedRecords?: number;
  /**
   * A finished conflict older than this (clock ms since it finished) leaves memory, checked
   * when another one finishes. 0 (default): no age limit, `maxFinishedRecords` alone bounds
   * memory (an outcome may be known long after the conflict ended). With a store, a record
   * let go is still read by `findConflict`.
   */
  readonly finishedRecordMaxAgeMs?: number;
  /**
   * Where the engine's state is persisted (memory, file or NATS KV store): open conflicts
   * with their votes, finished records, the performance ledger and the counters, written
   * on every change (coalesced per tick). Nothing is written until `restore()` has run;
   * `restore()` takes the key over. Default: none.
   */
  readonly store?: SnapshotStore;
  /** The key of this engine's state in the store. Default `conflicts`. */
  readonly storeKey?: string;
  /**
   * A finished conflict whose outcome is recorded never changes again: it leaves the state
   * rewritten on every change, and each this many of them are written once, under a key of
   * their own (`<storeKey>.archive.…`). Default 256.
   */
  readonly archiveSegmentSize?: number;
  /**
   * How long `stop()` waits for the store to take what is still unwritten, ms. Past it the
   * engine stops anyway and logs a warning (a store that never answers does not hold the
   * shutdown forever; the changes it had not taken may be lost). Default 30 000.
   */
  readonly storeFlushTimeoutMs?: number;
  /**
   * Who executes a resolved decision, for conflicts reported without `executors`: code, so
   * it is given here and not stored with the conflict. Ids that are not involved agents
   * are dropped; an empty answer falls back to the default (the agents whose vote won).
   */
  readonly decisionExecutors?: DecisionExecutors;
}

/** Options of `resolveConflict`; defaults are the engine's. */
export interface ResolveOptions {
  readonly algorithm?: ConsensusAlgorithm;
  readonly strategy?: ResolutionStrategy;
}

/** @internal */
export const ResolveOptionsSchema = z.object({
  algorithm: ConsensusAlgorithmSchema.optional(),
  strategy: ResolutionStrategySchema.optional(),
});

export type { ConflictDetectionContext } from './detectors/contextDetector';
