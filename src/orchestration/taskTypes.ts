import { z } from 'zod';
import { JsonValueSchema } from '../jsonValue';
import { MessagePriority } from '../bus/message';
import type { DependencyFailurePolicy, TaskEndReason, TaskStateName } from '../../machines/task.machine';
import { MAX_DELAY_MS } from '../kernel/clock';

/** A task's status. Finer statechart states (waiting, queued, retrying) map to `pending`. */
export const TaskStatus = {
  PENDING: 'pending',
  ASSIGNED: 'assigned',
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TIMEOUT: 'timeout',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

/** A task's priority: critical tasks are assigned first. The same four levels as messages. */
export const TaskPriority = MessagePriority;
export type TaskPriority = MessagePriority;

/** The task actor's state: a finer view than {@link TaskStatus}. */
export type TaskState = TaskStateName;

/** @internal */
export const STATUS_OF_STATE: Readonly<Record<TaskState, TaskStatus>> = {
  waiting: 'pending',
  queued: 'pending',
  retrying: 'pending',
  assigned: 'assigned',
  running: 'running',
  completed: 'completed',
  failed: 'failed',
  timedOut: 'timeout',
  cancelled: 'cancelled',
};

/** @internal */
export const FINAL_STATES: ReadonlySet<TaskState> = new Set(['completed', 'failed', 'timedOut', 'cancelled']);

/** Score multipliers of the default balancer (spec section 2). */
export const PRIORITY_MULTIPLIER: Readonly<Record<TaskPriority, number>> = { low: 1.0, medium: 1.1, high: 1.2, critical: 1.5 };

const priorityValues = Object.values(TaskPriority) as [TaskPriority, ...TaskPriority[]];

/** Retry policy of a task. Delays in seconds. */
export const RetryPolicySchema = z.object({
  maxRetries: z.number().int().nonnegative().default(3),
  backoffFactor: z.number().min(1).default(2),
  /** Delay before the first retry; the n-th waits `initialDelay × backoffFactor^(n−1)`. */
  initialDelay: z
    .number()
    .nonnegative()
    .max(MAX_DELAY_MS / 1000)
    .default(1),
  retryOnFailure: z.boolean().default(true),
});
export type RetryPolicy = z.output<typeof RetryPolicySchema>;

/** A task as callers submit it; every field but `taskId` (generated when absent) has a default. */
export const TaskInputSchema = z.object({
  taskId: z.string().min(1).optional(),
  name: z.string().optional(),
  description: z.string().default(''),
  /** Groups tasks for agent specialization and statistics. */
  taskType: z.string().min(1).default('default'),
  priority: z.enum(priorityValues).default('medium'),
  /** A JSON value (see `findNonJson`): it is stored and sent to agents in other processes. */
  payload: JsonValueSchema.default({}),
  dependencies: z.array(z.string().min(1)).default([]),
  requiredCapabilities: z.array(z.string().min(1)).default([]),
  /** Seconds the task is expected to take. */
  estimatedDuration: z.number().positive().default(300),
  /** Seconds an attempt may run before it is aborted. */
  timeoutSeconds: z
    .number()
    .positive()
    .max(MAX_DELAY_MS / 1000)
    .default(600),
  retryPolicy: RetryPolicySchema.default(RetryPolicySchema.parse({})),
  /** What to do when a dependency fails or is cancelled: fail (default), ignore (run anyway), skip (cancel). */
  onDependencyFailure: z.enum(['fail', 'ignore', 'skip']).default('fail'),
  /** Name of the balancer for this task (default: the orchestrator's). */
  balancer: z.string().min(1).optional(),
});
export type TaskInput = z.input<typeof TaskInputSchema>;
/** @internal */
export type ParsedTask = z.output<typeof TaskInputSchema> & { taskId: string; name: string };

/** What an executor and the `task_assignment` payload see of a task. */
export interface TaskSpec {
  readonly taskId: string;
  readonly name: string;
  readonly description: string;
  readonly taskType: string;
  readonly priority: TaskPriority;
  readonly payload: unknown;
  readonly dependencies: readonly string[];
  readonly requiredCapabilities: readonly string[];
  readonly estimatedDuration: number;
  readonly timeoutSeconds: number;
  readonly retryPolicy: RetryPolicy;
  readonly onDependencyFailure: DependencyFailurePolicy;
}

/** The full record of a task. Times are the runtime clock's milliseconds. */
export interface TaskRecord extends TaskSpec {
  status: TaskStatus;
  state: TaskState;
  assignedAgent: string | null;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  retryCount: number;
  /** While `retrying`: the clock time (ms) at which the task is queued again; otherwise null. */
  retryAt: number | null;
  /** What the executor returned, as a frozen JSON copy (what a transport or a store would deliver); shared read-only by every reader. */
  result: unknown;
  error: string | null;
  /** Why a finished task did not complete, or why a pending one is not running. */
  reason: TaskEndReason | 'no_capable_agent' | 'no_agent_available' | null;
  /** Last progress reported by the executor, 0..1. */
  progress: number;
}

/** Returned by `submitTask`. */
export interface TaskSubmission {
  readonly taskId: string;
  readonly status: TaskStatus;
}
