import { describeError } from '../describeError';
import { ValidationError } from '../errors';
import { deepFreezeJson, findNonJson, frozenJsonCopy, isSharedJsonCopy } from '../jsonValue';
import type { TaskResultPayload } from './taskProtocol';
import type { TaskSpec } from './taskTypes';

/** What an executor gets besides the task. */
export interface ExecutionContext {
  /** Fires when the attempt times out or the task is cancelled; stop work when it does. */
  readonly signal: AbortSignal;
  /** Report progress, 0..1 (shown in the task record and `events$`). */
  reportProgress(progress: number): void;
  /** Results of the task's dependencies, by task id: frozen JSON copies (writing to one throws). */
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
// eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- `unknown` alone says the same to the compiler; the union tells the reader a promise is awaited
export type TaskExecutor = (task: TaskSpec, context: ExecutionContext) => unknown | Promise<unknown>;

/**
 * Runs one attempt and turns what the executor did into a `task_result` payload: its value,
 * or the text of what it threw. A result that is not a JSON value (a BigInt, a cycle, a
 * function...) fails the attempt with a `ValidationError` naming the field, e.g.
 * `result.amount`: it could be neither stored nor sent to the orchestrator, and accepting
 * it would only fail later, in every write of the orchestrator's state. Never throws (a
 * promise it returns never rejects).
 *
 * The payload comes in the same turn when the executor returns a value rather than a
 * promise: most in-process executors do, and two awaits (promises and microtasks) per task
 * were a measured share of the 10 000-task bench's CPU profile (`runLocally`'s self time).
 * @internal
 */
export function runAttempt(execute: TaskExecutor, task: TaskSpec, context: ExecutionContext): TaskResultPayload | Promise<TaskResultPayload> {
  const { taskId } = task;
  const { attempt } = context;
  let returned: unknown;
  try {
    returned = execute(task, context);
    // Read inside the try: a `then` getter that throws fails the attempt, as `await` would.
    if (isThenable(returned)) return settleLater(returned, taskId, attempt);
  } catch (error) {
    return { taskId, attempt, status: 'failed', error: describeError(error) };
  }
  return settled(returned, taskId, attempt);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return ((typeof value === 'object' && value !== null) || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

async function settleLater(returned: PromiseLike<unknown>, taskId: string, attempt: number): Promise<TaskResultPayload> {
  let result: unknown;
  try {
    result = await returned;
  } catch (error) {
    return { taskId, attempt, status: 'failed', error: describeError(error) };
  }
  return settled(result, taskId, attempt);
}

function settled(result: unknown, taskId: string, attempt: number): TaskResultPayload {
  const notJson = findNonJson(result);
  if (notJson !== undefined) return invalidResult(taskId, attempt, notJson.path ? `result.${notJson.path}` : 'result', notJson.message);
  try {
    // A copy, frozen: the executor keeps its object, readers cannot change the result for each other.
    return { taskId, attempt, status: 'completed', result: frozenJsonCopy(result) };
  } catch (error) {
    // A `toJSON` inside (not looked into by findNonJson) threw or returned what JSON cannot carry.
    return invalidResult(taskId, attempt, 'result', `cannot be written as JSON (${describeError(error)})`);
  }
}

/**
 * The dependency results of an assignment that came as a message, frozen as `ExecutionContext`
 * promises whichever way the assignment came. A transport's (`fromFrame`) are parsed values
 * of their own, frozen in place; a local sender's are its own objects (the bus checked they
 * are JSON): each but an orchestrator's own result of this process (marked by
 * `shareJsonCopy`, deeply frozen) is replaced by a frozen copy, so the sender's objects are
 * neither frozen under it nor shared with the executor (a frozen object with writable parts
 * inside is copied too); a `toJSON` that throws gives `null`. `results` is the parsed payload's own record
 * and is written in place. @internal
 */
export function frozenDependencyResults(results: Record<string, unknown>, fromFrame: boolean): Readonly<Record<string, unknown>> {
  for (const id of Object.keys(results)) {
    const value = results[id];
    if (typeof value !== 'object' || value === null) continue;
    if (fromFrame) deepFreezeJson(value);
    else if (!isSharedJsonCopy(value)) results[id] = frozenCopyOrNull(value);
  }
  return results;
}

function frozenCopyOrNull(value: object): unknown {
  try {
    return frozenJsonCopy(value);
  } catch {
    return null;
  }
}

function invalidResult(taskId: string, attempt: number, path: string, message: string): TaskResultPayload {
  return { taskId, attempt, status: 'failed', error: invalidResultError(path, message), failureKind: 'invalid_result' };
}

/** The error text of an attempt whose result is not JSON: `invalid task result: <path>: <message>`. @internal */
export function invalidResultError(path: string, message: string): string {
  return new ValidationError('task result', [{ path, message }]).message;
}
