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
 * Longest delay the runtime arms (ten years). Longer timers are re-armed in steps of
 * `MAX_TIMER_MS` by {@link withLongTimers}; this bound only keeps absolute deadlines exact
 * integers and a runaway backoff series finite.
 */
export const MAX_DELAY_MS = 10 * 365 * 86_400_000;

/**
 * A delay for a timer: negative or NaN means already due (0), and one beyond
 * `MAX_DELAY_MS` is capped. Delays past what a host timer holds are not capped here: the
 * runtime's clock re-arms them ({@link withLongTimers}).
 * @internal
 */
export function timerDelay(ms: number): number {
  return ms > 0 ? Math.min(MAX_DELAY_MS, ms) : 0;
}

/** A timer longer than a host timer holds: the id of its current step. */
class LongTimer {
  current: unknown;
}

const rearming = new WeakSet<NeuroFluxClock>();

/**
 * The clock with timers of any length: a delay beyond `MAX_TIMER_MS` (which a host timer
 * would fire at once, and XState's `after` would pass through as it is) is armed in steps
 * of `MAX_TIMER_MS`, each re-armed for what is left to the absolute deadline, so a 30-day
 * deadline fires at 30 days and not at 24.8. `clearTimeout` cancels the current step.
 * Wrapping twice returns the same clock.
 * @internal
 */
export function withLongTimers(clock: NeuroFluxClock): NeuroFluxClock {
  if (rearming.has(clock)) return clock;
  const wrapped: NeuroFluxClock = {
    now: () => clock.now(),
    setTimeout: (fn, timeoutMs) => {
      if (!(timeoutMs > MAX_TIMER_MS)) return clock.setTimeout(fn, timeoutMs);
      const timer = new LongTimer();
      const deadline = clock.now() + timeoutMs;
      const step = (): void => {
        const left = deadline - clock.now();
        // A simulated clock moved past the deadline in one increment: due now.
        if (left <= 0) fn();
        else timer.current = clock.setTimeout(step, Math.min(MAX_TIMER_MS, left));
      };
      step();
      return timer;
    },
    clearTimeout: (id) => clock.clearTimeout(id instanceof LongTimer ? id.current : id),
  };
  rearming.add(wrapped);
  return wrapped;
}

/** The wall clock: `Date.now` and the host's timers (of any length). */
export const systemClock: NeuroFluxClock = withLongTimers({
  now: () => Date.now(),
  setTimeout: (fn, timeoutMs) => setTimeout(fn, timeoutMs),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
});
