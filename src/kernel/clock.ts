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

/** The wall clock: `Date.now` and the host's timers. */
export const systemClock: NeuroFluxClock = {
  now: () => Date.now(),
  setTimeout: (fn, timeoutMs) => setTimeout(fn, timeoutMs),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};
