import type { Immutable } from 'immer';
import type { TaskFailureCause } from './failureAttribution';
import type { PairPosterior } from './routingBandit';
import type { ShardedRecord } from './shardedRecord';
import type { PairIndex } from './pairIndex';

/**
 * The swarm network's constants and the shapes of its state, events and results.
 * Everything here is plain data (no classes, no functions) so that the swarm actor's
 * context can be persisted, compared and replayed.
 */

/**
 * Every constant of the swarm's rules (SPEC section 4). Strengths, thresholds and
 * performances are in [0, 1]; times are milliseconds except `decayRatePerSecond`.
 */
export const SWARM_DEFAULTS = {
  /** Strength of a new connection. */
  initialStrength: 0.5,
  /** Activation learning: `strength += learningRate × signal` (capped at 1). */
  learningRate: 0.1,
  /** Decay: `strength × exp(−decayRatePerSecond × secondsSinceLastActivation)`. */
  decayRatePerSecond: 0.01,
  activationThreshold: 0.5,
  bias: 0,
  refractoryPeriodMs: 1000,
  /** Performance of a new neuron. */
  initialPerformance: 0.5,
  /** Weight of a new observation in the performance moving average. */
  performanceAlpha: 0.1,
  /** Firing waves of one propagation (the source's included). */
  maxLayers: 3,
  /** Strength added to a connection that carried shared knowledge. */
  knowledgeShareBoost: 0.1,
  /** Connections weaker than this are pruned by topology adaptation. */
  pruneThreshold: 0.1,
  /** Neurons above this performance may be linked by topology adaptation. */
  highPerformerThreshold: 0.7,
  newLinkStrength: 0.3,
  newLinkProbability: 0.1,
  /** Success rate above which a connection is strengthened by `successRateStep`. */
  successRateHigh: 0.8,
  /** Success rate below which a connection is weakened by `successRateStep`. */
  successRateLow: 0.4,
  successRateStep: 0.1,
  /** Weakening by success rate never goes below this. */
  successRateFloor: 0.1,
  /** Success rate of a connection without recorded outcomes. */
  neutralSuccessRate: 0.5,
  /** Outcomes kept per connection (sliding window by count)... */
  successWindowSize: 20,
  /** ...and by age. */
  successWindowMs: 24 * 60 * 60 * 1000,
  /** Pairs of agents correlated above this form a pattern. */
  correlationThreshold: 0.7,
  /** Propagations needed in the history before correlations are computed. */
  minCorrelationSamples: 5,
  /** Patterns above this confidence are amplified. */
  amplifyConfidence: 0.8,
  amplifyStrengthStep: 0.01,
  /** Threshold change for agents of a successful_consensus (−) or risk_avoidance (+) pattern. */
  thresholdStep: 0.05,
  minThreshold: 0.1,
  maxThreshold: 0.9,
  /** How many top performers teach the others. */
  teacherCount: 2,
  /** A pattern is worth teaching above this success rate... */
  patternSuccessRate: 0.8,
  /** ...and when used more than this many times. */
  patternMinUses: 10,
  /** Strength added to teacher → student connections by a knowledge transfer. */
  transferBoost: 0.1,
  /** Propagations kept in the activation history (pattern detection window). */
  historySize: 100,
  /** Consensus outcomes kept for consensus patterns. */
  consensusHistorySize: 50,
  /** Outcomes two voters must share before their agreement counts as a pattern. */
  minSharedConsensus: 3,
  /** Period of the automatic network cycle (decay, adaptation, patterns). */
  cycleIntervalMs: 10_000,
  /**
   * Routing (Thompson sampling): each time a producer's output is judged, the evidence of
   * every pair of that producer is multiplied by this (1: never forget). 0.95 keeps about
   * the last 20 judgements per producer, so routing follows a world that changes.
   */
  banditDiscount: 0.95,
} as const;

/** The swarm's rule constants; see {@link SWARM_DEFAULTS} for meanings and defaults. */
export type SwarmRules = { readonly [K in keyof typeof SWARM_DEFAULTS]: number };

/** One outcome remembered by a connection, for its success rate. */
export interface ConnectionOutcome {
  readonly at: number;
  readonly success: boolean;
}

/** A directed connection (synapse) from one agent's neuron to another's. */
export interface SwarmConnection {
  readonly connectionId: string;
  readonly source: string;
  readonly target: string;
  /** In [0, 1]. */
  strength: number;
  learningRate: number;
  createdAt: number;
  /** Time of the last activation or use; `null` until the first one. */
  lastActivatedAt: number | null;
  /** Output of the last activation (`signal × strength`). */
  lastOutput: number;
  activationCount: number;
  /** Decay has been applied up to this time; decay never counts a span twice. */
  decayedAt: number;
  /** Recent task outcomes that flowed through this connection (sliding window). */
  outcomes: ConnectionOutcome[];
  /**
   * Routing evidence: discounted successes and failures of the pair (see `routingBandit`).
   * Absent until the pair's first judged outcome (and in snapshots older than it): the prior.
   */
  posterior?: PairPosterior;
}

/** Usage statistics of one kind of decision an agent makes (a task type, a conflict type). */
export interface DecisionPattern {
  uses: number;
  successes: number;
}

/** One agent as a neuron of the swarm. */
export interface SwarmNeuron {
  readonly agentId: string;
  /** Order of addition: breaks ties deterministically. */
  readonly seq: number;
  activationThreshold: number;
  bias: number;
  refractoryPeriodMs: number;
  /** Accumulated input since the last firing. */
  activation: number;
  /** `null` until the first firing (a new neuron is never refractory). */
  lastFiredAt: number | null;
  fireCount: number;
  /** In [0, 1]; exponential moving average of observed outcomes. */
  performance: number;
  knowledgeBase: Record<string, unknown>;
  /** Decision statistics by key, e.g. `task:analysis`, `consensus:risk_conflict`. */
  patterns: Record<string, DecisionPattern>;
  /** Connection ids by target agent (read with `pairOf` / `pairsOf`). */
  outgoing: PairIndex;
  /** How many pairs `outgoing` holds (kept with it: counting a pair index walks it). */
  outgoingCount: number;
  /** Connection ids by source agent (read with `pairOf` / `pairsOf`). */
  incoming: PairIndex;
  /**
   * How many judged outcomes this agent's output has had as a producer: the clock of its
   * pairs' discounting. Absent (0) until the first one.
   */
  producerSteps?: number;
}

/** What each touched neuron felt during one propagation (sparse: untouched neurons are absent). */
export interface ActivationRecord {
  readonly signalId: number;
  readonly source: string;
  readonly at: number;
  readonly activations: Readonly<Record<string, number>>;
}

/** One voter of a consensus outcome. */
export interface ConsensusVoter {
  readonly agentId: string;
  /** `null` for a voter that abstained (never counts as agreeing with anyone). */
  readonly decision: string | null;
  /** Whether the decision turned out right once the true outcome was known. */
  readonly correct: boolean;
}

/** A consensus outcome as the conflict engine reports it. */
export interface ConsensusOutcome {
  readonly conflictId: string;
  readonly conflictType: string;
  readonly voters: readonly ConsensusVoter[];
  readonly at?: number;
}

/** A remembered consensus outcome (pattern detection window). */
export interface ConsensusRecord {
  readonly conflictId: string;
  readonly conflictType: string;
  readonly voters: readonly ConsensusVoter[];
  readonly at: number;
}

/** A task outcome as the orchestrator reports it. */
export interface TaskOutcome {
  readonly taskId: string;
  /** The agent that ran the task. */
  readonly agentId: string;
  readonly taskType?: string;
  /** Agents that produced the results of the task's dependencies. */
  readonly producerAgentIds: readonly string[];
  readonly durationMs?: number;
  readonly at?: number;
  /**
   * For a failure: whose fault it was (see `failureCauseOf`). Only `pair` (the default)
   * counts against the producer → consumer pairs and the agent's performance.
   */
  readonly failureCause?: TaskFailureCause;
}

/** Kinds of emergent pattern. */
export const PatternType = {
  /** Agents whose activation histories are correlated. */
  CORRELATION_CLUSTER: 'correlation_cluster',
  /** Agents that keep voting together and being right. */
  SUCCESSFUL_CONSENSUS: 'successful_consensus',
  /** Agents that keep voting together and being right on risk conflicts. */
  RISK_AVOIDANCE: 'risk_avoidance',
} as const;
export type PatternType = (typeof PatternType)[keyof typeof PatternType];

/** A collective behaviour found in the network's history. */
/** Two agents of an {@link EmergentPattern}, in the order they joined, and their score. */
export interface PatternPair {
  readonly agents: readonly [string, string];
  readonly score: number;
}

export interface EmergentPattern {
  readonly patternId: string;
  readonly type: PatternType;
  /** Agents of the cluster, in the order they joined the network. */
  readonly involvedAgents: readonly string[];
  /** Existing connections between involved agents. */
  readonly involvedConnections: readonly string[];
  /** Mean score (correlation or joint success) of the cluster's qualifying pairs. */
  readonly confidence: number;
  /**
   * Each qualifying pair and its score. (A record keyed `a|b` gave the pairs `a|b`–`c` and
   * `a`–`b|c` one key.)
   */
  readonly pairs: readonly PatternPair[];
  readonly detectedAt: number;
}

/** One neuron's firing during a propagation. */
export interface FiringRecord {
  readonly agentId: string;
  /** 0 for the source, 1 for its targets... */
  readonly layer: number;
  readonly output: number;
}

/** What one propagation did. */
export interface PropagationResult {
  readonly signalId: number;
  readonly source: string;
  readonly signal: number;
  readonly fired: readonly FiringRecord[];
  /** Every neuron the signal reached, the source included. */
  readonly reached: readonly string[];
  /** Connections activated (each at most once). */
  readonly activatedConnections: readonly string[];
  readonly at: number;
}

/** What one topology adaptation did. */
export interface AdaptationResult {
  readonly pruned: readonly string[];
  readonly created: readonly string[];
  readonly at: number;
}

/** A pattern worth teaching: an agent's decision kind with a high success rate. */
export interface TransferredPattern {
  readonly key: string;
  readonly successRate: number;
  readonly usageCount: number;
}

/** One planned knowledge transfer from a top performer to another agent. */
export interface KnowledgeTransfer {
  readonly teacherId: string;
  readonly studentId: string;
  readonly patterns: readonly TransferredPattern[];
  /** Teacher → student connection that was strengthened, if there is one. */
  readonly connectionId: string | null;
  readonly at: number;
}

/** Running totals of the swarm. */
export interface SwarmCounters {
  totalSignals: number;
  totalFirings: number;
  tasksCompleted: number;
  tasksFailed: number;
  taskDurationMsTotal: number;
  tasksWithDuration: number;
  consensusOutcomes: number;
  correctVotes: number;
  wrongVotes: number;
  cycles: number;
  knowledgeTransfers: number;
  connectionsPruned: number;
  connectionsGrown: number;
  /** Failures not counted against their pairs (circuit open, dependency, agent lost...). Absent in older snapshots. */
  failuresNotAttributed?: number;
}

/** The whole network: the swarm actor's context. */
export interface SwarmState {
  readonly networkId: string;
  readonly rules: SwarmRules;
  /** Latest time seen in an event (ms); events without `at` happen at this time. */
  now: number;
  /** State of the seeded random generator (uint32). */
  rngState: number;
  /** Neurons by agent id, sharded (read with `neuronOf` / `listNeurons`). */
  neurons: ShardedRecord<SwarmNeuron>;
  /** Connections by connection id, sharded (read with `connectionOf` / `listConnections`). */
  connections: ShardedRecord<SwarmConnection>;
  nextNeuronSeq: number;
  nextConnectionSeq: number;
  nextSignalId: number;
  /** Recent propagations, oldest first, at most `rules.historySize`. */
  history: ActivationRecord[];
  /** Recent consensus outcomes, oldest first, at most `rules.consensusHistorySize`. */
  consensusHistory: ConsensusRecord[];
  globalKnowledge: Record<string, unknown>;
  /** Patterns found by the last detection. */
  patterns: EmergentPattern[];
  lastPropagation: PropagationResult | null;
  lastAdaptation: AdaptationResult | null;
  lastTransfers: KnowledgeTransfer[];
  /** How many agents the last `KNOWLEDGE_SHARED` reached. */
  lastShareCount: number;
  lastCycleAt: number | null;
  /** When the periodic cycle's timer was last (re)started; `null` while not running. */
  timerStartedAt: number | null;
  counters: SwarmCounters;
}

/** A read-only view of the network state (its parts are frozen by immer: change it only through events). */
export type SwarmSnapshot = Immutable<SwarmState>;

/** Input of the swarm actor. */
export interface SwarmMachineInput {
  readonly networkId: string;
  /** Seed of the random generator (uint32). */
  readonly seed: number;
  readonly rules?: Partial<SwarmRules>;
  /** Start time of the network (ms). */
  readonly at?: number;
}

/** A task outcome event, as the orchestrator sends it. */
export type TaskOutcomeEvent = ({ type: 'TASK_COMPLETED' } | { type: 'TASK_FAILED' }) & TaskOutcome;

/**
 * Many task outcomes in one step: the runtime batches what finished in one tick, so the
 * swarm pays one immutable update per batch instead of one per task.
 */
export interface TaskOutcomesEvent {
  readonly type: 'TASK_OUTCOMES_OBSERVED';
  readonly outcomes: readonly { readonly outcome: TaskOutcome; readonly success: boolean }[];
  readonly at?: number;
}

/**
 * Several `TASK_OUTCOMES_OBSERVED` events in one step, each with its own time: what the
 * facade sends when it publishes the outcomes it held (see `NeuralSwarmNetwork.recordTaskOutcomes`).
 */
export interface TaskOutcomeBatchesEvent {
  readonly type: 'TASK_OUTCOME_BATCHES_OBSERVED';
  readonly batches: readonly Omit<TaskOutcomesEvent, 'type'>[];
  readonly at?: number;
}

/** Events the swarm actor understands. `at` is the event's time (ms); without it, the latest time seen. */
export type SwarmEvent =
  /** Starts the periodic cycle. */
  | { type: 'NETWORK_STARTED'; at?: number }
  | {
      type: 'AGENT_ADDED';
      agentId: string;
      activationThreshold?: number;
      bias?: number;
      refractoryPeriodMs?: number;
      at?: number;
    }
  | { type: 'AGENT_REMOVED'; agentId: string; at?: number }
  | { type: 'CONNECTION_CREATED'; source: string; target: string; initialStrength?: number; at?: number }
  | { type: 'CONNECTION_REMOVED'; source: string; target: string; at?: number }
  | { type: 'CONNECTION_STRENGTH_ADJUSTED'; connectionId: string; strength: number; at?: number }
  | { type: 'SIGNAL'; source: string; signal: number; maxLayers?: number; at?: number }
  | { type: 'KNOWLEDGE_SHARED'; source: string; key: string; value: unknown; targets?: readonly string[]; at?: number }
  | { type: 'TOPOLOGY_ADAPTATION_REQUESTED'; at?: number }
  | { type: 'PATTERN_DETECTION_REQUESTED'; at?: number }
  | { type: 'KNOWLEDGE_SHARING_REQUESTED'; at?: number }
  | TaskOutcomeEvent
  | TaskOutcomesEvent
  | TaskOutcomeBatchesEvent
  | ({ type: 'CONSENSUS_OUTCOME' } & ConsensusOutcome)
  /** Decay, topology adaptation and pattern amplification. */
  | { type: 'CYCLE'; at?: number };
