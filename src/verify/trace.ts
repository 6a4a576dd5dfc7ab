/**
 * What happened to a task in one step of a workflow run, as the verifier and `replayTrace`
 * see it. The environment decides every step but `task_started`, which is the
 * orchestrator giving a queued task to an agent.
 */
export type TraceStepType =
  /** The orchestrator dispatched the task's next attempt to an agent (it is now running). */
  | 'task_started'
  /** The running attempt's executor returned. */
  | 'task_succeeded'
  /** The running attempt's executor threw. */
  | 'task_failed'
  /** The running attempt reached `timeoutSeconds`. */
  | 'task_timed_out'
  /** `cancelTask` was called. */
  | 'task_cancelled'
  /** The agent running the task went away (`unregisterAgent`); the task goes back to the queue. */
  | 'agent_lost'
  /** A retrying task's backoff delay passed; it is queued again. */
  | 'backoff_elapsed';

/** One step of a trace. `attempt` is the attempt the step concerns (0 for the first). */
export interface TraceStep {
  readonly type: TraceStepType;
  readonly taskId: string;
  readonly attempt: number;
}

/** A sequence of steps from the submission of a workflow. Replay it with `replayTrace`. */
export type Trace = readonly TraceStep[];

const VERB: Readonly<Record<TraceStepType, string>> = {
  task_started: 'started',
  task_succeeded: 'succeeded',
  task_failed: 'failed',
  task_timed_out: 'timed out',
  task_cancelled: 'was cancelled',
  agent_lost: 'lost its agent',
  backoff_elapsed: 'backoff elapsed, queued again',
};

/**
 * One step as a line of text, e.g. `fetch failed (attempt 2)`.
 *
 * @example
 * ```ts
 * formatTraceStep({ type: 'task_failed', taskId: 'fetch', attempt: 1 }); // "fetch failed (attempt 2)"
 * ```
 */
export function formatTraceStep(step: TraceStep): string {
  return `${step.taskId} ${VERB[step.type]} (attempt ${step.attempt + 1})`;
}

/**
 * A trace as numbered lines, ready to print.
 *
 * @example
 * ```ts
 * console.log(formatTrace(result.violations[0].trace));
 * //   1. fetch started (attempt 1)
 * //   2. fetch failed (attempt 1)
 * ```
 */
export function formatTrace(trace: Trace, indent = '  '): string {
  if (trace.length === 0) return `${indent}(the initial state: no step needed)`;
  const width = String(trace.length).length;
  return trace.map((step, i) => `${indent}${String(i + 1).padStart(width)}. ${formatTraceStep(step)}`).join('\n');
}
