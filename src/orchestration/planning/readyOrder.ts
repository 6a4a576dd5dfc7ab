/** What decides the order in which queued tasks get an agent. @internal */
export interface ReadyKey {
  /** Priority lane: 0 critical … 3 low (`laneOf`). */
  readonly lane: number;
  /** Order of arrival in the queue: earlier first. */
  readonly seq: number;
}

/**
 * The order in which the orchestrator serves queued tasks, and the verifier's model
 * explores them: most urgent lane first, then first come. Negative when `a` goes first.
 * One function for both, so the model schedules as the runtime does.
 * @internal
 */
export function compareReady(a: ReadyKey, b: ReadyKey): number {
  return a.lane - b.lane || a.seq - b.seq;
}
