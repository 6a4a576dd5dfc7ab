import { Subject, type Observable } from 'rxjs';
import { createActor, fromPromise, type AnyActorRef, type Snapshot } from 'xstate';
import { orchestratorMachine } from '../../machines/orchestrator.machine';
import { frozenJsonCopy } from '../jsonValue';
import { taskMachine } from '../../machines/task.machine';
import type { AgentHandle } from '../bus/agentHandle';
import type { CommunicationBus } from '../bus/communicationBus';
import { AssignmentRefusedError, DuplicateTaskError, NotRunningError, UnknownAgentError, UnknownTaskError, ValidationError } from '../errors';
import { describeError } from '../describeError';
import { DEFAULT_SHARD_SIZE, ShardedSupervisor } from '../kernel/shardedSupervisor';
import { systemIdPrefixOf } from '../kernel/systemIdScope';
import { retentionLimits } from '../kernel/recordRetention';
import { copyRecord, TaskTable } from './taskTable';
import { HostRegistry } from './hostRegistry';
import { AgentWaiters } from './agentWaiters';
import { AgentRegistry } from './agentRegistry';
import { afterLoadReports } from './agentActorLink';
import { taskActorLogic } from './taskActorLogic';
import { OrchestratorLifecycle } from './orchestratorLifecycle';
import { WorkflowSubmission } from './workflowSubmission';
import { taskEntry, type TaskEntry } from './taskEntry';
import { retrySubmission } from './taskRetry';
import { RemoteReports } from './remoteReports';
import { RemoteAgentActors } from './remoteAgentActors';
import type { AgentView, OrchestratorAgent, TaskHistoryEntry } from './orchestratorAgent';
import { TaskTopic } from './taskProtocol';
import { FINAL_STATES, type TaskInput, type TaskRecord, type TaskStatus, type TaskSubmission } from './taskTypes';
import { TaskScheduler } from './taskScheduler';
import { TaskDispatcher } from './taskDispatcher';
import type { PersistedOrchestrator } from './orchestratorPersistence';
import { OrchestratorStore } from './orchestratorStore';
import { runtimeLogger } from '../kernel/runtimeLogger';
import type { NeuroFluxLogger } from '../kernel/logger';
import type { OrchestratorProgressState, ProgressStateAgent, ProgressStateTask } from './stallDiagnosis';

import { OrchestratorOptionsSchema, type OrchestratorAgentOptions, type TaskOrchestratorOptions } from './orchestratorOptions';
import type { TaskAttemptEvent, TaskAttemptFailureKind, TaskEvent, TaskFinishedEvent } from './taskEvents';
import type { CapabilityFigures, OrchestratorStats } from './orchestratorStats';

// The public types of the orchestrator live beside it, one file per concept; importers of this module keep finding them here.
export type { CapabilityFigures, OrchestratorAgentOptions, OrchestratorStats, TaskAttemptEvent, TaskAttemptFailureKind, TaskEvent, TaskFinishedEvent, TaskOrchestratorOptions };

// Importers of this module (tests, benches) keep finding the spawn chunk size here.
export { SPAWN_CHUNK_MAX } from './taskTable';

/** Orchestrators per runtime: ids must be unique within one actor system, not across systems. */
const orchestratorsPerRoot = new WeakMap<AnyActorRef, number>();

/**
 * Runs tasks on agents: one task actor per task, with its dependencies, priority, retries
 * and timeout as states of the actor; a balancer picks the agent when a task becomes
 * ready or an agent frees a slot (no periodic tick).
 *
 * @example
 * ```ts
 * const nf = createNeuroFlux();
 * nf.orchestrator.registerAgent('analysis', { capabilities: ['technical_analysis'], execute: async (task) => analyse(task.payload) });
 * await nf.start();
 * const { taskId } = nf.orchestrator.submitTask({ name: 'BTC analysis', requiredCapabilities: ['technical_analysis'] });
 * const record = await nf.orchestrator.waitForTask(taskId);
 * ```
 */
export class TaskOrchestrator {
  /** Every task transition, progress report and finish. */
  readonly events$: Observable<TaskEvent>;
  /** Only the finishes: cheaper to observe than `events$`. */
  readonly finished$: Observable<TaskFinishedEvent>;
  /** Every attempt that ended on an agent, completed or failed, retried or not (what the swarm learns from). */
  readonly attempts$: Observable<TaskAttemptEvent>;
  /** Ids of agents as they are unregistered (by `unregisterAgent`, or with their lost host). */
  readonly agentsUnregistered$: Observable<string>;
  /** The orchestrator actor (hosts the task actors' supervisor shards). */
  readonly actor: AnyActorRef;
  readonly orchestratorId: string;

  private readonly bus: CommunicationBus;
  /** The orchestrator's bus agent, registered when the chart goes live (at once, or on `activate()`). */
  private handle: AgentHandle | undefined;
  /** The orchestrator actor's chart read as a lifecycle (live, halted, activation, stop). */
  private readonly lifecycle: OrchestratorLifecycle;
  /** Agent hosts heard of by presence, with their liveness actors. */
  private readonly hosts: HostRegistry;
  /** Results and reports from agents elsewhere, and hosts' presence: what reaches the orchestrator's bus agent. */
  private readonly remoteReports: RemoteReports;
  /** Ready queues per pool and scheduling rounds (taskScheduler.ts). */
  private readonly scheduler: TaskScheduler;
  /** Dispatch, results, aborts and releases (taskDispatcher.ts). */
  private readonly dispatcher: TaskDispatcher;
  private readonly historyWindowMs: number;
  /** Rows, counters, retention, spawning and the transition/finish path (taskTable.ts). */
  private readonly table: TaskTable;
  /** The table's map itself (read on almost every call). */
  private readonly tasks: Map<string, TaskEntry>;
  /** Registration, pauses, bus agents for executors, links to agents' actors (agentRegistry.ts). */
  private readonly registry: AgentRegistry;
  /** The registry's map itself. */
  private readonly agents: ReadonlyMap<string, OrchestratorAgent>;
  /** Callers of `waitForAgents`. */
  private readonly agentWaiters: AgentWaiters;
  private readonly logger: NeuroFluxLogger;
  /** Stand-in actors of the agents hosts announced (the inspector here shows them). */
  private readonly remoteAgentActors: RemoteAgentActors;
  private readonly taskActors: ShardedSupervisor<typeof taskMachine>;
  /** With `store`: what is written, the takeover and restore, the archive lookup (orchestratorStore.ts). */
  private readonly persistence: OrchestratorStore<TaskEntry> | undefined;
  private readonly eventSubject = new Subject<TaskEvent>();
  private readonly finishedSubject = new Subject<TaskFinishedEvent>();
  private readonly attemptSubject = new Subject<TaskAttemptEvent>();
  /** Parse, check, reserve and insert of `submitTask` / `submitWorkflow` / `submitWorkflowAsync` (workflowSubmission.ts). */
  private readonly submission: WorkflowSubmission;
  /** Slices `submitWorkflowAsync` inserted tasks in, and the largest (the submission's own counters). @internal */
  readonly insertion: { slices: number; largestSlice: number };

  constructor(options: TaskOrchestratorOptions) {
    const { bus, balancer, balancers, store, ...rest } = options;
    const parsed = OrchestratorOptionsSchema.safeParse(rest);
    if (!parsed.success) throw ValidationError.fromZod('orchestrator options', parsed.error);
    this.bus = bus;
    this.orchestratorId = parsed.data.orchestratorId;
    this.logger = runtimeLogger(bus.root, { component: 'orchestrator', orchestratorId: this.orchestratorId });
    this.historyWindowMs = parsed.data.historyWindowHours * 3_600_000;
    this.events$ = this.eventSubject.asObservable();
    this.persistence =
      store &&
      new OrchestratorStore<TaskEntry>({
        store,
        key: parsed.data.storeKey,
        archiveSegmentSize: parsed.data.archiveSegmentSize,
        clock: bus.clock,
        target: {
          restoreTask: (stored, live) => this.table.restoreTask(stored, live),
          spawn: (live) => this.table.spawnTaskActors(live),
          retainIfFinished: (taskId, completedAt, now) => this.table.retainIfFinished(taskId, completedAt, now),
        },
        // Another orchestrator restored from the same key: it is the active one now.
        onFenced: () => void this.stop(),
        onProblem: (problem) => this.eventSubject.next(frozenJsonCopy({ type: 'store_problem', problem, at: this.bus.clock.now() } as const)),
      });
    this.finished$ = this.finishedSubject.asObservable();
    this.attempts$ = this.attemptSubject.asObservable();
    this.table = new TaskTable({
      clock: bus.clock,
      retention: retentionLimits(parsed.data.retention),
      persistence: this.persistence,
      events: this.eventSubject,
      finished: this.finishedSubject,
      attempts: this.attemptSubject,
      spawnActors: (specs) => this.taskActors.spawnMany(specs),
      tasksSubmitted: (count) => this.actor.send({ type: 'TASKS_SUBMITTED', count }),
      tasksFinished: (taskIds) => {
        if ((this.actor.getSnapshot() as Snapshot<unknown>).status === 'active') this.actor.send({ type: 'TASKS_FINISHED', taskIds });
      },
      entryFor: (record, balancer) => {
        const chooser = balancer && this.scheduler.hasBalancer(balancer) ? this.scheduler.balancerNamed(balancer) : this.scheduler.defaultBalancer;
        return taskEntry(record, chooser, this.scheduler.poolFor(chooser, record));
      },
    });
    this.tasks = this.table.tasks;
    this.registry = new AgentRegistry({
      bus,
      tasks: this.tasks,
      historyWindowMs: this.historyWindowMs,
      scheduler: () => this.scheduler,
      onLocalAgentMessage: (agent, message) => this.dispatcher.onLocalAgentMessage(agent, message),
      tell: (event) => this.actor.send(event),
      agentsChanged: () => this.agentWaiters.agentsChanged(),
    });
    this.agents = this.registry.agents;
    this.agentsUnregistered$ = this.registry.unregistered$.asObservable();
    this.scheduler = new TaskScheduler(
      {
        tasks: this.tasks,
        agents: this.agents,
        clock: bus.clock,
        // Only the chart's `active` state runs a round.
        requestRound: () => {
          if ((this.actor.getSnapshot() as Snapshot<unknown>).status === 'active') this.actor.send({ type: 'SCHEDULING_REQUESTED' });
        },
        producersOf: (record) => this.table.producersOf(record),
        tellCompletedDependencies: () => this.table.tellHeldCompletions(),
      },
      balancer,
      balancers,
    );
    this.dispatcher = new TaskDispatcher({
      tasks: this.tasks,
      agents: this.agents,
      bus,
      scheduler: this.scheduler,
      events: this.eventSubject,
      historyWindowMs: this.historyWindowMs,
      handle: () => this.handle,
      attemptEnded: (entry, context, agentId, outcome, error) => this.table.attemptEnded(entry, context, agentId, outcome, error),
    });
    this.submission = new WorkflowSubmission({
      table: this.table,
      agents: this.agents,
      scheduler: this.scheduler,
      clock: bus.clock,
      assertActive: () => this.lifecycle.assertActive(),
      systemIdTaken: (taskId) => this.taskActors.isTaken(taskId),
    });
    this.insertion = this.submission.insertion;
    this.agentWaiters = new AgentWaiters(bus.clock, () => this.agents.values());

    const clock = bus.clock;
    const taskLogic = taskActorLogic({ table: this.table, scheduler: this.scheduler, dispatcher: this.dispatcher, clock });
    const orchestratorLogic = orchestratorMachine.provide({
      actors: {
        // A deposed leader may still be finishing a write: the key is made ours before going
        // live, or its late write would fence this (new) leader.
        takeOver: fromPromise<unknown>(() => this.takeOverStore()),
        flushStore: fromPromise(async () => this.persistence?.flush()),
      },
      actions: {
        goLive: () => this.goLive(),
        restoreTasks: (_, params) => {
          this.persistence?.restore(params.state as PersistedOrchestrator | undefined);
        },
        haltIntake: () => this.haltIntake(),
        releaseResources: () => this.releaseResources(),
        runBalancer: () => this.scheduler.runRound(),
        releaseTasks: (_, params) => this.taskActors.release(params.taskIds),
        reportFlushAbandoned: () =>
          this.logger.warn(
            { storeFlushTimeoutMs: parsed.data.storeFlushTimeoutMs },
            'the store did not take the final flush in time: stopped without it (changes it had not written may be lost)',
          ),
      },
      delays: { storeFlushTimeout: parsed.data.storeFlushTimeoutMs },
    });
    const index = orchestratorsPerRoot.get(bus.root) ?? 0;
    orchestratorsPerRoot.set(bus.root, index + 1);
    const id = index === 0 ? this.orchestratorId : `${this.orchestratorId}-${index}`;
    // Joins the runtime's system under the root; it ends itself (final state) on stop.
    // Its actions reach the bus and the supervisors: created now, started once they exist.
    const actor = createActor(orchestratorLogic, { parent: bus.root, id, systemId: systemIdPrefixOf(bus.root) + id, input: { role: parsed.data.role } });
    this.actor = actor;
    this.lifecycle = new OrchestratorLifecycle(actor, this.orchestratorId);
    bus.root.subscribe({ complete: () => void this.stop(), error: () => void this.stop() });
    // Task system ids are `task:<id>`; a second orchestrator in the same system namespaces its own.
    // A task id whose system id another actor took is refused before any task actor exists.
    this.taskActors = new ShardedSupervisor(
      actor,
      index === 0 ? 'task' : `${id}.task`,
      taskLogic,
      DEFAULT_SHARD_SIZE,
      (taskId, error) => this.onTaskActorCrash(taskId, error),
      (taskId) => new DuplicateTaskError(taskId),
    );
    this.remoteAgentActors = new RemoteAgentActors(actor, index === 0 ? 'remoteAgent' : `${id}.remoteAgent`);
    this.hosts = new HostRegistry(actor, index === 0 ? 'host' : `${id}.host`, clock, this.logger, parsed.data.missedHeartbeats, {
      has: (agentId) => this.agents.has(agentId),
      register: (agentId, agent) => {
        this.registerAgent(agentId, agent);
        const registered = this.agents.get(agentId);
        // An agent also on this bus already has its own actor linked.
        if (registered && !this.bus.getAgent(agentId)) this.remoteAgentActors.hosted(registered);
      },
      unregister: (agentId) => {
        // Also while stopping: a host lost during the final flush takes its agents with it.
        this.registry.unregister(agentId);
        this.remoteAgentActors.gone(agentId);
      },
      activeTasks: (agentId) => this.agents.get(agentId)?.activeTasks.size ?? 0,
      currentAttempt: (taskId, agentId) => this.dispatcher.currentAttempt(taskId, agentId),
    });
    this.remoteReports = new RemoteReports(this.hosts, {
      currentAttempt: (taskId, agentId) => this.dispatcher.currentAttempt(taskId, agentId),
      currentDispatch: (taskId, dispatch) => dispatch === undefined || this.tasks.get(taskId)?.dispatchToken === dispatch,
      acceptResult: (outcome, agentId, source) => this.dispatcher.acceptResult(outcome, agentId, source),
      markStarted: (taskId, attempt, agentId) => this.dispatcher.markStarted(taskId, attempt, agentId),
      reportProgress: (taskId, progress) => this.dispatcher.reportProgress(taskId, progress),
    });
    // An `active` orchestrator goes live in this step (`standby` → `active`).
    actor.start();
    // Last: a constructor that threw before this left no listener on the bus.
    this.registry.startRelinking();
  }

  /** Registers the orchestrator's bus agent: from now on results and presence reach it. */
  private goLive(): void {
    this.handle = this.bus.registerAgent(this.orchestratorId, {
      concurrency: 64,
      topics: [TaskTopic.PRESENCE],
      handler: (message) => this.remoteReports.onMessage(message),
    });
  }

  /**
   * Turns a standby orchestrator into the active one: restores the stored state (when it
   * has a store) and starts taking results, presence and submissions. Called by the leader
   * election when this process wins the lease. Resolves with the number of tasks restored.
   */
  activate(): Promise<number> {
    return this.lifecycle.activate(() => this.persistence?.tasksRestored ?? 0);
  }

  /** The takeover the chart invokes in `activating`: the store's key made ours, its state loaded. */
  private async takeOverStore(): Promise<PersistedOrchestrator | undefined> {
    const state = await this.persistence?.takeOver(() => this.lifecycle.haltedError());
    if (this.lifecycle.halted) throw new NotRunningError('orchestrator');
    return state;
  }

  /** For the guide's `await orchestrator.start()`: the orchestrator runs from construction. */
  async start(): Promise<void> {}

  /**
   * Stops every task actor (aborting running work) and the orchestrator actor: the chart goes
   * `stopping` (intake halted, the store flushed), then `stopped` (everything released).
   */
  stop(): Promise<void> {
    return this.lifecycle.stop(
      () => {
        this.haltIntake();
        this.releaseResources();
      },
      () => this.releaseResources(),
    );
  }

  /** `stopping`: no more work is taken. Safe to repeat. */
  private haltIntake(): void {
    this.table.dropQueuedSpawns();
    this.agentWaiters.rejectAll(new NotRunningError('orchestrator'));
  }

  /** `stopped`: waiters answered, running work aborted, task actors stopped, bus agents gone. Safe to repeat. */
  private releaseResources(): void {
    // Whoever waits gets an answer: the task as it was when the orchestrator stopped.
    this.table.answerAllWaiters();
    this.dispatcher.abortAll();
    this.taskActors.stopAll();
    this.remoteAgentActors.stopAll();
    if (this.bus.running) {
      if (this.handle) this.bus.unregisterAgent(this.orchestratorId);
      this.handle = undefined;
    }
    this.registry.release();
  }

  // ---------------------------------------------------------------- agents

  /**
   * Registers an agent with its capabilities. With `execute` the orchestrator registers it
   * on the bus with a handler that runs assignments in this process; without it the agent
   * (already on the bus, or pulling its mailbox) answers `task_assignment` commands with
   * `task_result` messages.
   *
   * @example
   * ```ts
   * orchestrator.registerAgent('risk_agent_1', { capabilities: ['risk_assessment'], maxConcurrentTasks: 2, execute: assessRisk });
   * ```
   */
  registerAgent(agentId: string, options: OrchestratorAgentOptions): void {
    if (this.lifecycle.halted) throw new NotRunningError('orchestrator');
    this.registry.register(agentId, options);
  }

  /**
   * Resolves once registered agents cover `capabilities`: each string needs some agent
   * with that capability, each array one agent with all of its capabilities (as a task
   * requiring them needs). Agents count whether they run here or were announced by an
   * agent host over the transport: a program that submits right after `start()` would
   * otherwise race with the hosts' first heartbeats and get a `WorkflowValidationError`.
   * Rejects with `AgentsUnavailableError` (naming what is still missing) after `timeoutMs`
   * (default 30 000, on the runtime's clock), and with `NotRunningError` if the
   * orchestrator stops first.
   *
   * @example
   * ```ts
   * await nf.start();
   * await nf.orchestrator.waitForAgents(['risk_assessment'], { timeoutMs: 10_000 });
   * nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'risk', requiredCapabilities: ['risk_assessment'] }] });
   * ```
   */
  waitForAgents(capabilities: readonly (string | readonly string[])[], options: { timeoutMs?: number } = {}): Promise<void> {
    return this.agentWaiters.wait(capabilities, options, () => this.lifecycle.haltedError());
  }

  /**
   * What decides whether the tasks can make progress: the unfinished tasks (state,
   * capabilities, agent), the registered agents (capabilities, the host that announced
   * them, whether they execute here) and the live hosts. `diagnoseStall` reads it.
   * A scan of the tasks: meant for a check every fraction of a second, not per task. The
   * tasks are read-only views of the live records, valid in the current turn (copy what you keep).
   *
   * @example
   * ```ts
   * const { blocked, stalled } = diagnoseStall(orchestrator.progressState());
   * ```
   */
  progressState(): OrchestratorProgressState {
    const hostOf = this.hosts.hostOfAgents();
    const agents: ProgressStateAgent[] = [];
    for (const agent of this.agents.values()) {
      agents.push({ agentId: agent.agentId, capabilities: [...agent.capabilities], hostId: hostOf.get(agent.agentId), executesHere: agent.execute !== undefined });
    }
    const tasks: ProgressStateTask[] = [];
    // The records themselves, read-only (no copy: a check every 250 ms of 100 000 tasks must not allocate 100 000 objects).
    for (const entry of this.tasks.values()) if (!FINAL_STATES.has(entry.record.state)) tasks.push(entry.record);
    return { tasks, agents, hostsAlive: this.hosts.size };
  }

  /**
   * Removes an agent: its assigned and running tasks go back to the queue (aborted). False
   * for an unknown agent, and once the orchestrator is stopping or stopped: its agents went
   * with it, nothing is unregistered and `agentsUnregistered$` is not told (a launcher that
   * closes after the runtime stopped must not throw).
   */
  unregisterAgent(agentId: string): boolean {
    if (this.lifecycle.halted) return false;
    return this.registry.unregister(agentId);
  }

  /**
   * What the balancers see of an agent: a read-only view whose figures (`load`,
   * `performance`...) are read from the orchestrator at each access; `capabilities` is a
   * copy, and writing to the view changes nothing.
   *
   * @example
   * ```ts
   * nf.orchestrator.getAgent('risk_agent_1')?.load; // 2
   * ```
   */
  getAgent(agentId: string): AgentView | undefined {
    return this.agents.get(agentId)?.view;
  }

  /** The agent's finished attempts in the last `hours` (default: the history window), oldest first. */
  getAgentTaskHistory(agentId: string, options: { hours?: number } = {}): TaskHistoryEntry[] {
    return this.registry.history(agentId, this.bus.clock.now(), options.hours);
  }

  // ---------------------------------------------------------------- tasks

  /**
   * Submits one task. Its dependencies must already be known.
   *
   * @example
   * ```ts
   * const { taskId, status } = orchestrator.submitTask({ name: 'Trade BTC', requiredCapabilities: ['trading'], priority: 'critical' });
   * ```
   * @throws ValidationError for a malformed task; WorkflowValidationError for an unknown
   * dependency or a duplicate id.
   */
  submitTask(task: TaskInput): TaskSubmission {
    const [submission] = this.submission.submit([task], false, 'task');
    return submission as TaskSubmission;
  }

  /**
   * Submits a whole workflow after checking its graph: unknown dependencies, cycles,
   * duplicate ids and (unless `requireCapableAgents` is false) capabilities no registered
   * agent has are rejected together in one `WorkflowValidationError`, and nothing is submitted.
   * A dependency's result is passed to its dependents' executors (`dependencyResults`).
   *
   * @example
   * ```ts
   * orchestrator.submitWorkflow({ tasks: [
   *   { taskId: 'analysis', requiredCapabilities: ['technical_analysis'] },
   *   { taskId: 'risk', dependencies: ['analysis'], requiredCapabilities: ['risk_assessment'] },
   * ] });
   * ```
   */
  submitWorkflow(workflow: { tasks: readonly TaskInput[] }, options: { requireCapableAgents?: boolean } = {}): TaskSubmission[] {
    const tasks = (workflow as { tasks?: unknown } | undefined)?.tasks;
    if (!Array.isArray(tasks)) throw new ValidationError('workflow', [{ path: 'tasks', message: 'expected an array of tasks' }]);
    return this.submission.submit(tasks as TaskInput[], options.requireCapableAgents ?? true, 'tasks');
  }

  /**
   * {@link submitWorkflow} for large workflows, without holding the event loop: tasks are
   * parsed, checked and inserted a slice per turn (all or none, as with `submitWorkflow`:
   * a `ValidationError` or `WorkflowValidationError` rejects the promise before any task
   * exists), and their actors are spawned a chunk per turn. Resolves once every actor is
   * spawned. From parsing on, the workflow's ids are reserved: another submission taking
   * one is rejected as a duplicate. A task not inserted yet is unknown (`getTask` is
   * undefined, `cancelTask` throws `UnknownTaskError`). Tasks are inserted after those
   * they depend on, so a `stop()` during the insertion (the promise rejects with
   * `NotRunningError`) leaves only tasks whose dependencies all exist. `submitWorkflow`
   * spawns in chunks too, but parses, checks and inserts in the caller's turn (about
   * 0.2 s for 100 000 tasks).
   *
   * @example
   * ```ts
   * const submitted = await orchestrator.submitWorkflowAsync({ tasks: hundredThousandTasks });
   * const records = await orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
   * ```
   */
  submitWorkflowAsync(workflow: { tasks: readonly TaskInput[] }, options: { requireCapableAgents?: boolean } = {}): Promise<TaskSubmission[]> {
    const tasks = (workflow as { tasks?: unknown } | undefined)?.tasks;
    if (!Array.isArray(tasks)) return Promise.reject(new ValidationError('workflow', [{ path: 'tasks', message: 'expected an array of tasks' }]));
    // The submission's own promise, not one wrapping it: an `async` method here settled two
    // microtasks later (a `cancelTask` right after the await found the task finished).
    return this.submission.submitAsync(tasks as TaskInput[], options.requireCapableAgents ?? true);
  }

  /**
   * Loads the persisted task records (with `store`): finished tasks keep their outcome and
   * are not run again; tasks that were waiting, queued, running or retrying run again from
   * `queued` with the retries they had spent (work in flight when the previous process died
   * is lost with it and started over: results are recorded once, execution is at least
   * once). Taking over the key fences the previous writer. Returns how many tasks it loaded.
   *
   * @example
   * ```ts
   * const orchestrator = new TaskOrchestrator({ bus, store: new FileSnapshotStore({ directory: './state' }) });
   * await orchestrator.restore();
   * ```
   */
  async restore(): Promise<number> {
    if (!this.persistence || !this.lifecycle.live) return 0;
    return this.persistence.loadAndRestore(() => this.lifecycle.haltedError());
  }

  /** The status of a task, or `undefined` for an unknown id. */
  getTaskStatus(taskId: string): TaskStatus | undefined {
    return this.tasks.get(taskId)?.record.status;
  }

  /** A copy of the task's full record, or `undefined` for an unknown id (or a finished task let go by `retention`: see `findTask`). */
  getTask(taskId: string): TaskRecord | undefined {
    const record = this.tasks.get(taskId)?.record;
    return record && copyRecord(record);
  }

  /**
   * A copy of the task's record, also once `retention` has let it go from memory: then it is
   * read from the store's archive (a store read per archive segment searched, newest first).
   * Undefined for an unknown id, or for a finished task let go without a store.
   *
   * @example
   * ```ts
   * const record = await orchestrator.findTask('nightly-report'); // finished yesterday
   * ```
   */
  async findTask(taskId: string): Promise<TaskRecord | undefined> {
    const record = this.tasks.get(taskId)?.record;
    return record ? copyRecord(record) : this.archivedTask(taskId);
  }

  private async archivedTask(taskId: string): Promise<TaskRecord | undefined> {
    // Nothing let go yet: every task the archive holds is in memory too, no need to read it.
    if (!this.persistence || this.table.retention.evicted === 0) return undefined;
    const record = await this.persistence.findArchived(taskId);
    return record && copyRecord(record);
  }

  /** Cancels a task from any non-final state (running work is aborted). False if already final. */
  cancelTask(taskId: string): boolean {
    const entry = this.tasks.get(taskId);
    if (!entry) throw new UnknownTaskError(taskId);
    // Accepted but not spawned yet: its actor is created now, to be cancelled.
    this.table.spawnIfQueued(entry);
    if (FINAL_STATES.has(entry.record.state) || !entry.actor) return false;
    entry.actor.send({ type: 'CANCELLED' });
    return true;
  }

  /**
   * Submits a finished task that did not complete (failed, timed out or cancelled) again,
   * with the same input, as a new task `<taskId>~retry<n>` (task ids are never reused; a
   * retry of `job~retry1` is `job~retry2`, so avoid ids ending in `~retry<n>` yourself).
   * Its dependencies are the original's, each replaced by its latest completed retry if it
   * has one; tasks that depended on the original are not run again.
   * @throws UnknownTaskError for an unknown task; TaskNotRetryableError for a task that is
   * not finished, or that completed, or whose dependency did not complete and has no
   * completed retry (the error names it: retry that one first).
   *
   * @example
   * ```ts
   * const { taskId } = orchestrator.retryTask('nightly-report'); // 'nightly-report~retry1'
   * ```
   */
  retryTask(taskId: string): TaskSubmission {
    const entry = this.tasks.get(taskId);
    if (!entry) throw new UnknownTaskError(taskId);
    return this.submitTask(retrySubmission(entry.record, this.scheduler.nameOf(entry.chooser), (id) => this.tasks.get(id)?.record));
  }

  /**
   * Stops giving new tasks to an agent: it keeps the tasks it runs, and the balancers skip
   * it until {@link TaskOrchestrator.resumeAgent}, also when it is unregistered and registered
   * again meanwhile (a host's heartbeats lapsed, or it restarted). Not persisted: a restored
   * orchestrator starts with every agent resumed. False when it was already paused.
   *
   * @example
   * ```ts
   * orchestrator.pauseAgent('risk_manager');
   * ```
   */
  pauseAgent(agentId: string): boolean {
    return this.registry.pause(agentId);
  }

  /**
   * Gives a paused agent tasks again (a scheduling round runs now). False when it was not
   * paused. A paused agent that is not registered now (its host went silent) is resumed for
   * when it comes back.
   */
  resumeAgent(agentId: string): boolean {
    return this.registry.resume(agentId);
  }

  /** True while the agent is paused ({@link TaskOrchestrator.pauseAgent}). */
  isAgentPaused(agentId: string): boolean {
    return this.agents.get(agentId)?.paused === true;
  }

  /** The guide's `scheduleTask`: runs a scheduling round for a waiting task now. */
  scheduleTask(taskId: string): TaskStatus {
    const entry = this.tasks.get(taskId);
    if (!entry) throw new UnknownTaskError(taskId);
    if (entry.record.state === 'queued') {
      this.scheduler.markPool(entry.pool);
      this.actor.send({ type: 'SCHEDULING_REQUESTED' });
    }
    return entry.record.status;
  }

  /**
   * Assigns a queued task to a chosen agent, bypassing the balancer.
   * @throws AssignmentRefusedError when the task is not queued or the agent lacks a
   * capability or a free slot.
   */
  assignTaskToAgent(taskId: string, agentId: string): void {
    const entry = this.tasks.get(taskId);
    if (!entry) throw new UnknownTaskError(taskId);
    const agent = this.agents.get(agentId);
    if (!agent) throw new UnknownAgentError(agentId);
    if (entry.record.state !== 'queued') throw new AssignmentRefusedError(taskId, agentId, `task is ${entry.record.state}`);
    if (!agent.hasCapabilities(entry.record.requiredCapabilities)) {
      throw new AssignmentRefusedError(taskId, agentId, 'agent lacks a required capability');
    }
    if (agent.paused) throw new AssignmentRefusedError(taskId, agentId, 'agent is paused');
    if (!agent.available) throw new AssignmentRefusedError(taskId, agentId, 'agent has no free slot');
    this.scheduler.assign(entry, agent);
  }

  /** Resolves with the task's record once it is final (completed, failed, timed out or cancelled). */
  waitForTask(taskId: string): Promise<TaskRecord> {
    return this.finalRecord(taskId).then(afterLoadReports);
  }

  /** Resolves with every task's final record. */
  waitForWorkflow(taskIds: readonly string[]): Promise<TaskRecord[]> {
    return Promise.all(taskIds.map((id) => this.finalRecord(id))).then(afterLoadReports);
  }

  private finalRecord(taskId: string): Promise<TaskRecord> {
    const entry = this.tasks.get(taskId);
    // A finished task let go by `retention` is read back from the store's archive.
    if (!entry) return this.archivedTask(taskId).then((record) => record ?? Promise.reject(new UnknownTaskError(taskId)));
    if (FINAL_STATES.has(entry.record.state)) return Promise.resolve(copyRecord(entry.record));
    return new Promise((resolve) => (entry.waiters ??= []).push(resolve));
  }

  /** The orchestrator's counters. */
  getStats(): OrchestratorStats {
    const reports = this.remoteReports.counts;
    return {
      ...this.table.figures(),
      ...this.registry.figures(),
      lateResults: this.dispatcher.lateResults,
      lateReports: reports.lateReports,
      refusedResults: { ...reports.refusedResults },
      invalidResults: reports.invalidResults,
      balancerErrors: this.scheduler.balancerErrors,
      persistence: this.persistence ? this.persistence.stats() : null,
      hosts: this.hosts.stats(),
      active: this.lifecycle.live,
    };
  }

  /**
   * Demand and supply of one capability now: waiting ready tasks and the oldest wait (kept
   * as tasks enter and leave the queue from the first call on, O(1) for tasks of one
   * capability; a task of several counts only while some agent has them all), and the load
   * and capacity of its agents (one pass over the registered agents, not over the tasks).
   *
   * @example
   * ```ts
   * const { waitingTasks, usedSlots, capacity } = nf.orchestrator.capabilityFigures('compute');
   * ```
   */
  capabilityFigures(capability: string): CapabilityFigures {
    const now = this.bus.clock.now();
    // A task of several capabilities counts only if some agent has them all: one missing
    // everywhere (no agent has `gpu`) would otherwise scale `compute` up for nothing.
    const { depth, oldestSince } = this.table.waitingTasks(now).figures(capability, (required) => this.registry.canServe(required));
    const oldestWaitMs = oldestSince === undefined ? 0 : Math.max(0, now - oldestSince);
    return { capability, waitingTasks: depth, oldestWaitMs, ...this.registry.supplyOf(capability) };
  }

  // ---------------------------------------------------------------- records and events

  /**
   * A task actor crashed (one of the effects it runs threw) or was stopped by someone else
   * (an `xstate.stop` sent to it). The task fails, the agent slot it holds is freed (found
   * by task id: a crash in the assignment's own step left the record without its agent),
   * and dependents and waiters hear of it like of any failure.
   */
  private onTaskActorCrash(taskId: string, error: unknown): void {
    const entry = this.tasks.get(taskId);
    if (!entry || FINAL_STATES.has(entry.record.state)) return;
    const agentId = this.registry.freeSlot(entry.record.assignedAgent, taskId);
    this.table.failWithoutActor(entry, `task actor crashed: ${describeError(error)}`, agentId);
    this.scheduler.requestRound();
  }
}
