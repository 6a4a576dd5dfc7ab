import type { Immutable } from 'immer';
import { createActor, type Actor, type ActorRefFrom } from 'xstate';
import { swarmMachine, type SwarmMachine } from '../../machines/swarm.machine';
import type { RuntimeMachine } from '../../machines/runtime.machine';
import { CommunicationBus } from '../bus/communicationBus';
import { NotRunningError, UnknownAgentError, ValidationError } from '../errors';
import { systemClock, withLongTimers, type NeuroFluxClock } from '../kernel/clock';
import { ShardedSupervisor } from '../kernel/shardedSupervisor';
import { activationPatterns } from './model/emergentPatterns';
import { knowledgeTransferMessage } from './model/knowledgeSharing';
import { agentPerformance } from './model/neuron';
import { performanceMetrics, type SwarmPerformanceMetrics } from './performanceMetrics';
import { routingAffinity } from './routingAffinity';
import { learnFromTasks, type TaskOutcomeBatch } from './model/outcomeLearning';
import { parseTaskOutcomes } from './parseTaskOutcomes';
import { seedFromString } from './model/seededRandom';
import { connectionOf, listNeurons, neuronOf } from './model/swarmState';
import { DuplicateNetworkError, UnknownConnectionError } from './swarmErrors';
import {
  AgentSettingsSchema,
  ConnectionArgsSchema,
  ConsensusOutcomeSchema,
  parseSwarmInput,
  ShareArgsSchema,
  SignalArgsSchema,
  StrengthArgsSchema,
  SwarmOptionsSchema,
  TaskOutcomeSchema,
  agentIdSchema,
} from './model/swarmSchemas';
import { computeSwarmStats, type SwarmStats } from './topologyMetrics';
import { pairOf } from './model/pairIndex';
import type {
  AdaptationResult,
  ConsensusOutcome,
  EmergentPattern,
  KnowledgeTransfer,
  PropagationResult,
  SwarmConnection,
  SwarmEvent,
  SwarmNeuron,
  SwarmRules,
  SwarmSnapshot,
  SwarmState,
  TaskOutcome,
} from './model/swarmTypes';

/** Options of a {@link NeuralSwarmNetwork}. */
export interface NeuralSwarmNetworkOptions {
  readonly networkId: string;
  /** Seed of the random generator (uint32). Default: derived from `networkId`, so runs are reproducible. */
  readonly seed?: number;
  /** Knowledge transfers go over this bus, and the swarm actor joins its runtime's actor tree. */
  readonly bus?: CommunicationBus;
  /** Time source. Default: the bus's clock, else the wall clock. With a bus, it must be the bus's. */
  readonly clock?: NeuroFluxClock;
  /** Period of the automatic cycle once `initialize()` ran. Default 10 000 ms. */
  readonly cycleIntervalMs?: number;
  /** Overrides of the rule constants (see `SWARM_DEFAULTS`). */
  readonly rules?: Partial<SwarmRules>;
  /**
   * Runs `flush` once, later: {@link NeuralSwarmNetwork.recordTaskOutcomes} schedules one
   * when it starts holding outcomes, so the actor learns them at the latest one event-loop
   * turn later. Default `setImmediate` (real time, not the clock: a simulated clock that is
   * never advanced must not hold them forever). Tests inject one they run themselves.
   */
  readonly scheduleOutcomeFlush?: (flush: () => void) => void;
}

/** Per-agent settings of {@link NeuralSwarmNetwork.addAgent}. */
export interface AddAgentOptions {
  /** In [0, 1]; default 0.5. */
  readonly activationThreshold?: number;
  readonly bias?: number;
  /** Default 1000 ms. */
  readonly refractoryPeriodMs?: number;
}

/** What happened to one planned knowledge transfer. */
export interface KnowledgeTransferDelivery {
  readonly transfer: KnowledgeTransfer;
  /** Id of the bus message; `null` without a bus or when the send failed. */
  readonly messageId: string | null;
  /** Why the send failed (bus stopped, mailbox full...). */
  readonly error?: string;
}

/** What one network cycle did. */
export interface NetworkCycleResult {
  readonly at: number;
  readonly adaptation: AdaptationResult | null;
  /** Every pattern found; those above confidence 0.8 were amplified. */
  readonly patterns: readonly Immutable<EmergentPattern>[];
}

type SwarmRef = ActorRefFrom<SwarmMachine>;

/**
 * Most task outcomes {@link NeuralSwarmNetwork.recordTaskOutcomes} holds before it sends
 * them to the actor unread. A step costs about one copy of every shard it changes (~8 000
 * entries at 7 000 connections), so 2 048 outcomes make that ~4 entries per outcome. What is
 * held is also bounded by {@link MAX_HELD_OUTCOME_CHARS}, and by time (one event-loop turn).
 */
export const MAX_HELD_OUTCOMES = 2048;

/**
 * Most characters of ids (task id, task type, agent and producer ids) held at once: the
 * schema bounds none of their lengths, so 2 048 outcomes with 100 kB task ids held 200 MB.
 * Past 1 Mi characters (≤ 2 MiB of strings) the held outcomes are sent at once; ordinary ids
 * (tens of characters) never reach it before {@link MAX_HELD_OUTCOMES}.
 */
export const MAX_HELD_OUTCOME_CHARS = 1 << 20;

const defaultScheduleOutcomeFlush = (flush: () => void): void => {
  setImmediate(flush);
};

/** Characters of the ids an outcome holds (what {@link MAX_HELD_OUTCOME_CHARS} counts). */
function idChars(outcome: TaskOutcome): number {
  let chars = outcome.taskId.length + outcome.agentId.length + (outcome.taskType?.length ?? 0);
  for (const producer of outcome.producerAgentIds ?? []) chars += producer.length;
  return chars;
}

/** The swarm networks of one runtime: one shard supervisor, networks found by id. */
interface RuntimeSwarms {
  readonly supervisor: ShardedSupervisor<SwarmMachine>;
  readonly networks: Map<string, NeuralSwarmNetwork>;
}

/**
 * Per runtime root: the swarm shards are created once per root (their ids are fixed per
 * kind), and the one provided logic finds its network by id, as the bus does for agents.
 */
const swarmsByRoot = new WeakMap<Actor<RuntimeMachine>, RuntimeSwarms>();

function runtimeSwarms(root: Actor<RuntimeMachine>): RuntimeSwarms {
  let swarms = swarmsByRoot.get(root);
  if (swarms) return swarms;
  const networks = new Map<string, NeuralSwarmNetwork>();
  const logic = swarmMachine.provide({
    actions: {
      deliverKnowledgeTransfers: ({ context }, params) => networks.get(context.networkId)?.queueDeliveries(params.transfers),
      requestCycle: ({ context, self }) => {
        const network = networks.get(context.networkId);
        if (!network) return;
        // Outcomes recorded before the cycle was due are learned before it (both queue behind this step).
        network.flushTaskOutcomes();
        self.send({ type: 'CYCLE', at: network.clock.now() });
      },
    },
  });
  swarms = { supervisor: new ShardedSupervisor(root, 'swarm', logic), networks };
  swarmsByRoot.set(root, swarms);
  return swarms;
}

function isClock(value: unknown): value is NeuroFluxClock {
  const c = value as Partial<NeuroFluxClock> | null;
  return typeof c === 'object' && c !== null && typeof c.now === 'function' && typeof c.setTimeout === 'function' && typeof c.clearTimeout === 'function';
}

/**
 * A neural swarm network: the agents of a runtime as neurons, their working relations
 * as directed connections whose strengths learn from what happens (signals, task
 * outcomes along workflow dependencies, consensus outcomes). The state lives in a swarm
 * actor (`machines/swarm.machine.ts`); this facade validates input, stamps each event
 * with `clock.now()` and reads results from the actor's snapshot.
 *
 * Every call is synchronous (the actor processes each event at once), except
 * {@link recordTaskOutcomes}: it holds the outcomes until the next call through this facade,
 * the end of the event-loop turn (`scheduleOutcomeFlush`), a cycle or `stop()`, then the
 * actor learns them in one step. `initialize()` and `stop()` are async for lifecycle
 * symmetry with the rest of the runtime.
 *
 * Sending events straight to {@link actor}: an event sent there is not ordered after the
 * outcomes held in the same turn (it would overtake them: a removed agent could come back
 * with its pair, EMA updates apply in the other order). Call {@link flushTaskOutcomes}
 * first, or go through the facade, which does.
 *
 * @example
 * ```ts
 * const swarm = new NeuralSwarmNetwork({ networkId: 'trading_swarm', seed: 7, bus: nf.bus });
 * await swarm.initialize();
 * swarm.addAgent('analysis_agent_1', { activationThreshold: 0.6 });
 * swarm.addAgent('trading_agent_1', { activationThreshold: 0.7 });
 * swarm.createConnection('analysis_agent_1', 'trading_agent_1', { initialStrength: 0.9 });
 * swarm.propagateSignal('analysis_agent_1', 1);
 * swarm.recordTaskCompleted({ taskId: 't2', agentId: 'trading_agent_1', producerAgentIds: ['analysis_agent_1'] });
 * await swarm.stop();
 * ```
 */
export class NeuralSwarmNetwork {
  readonly networkId: string;
  readonly clock: NeuroFluxClock;
  /**
   * The swarm actor (inspect it, or send it `SwarmEvent`s directly: call
   * {@link flushTaskOutcomes} before a direct send, or it may overtake outcomes recorded in
   * the same event-loop turn). Its snapshot lags held outcomes by at most one turn.
   */
  readonly actor: SwarmRef;

  private readonly bus: CommunicationBus | undefined;
  private readonly swarms: RuntimeSwarms | undefined;
  private readonly standalone: Actor<SwarmMachine> | undefined;
  private lifecycle: 'created' | 'running' | 'stopped' = 'created';
  private pendingTransfers: KnowledgeTransfer[] = [];
  private flushScheduled = false;
  private lastDeliveries: KnowledgeTransferDelivery[] = [];
  /** Outcomes recorded and not yet sent to the actor, one entry per `recordTaskOutcomes` call. */
  private heldOutcomes: TaskOutcomeBatch[] = [];
  private heldOutcomeCount = 0;
  private heldOutcomeChars = 0;
  /** A flush is scheduled for the end of this turn (one at a time). */
  private outcomeFlushScheduled = false;
  private readonly scheduleOutcomeFlush: (flush: () => void) => void;
  private readonly runScheduledOutcomeFlush = (): void => {
    this.outcomeFlushScheduled = false;
    this.flushTaskOutcomes();
  };
  /** The frozen root `getNetworkState()` returned, and the state it copies (one copy per state read). */
  private frozenView: { readonly of: SwarmSnapshot; readonly view: SwarmSnapshot } | undefined;
  /** The state with the outcomes that were held when the actor stopped under the facade (its runtime stopped). */
  private learnedAfterStop: SwarmState | undefined;

  constructor(options: NeuralSwarmNetworkOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('swarm options', [{ path: '', message: 'must be an object' }]);
    }
    const { bus, clock, scheduleOutcomeFlush, ...rest } = options;
    const parsed = parseSwarmInput(SwarmOptionsSchema, 'swarm options', rest);
    if (bus !== undefined && !(bus instanceof CommunicationBus)) {
      throw new ValidationError('swarm options', [{ path: 'bus', message: 'must be a CommunicationBus' }]);
    }
    if (clock !== undefined && !isClock(clock)) {
      throw new ValidationError('swarm options', [{ path: 'clock', message: 'must have now, setTimeout and clearTimeout' }]);
    }
    if (scheduleOutcomeFlush !== undefined && typeof scheduleOutcomeFlush !== 'function') {
      throw new ValidationError('swarm options', [{ path: 'scheduleOutcomeFlush', message: 'must be a function' }]);
    }
    this.scheduleOutcomeFlush = scheduleOutcomeFlush ?? defaultScheduleOutcomeFlush;
    if (bus && clock && clock !== bus.clock) {
      throw new ValidationError('swarm options', [{ path: 'clock', message: "must be the bus's clock" }]);
    }
    this.networkId = parsed.networkId;
    this.bus = bus;
    this.clock = clock ?? bus?.clock ?? systemClock;
    const input = {
      networkId: parsed.networkId,
      seed: parsed.seed ?? seedFromString(parsed.networkId),
      rules: {
        ...parsed.rules,
        ...(parsed.cycleIntervalMs !== undefined && { cycleIntervalMs: parsed.cycleIntervalMs }),
      },
      at: this.clock.now(),
    };
    if (bus) {
      this.swarms = runtimeSwarms(bus.root);
      if (this.swarms.networks.has(this.networkId)) throw new DuplicateNetworkError(this.networkId);
      this.actor = this.swarms.supervisor.spawn(this.networkId, input);
      this.swarms.networks.set(this.networkId, this);
    } else {
      this.standalone = createActor(
        swarmMachine.provide({
          actions: {
            deliverKnowledgeTransfers: (_, params) => this.queueDeliveries(params.transfers),
            // The event is queued behind the current step, after the outcomes recorded before it; it carries the clock's time.
            requestCycle: ({ self }) => {
              this.flushTaskOutcomes();
              self.send({ type: 'CYCLE', at: this.clock.now() });
            },
          },
        }),
        { clock: withLongTimers(this.clock), input },
      ).start();
      this.actor = this.standalone;
    }
  }

  /**
   * Starts the periodic network cycle (decay, adaptation, patterns) every `cycleIntervalMs`.
   *
   * @example
   * ```ts
   * await swarm.initialize();
   * clock.increment(10_000); // one cycle
   * ```
   */
  async initialize(): Promise<void> {
    this.assertUsable();
    if (this.lifecycle === 'running') return;
    this.lifecycle = 'running';
    this.send({ type: 'NETWORK_STARTED' });
  }

  /**
   * Stops the swarm actor (and its timer). Later calls throw `NotRunningError`.
   *
   * @example
   * ```ts
   * await swarm.stop();
   * ```
   */
  async stop(): Promise<void> {
    if (this.lifecycle === 'stopped') return;
    this.flushTaskOutcomes();
    this.lifecycle = 'stopped';
    this.flushDeliveries();
    if (this.swarms) {
      this.swarms.supervisor.release([this.networkId]);
      this.swarms.networks.delete(this.networkId);
    } else {
      this.standalone?.stop();
    }
  }

  /**
   * Adds an agent as a neuron (an agent already present keeps its neuron and settings).
   *
   * @example
   * ```ts
   * swarm.addAgent('risk_agent_1', { activationThreshold: 0.8 });
   * ```
   */
  addAgent(agentId: string, options: AddAgentOptions = {}): Immutable<SwarmNeuron> {
    const args = parseSwarmInput(AgentSettingsSchema, 'agent', { ...options, agentId });
    this.send({ type: 'AGENT_ADDED', ...args });
    return neuronOf(this.state(), args.agentId)!;
  }

  /**
   * Removes an agent's neuron and its connections; false when it was not there.
   *
   * @example
   * ```ts
   * swarm.removeAgent('risk_agent_1');
   * ```
   */
  removeAgent(agentId: string): boolean {
    const id = parseSwarmInput(agentIdSchema, 'agentId', agentId);
    if (!neuronOf(this.state(), id)) return false;
    this.send({ type: 'AGENT_REMOVED', agentId: id });
    return true;
  }

  /**
   * The neuron of an agent.
   *
   * @example
   * ```ts
   * swarm.getNeuron('risk_agent_1')?.activationThreshold; // 0.8
   * ```
   */
  getNeuron(agentId: string): Immutable<SwarmNeuron> | undefined {
    return neuronOf(this.state(), agentId);
  }

  /**
   * Creates a directed connection (an existing one is returned unchanged).
   *
   * @throws UnknownAgentError when either agent is not in the network; ValidationError
   * for a self-connection or a strength outside [0, 1].
   * @example
   * ```ts
   * const c = swarm.createConnection('analysis_agent_1', 'trading_agent_1', { initialStrength: 0.9 });
   * c.connectionId;
   * ```
   */
  createConnection(source: string, target: string, options: { initialStrength?: number } = {}): Immutable<SwarmConnection> {
    const args = parseSwarmInput(ConnectionArgsSchema, 'connection', { ...options, source, target });
    this.assertAgent(args.source);
    this.assertAgent(args.target);
    this.send({ type: 'CONNECTION_CREATED', ...args });
    return this.getConnection(args.source, args.target)!;
  }

  /**
   * Removes the connection from `source` to `target`; false when there is none.
   *
   * @example
   * ```ts
   * swarm.removeConnection('trading_agent_1', 'analysis_agent_1');
   * ```
   */
  removeConnection(source: string, target: string): boolean {
    if (!this.getConnection(source, target)) return false;
    this.send({ type: 'CONNECTION_REMOVED', source, target });
    return true;
  }

  /**
   * The connection from `source` to `target`.
   *
   * @example
   * ```ts
   * swarm.getConnection('analysis_agent_1', 'trading_agent_1')?.strength;
   * ```
   */
  getConnection(source: string, target: string): Immutable<SwarmConnection> | undefined {
    const state = this.state();
    const id = pairOf(neuronOf(state, source)?.outgoing, target);
    return id === undefined ? undefined : connectionOf(state, id);
  }

  /**
   * Current strength of a connection.
   *
   * @throws UnknownConnectionError for an id the network does not have.
   * @example
   * ```ts
   * swarm.getConnectionStrength(connection.connectionId); // 0.9
   * ```
   */
  getConnectionStrength(connectionId: string): number {
    const connection = connectionOf(this.state(), connectionId);
    if (!connection) throw new UnknownConnectionError(connectionId);
    return connection.strength;
  }

  /**
   * Sets a connection's strength (in [0, 1]).
   *
   * @throws UnknownConnectionError; ValidationError for a strength outside [0, 1].
   * @example
   * ```ts
   * swarm.adjustConnectionStrength(connection.connectionId, 0.6);
   * ```
   */
  adjustConnectionStrength(connectionId: string, strength: number): Immutable<SwarmConnection> {
    const args = parseSwarmInput(StrengthArgsSchema, 'strength adjustment', { connectionId, strength });
    if (!connectionOf(this.state(), args.connectionId)) throw new UnknownConnectionError(args.connectionId);
    this.send({ type: 'CONNECTION_STRENGTH_ADJUSTED', ...args });
    return connectionOf(this.state(), args.connectionId)!;
  }

  /**
   * Propagates a signal (in [0, 1]) from `source`, breadth-first, at most `maxLayers`
   * firing waves (default 3). The source receives the signal directly and fires by the
   * usual rule (threshold, refractory period); each connection is activated once.
   *
   * @throws UnknownAgentError for an unknown source.
   * @example
   * ```ts
   * const result = swarm.propagateSignal('sentiment_agent_1', 0.9);
   * result.fired.map((f) => f.agentId); // ['sentiment_agent_1', 'analysis_agent_1']
   * ```
   */
  propagateSignal(source: string, signal: number, options: { maxLayers?: number } = {}): PropagationResult {
    const args = parseSwarmInput(SignalArgsSchema, 'signal', { ...options, source, signal });
    this.assertAgent(args.source);
    this.send({ type: 'SIGNAL', ...args });
    return this.state().lastPropagation as PropagationResult;
  }

  /**
   * Shares knowledge from `source` to `targets` (default: its connection targets); each
   * connection used gains +0.1. The value is copied (`structuredClone`). Returns how many
   * agents received it.
   *
   * @example
   * ```ts
   * swarm.shareKnowledge('analysis_agent_1', 'btc_trend', { direction: 'up' });
   * ```
   */
  shareKnowledge(source: string, key: string, value: unknown, targets?: readonly string[]): number {
    const args = parseSwarmInput(ShareArgsSchema, 'knowledge', { source, key, value, targets });
    this.assertAgent(args.source);
    let copy: unknown;
    try {
      copy = structuredClone(args.value);
    } catch (error) {
      throw new ValidationError('knowledge', [{ path: 'value', message: `must be structured-cloneable: ${String(error)}` }], { cause: error });
    }
    this.send({
      type: 'KNOWLEDGE_SHARED',
      source: args.source,
      key: args.key,
      value: copy,
      ...(args.targets && { targets: args.targets }),
    });
    return this.state().lastShareCount;
  }

  /**
   * Prunes connections below 0.1 and links high performers (> 0.7) with probability 0.1
   * (seeded).
   *
   * @example
   * ```ts
   * const { pruned, created } = swarm.adaptTopology();
   * ```
   */
  adaptTopology(): AdaptationResult {
    this.send({ type: 'TOPOLOGY_ADAPTATION_REQUESTED' });
    return this.state().lastAdaptation as AdaptationResult;
  }

  /**
   * Runs one cycle now: decay, topology adaptation, pattern detection and amplification.
   * Once `initialize()` ran, this also restarts the cycle period.
   *
   * @example
   * ```ts
   * const { adaptation, patterns } = swarm.runNetworkCycle();
   * ```
   */
  runNetworkCycle(): NetworkCycleResult {
    this.send({ type: 'CYCLE' });
    const state = this.state();
    return {
      at: state.lastCycleAt ?? state.now,
      adaptation: state.lastAdaptation,
      patterns: state.patterns,
    };
  }

  /**
   * Each agent's activation over the recent propagations (one value per propagation,
   * 0 when the signal did not reach it).
   *
   * @example
   * ```ts
   * swarm.getActivationPatterns(); // { analysis_agent_1: [0.9, 0, 0.45], ... }
   * ```
   */
  getActivationPatterns(): Record<string, number[]> {
    return activationPatterns(this.state());
  }

  /**
   * Detects emergent patterns (correlation clusters, successful consensus, risk
   * avoidance) and amplifies those above confidence 0.8.
   *
   * @example
   * ```ts
   * for (const p of swarm.detectEmergentPatterns()) console.log(p.type, p.involvedAgents, p.confidence);
   * ```
   */
  detectEmergentPatterns(): readonly Immutable<EmergentPattern>[] {
    this.send({ type: 'PATTERN_DETECTION_REQUESTED' });
    return this.state().patterns;
  }

  /**
   * The top 2 performers send their teachable patterns (success > 0.8, used > 10 times)
   * to every other agent as `knowledge_transfer` notifications over the bus; each
   * teacher → student connection gains +0.1. Returns what was sent.
   *
   * @example
   * ```ts
   * const deliveries = swarm.facilitateKnowledgeSharing();
   * ```
   */
  facilitateKnowledgeSharing(): KnowledgeTransferDelivery[] {
    this.send({ type: 'KNOWLEDGE_SHARING_REQUESTED' });
    this.flushDeliveries();
    return this.lastDeliveries;
  }

  /**
   * Records many finished tasks (what the runtime does for each tick's batch). They are
   * validated now and learned in order, but published lazily: the network holds them
   * until the next read or other call through this facade, the end of the event-loop turn
   * (one flush scheduled by `scheduleOutcomeFlush` when it starts holding), a cycle,
   * `stop()`, {@link MAX_HELD_OUTCOMES} outcomes or {@link MAX_HELD_OUTCOME_CHARS}
   * characters of ids, then the swarm actor learns them all in one step
   * (one `TASK_OUTCOME_BATCHES_OBSERVED` event; each call keeps its own time). What is
   * learned is what one event per call learns; what it costs is not: every step copies
   * each shard of connections it changes, and a 10 000-task DAG's ~55 outcomes per tick
   * change nearly all of them (see docs/benchmarks.md, Swarm learning). Until then the
   * actor's own snapshot (`actor.getSnapshot()`) does not show them; read through the
   * facade, or call {@link flushTaskOutcomes}.
   *
   * @throws ValidationError naming the field (`0.success`, `2.outcome.agentId`...) when the
   * argument is not an array of `{ outcome, success }` with a boolean `success`, or a
   * getter throws; nothing is held then.
   * @example
   * ```ts
   * swarm.recordTaskOutcomes([{ outcome: { taskId: 't', agentId: 'b', producerAgentIds: ['a'] }, success: true }]);
   * ```
   */
  recordTaskOutcomes(outcomes: readonly { outcome: TaskOutcome; success: boolean }[]): void {
    const parsed = parseTaskOutcomes(outcomes);
    if (parsed.length === 0) return;
    this.assertUsable();
    this.heldOutcomes.push({ outcomes: parsed, at: this.clock.now() });
    this.heldOutcomeCount += parsed.length;
    for (const { outcome } of parsed) this.heldOutcomeChars += idChars(outcome);
    if (this.heldOutcomeCount >= MAX_HELD_OUTCOMES || this.heldOutcomeChars >= MAX_HELD_OUTCOME_CHARS) {
      this.flushTaskOutcomes();
    } else if (!this.outcomeFlushScheduled) {
      // One flush per turn: the gain is merging the turn's per-microtask batches (the 10 000-task
      // DAG's outcomes in ~20 steps instead of 154), not holding them across turns.
      this.outcomeFlushScheduled = true;
      this.scheduleOutcomeFlush(this.runScheduledOutcomeFlush);
    }
  }

  /**
   * Sends the outcomes {@link recordTaskOutcomes} holds to the swarm actor now (nothing
   * when it holds none). Reads and calls through the facade do it themselves; call it
   * before reading `actor.getSnapshot()` directly.
   *
   * @example
   * ```ts
   * swarm.flushTaskOutcomes();
   * swarm.actor.getSnapshot().context.counters.tasksCompleted;
   * ```
   */
  flushTaskOutcomes(): void {
    if (this.heldOutcomes.length === 0) return;
    const batches = this.heldOutcomes;
    this.heldOutcomes = [];
    this.heldOutcomeCount = 0;
    this.heldOutcomeChars = 0;
    // A runtime that stopped took the actor with it: reads still show what was recorded
    // before, learned here by the same pure function the actor runs.
    if (this.actor.getSnapshot().status !== 'active') {
      this.learnedAfterStop = learnFromTasks(this.learnedAfterStop ?? this.actor.getSnapshot().context, batches);
      return;
    }
    this.actor.send({ type: 'TASK_OUTCOME_BATCHES_OBSERVED', batches });
  }

  /**
   * Learns from a completed task: each producer → agent connection records a success
   * (success-rate rule), the agent's performance moves toward 1.
   *
   * @example
   * ```ts
   * swarm.recordTaskCompleted({
   *   taskId: 't2', agentId: 'trader', taskType: 'trade', producerAgentIds: ['analyst'], durationMs: 1200,
   * });
   * ```
   */
  recordTaskCompleted(outcome: TaskOutcome): void {
    const parsed = parseSwarmInput(TaskOutcomeSchema, 'task outcome', outcome);
    this.send({ type: 'TASK_COMPLETED', ...parsed });
  }

  /**
   * Learns from a failed task: each producer → agent connection records a failure, the
   * agent's performance moves toward 0. With a `failureCause` other than `pair` (circuit
   * open, dependency, cancelled, agent lost, validation) nothing is learned: the failure is
   * only counted in `failuresNotAttributed`.
   *
   * @example
   * ```ts
   * swarm.recordTaskFailed({ taskId: 't2', agentId: 'trader', producerAgentIds: ['analyst'] });
   * ```
   */
  recordTaskFailed(outcome: TaskOutcome): void {
    const parsed = parseSwarmInput(TaskOutcomeSchema, 'task outcome', outcome);
    this.send({ type: 'TASK_FAILED', ...parsed });
  }

  /**
   * Learns from a consensus whose true outcome is known: voters' performance moves
   * toward 1 (correct) or 0 (wrong).
   *
   * @example
   * ```ts
   * swarm.recordConsensusOutcome({ conflictId: 'c1', conflictType: 'signal_conflict',
   *   voters: [{ agentId: 'a', decision: 'BUY', correct: true }] });
   * ```
   */
  recordConsensusOutcome(outcome: ConsensusOutcome): void {
    const parsed = parseSwarmInput(ConsensusOutcomeSchema, 'consensus outcome', outcome);
    this.send({ type: 'CONSENSUS_OUTCOME', ...parsed });
  }

  /**
   * Mean strength of the producer → candidate connections (see `routingAffinity`). The
   * `swarm` balancer routes by the pairs' posteriors instead (`pairPosterior`). Not validated.
   *
   * @example
   * ```ts
   * swarm.routingAffinity('trader_2', ['analyst_1']); // 0.8
   * ```
   */
  routingAffinity(candidateAgentId: string, producerAgentIds: readonly string[]): number {
    return routingAffinity(this.state(), candidateAgentId, producerAgentIds);
  }

  /**
   * Stake hook: the agent's learned performance (0.5 for an agent never seen).
   *
   * @example
   * ```ts
   * swarm.agentPerformance('risk_agent_1'); // 0.62
   * ```
   */
  agentPerformance(agentId: string): number {
    return agentPerformance(this.state(), agentId);
  }

  /**
   * Learned performance of every agent.
   *
   * @example
   * ```ts
   * swarm.getAgentPerformanceScores(); // { analysis_agent_1: 0.55, trading_agent_1: 0.5 }
   * ```
   */
  getAgentPerformanceScores(): Record<string, number> {
    // fromEntries defines `__proto__` as an own key too; assignment would replace the prototype.
    return Object.fromEntries(listNeurons(this.state()).map((neuron) => [neuron.agentId, neuron.performance]));
  }

  /**
   * Counters and learned values: signals, task and vote outcomes, connection success rates.
   *
   * @example
   * ```ts
   * swarm.getPerformanceMetrics().taskSuccessRate;
   * ```
   */
  getPerformanceMetrics(): SwarmPerformanceMetrics {
    return performanceMetrics(this.state());
  }

  /**
   * The whole network state (frozen, the root too: a shallow frozen copy of the actor's
   * context, made once per state and reused by later calls; everything below it is shared
   * and already frozen).
   *
   * @example
   * ```ts
   * const { neurons, connections } = swarm.getNetworkState();
   * ```
   */
  getNetworkState(): SwarmSnapshot {
    const state = this.state();
    if (this.frozenView?.of !== state) this.frozenView = { of: state, view: Object.freeze({ ...state }) };
    return this.frozenView.view;
  }

  /**
   * Statistics and topology metrics (density, clustering, centralities, path length),
   * computed with graphology: costs a pass over the whole network.
   *
   * @example
   * ```ts
   * const { networkDensity, betweennessCentrality } = swarm.getStats();
   * ```
   */
  getStats(): SwarmStats {
    return computeSwarmStats(this.state());
  }

  /**
   * Called by the actor's `deliverKnowledgeTransfers` action. Sending waits until the
   * actor's step is over, so a bus subscriber that calls back into the network never
   * re-enters the actor mid-step.
   * @internal
   */
  queueDeliveries(transfers: readonly KnowledgeTransfer[]): void {
    if (transfers.length === 0) return;
    this.pendingTransfers.push(...transfers);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flushDeliveries());
  }

  private flushDeliveries(): void {
    this.flushScheduled = false;
    if (this.pendingTransfers.length === 0) {
      this.lastDeliveries = [];
      return;
    }
    const transfers = this.pendingTransfers;
    this.pendingTransfers = [];
    this.lastDeliveries = transfers.map((transfer) => this.deliver(transfer));
  }

  private deliver(transfer: KnowledgeTransfer): KnowledgeTransferDelivery {
    if (!this.bus) return { transfer, messageId: null };
    try {
      return { transfer, messageId: this.bus.sendMessage(knowledgeTransferMessage(transfer)).messageId };
    } catch (error) {
      return { transfer, messageId: null, error: error instanceof Error ? error.message : String(error) };
    }
  }

  private send(event: SwarmEvent): void {
    this.assertUsable();
    // Held outcomes were recorded before this event: the actor learns them first.
    this.flushTaskOutcomes();
    this.actor.send({ ...event, at: event.at ?? this.clock.now() });
  }

  private state(): SwarmSnapshot {
    this.flushTaskOutcomes();
    return this.learnedAfterStop ?? this.actor.getSnapshot().context;
  }

  /** Stopped by `stop()`, or with its runtime (the bus's root actor stopped). */
  private assertUsable(): void {
    if (this.lifecycle === 'stopped' || this.actor.getSnapshot().status !== 'active') {
      throw new NotRunningError(`swarm network '${this.networkId}'`);
    }
  }

  private assertAgent(agentId: string): void {
    if (!neuronOf(this.state(), agentId)) throw new UnknownAgentError(agentId);
  }
}
