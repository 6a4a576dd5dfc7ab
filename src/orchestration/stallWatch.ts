import { z } from 'zod';
import { ValidationError } from '../errors';
import { timerDelay, type NeuroFluxClock } from '../kernel/clock';
import type { StallDiagnosis } from './stallDiagnosis';
import { compositeKey } from '../compositeKey';

const StallWatchOptionsSchema = z.object({
  stallTimeoutMs: z.number().nonnegative(),
  checkIntervalMs: z.number().positive().default(250),
});

/** Options of {@link watchForStall}. */
export interface StallWatchOptions {
  /** The timers' clock (the runtime's: a test drives it). */
  readonly clock: NeuroFluxClock;
  /** The current diagnosis, e.g. `() => diagnoseStall(orchestrator.progressState())`. */
  readonly diagnose: () => StallDiagnosis;
  /** How long a stall (blocked tasks, nothing else moving) may last before `onStallTimeout`. */
  readonly stallTimeoutMs: number;
  /** How often the state is read, ms. Default 250: a blocked task is reported well within a second. */
  readonly checkIntervalMs?: number;
  /** The blocked tasks (or whether the run stalled) changed and some are blocked (called at the first check that sees them). */
  readonly onBlocked: (diagnosis: StallDiagnosis) => void;
  /** Blocked tasks were reported before and none is blocked now (an agent joined). */
  readonly onUnblocked?: () => void;
  /** The run stalled for `stallTimeoutMs` without a break. Called once; the watch stops. */
  readonly onStallTimeout: (diagnosis: StallDiagnosis) => void;
  /**
   * `diagnose` or a callback threw during a timed check: the watch stops and the error comes
   * here. Without it the error is thrown from the timer (an uncaught exception).
   */
  readonly onError?: (error: unknown) => void;
}

/** A running {@link watchForStall}. */
export interface StallWatch {
  /** Reads the state now (also done every `checkIntervalMs`). */
  check(): void;
  stop(): void;
}

function blockedKey(diagnosis: StallDiagnosis): string {
  if (diagnosis.blocked.length === 0) return '';
  // A run that goes from "blocked while others run" to "stalled" is told so.
  return compositeKey([String(diagnosis.stalled), ...diagnosis.blocked.map((task) => compositeKey([task.taskId, task.reason, compositeKey(task.missingCapabilities)]))]);
}

/**
 * Watches a run for tasks no agent can take: reports them at the first check that sees
 * them (the first check runs at once), and calls `onStallTimeout` once nothing has moved
 * for `stallTimeoutMs`. Every timer is the clock's, so tests drive it with a simulated clock.
 *
 * @example
 * ```ts
 * const watch = watchForStall({
 *   clock: nf.clock,
 *   diagnose: () => diagnoseStall(nf.orchestrator.progressState()),
 *   stallTimeoutMs: 30_000,
 *   onBlocked: (d) => console.error(`${d.blocked.length} tasks cannot be given to any agent`),
 *   onStallTimeout: () => void nf.stop(),
 * });
 * ```
 */
export function watchForStall(options: StallWatchOptions): StallWatch {
  const parsed = StallWatchOptionsSchema.safeParse({ stallTimeoutMs: options.stallTimeoutMs, checkIntervalMs: options.checkIntervalMs });
  if (!parsed.success) throw ValidationError.fromZod('stall watch options', parsed.error);
  const { stallTimeoutMs, checkIntervalMs } = parsed.data;
  const { clock } = options;
  let reported = '';
  let stalledSince: number | undefined;
  let timer: unknown;
  let stopped = false;
  const check = (): void => {
    if (stopped) return;
    const diagnosis = options.diagnose();
    const key = blockedKey(diagnosis);
    if (key !== reported) {
      const wasReported = reported !== '';
      reported = key;
      if (key !== '') options.onBlocked(diagnosis);
      else if (wasReported) options.onUnblocked?.();
    }
    const now = clock.now();
    if (!diagnosis.stalled) stalledSince = undefined;
    else {
      stalledSince ??= now;
      if (now - stalledSince >= stallTimeoutMs) {
        watch.stop();
        options.onStallTimeout(diagnosis);
      }
    }
  };
  const arm = (): void => {
    timer = clock.setTimeout(() => {
      timer = undefined;
      try {
        check();
      } catch (error) {
        watch.stop();
        if (!options.onError) throw error;
        options.onError(error);
      }
      if (!stopped) arm();
    }, timerDelay(checkIntervalMs));
  };
  const watch: StallWatch = {
    check,
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
  check();
  if (!stopped) arm();
  return watch;
}
