import { randomUUID } from 'node:crypto';
import type { Subject } from 'rxjs';
import type { TaskMachineContext } from '../../machines/task.machine';
import type { AgentHandle } from '../bus/agentHandle';
import type { CommunicationBus } from '../bus/communicationBus';
import type { Message } from '../bus/message';
import { messageOrigin } from '../bus/messageOrigin';
import { describeError } from '../describeError';
import { deepFreezeJson, frozenJsonCopy, isSharedJsonCopy, shareJsonCopy } from '../jsonValue';
import { AttemptAbort } from './attemptAbort';
import type { OrchestratorAgent } from './orchestratorAgent';
import { loadAfterRelease, performanceAfterAttempt } from './planning/slotAccounting';
import type { TaskEntry } from './taskEntry';
import type { TaskAttemptFailureKind, TaskEvent } from './taskEvents';
import { frozenDependencyResults, invalidResultError, runAttempt, type ExecutionContext, type TaskExecutor } from './taskExecutor';
import { TaskAssignmentPayloadSchema, TaskTopic, type ResultSource, type TaskResultPayload } from './taskProtocol';
import type { TaskScheduler } from './taskScheduler';
import type { TaskSpec } from './taskTypes';

/** How an attempt that ran on an agent ended (what `releaseAgent` is told by the task chart). */
type AttemptOutcome = 'completed' | 'failed' | 'timeout' | 'cancelled' | 'lost';

/**
 * What the dispatcher reads of the orchestrator: its tables (the same maps, not copies),
 * the bus and its own bus agent, and where an ended attempt is recorded.
 * @internal
 */
export interface DispatchTables {
  readonly tasks: ReadonlyMap<string, TaskEntry>;
  readonly agents: ReadonlyMap<string, OrchestratorAgent>;
  readonly bus: CommunicationBus;
  readonly scheduler: TaskScheduler;
  readonly events: Subject<TaskEvent>;
  readonly historyWindowMs: number;
  /** The orchestrator's bus agent: assignments and cancels to agents elsewhere are sent from it. */
  handle(): AgentHandle | undefined;
  /** An attempt ended on an agent: the facade records it and tells `attempts$`. */
  attemptEnded(entry: TaskEntry, context: TaskMachineContext, agentId: string, outcome: 'completed' | 'failed' | 'timeout', error: string): void;
}

/**
 * Dispatch and the result protocol: an assigned task goes to its agent (an in-process
 * executor called directly, or a `task.assignment` message over the bus), its result or
 * failure goes back to the task's actor (which owns retries and timeouts), late or stale
 * results are counted and dropped, aborts reach the running attempt, and a released agent
 * frees its slot and gets its pools scheduled.
 *
 * Hot path: made once per orchestrator; the task actors' actions and the result paths call
 * it directly (one method call per dispatch, result and release; no closure, actor message
 * or transition added per task beyond those the task chart already takes). Split from
 * `TaskOrchestrator` for issue #16: paired A/B after/before 0.992–0.994 (4 000 tasks,
 * 100 agents × 5), within the A/A control's 0.983–0.986.
 * @internal
 */
export class TaskDispatcher {
  /** Results that came for an attempt no longer current (late, stale dispatch, unknown task). */
  lateResults = 0;
  /** Cancels of remote attempts that could not be sent (best effort). */
  cancelsUndelivered = 0;
  /** Running in-process attempts by `taskId#attempt`, to abort them. */
  private readonly controllers = new Map<string, AttemptAbort>();

  constructor(private readonly tables: DispatchTables) {}

  /** The task chart's `dispatchToAgent`: the attempt goes to the agent. */
  dispatch(taskId: string, agentId: string, attempt: number): void {
    const tasks = this.tables.tasks;
    const entry = tasks.get(taskId) as TaskEntry;
    const record = entry.record;
    // Unguessable: over the network only the agent that got the assignment can answer it.
    const token = (entry.dispatchToken = randomUUID());
    const task: TaskSpec = {
      taskId,
      name: record.name,
      description: record.description,
      taskType: record.taskType,
      priority: record.priority,
      payload: record.payload,
      dependencies: record.dependencies,
      requiredCapabilities: record.requiredCapabilities,
      estimatedDuration: record.estimatedDuration,
      timeoutSeconds: record.timeoutSeconds,
      retryPolicy: record.retryPolicy,
      onDependencyFailure: record.onDependencyFailure,
    };
    const local = this.tables.agents.get(agentId);
    if (local?.execute) {
      // In-process executors are called directly: a bus round trip per task would double
      // the per-task cost, and the bus is for agents that live elsewhere.
      void this.runLocally(local, task, attempt, resultsAtDispatch(record.dependencies, tasks), false, token);
      return;
    }
    const bus = this.tables.bus;
    if (!bus.getAgent(agentId) && !bus.hasTransport) {
      this.fail(entry, attempt, `agent '${agentId}' is not on the bus`, 'agent_unreachable');
      return;
    }
    try {
      (this.tables.handle() as AgentHandle).send({
        recipientId: agentId,
        messageType: 'command',
        topic: TaskTopic.ASSIGNMENT,
        priority: record.priority,
        // The task's own retry policy governs attempts; the bus must not redeliver one.
        maxRetries: 0,
        ttl: record.timeoutSeconds,
        payload: { action: 'execute_task', task, attempt, dependencyResults: sharedResultsOf(record.dependencies, tasks), dispatch: token },
      });
    } catch (error) {
      this.fail(entry, attempt, `assignment not delivered: ${describeError(error)}`, 'agent_unreachable');
    }
  }

  /** The bus handler of an agent with an in-process executor (assignments sent over the bus). */
  onLocalAgentMessage(agent: OrchestratorAgent, message: Message): Promise<void> | undefined {
    if (message.topic !== TaskTopic.ASSIGNMENT) return undefined;
    const parsed = TaskAssignmentPayloadSchema.safeParse(message.payload);
    if (!parsed.success) return undefined;
    const { task, attempt, dependencyResults, dispatch } = parsed.data;
    return this.runLocally(agent, task as unknown as TaskSpec, attempt, frozenDependencyResults(dependencyResults, messageOrigin(message).kind !== 'local'), true, dispatch);
  }

  /** The current attempt of a task assigned to `agentId`, if it is active. */
  currentAttempt(taskId: string, agentId: string): number | undefined {
    const entry = this.tables.tasks.get(taskId);
    const snapshot = entry?.actor?.getSnapshot();
    if (!snapshot || snapshot.status !== 'active') return undefined;
    if (snapshot.context.assignedAgent !== agentId) return undefined;
    return snapshot.context.retryCount;
  }

  /** The agent started the attempt (it was only assigned until now). */
  markStarted(taskId: string, attempt: number, agentId: string): void {
    if (this.currentAttempt(taskId, agentId) !== attempt) return;
    this.tables.tasks.get(taskId)?.actor?.send({ type: 'EXECUTION_STARTED', attempt });
  }

  /**
   * A result from an agent: the current attempt's goes to the task's actor, any other is counted
   * late. `dispatch`: the dispatch token it answers (the payload's, or the one an in-process run was given).
   */
  acceptResult(outcome: TaskResultPayload, agentId: string, source: ResultSource, dispatch = outcome.dispatch): void {
    const current = this.currentAttempt(outcome.taskId, agentId);
    const attempt = outcome.attempt ?? current;
    const entry = this.tables.tasks.get(outcome.taskId);
    const staleDispatch = dispatch !== undefined && dispatch !== entry?.dispatchToken;
    if (current === undefined || attempt !== current || staleDispatch || !entry?.actor) {
      this.lateResults++;
      return;
    }
    const actor = entry.actor;
    if (outcome.status === 'completed') {
      let result: unknown;
      try {
        result = source === 'copy' || isSharedJsonCopy(outcome.result) ? outcome.result : source === 'frame' ? deepFreezeJson(outcome.result) : frozenJsonCopy(outcome.result);
      } catch (error) {
        entry.attemptFailureKind = 'invalid_result';
        actor.send({
          type: 'EXECUTION_FAILED',
          attempt,
          error: invalidResultError('result', `cannot be written as JSON (${describeError(error)})`),
          at: this.tables.bus.clock.now(),
        });
        return;
      }
      entry.record.result = result;
      if (actor.getSnapshot().matches('assigned')) actor.send({ type: 'EXECUTION_STARTED', attempt });
      actor.send({ type: 'EXECUTION_SUCCEEDED', attempt });
    } else {
      entry.attemptFailureKind = outcome.failureKind ?? 'execution';
      actor.send({ type: 'EXECUTION_FAILED', attempt, error: outcome.error ?? 'failed', at: this.tables.bus.clock.now() });
    }
  }

  /** Progress an executor reported, clamped to [0, 1]; `task_progress` only when someone listens. */
  reportProgress(taskId: string, progress: number): void {
    const entry = this.tables.tasks.get(taskId);
    if (!entry || !Number.isFinite(progress)) return;
    entry.record.progress = Math.min(1, Math.max(0, progress));
    const events = this.tables.events;
    if (events.observed) events.next(Object.freeze({ type: 'task_progress', taskId, progress: entry.record.progress, at: this.tables.bus.clock.now() } as const));
  }

  /** The task chart's `abortWork` (timeout or cancel): the running attempt is aborted or told to stop. */
  abortWork(taskId: string, agentId: string, attempt: number): void {
    const key = `${taskId}#${attempt}`;
    const controller = this.controllers.get(key);
    if (controller) {
      this.controllers.delete(key);
      controller.abort(new Error('task attempt aborted (timeout or cancel)'));
      return;
    }
    const bus = this.tables.bus;
    if (this.tables.agents.get(agentId)?.execute || (!bus.getAgent(agentId) && !bus.hasTransport) || !bus.running) return;
    // The dispatch's token: the host stops that run only, not a later dispatch of the same attempt.
    const dispatch = this.tables.tasks.get(taskId)?.dispatchToken;
    try {
      (this.tables.handle() as AgentHandle).send({
        recipientId: agentId,
        messageType: 'command',
        topic: TaskTopic.CANCEL,
        priority: 'high',
        payload: { taskId, attempt, reason: 'aborted', ...(dispatch ? { dispatch } : {}) },
      });
    } catch {
      // Best effort: the attempt is over for the orchestrator whatever the agent hears, and a
      // throw here would fail the task actor's step.
      this.cancelsUndelivered++;
    }
  }

  /** The task chart's `releaseAgent`: the attempt is recorded, the agent's slot freed, its pools scheduled. */
  releaseAgent(context: TaskMachineContext, agentId: string, outcome: AttemptOutcome, error: string): void {
    const entry = this.tables.tasks.get(context.taskId);
    if (entry && (outcome === 'completed' || outcome === 'failed' || outcome === 'timeout')) this.tables.attemptEnded(entry, context, agentId, outcome, error);
    const agent = this.tables.agents.get(agentId);
    if (!agent || !entry) return;
    agent.load = loadAfterRelease(agent.load);
    agent.activeTasks.delete(context.taskId);
    const now = this.tables.bus.clock.now();
    const started = entry.assignedAt ?? now;
    const expectedMs = entry.record.estimatedDuration * 1000;
    agent.performance = performanceAfterAttempt(agent.performance, outcome, expectedMs, now - started);
    if (outcome !== 'lost') {
      agent.recordOutcome({ taskId: context.taskId, taskType: entry.record.taskType, outcome, startedAt: started, completedAt: now, expectedMs }, now, this.tables.historyWindowMs);
    }
    this.tables.scheduler.markAgentPools(agent, true);
    this.tables.scheduler.requestRound();
  }

  /** Aborts every in-process attempt (the orchestrator stops). */
  abortAll(): void {
    for (const controller of this.controllers.values()) controller.abort(new Error('orchestrator stopped'));
    this.controllers.clear();
  }

  private fail(entry: TaskEntry, attempt: number, error: string, kind: TaskAttemptFailureKind): void {
    entry.attemptFailureKind = kind;
    // Sent from inside the task's own entry action: XState queues it after the current step.
    entry.actor?.send({ type: 'EXECUTION_FAILED', attempt, error, at: this.tables.bus.clock.now() });
  }

  private async runLocally(
    agent: OrchestratorAgent,
    task: TaskSpec,
    attempt: number,
    /** The results by id, or (an array) the values of `task.dependencies` in order, as they were at dispatch. */
    dependencyResults: Readonly<Record<string, unknown>> | readonly unknown[],
    reportStart: boolean,
    token: string | undefined,
  ): Promise<void> {
    const execute = agent.execute as TaskExecutor;
    // As they were at dispatch: the executor gets `task` itself and may change its fields.
    const dependencyIds = task.dependencies;
    const taskId = task.taskId;
    const key = `${taskId}#${attempt}`;
    const controller = new AttemptAbort();
    this.controllers.set(key, controller);
    // Leave the task actor's step before user code runs (it may call back into us): one
    // microtask, the cheapest way out (no promise allocated).
    // eslint-disable-next-line @typescript-eslint/await-thenable
    await undefined;
    if (controller.aborted) return;
    if (reportStart) this.markStarted(taskId, attempt, agent.agentId);
    let results = Array.isArray(dependencyResults) ? undefined : (dependencyResults as Readonly<Record<string, unknown>>);
    const context: ExecutionContext = {
      get signal() {
        return controller.signal;
      },
      attempt,
      // Made on first read: many executors never look (dependencies for order alone), and the
      // record cost 1 – 3 µs a task, 1.5 % of the 10 000-task DAG bench's CPU profile.
      get dependencyResults() {
        return (results ??= resultsRecord(dependencyIds, dependencyResults as readonly unknown[]));
      },
      reportProgress: (progress) => this.reportProgress(taskId, progress),
    };
    const started = runAttempt(execute, task, context);
    const outcome = started instanceof Promise ? await started : started;
    // Only forget our own controller: a later dispatch of the same attempt may own the key now.
    if (this.controllers.get(key) === controller) this.controllers.delete(key);
    this.acceptResult(outcome, agent.agentId, 'copy', token);
  }
}

/**
 * The results of a task's dependencies, by id, in a plain object (see {@link resultsRecord}),
 * for an assignment sent over the bus. Each is marked as a frozen JSON copy of this process
 * (the records keep deeply frozen JSON only), so that an agent host in this process hands it
 * to its executor as it is (see `frozenDependencyResults`); marked here, on the bus path, not
 * for every completed task.
 */
function sharedResultsOf(dependencies: readonly string[], tasks: ReadonlyMap<string, TaskEntry>): Record<string, unknown> {
  const values = resultsAtDispatch(dependencies, tasks);
  for (const value of values) shareJsonCopy(value);
  return resultsRecord(dependencies, values);
}

/** The results of `dependencies`, in order, as they are now (finished results do not change). */
function resultsAtDispatch(dependencies: readonly string[], tasks: ReadonlyMap<string, TaskEntry>): readonly unknown[] {
  if (dependencies.length === 0) return dependencies;
  const values = new Array<unknown>(dependencies.length);
  for (let i = 0; i < dependencies.length; i++) values[i] = tasks.get(dependencies[i] as string)?.record.result;
  return values;
}

/**
 * The results by id, in a plain object. Built on a prototype-less object so that a dependency
 * named `__proto__` is an own key (assignment would replace the prototype of an ordinary
 * object), then given the usual prototype, as a parsed frame has: ~1 µs a task where
 * `Object.fromEntries` of a mapped array took 1.5 µs and a loop of assignments 1.8 µs (task ids
 * are distinct keys, each a new hidden-class transition on an ordinary object).
 */
function resultsRecord(dependencies: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  if (dependencies.length === 0) return {};
  const results: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (let i = 0; i < dependencies.length; i++) results[dependencies[i] as string] = values[i];
  return Object.setPrototypeOf(results, Object.prototype) as Record<string, unknown>;
}
