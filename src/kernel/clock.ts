/**
 * The time source of a NeuroFlux runtime. It is XState's `Clock` (timers for `after`
 * delays) plus `now()`, so XState's `SimulatedClock` fits as it is and every timer in
 * the runtime (TTL, request timeouts, retries, deadlines) can be driven by a test.
 *
 * @example
 * ```ts
 * import { SimulatedClock } from 'xstate';
 * const clock = new SimulatedClock();
 * const nf = createNeuroFlux({ clock });
 * clock.increment(30_000); // fires every timer due in the next 30 s
 * ```
 */
export interface NeuroFluxClock {
  /** Milliseconds since an epoch of the clock's choosing (wall clock: Unix epoch). */
  now(): number;
  setTimeout(fn: (...args: unknown[]) => void, timeoutMs: number): unknown;
  clearTimeout(id: unknown): void;
}

/** Longest delay a host timer can hold (2^31 − 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A delay for a timer: negative means already due (0), and one beyond what a host timer
 * holds is capped (it is re-armed from its absolute deadline when it fires early).
 * @internal
 */
export function timerDelay(ms: number): number {
  return Math.min(MAX_TIMER_MS, Math.max(0, ms));
}

/** The wall clock: `Date.now` and the host's timers. */
export const systemClock: NeuroFluxClock = {
  now: () => Date.now(),
  setTimeout: (fn, timeoutMs) => setTimeout(fn, timeoutMs),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};
