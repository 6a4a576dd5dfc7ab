import { describeError } from '../describeError';
import type { TaskResultPayload } from './taskProtocol';
import type { TaskSpec } from './taskTypes';

/** What an executor gets besides the task. */
export interface ExecutionContext {
  /** Fires when the attempt times out or the task is cancelled; stop work when it does. */
  readonly signal: AbortSignal;
  /** Report progress, 0..1 (shown in the task record and `events$`). */
  reportProgress(progress: number): void;
  /** Results of the task's dependencies, by task id. */
  readonly dependencyResults: Readonly<Record<string, unknown>>;
  /** 0 for the first attempt, then 1, 2... */
  readonly attempt: number;
}

/**
 * Runs a task in this process. Resolve with the result; throw or reject to fail the
 * attempt (the task's retry policy decides what happens next).
 *
 * @example
 * ```ts
 * const analyse: TaskExecutor = async (task, { signal }) => fetchIndicators(task.payload, { signal });
 * ```
 */
export type TaskExecutor = (task: TaskSpec, context: ExecutionContext) => unknown | Promise<unknown>;

/**
 * Runs one attempt and turns what the executor did into a `task_result` payload: its value,
 * or the message of what it threw. Never throws.
 * @internal
 */
export async function executeAttempt(execute: TaskExecutor, task: TaskSpec, context: ExecutionContext): Promise<TaskResultPayload> {
  const { taskId } = task;
  const { attempt } = context;
  try {
    return { taskId, attempt, status: 'completed', result: await execute(task, context) };
  } catch (error) {
    return { taskId, attempt, status: 'failed', error: describeError(error) };
  }
}
