import type { Actor, AnyActorRef, InspectionEvent, Observer } from 'xstate';
import type { RuntimeMachine } from '../../machines/runtime.machine';
import { CommunicationBus, type CommunicationBusOptions } from '../bus/communicationBus';
import { ConflictResolutionEngine, type ConflictResolutionEngineOptions } from '../conflict/conflictResolutionEngine';
import { ConflictForwarder, openConflictIntake } from '../conflict/conflictForwarding';
import { decisionKey } from '../conflict/model/decisionKey';
import { computeStake } from '../conflict/model/stakes';
import { TaskOrchestrator, type TaskOrchestratorOptions } from '../orchestration/taskOrchestrator';
import { NeuralSwarmNetwork, type NeuralSwarmNetworkOptions } from '../swarm/neuralSwarmNetwork';
import { failureCauseOf } from '../swarm/model/failureAttribution';
import { MAX_PRODUCERS_PER_OUTCOME } from '../swarm/model/swarmSchemas';
import { swarmBalancer } from '../swarm/swarmBalancer';
import type { TaskOutcome } from '../swarm/model/swarmTypes';
import type { Transport } from '../transport/transport';
import { combineInspectionObservers } from '../observability/inspector/combineInspectionObservers';
import { createInspectionHub } from '../observability/inspector/inspectionHub';
import { startInspector, type Inspector, type InspectorOptions } from '../observability/inspector/inspectorServer';
import { createMetrics, type RuntimeMetrics } from '../observability/runtimeMetrics';
import { NotRunningError, ValidationError } from '../errors';
import { systemClock, type NeuroFluxClock } from '../kernel/clock';
import { LeaderElection, type LeaderElectionOptions } from '../store/leaderElection';
import { createRuntimeRoot } from '../kernel/runtimeRoot';
import { adoptRuntimeRoot, systemClockOf } from '../kernel/embeddedRoot';
import { checkNeuroFluxOptions } from './neuroFluxOptionsSchema';
import { ScalingManager, type ScalingManagerOptions } from '../scaling/scalingManager';
import { defaultLogger, type NeuroFluxLogger } from '../kernel/logger';
import { attachRuntimeLogger } from '../kernel/runtimeLogger';
import { TransportReachability } from './transportReachability';

/** Options of {@link createNeuroFlux}. */
export interface NeuroFluxOptions {
  /** Time source of every timer in the runtime. Default: the wall clock. */
  clock?: NeuroFluxClock;
  /** Bus options (mailbox capacity, overflow policy, batching, request timeout...). */
  bus?: Omit<CommunicationBusOptions, 'clock' | 'root'>;
  /**
   * Orchestrator options (balancer, orchestrator id, history window, store). The `swarm`
   * balancer is always available. With `leaderElection` (which needs `store`) the
   * orchestrator is a standby until this process wins the lease, then restores the stored
   * state and takes over. `false`: this process only hosts agents (see `AgentHost`) and
   * takes no tasks; results go to the orchestrator of another process.
   */
  orchestrator?: (Omit<TaskOrchestratorOptions, 'bus' | 'role'> & { leaderElection?: LeaderElectionOptions }) | false;
  /**
   * Conflict engine options. `stakeSource: 'swarm'` takes voters' stakes from the swarm's
   * learned performance instead of the engine's own ledger. With `store`, open and finished
   * conflicts and the performance ledger are persisted and restored on `start()`.
   */
  conflicts?: Omit<ConflictResolutionEngineOptions, 'bus'> & { stakeSource?: 'ledger' | 'swarm' };
  /** Swarm network options (seed, cycle interval, rule constants). */
  swarm?: Omit<NeuralSwarmNetworkOptions, 'bus' | 'clock' | 'networkId'> & { networkId?: string };
  /** Receives XState's inspection events for every actor of the system. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Name of the root actor's system (shown by inspectors). */
  name?: string;
  /**
   * Serve the live inspector on loopback when the runtime starts (`port: 0` picks a free
   * port; the address is `neuroflux.inspector.url`). It sees every actor from creation on.
   */
  inspector?: Omit<InspectorOptions, 'hub' | 'metrics'>;
  /** Count Prometheus metrics from creation (otherwise from the first `metrics()` call). */
  metrics?: boolean;
  /**
   * Carries traffic to agents in other processes, e.g. `nats({ servers })`. Default: none,
   * everything stays in this process. Started before the bus, closed before it stops.
   */
  transport?: Transport;
  /**
   * Where the runtime logs (agent hosts joining and lost, each task an `AgentHost` runs...):
   * any logger with pino's `error/warn/info/debug(obj?, msg?)` and `child(bindings)`, e.g.
   * your application's pino logger. Default: pino on stderr when the application has it
   * installed, otherwise NeuroFlux's own pino-compatible JSON lines on stderr; at the level
   * of `NEUROFLUX_LOG_LEVEL`, else `warn`. `silentLogger` turns logging off.
   */
  logger?: NeuroFluxLogger;
  /**
   * Scale agent hosts from the orchestrator's figures (see `ScalingManager`): started with the
   * runtime, stopped (with every host its launcher started) before the runtime stops.
   */
  scaling?: Omit<ScalingManagerOptions, 'runtime'>;
}

/**
 * Where an embedded runtime lives (`neuroFluxLogic`): `root` is an actor of the user's
 * system, and becomes the parent of every component actor.
 * @internal
 */
export interface RuntimeEmbedding {
  readonly root: AnyActorRef;
}

/** A running NeuroFlux system: one XState actor system and its components. */
export interface NeuroFlux {
  /** The root actor; every agent, task and conflict actor belongs to its system. */
  readonly system: Actor<RuntimeMachine>;
  readonly bus: CommunicationBus;
  readonly orchestrator: TaskOrchestrator;
  readonly conflicts: ConflictResolutionEngine;
  readonly swarm: NeuralSwarmNetwork;
  readonly clock: NeuroFluxClock;
  /** The runtime's logger (the `logger` option, or the default). */
  readonly logger: NeuroFluxLogger;
  /** This process's place in the orchestrator's leader election, when `orchestrator.leaderElection` was given. */
  readonly leadership: LeaderElection | undefined;
  /** The running inspector, when `inspector` was given and the runtime started. */
  readonly inspector: Inspector | undefined;
  /** The scaling of agent hosts, when `scaling` was given. */
  readonly scaling: ScalingManager | undefined;
  /** Prometheus text format of the runtime's metrics (also served at the inspector's `/metrics`). */
  metrics(): Promise<string>;
  /**
   * Starts delivery and every component (the root actor runs from creation). Rejects with
   * `NotRunningError` when `stop()` was called before or while it ran: what answers late (a
   * store's load, a transport's connect) then starts nothing more.
   */
  start(): Promise<void>;
  /** Stops every component, then the root actor. */
  stop(): Promise<void>;
}

/**
 * Creates a NeuroFlux runtime: one XState actor system whose root actor is `system`, with
 * the bus, the task orchestrator, the conflict engine and the swarm network attached, and
 * the learning loop closed: every task attempt (retried ones too) and consensus outcomes
 * train the swarm, whose per-pair routing posteriors drive the `swarm` balancer (Thompson
 * sampling) and whose agent performance can weight voters' stakes.
 *
 * @example
 * ```ts
 * const nf = createNeuroFlux();
 * nf.bus.registerAgent('echo', { handler: (m, agent) => agent.respond(m, m.payload) });
 * await nf.start();
 * const reply = await nf.bus.sendRequest({ senderId: 'me', recipientId: 'echo', topic: 'ping', payload: 1 });
 * await nf.stop();
 * ```
 */
export function createNeuroFlux(options: NeuroFluxOptions = {}): NeuroFlux {
  return composeNeuroFlux(options, undefined);
}

/**
 * {@link createNeuroFlux}, or with `embedding` a runtime rooted in an actor of a user's
 * system (`neuroFluxLogic`).
 * @internal
 */
export function composeNeuroFlux(options: NeuroFluxOptions = {}, embedding: RuntimeEmbedding | undefined): NeuroFlux {
  checkNeuroFluxOptions(options);
  // Embedded, the system's clock arms every `after` delay: a second clock would drift from it.
  if (embedding && options.clock !== undefined && options.clock !== systemClockOf(embedding.root)) {
    throw new ValidationError('runtime options', [
      { path: 'clock', message: "an embedded runtime runs on its actor system's clock: give the clock to the createActor that starts the system" },
    ]);
  }
  // The inspector's hub must see the system from its first actor on.
  const hub = options.inspector ? createInspectionHub(options.inspector.hubOptions) : undefined;
  const inspect = hub ? combineInspectionObservers(hub.observer, options.inspect) : options.inspect;
  const logger = options.logger ?? defaultLogger();
  const embedded = embedding && adoptRuntimeRoot(embedding.root, inspect);
  const clock = embedded ? embedded.clock : (options.clock ?? systemClock);
  // Embedded, the root is the user's `neuroFluxLogic` actor, whose context has the root's `name` too.
  const system = embedded ? (embedded.root as unknown as Actor<RuntimeMachine>) : createRuntimeRoot({ clock, name: options.name, ...(inspect && { inspect }) });
  // Before any component: they find the runtime's logger by its root.
  attachRuntimeLogger(system, logger);
  const bus = new CommunicationBus({ ...options.bus, clock, root: system });
  options.transport?.attach(bus);
  // From creation on: a link lost before start() shows too (the agents read offline from their registration).
  const reachability = options.transport && new TransportReachability(bus, options.transport);
  const swarm = new NeuralSwarmNetwork({ networkId: 'swarm', ...options.swarm, bus });
  const { leaderElection: electionOptions, ...orchestratorOptions } = options.orchestrator || {};
  if (electionOptions && !orchestratorOptions.store) {
    throw new ValidationError('orchestrator options', [{ path: 'store', message: 'leaderElection needs a store (the lease and the state live in it)' }]);
  }
  const orchestrator = new TaskOrchestrator({
    ...orchestratorOptions,
    bus,
    balancers: [...(orchestratorOptions.balancers ?? []), swarmBalancer(swarm)],
    role: options.orchestrator === false ? 'disabled' : electionOptions ? 'standby' : 'active',
  });
  const leadership =
    electionOptions && orchestratorOptions.store
      ? new LeaderElection({
          ...electionOptions,
          store: orchestratorOptions.store,
          clock,
          parent: system,
          hooks: {
            // The leader alone persists conflicts too: candidates sharing a store would fence each other.
            onElected: async () => {
              await orchestrator.activate();
              // From now on conflicts reported here are this process's to decide, and so are
              // those the standbys forward (registered once the stored ones are back).
              conflicts.forwardTo(undefined);
              await conflicts.restore();
              intake ??= openConflictIntake(bus, conflicts);
            },
            // Both stop: a deposed leader neither runs tasks nor decides (and writes) conflicts.
            onDeposed: async () => {
              intake?.close();
              intake = undefined;
              await orchestrator.stop();
              await conflicts.stop();
            },
          },
        })
      : undefined;
  /** Open while this process leads: takes the conflicts standbys forward. */
  let intake: ReturnType<typeof openConflictIntake> | undefined;
  // An elected orchestrator that stops by itself (fenced by another writer) must not keep the lease.
  if (leadership) orchestrator.actor.subscribe({ complete: () => void leadership.resign() });
  const { stakeSource, ...conflictOptions } = options.conflicts ?? {};
  const conflicts = new ConflictResolutionEngine({
    ...conflictOptions,
    bus,
    ...(stakeSource === 'swarm' && {
      stakeProvider: (agentId: string) => {
        const performance = swarm.agentPerformance(agentId);
        return computeStake(performance, performance);
      },
    }),
  });

  // A standby decides no conflict: what is reported to it goes to the leader's engine (in
  // another process: without a transport there is no way there, and it stays here).
  if (leadership && options.transport) conflicts.forwardTo(new ConflictForwarder(bus, conflictOptions.agentId ?? 'conflict_resolver'));

  // The learning loop: what really happened trains the swarm. Every attempt that ended on
  // an agent counts, a retried one too (learning from finishes only would miss every failed
  // attempt that a retry recovered). Attempts are batched per tick, so the swarm makes one
  // immutable update per burst rather than one per attempt.
  let finishedBatch: { outcome: TaskOutcome; success: boolean }[] = [];
  const flushFinished = () => {
    const batch = finishedBatch;
    finishedBatch = [];
    swarm.recordTaskOutcomes(batch);
  };
  const learning = [
    orchestrator.attempts$.subscribe((event) => {
      if (finishedBatch.length === 0) queueMicrotask(flushFinished);
      finishedBatch.push({
        outcome: {
          taskId: event.taskId,
          agentId: event.agentId,
          taskType: event.taskType,
          // Bounded: a fan-in of thousands of dependencies learns from its first distinct producers
          // (a shorter list goes as it is: learning skips a producer seen before in it).
          producerAgentIds:
            event.producerAgentIds.length <= MAX_PRODUCERS_PER_OUTCOME ? event.producerAgentIds : [...new Set(event.producerAgentIds)].slice(0, MAX_PRODUCERS_PER_OUTCOME),
          durationMs: event.durationMs,
          at: event.at,
          // Decided from the runtime's structured kind: an agent lost or a refused result is not the pair's fault.
          ...(event.outcome === 'failed' && { failureCause: failureCauseOf(event) }),
        },
        success: event.outcome === 'completed',
      });
    }),
    // An agent that leaves takes its neuron and its pairs' evidence with it: hosts launched
    // under fresh ids would otherwise grow the swarm without bound.
    orchestrator.agentsUnregistered$.subscribe((agentId) => {
      if (swarm.getNeuron(agentId)) swarm.removeAgent(agentId);
    }),
    conflicts.outcomes$.subscribe((outcome) => {
      swarm.recordConsensusOutcome({
        conflictId: outcome.conflictId,
        conflictType: outcome.conflictType,
        voters: outcome.voters.map((v) => ({ agentId: v.agentId, decision: decisionKey(v.decision), correct: v.correct })),
        at: outcome.at,
      });
    }),
  ];

  let started = false;
  /** Set by `stop()`: a `start()` still under way goes no further than the step it waits on. */
  let stopCalled = false;
  const stoppedWhileStarting = (): NotRunningError => new NotRunningError('neuroflux', { reason: 'stop() was called (a stopped runtime does not start again)' });
  const goOnStarting = (): void => {
    if (stopCalled) throw stoppedWhileStarting();
  };
  let metrics: RuntimeMetrics | undefined;
  let inspector: Inspector | undefined;
  let scaling: ScalingManager | undefined;
  const nf: NeuroFlux = {
    system,
    bus,
    orchestrator,
    conflicts,
    swarm,
    clock,
    logger,
    leadership,
    get inspector() {
      return inspector;
    },
    get scaling() {
      return scaling;
    },
    metrics: () => (metrics ??= createMetrics(nf)).text(),
    async start() {
      if (started) return;
      started = true;
      goOnStarting();
      // After each step: if stop() was called meanwhile, nothing more starts (a store or a
      // server that answered late must not bring up what stop() has already taken down).
      await options.transport?.start();
      goOnStarting();
      await orchestrator.restore();
      goOnStarting();
      await bus.start();
      goOnStarting();
      // After the bus: a restored conflict may ask its voters at once. Under a leader
      // election, the leader restores them when elected.
      if (!leadership) await conflicts.restore();
      goOnStarting();
      leadership?.start();
      if (options.inspector) {
        metrics ??= createMetrics(nf);
        const started = await startInspector(nf, { ...options.inspector, ...(hub && { hub }), metrics });
        if (stopCalled) {
          await started.close();
          throw stoppedWhileStarting();
        }
        inspector = started;
      }
      scaling?.start();
    },
    async stop() {
      stopCalled = true;
      // Without scaling, intake closes in this synchronous call, before any await: a
      // submission made right after an un-awaited `nf.stop()` gets NotRunningError (the chart
      // is `stopping`), as it does after `orchestrator.stop()`. With scaling its hosts drain
      // first, while the orchestrator still takes their results and moves their tasks (a
      // stopping orchestrator would not): intake stays open until the drain is over.
      const orchestratorStopped = scaling ? undefined : orchestrator.stop();
      await scaling?.stop();
      for (const subscription of learning) subscription.unsubscribe();
      await inspector?.close();
      metrics?.dispose();
      // A leader stops its orchestrator before it releases the lease.
      await leadership?.stop();
      intake?.close();
      await (orchestratorStopped ?? orchestrator.stop());
      await conflicts.stop();
      // Closing the transport as the runtime stops is no lost link.
      reachability?.dispose();
      await options.transport?.close();
      await bus.stop();
      // The swarm actor's final snapshot (persisted, inspected) holds every outcome recorded.
      swarm.flushTaskOutcomes();
      // An embedded root is its parent's child: the parent stops it (only a root may be stopped directly).
      if (embedded) embedded.release();
      else system.stop();
    },
  };
  if (options.metrics) metrics = createMetrics(nf);
  if (options.scaling) scaling = new ScalingManager({ ...options.scaling, runtime: nf });
  return nf;
}
