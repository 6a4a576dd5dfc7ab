/**
 * Whether an agent can take one more task: fewer tasks held than its `maxConcurrentTasks`.
 * The orchestrator's agents (with `paused` on top) and the verifier's capacity model both ask
 * this; one function, so the model fills slots as the runtime does.
 * @internal
 */
export function hasFreeSlot(load: number, capacity: number): boolean {
  return load < capacity;
}

/**
 * An agent's load once one of its tasks is released: never below zero (a release for a task
 * the agent no longer holds, e.g. after a crash freed it, must not open a phantom slot).
 * @internal
 */
export function loadAfterRelease(load: number): number {
  return Math.max(0, load - 1);
}

/** How an attempt ended, for the agent's performance score. @internal */
export type AttemptOutcome = 'completed' | 'failed' | 'timeout' | 'cancelled' | 'lost';

/**
 * The spec's performance update when an attempt ends: a completion moves the score halfway
 * to expected/actual time (capped at 2, so near-instant work cannot push it to infinity); a
 * failure multiplies it by 0.9, a timeout by 0.8; a cancellation or a lost agent leaves it.
 * @internal
 */
export function performanceAfterAttempt(performance: number, outcome: AttemptOutcome, expectedMs: number, tookMs: number): number {
  if (outcome === 'completed') return (performance + Math.min(2, expectedMs / Math.max(1, tookMs))) / 2;
  if (outcome === 'failed') return performance * 0.9;
  if (outcome === 'timeout') return performance * 0.8;
  return performance;
}
