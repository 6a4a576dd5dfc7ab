/**
 * Whose fault a failed task is. The swarm learns which producer → consumer pairs work; a
 * failure that says nothing about the pair (the consumer never got to judge the producer's
 * output, or was stopped by something outside both) must not count against it, or the
 * swarm learns to avoid pairs for what a lost host or a cancelled dependency did.
 *
 * The cause is decided from what the runtime knows structurally (the task's end reason and
 * the attempt's `failureKind`, set where the orchestrator fails the attempt), never from
 * error text: an agent's own message, whatever it says ("circuit breaker tripped in my
 * API", "invalid producer output: …"), is the agent judging the producer's output, so it
 * counts against the pair.
 */

/**
 * Why a task failed, as far as the swarm is concerned. Only `pair` counts against the
 * producer → consumer pairs of the task.
 *
 * - `pair`: the consumer ran the task on the producers' output and failed or timed out
 *   (whatever its error says).
 * - `dependency`: a dependency failed, timed out or was cancelled.
 * - `cancelled`: the task itself was cancelled.
 * - `agent_lost`: the runtime could not deliver the assignment to the agent.
 * - `validation`: the runtime refused the agent's result (not JSON).
 * - `runtime`: the task's actor crashed.
 * - `circuit_open`: a circuit breaker refused the work. The runtime has none that fails
 *   tasks; only a caller of `recordTaskFailed` who knows it can say so.
 */
export type TaskFailureCause = 'pair' | 'circuit_open' | 'dependency' | 'cancelled' | 'agent_lost' | 'validation' | 'runtime';

/** Every {@link TaskFailureCause}. */
export const TASK_FAILURE_CAUSES = ['pair', 'circuit_open', 'dependency', 'cancelled', 'agent_lost', 'validation', 'runtime'] as const satisfies readonly TaskFailureCause[];

/** What the orchestrator says of a task or an attempt that did not complete (`task_finished`, `task_attempt`). */
export interface FinishedTaskFailure {
  readonly status?: string;
  /** The task's end reason (`execution_failed`, `timed_out`, `dependency_failed`...). */
  readonly reason?: string | null;
  /** The attempt's failure kind as the runtime decided it (`execution`, `timeout`, `agent_unreachable`...). */
  readonly failureKind?: string | null;
}

/**
 * Classifies a task or attempt that did not complete, from its structured fields only.
 *
 * @example
 * ```ts
 * failureCauseOf({ status: 'failed', reason: 'execution_failed', failureKind: 'execution' });        // 'pair'
 * failureCauseOf({ status: 'failed', reason: 'execution_failed', failureKind: 'agent_unreachable' }); // 'agent_lost'
 * failureCauseOf({ status: 'failed', reason: 'dependency_failed', failureKind: null });               // 'dependency'
 * ```
 */
export function failureCauseOf(failure: FinishedTaskFailure): TaskFailureCause {
  const reason = typeof failure.reason === 'string' ? failure.reason : null;
  if (reason === 'dependency_failed' || reason === 'dependency_skipped') return 'dependency';
  if (reason === 'cancelled' || failure.status === 'cancelled') return 'cancelled';
  switch (failure.failureKind) {
    case 'agent_unreachable':
      return 'agent_lost';
    case 'invalid_result':
      return 'validation';
    case 'runtime':
      return 'runtime';
    default:
      // `execution`, `timeout`, or nothing known: the consumer judged the pair's output.
      return 'pair';
  }
}
