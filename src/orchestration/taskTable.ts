import type { Subject } from 'rxjs';
import type { ActorRefFrom } from 'xstate';
import type { taskMachine, TaskMachineContext, TaskMachineInput } from '../../machines/task.machine';
import { describeError } from '../describeError';
import type { NeuroFluxClock } from '../kernel/clock';
import { ChunkedQueue } from '../kernel/chunkedQueue';
import { RecordRetention, type RetentionLimits } from '../kernel/recordRetention';
import type { PersistedTask } from './orchestratorPersistence';
import type { OrchestratorStore } from './orchestratorStore';
import { dependencyEventType } from './planning/dependencyOutcome';
import { freezeRecordParts } from './recordInterning';
import { recordToRunAgain, type TaskEntry } from './taskEntry';
import type { OrchestratorStats } from './orchestratorStats';
import type { TaskAttemptEvent, TaskEvent, TaskFinishedEvent } from './taskEvents';
import { FINAL_STATES, STATUS_OF_STATE, type TaskRecord, type TaskState, type TaskStatus, type TaskSubmission } from './taskTypes';
import { WaitingTasks } from './waitingTasks';

/**
 * Most task actors spawned in one turn of the event loop (fewer once `TURN_BUDGET_MS` has
 * passed, except in the submitting call). A workflow up to this size is spawned in the
 * call that submits it, as it always was; 500 spawns take about 25 ms.
 * @internal
 */
export const SPAWN_CHUNK_MAX = 500;

/** What users get of a record: a copy, never the live row. @internal */
export function copyRecord(record: TaskRecord): TaskRecord {
  return { ...record };
}

/** The input of one task actor under the supervisor shards. @internal */
export interface TaskActorSpec {
  readonly id: string;
  readonly input: TaskMachineInput;
}

type DependencyEvent = { type: 'DEPENDENCY_COMPLETED' | 'DEPENDENCY_FAILED'; dependencyId: string };

/** Dependencies of one waiting task that completed in the current burst: how many, and the last. */
interface CompletedDependencies {
  count: number;
  last: string;
}

/**
 * What the task table is given by the orchestrator: the clock, the store (if any), the
 * subjects its events go to, and the few calls that reach the orchestrator's chart and the
 * task actors' supervisor (made once per chunk or burst, or once per restored task for
 * `entryFor`; never per transition).
 * @internal
 */
export interface TaskTableHost {
  readonly clock: NeuroFluxClock;
  readonly retention: RetentionLimits;
  readonly persistence: OrchestratorStore<TaskEntry> | undefined;
  readonly events: Subject<TaskEvent>;
  readonly finished: Subject<TaskFinishedEvent>;
  readonly attempts: Subject<TaskAttemptEvent>;
  /** Starts the actors of `specs` under the supervisor shards, in order. */
  spawnActors(specs: readonly TaskActorSpec[]): ActorRefFrom<typeof taskMachine>[];
  /** Tells the orchestrator's chart that `count` task actors were spawned. */
  tasksSubmitted(count: number): void;
  /** Asks the orchestrator's chart to stop the actors of finished tasks (while it runs). */
  tasksFinished(taskIds: string[]): void;
  /** The row around a restored record: its stored balancer if registered, else the default, and its pool. */
  entryFor(record: TaskRecord, balancer: string | null | undefined): TaskEntry;
}

/**
 * The task table: every task's row (record, actor, pool, balancer), the counters by status,
 * the retention of finished records, ids reserved by `submitWorkflowAsync`, the spawning of
 * task actors (a chunk per turn), and the records-and-events path: a task actor's transition
 * updates its record and counters, a finish tells waiters, `events$` / `finished$` and the
 * dependents, and its actor is released with the others finished in the same burst.
 *
 * Hot path: made once per orchestrator; the task actors' `reportTransition` action calls
 * {@link TaskTable.onTransition} directly, and the facade, scheduler and dispatcher read the
 * same `tasks` map (no closure, actor message or allocation added per task by the split).
 * @internal
 */
export class TaskTable {
  /** Every known task by id (finished ones until `retention` lets them go). */
  readonly tasks = new Map<string, TaskEntry>();
  /** Tasks per status now. */
  readonly counts: Record<TaskStatus, number> = { pending: 0, assigned: 0, running: 0, completed: 0, failed: 0, cancelled: 0, timeout: 0 };
  /** Tasks ever made known (submitted or restored). */
  tasksCreated = 0;
  /** Transitions to `retrying`. */
  retries = 0;
  /** Sum over completed tasks of their running time, ms (for the average). */
  completionTimeTotal = 0;
  /** Lets finished records go (bounded memory); a task's dependencies are pinned until it finishes (its executor gets their results). */
  readonly retention: RecordRetention<string>;
  /**
   * Ids of `submitWorkflowAsync` tasks parsed but not inserted yet: no other submission
   * may take one meanwhile. Until inserted such a task is unknown (`getTask` is undefined,
   * `cancelTask` and `waitForTask` throw `UnknownTaskError`), as before it was submitted.
   */
  readonly reservedIds = new Set<string>();

  private readonly clock: NeuroFluxClock;
  private readonly persistence: OrchestratorStore<TaskEntry> | undefined;
  private readonly eventSubject: Subject<TaskEvent>;
  private readonly finishedSubject: Subject<TaskFinishedEvent>;
  private readonly attemptSubject: Subject<TaskAttemptEvent>;
  /** Tasks in state `queued`, per capability: counted from the first {@link TaskTable.waitingTasks} call on (a runtime that never scales pays nothing per task). */
  private waiting: WaitingTasks | undefined;
  private finishedBatch: string[] = [];
  private releaseRequested = false;
  /** Dependency outcomes for tasks whose actors are being spawned in the same step. */
  private deferredDependencyEvents: { taskId: string; event: DependencyEvent }[] = [];
  /**
   * Completions a task's actor has not been told yet, by task id, told in one
   * `DEPENDENCY_COMPLETED` per burst (a microtask after the first): the dependencies of a
   * layered DAG's task complete in the same burst, and one event per dependency was one
   * macrostep of its actor each (bench/orchestrator.ts, DAG case).
   */
  private heldCompletions = new Map<string, CompletedDependencies>();
  /** Tells each task the completions held for it (the burst's microtask, or the scheduler before its round). Made once: one microtask per burst, not one closure per completion. */
  readonly tellHeldCompletions = (): void => {
    if (this.heldCompletions.size === 0) return;
    const held = this.heldCompletions;
    this.heldCompletions = new Map();
    for (const [taskId, completed] of held) this.tellCompletions(taskId, completed);
  };
  /**
   * Accepted tasks whose actors are spawned on later turns of the event loop (at most
   * `SPAWN_CHUNK_MAX` and `TURN_BUDGET_MS` per turn): spawning 100 000 in one go held the
   * loop for 10 s. A waiting task's dependencies are pinned so that retention keeps them.
   */
  private readonly spawnQueue: ChunkedQueue<TaskEntry>;
  /** Made once: one microtask per burst of finishes, not one closure per finish. */
  private readonly releaseFinished = (): void => {
    this.releaseRequested = false;
    const ids = this.finishedBatch;
    this.finishedBatch = [];
    if (ids.length > 0) this.host.tasksFinished(ids);
  };

  constructor(private readonly host: TaskTableHost) {
    this.clock = host.clock;
    this.persistence = host.persistence;
    this.eventSubject = host.events;
    this.finishedSubject = host.finished;
    this.attemptSubject = host.attempts;
    this.retention = new RecordRetention(host.retention, (taskId) => this.tasks.delete(taskId));
    this.spawnQueue = new ChunkedQueue<TaskEntry>(
      {
        // A chunk spawned on a later turn keeps its rows when it fails: its tasks were
        // accepted (the caller has their ids), so each is tried alone and fails if it must.
        process: (entries, held) => this.spawnTaskActors(entries, !held),
        failed: (entries, error) => this.spawnEachOrFail(entries, error),
        hold: (entry) => entry.record.dependencies.forEach((id) => this.retention.pin(id)),
        release: (entry) => entry.record.dependencies.forEach((id) => this.retention.unpin(id)),
      },
      SPAWN_CHUNK_MAX,
    );
  }

  // ---------------------------------------------------------------- insertion and spawning

  /** Makes new entries known, all in this turn, and spawns their actors (the first chunk now, unless `spawnNow` is false). */
  insertTasks(entries: readonly TaskEntry[], spawnNow = true): TaskSubmission[] {
    // Every record first: a task may depend on one listed after it in the same workflow.
    for (const entry of entries) {
      this.tasks.set(entry.record.taskId, entry);
      this.persistence?.track(entry);
    }
    this.tasksCreated += entries.length;
    this.counts.pending += entries.length;
    // The first actors now, the others on later turns (a large workflow never holds the event loop for long).
    try {
      this.spawnQueue.add(entries, spawnNow);
    } catch (error) {
      // The first chunk could not be spawned (its rows are gone): the caller gets the error,
      // so none of these tasks was submitted. The rest were not queued yet; their rows go too.
      for (const entry of entries) if (this.tasks.get(entry.record.taskId) === entry && !entry.actor) this.forgetRow(entry);
      throw error;
    }
    this.persistence?.changed();
    return entries.map(({ record }) => ({ taskId: record.taskId, status: record.status }));
  }

  /** Resolves once every accepted task has its actor. */
  spawned(): Promise<void> {
    return this.spawnQueue.idle();
  }

  /** Accepted but not spawned yet: its actor is created now (to be cancelled, say). */
  spawnIfQueued(entry: TaskEntry): void {
    if (this.spawnQueue.has(entry)) this.spawnQueue.processNow(entry);
  }

  /** No more actors are spawned (the orchestrator is stopping). */
  dropQueuedSpawns(): void {
    this.spawnQueue.clear();
  }

  /**
   * Spawns the actors of (non-final) entries, with their dependency state as it is now. On a
   * throw nothing of the chunk exists: no actor, pin or place in a dependency's dependents;
   * with `forgetOnFailure` (the caller sees the error: nothing was submitted) no row either.
   */
  spawnTaskActors(entries: readonly TaskEntry[], forgetOnFailure = true): void {
    const specs: TaskActorSpec[] = [];
    for (const { record } of entries) {
      let pending = 0;
      let failedAtStart = false;
      for (const dependencyId of record.dependencies) {
        this.retention.pin(dependencyId);
        const dependency = this.tasks.get(dependencyId) as TaskEntry;
        if (!FINAL_STATES.has(dependency.record.state)) {
          pending++;
          (dependency.dependents ??= []).push(record.taskId);
        } else if (dependency.record.status !== 'completed' && record.onDependencyFailure !== 'ignore') {
          failedAtStart = true;
        }
      }
      specs.push({
        id: record.taskId,
        input: {
          taskId: record.taskId,
          timeoutMs: record.timeoutSeconds * 1000,
          maxRetries: record.retryPolicy.maxRetries,
          backoffFactor: record.retryPolicy.backoffFactor,
          initialDelayMs: record.retryPolicy.initialDelay * 1000,
          retryOnFailure: record.retryPolicy.retryOnFailure,
          onDependencyFailure: record.onDependencyFailure,
          pendingDependencies: pending,
          dependencyFailedAtStart: failedAtStart,
          retryCount: record.retryCount,
          retryAt: record.retryAt,
        },
      });
    }
    // Entries exist before the actors start: their entry actions look them up.
    let actors: ActorRefFrom<typeof taskMachine>[];
    try {
      actors = this.host.spawnActors(specs);
    } catch (error) {
      // None of the chunk exists: pins and dependents' lists (and rows) as before it.
      const gone = new Set<string>();
      for (const entry of entries) {
        gone.add(entry.record.taskId);
        if (forgetOnFailure) this.forgetRow(entry);
        for (const dependencyId of entry.record.dependencies) this.retention.unpin(dependencyId);
      }
      for (const entry of entries) {
        for (const dependencyId of entry.record.dependencies) {
          const dependency = this.tasks.get(dependencyId);
          if (dependency?.dependents) dependency.dependents = dependency.dependents.filter((id) => !gone.has(id));
        }
      }
      throw error;
    }
    for (let i = 0; i < specs.length; i++) {
      // The entry itself, not its row: a task that finished while starting may already have
      // been let go by retention (its row deleted) by another one finishing after it.
      const entry = entries[i] as TaskEntry;
      if (!FINAL_STATES.has(entry.record.state)) entry.actor = actors[i];
      else {
        // Finished while starting (a dependency had already failed): release it now.
        this.finishedBatch.push(entry.record.taskId);
        this.requestRelease();
      }
    }
    const deferred = this.deferredDependencyEvents;
    this.deferredDependencyEvents = [];
    for (const { taskId, event } of deferred) this.tasks.get(taskId)?.actor?.send(event);
    this.host.tasksSubmitted(specs.length);
  }

  // ---------------------------------------------------------------- restore

  /** Adds a stored task (unless known); one not finished goes to `live`, to run again. False when it was known. */
  restoreTask({ record, balancer }: PersistedTask, live: TaskEntry[]): boolean {
    if (this.tasks.has(record.taskId)) return false;
    const final = FINAL_STATES.has(record.state);
    freezeRecordParts(record);
    const restored = final ? record : recordToRunAgain(record);
    const entry = this.host.entryFor(restored, balancer);
    this.tasks.set(record.taskId, entry);
    this.tasksCreated++;
    this.counts[restored.status]++;
    if (!final) {
      live.push(entry);
      this.persistence?.track(entry);
    }
    return true;
  }

  /** A restored task that is final joins the retention (after the live ones pinned their dependencies). */
  retainIfFinished(taskId: string, completedAt: number | null, now: number): void {
    if (FINAL_STATES.has(this.tasks.get(taskId)?.record.state as TaskState)) this.retention.add(taskId, completedAt ?? now, now);
  }

  // ---------------------------------------------------------------- records and events

  /** The task actors' `reportTransition`: the record, the counters and `events$` follow the actor's state. */
  onTransition(context: TaskMachineContext, state: TaskState): void {
    const entry = this.tasks.get(context.taskId);
    if (!entry) return;
    const record = entry.record;
    const now = this.clock.now();
    const status = STATUS_OF_STATE[state];
    this.counts[record.status]--;
    this.counts[status]++;
    if (state === 'retrying') this.retries++;
    if (this.waiting) {
      if (state === 'queued') this.waiting.enter(record.taskId, record.requiredCapabilities, now);
      else if (record.state === 'queued') this.waiting.leave(record.taskId);
    }
    record.state = state;
    record.status = status;
    record.retryCount = context.retryCount;
    record.retryAt = state === 'retrying' ? context.retryAt : null;
    record.assignedAgent = context.assignedAgent ?? (FINAL_STATES.has(state) ? record.assignedAgent : null);
    record.error = context.lastError;
    if (state === 'running') record.startedAt = now;
    // Naming the entry is load-bearing: it marks this task's record key for the next write.
    // `changed()` alone only dirties the head, and an open task's key would keep an older
    // state and retryCount until it finished (test/orchestratorRecordKeys.test.ts, retrying).
    this.persistence?.changed(entry);
    if (this.eventSubject.observed) {
      // Frozen: one event object reaches every subscriber (here and for each event below).
      this.eventSubject.next(
        Object.freeze({
          type: 'task_transition',
          taskId: record.taskId,
          state,
          status,
          agentId: record.assignedAgent,
          retryCount: record.retryCount,
          at: now,
        } as const),
      );
    }
    if (FINAL_STATES.has(state)) this.onFinished(entry, context, now);
  }

  /** An attempt ended on an agent: its failure kind is kept for `task_finished`, and `attempts$` is told (when observed). */
  attemptEnded(entry: TaskEntry, context: TaskMachineContext, agentId: string, outcome: 'completed' | 'failed' | 'timeout', error: string): void {
    const failureKind = outcome === 'completed' ? null : outcome === 'timeout' ? 'timeout' : (entry.attemptFailureKind ?? 'execution');
    entry.attemptFailureKind = undefined;
    if (failureKind !== null) entry.lastFailureKind = failureKind;
    if (!this.attemptSubject.observed) return;
    const now = this.clock.now();
    this.attemptSubject.next(
      Object.freeze({
        type: 'task_attempt',
        taskId: context.taskId,
        taskType: entry.record.taskType,
        attempt: context.retryCount,
        agentId,
        producerAgentIds: Object.freeze(this.producersOf(entry.record)),
        outcome: outcome === 'completed' ? 'completed' : 'failed',
        failureKind,
        error: failureKind === null ? null : error,
        durationMs: Math.max(0, now - (entry.assignedAt ?? now)),
        at: now,
      } as const),
    );
  }

  /** Agents that ran the task's completed dependencies. */
  producersOf(record: TaskRecord): string[] {
    const producers: string[] = [];
    for (const id of record.dependencies) {
      const dependency = this.tasks.get(id)?.record;
      if (dependency?.status === 'completed' && dependency.assignedAgent !== null) producers.push(dependency.assignedAgent);
    }
    return producers;
  }

  /**
   * Tasks waiting for an agent per capability. Counted from the first call on: the tasks
   * queued already count from `now` (when they started waiting was not kept).
   */
  waitingTasks(now: number): WaitingTasks {
    if (!this.waiting) {
      this.waiting = new WaitingTasks();
      for (const { record } of this.tasks.values()) if (record.state === 'queued') this.waiting.enter(record.taskId, record.requiredCapabilities, now);
    }
    return this.waiting;
  }

  /** The task counters of `getStats()`. */
  figures(): Pick<
    OrchestratorStats,
    'tasksCreated' | 'tasksCompleted' | 'tasksFailed' | 'tasksCancelled' | 'tasksTimedOut' | 'retries' | 'avgCompletionTime' | 'pendingTasks' | 'assignedTasks' | 'runningTasks'
  > {
    const counts = this.counts;
    return {
      tasksCreated: this.tasksCreated,
      tasksCompleted: counts.completed,
      tasksFailed: counts.failed,
      tasksCancelled: counts.cancelled,
      tasksTimedOut: counts.timeout,
      retries: this.retries,
      avgCompletionTime: counts.completed === 0 ? 0 : this.completionTimeTotal / counts.completed,
      pendingTasks: counts.pending,
      assignedTasks: counts.assigned,
      runningTasks: counts.running,
    };
  }

  /** A row out of the table, as if its task had never been submitted. */
  private forgetRow(entry: TaskEntry): void {
    this.tasks.delete(entry.record.taskId);
    this.counts[entry.record.status]--;
    this.tasksCreated--;
    this.persistence?.forget(entry);
  }

  /**
   * A chunk spawned on a later turn failed (say a user's actor took `task:<id>` in the
   * actor system meanwhile): each of its tasks is spawned alone, and one whose actor still
   * cannot be made fails like a crashed one (`failureKind` `runtime`), so that waiters,
   * dependents and `finished$` hear of it; before, the rows were dropped and whoever waited
   * for them waited forever.
   */
  private spawnEachOrFail(entries: readonly TaskEntry[], chunkError: unknown): void {
    for (const entry of entries) {
      if (this.tasks.get(entry.record.taskId) !== entry || entry.actor || FINAL_STATES.has(entry.record.state)) continue;
      let error = chunkError;
      if (entries.length > 1) {
        try {
          this.spawnTaskActors([entry], false);
          continue;
        } catch (alone) {
          error = alone;
        }
      }
      // Pinned again for the finish to let go, as a spawned task's dependencies are.
      for (const dependencyId of entry.record.dependencies) this.retention.pin(dependencyId);
      this.failWithoutActor(entry, `task actor could not be spawned: ${describeError(error)}`, null);
    }
  }

  /**
   * Fails a task its actor cannot fail (the actor crashed, was stopped by someone else, or
   * could not be spawned), failure kind `runtime`: the record, counters, waiters, dependents
   * and `finished$` follow as for a failure the actor reports.
   */
  failWithoutActor(entry: TaskEntry, error: string, assignedAgent: string | null): void {
    entry.lastFailureKind = 'runtime';
    const context = { taskId: entry.record.taskId, retryCount: entry.record.retryCount, assignedAgent, lastError: error, endReason: 'execution_failed' };
    this.onTransition(context as TaskMachineContext, 'failed');
  }

  /** Whoever waits for a task gets an answer: the task as it is now (the orchestrator stopped). */
  answerAllWaiters(): void {
    for (const entry of this.tasks.values()) {
      const waiters = entry.waiters;
      entry.waiters = undefined;
      for (const resolve of waiters ?? []) resolve(copyRecord(entry.record));
    }
  }

  private onFinished(entry: TaskEntry, context: TaskMachineContext, now: number): void {
    const record = entry.record;
    record.completedAt = now;
    record.reason = context.endReason;
    if (record.status === 'completed' && record.startedAt !== null) this.completionTimeTotal += now - record.startedAt;
    if (this.eventSubject.observed || this.finishedSubject.observed) {
      const finished: TaskFinishedEvent = {
        type: 'task_finished',
        taskId: record.taskId,
        taskType: record.taskType,
        status: record.status,
        agentId: record.assignedAgent,
        producerAgentIds: Object.freeze(this.producersOf(record)),
        durationMs: record.startedAt === null ? null : now - record.startedAt,
        reason: record.reason,
        error: record.error,
        failureKind: record.status === 'completed' ? null : (entry.lastFailureKind ?? null),
        at: now,
      };
      Object.freeze(finished);
      if (this.eventSubject.observed) this.eventSubject.next(finished);
      this.finishedSubject.next(finished);
    }
    const dependents = entry.dependents;
    entry.dependents = undefined;
    const event = { type: dependencyEventType(record.status), dependencyId: record.taskId };
    const completed = event.type === 'DEPENDENCY_COMPLETED';
    for (const id of dependents ?? []) {
      const dependent = this.tasks.get(id);
      if (dependent?.actor) {
        if (completed) this.holdCompletion(id, record.taskId);
        else {
          // In the order they happened: the completions held for it first.
          const held = this.heldCompletions.get(id);
          if (held) {
            this.heldCompletions.delete(id);
            this.tellCompletions(id, held);
          }
          dependent.actor.send(event);
        }
      }
      // A dependent spawned in the same step has no actor yet: deliver once it has one.
      else if (dependent && !FINAL_STATES.has(dependent.record.state)) this.deferredDependencyEvents.push({ taskId: id, event });
    }
    // It will not change again: out of the state rewritten on every change.
    this.persistence?.finished(entry);
    // Only a running dispatch needs its token (a report for a finished task is late anyway);
    // kept, it was ~60 B of every finished record.
    entry.dispatchToken = '';
    const waiters = entry.waiters;
    entry.waiters = undefined;
    for (const resolve of waiters ?? []) resolve(copyRecord(record));
    if (entry.actor) {
      entry.actor = undefined;
      this.finishedBatch.push(record.taskId);
      this.requestRelease();
    }
    this.retention.add(record.taskId, now, now);
    for (const dependencyId of record.dependencies) this.retention.unpin(dependencyId);
  }

  private holdCompletion(taskId: string, dependencyId: string): void {
    const held = this.heldCompletions.get(taskId);
    if (held) {
      held.count++;
      held.last = dependencyId;
      return;
    }
    if (this.heldCompletions.size === 0) queueMicrotask(this.tellHeldCompletions);
    this.heldCompletions.set(taskId, { count: 1, last: dependencyId });
  }

  private tellCompletions(taskId: string, { count, last }: CompletedDependencies): void {
    const entry = this.tasks.get(taskId);
    if (entry?.actor && !FINAL_STATES.has(entry.record.state)) entry.actor.send({ type: 'DEPENDENCY_COMPLETED', dependencyId: last, count });
  }

  private requestRelease(): void {
    if (this.releaseRequested) return;
    this.releaseRequested = true;
    // Finished actors are stopped in batches, one shard step per burst.
    queueMicrotask(this.releaseFinished);
  }
}
