/**
 * Whose fault a failed task is. The swarm learns which producer → consumer pairs work; a
 * failure that says nothing about the pair (the consumer never got to judge the producer's
 * output, or was stopped by something outside both) must not count against it, or the
 * swarm learns to avoid pairs for what a circuit breaker or a lost host did.
 */

/**
 * Why a task failed, as far as the swarm is concerned. Only `pair` counts against the
 * producer → consumer pairs of the task.
 *
 * - `pair`: the consumer ran the task on the producers' output and failed (or timed out).
 * - `circuit_open`: a circuit breaker refused the work (an error saying `circuit breaker`
 *   or `circuit open`).
 * - `dependency`: a dependency failed, timed out or was cancelled.
 * - `cancelled`: the task itself was cancelled.
 * - `agent_lost`: the agent was offline or lost (the assignment could not be delivered).
 * - `validation`: the runtime refused a value as invalid (a `ValidationError`, e.g. a
 *   result that is not JSON).
 */
export type TaskFailureCause = 'pair' | 'circuit_open' | 'dependency' | 'cancelled' | 'agent_lost' | 'validation';

/** Every {@link TaskFailureCause}. */
export const TASK_FAILURE_CAUSES = ['pair', 'circuit_open', 'dependency', 'cancelled', 'agent_lost', 'validation'] as const satisfies readonly TaskFailureCause[];

/** What the orchestrator says of a finished task that did not complete. */
export interface FinishedTaskFailure {
  readonly status: string;
  /** The task's end reason (`execution_failed`, `timed_out`, `dependency_failed`...). */
  readonly reason?: string | null;
  /** The text of the last error. */
  readonly error?: string | null;
}

// Failures cross processes as text (an agent host reports `describeError(error)`), so the
// runtime's own failures are recognised by the stable beginnings of their messages.
const CIRCUIT = /\bcircuit[ _-]?(breaker|open)\b/i;
const AGENT_LOST = [/^agent '.*' is not on the bus$/s, /^assignment not delivered: /, /^agent '.*' (lost|offline)\b/s];
// ValidationError: `invalid <what>: <field>: <message>`.
const VALIDATION = /^invalid [^:\n]+: [^:\n]*: /;

/**
 * Classifies a task that finished without completing.
 *
 * @example
 * ```ts
 * failureCauseOf({ status: 'failed', reason: 'execution_failed', error: 'order rejected' });        // 'pair'
 * failureCauseOf({ status: 'failed', reason: 'execution_failed', error: 'circuit breaker: halted' }); // 'circuit_open'
 * failureCauseOf({ status: 'failed', reason: 'dependency_failed', error: null });                   // 'dependency'
 * ```
 */
export function failureCauseOf(failure: FinishedTaskFailure): TaskFailureCause {
  const reason = typeof failure.reason === 'string' ? failure.reason : null;
  if (reason === 'dependency_failed' || reason === 'dependency_skipped') return 'dependency';
  if (reason === 'cancelled' || failure.status === 'cancelled') return 'cancelled';
  const error = typeof failure.error === 'string' ? failure.error : '';
  if (CIRCUIT.test(error)) return 'circuit_open';
  if (AGENT_LOST.some((pattern) => pattern.test(error))) return 'agent_lost';
  if (VALIDATION.test(error)) return 'validation';
  return 'pair';
}
