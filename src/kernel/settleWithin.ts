import type { NeuroFluxClock } from './clock';

/**
 * Waits for `work` at most `timeoutMs` on `clock`: true when it settled (resolved or
 * rejected) in time, false when the time ran out first (the work goes on unobserved).
 * For a shutdown that must not wait forever on a store or server that never answers; the
 * work's own error is the caller's to observe elsewhere. Never rejects.
 * @internal
 */
export function settleWithin(work: Promise<unknown>, timeoutMs: number, clock: NeuroFluxClock): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), timeoutMs);
    const settled = (): void => {
      clock.clearTimeout(timer);
      resolve(true);
    };
    work.then(settled, settled);
  });
}
