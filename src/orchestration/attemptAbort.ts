/**
 * The abort of one in-process attempt, with its `AbortSignal` made only when the executor
 * reads it. An `AbortController` is an `EventTarget`: making one per attempt was 1.1 % of
 * the 10 000-task orchestrator bench's CPU profile (self time of `createAbortSignal`), plus
 * its share of GC, for executors that mostly never look at the signal.
 * @internal
 */
export class AttemptAbort {
  private controller: AbortController | undefined;
  private abortedFor: { readonly reason: unknown } | undefined;

  /** Whether {@link abort} was called. */
  get aborted(): boolean {
    return this.abortedFor !== undefined;
  }

  /** The attempt's signal: made on first read, already aborted when the attempt was. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortedFor !== undefined) this.controller.abort(this.abortedFor.reason);
    }
    return this.controller.signal;
  }

  /** Aborts the attempt (once; later calls do nothing, as `AbortController.abort` does). */
  abort(reason: unknown): void {
    if (this.abortedFor !== undefined) return;
    this.abortedFor = { reason };
    this.controller?.abort(reason);
  }
}
