import type { ActorRefFrom } from 'xstate';
import type { taskMachine } from '../../machines/task.machine';
import type { AgentPool } from './agentPool';
import type { Balancer } from './balancers';
import type { RecordInterning } from './recordInterning';
import type { TaskAttemptFailureKind } from './taskEvents';
import type { ParsedTask, TaskRecord } from './taskTypes';

/**
 * One row of the orchestrator's task table: the record users read, the task's actor, and
 * what scheduling and dispatch keep per task (its pool, its balancer, the current dispatch).
 * @internal
 */
export interface TaskEntry {
  readonly record: TaskRecord;
  actor: ActorRefFrom<typeof taskMachine> | undefined;
  readonly pool: AgentPool;
  readonly chooser: Balancer;
  dependents: string[] | undefined;
  waiters: ((record: TaskRecord) => void)[] | undefined;
  /** Clock time of the current attempt's assignment (for the performance ratio). */
  assignedAt: number | null;
  /**
   * Identity of the current dispatch. An attempt number is not enough: an agent lost and
   * re-registered under the same id gets the same attempt again, and the old run's late
   * result must not pass for the new one.
   */
  dispatchToken: string;
  /** Set by the runtime where it fails the current attempt itself; read (and cleared) when the attempt ends. */
  attemptFailureKind?: TaskAttemptFailureKind;
  /** The kind of the last failed attempt (for `task_finished`). */
  lastFailureKind?: TaskAttemptFailureKind;
}

/**
 * A submitted task's record, `waiting`: its lists and retry policy interned (equal ones
 * stored once). Called once per task at submission: one object, no copy.
 * @internal
 */
export function newTaskRecord(task: ParsedTask, now: number, interning: RecordInterning): TaskRecord {
  return {
    taskId: task.taskId,
    name: task.name,
    description: task.description,
    taskType: task.taskType,
    priority: task.priority,
    payload: task.payload,
    dependencies: interning.list(task.dependencies),
    requiredCapabilities: interning.list(task.requiredCapabilities),
    estimatedDuration: task.estimatedDuration,
    timeoutSeconds: task.timeoutSeconds,
    retryPolicy: interning.policy(task.retryPolicy),
    onDependencyFailure: task.onDependencyFailure,
    status: 'pending',
    state: 'waiting',
    assignedAgent: null,
    createdAt: now,
    startedAt: null,
    completedAt: null,
    retryCount: 0,
    retryAt: null,
    result: undefined,
    error: null,
    reason: null,
    progress: 0,
  };
}

/**
 * A stored task that had not finished, set back to `waiting` to run again with the retries
 * it had spent (work in flight when the previous process died is lost with it).
 * @internal
 */
export function recordToRunAgain(record: TaskRecord): TaskRecord {
  return {
    ...record,
    state: 'waiting',
    status: 'pending',
    assignedAgent: null,
    startedAt: null,
    progress: 0,
    reason: null,
    // Only a backoff in progress carries over: its task waits out what is left of it.
    retryAt: record.state === 'retrying' ? record.retryAt : null,
  };
}

/** A task-table row for `record`: no actor, dependents, waiters or dispatch yet. @internal */
export function taskEntry(record: TaskRecord, chooser: Balancer, pool: AgentPool): TaskEntry {
  return { record, actor: undefined, pool, chooser, dependents: undefined, waiters: undefined, assignedAt: null, dispatchToken: '' };
}
