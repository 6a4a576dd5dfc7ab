/** A timer the runtime arms during a trace: a task's timeout or its retry backoff. @internal */
export interface TraceTimer {
  readonly taskId: string;
  readonly kind: 'timeout' | 'backoff';
  /** Step whose action arms it (the clock is at that step's time). */
  readonly armedAt: number;
  readonly durationMs: number;
  /** Step at which it fires (a `task_timed_out` / `backoff_elapsed` step), if it does. */
  readonly firesAt: number | undefined;
  /** Step whose action disarms it without firing (the attempt ended), if any. */
  readonly disarmedAt: number | undefined;
}

/** Clock times for the steps of a trace. @internal */
export interface TimingSchedule {
  /** Clock time (ms) to set before each step. */
  readonly times: readonly number[];
  /** False when no clock times make the runtime's timers fire exactly as the trace says. */
  readonly realizable: boolean;
  /** Why not, naming the first step that cannot be timed. */
  readonly reason?: string;
}

interface Edge {
  readonly from: number;
  readonly to: number;
  readonly weight: number;
}

/**
 * Chooses a clock time for every step of a trace so that the real timers fire exactly at
 * the trace's timeout and backoff steps and nowhere else: a firing step happens at
 * `armed + duration`, and every step while a timer is pending happens strictly before it
 * is due (the runtime would fire it first otherwise). These are difference constraints
 * `t[j] ≥ t[i] + w`; the earliest solution is the longest path from an origin, found by
 * Bellman–Ford, and a positive cycle means the trace is untimed behaviour the real
 * durations exclude (e.g. a task that outlasts its own timeout). The model is untimed on
 * purpose, so such traces exist; replay then says so instead of diverging mysteriously.
 * @internal
 */
export function scheduleTrace(steps: number, timers: readonly TraceTimer[], timerSteps: readonly boolean[]): TimingSchedule {
  const feasible = (prefix: number) => {
    const constraints = constraintsOf(prefix, timers, timerSteps, true);
    return constraints ? longestPaths(prefix, constraints) : undefined;
  };
  const times = feasible(steps);
  if (times) return { times, realizable: true };
  // Find the first step that cannot be timed: the shortest infeasible prefix.
  let low = 1;
  let high = steps;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (feasible(mid)) low = mid + 1;
    else high = mid;
  }
  const firing = longestPaths(steps, constraintsOf(steps, timers, timerSteps, false) ?? []) ?? Array.from({ length: steps }, () => 0);
  return {
    times: firing,
    realizable: false,
    reason: `step ${low} cannot happen at a time consistent with the workflow's timeouts and backoffs (the untimed model allows an order of events that the real durations exclude)`,
  };
}

/**
 * The constraints of the first `steps` steps; `undefined` when they are contradictory on
 * their face. A zero-length timer is due at once: the simulated clock fires it at the next
 * clock movement or timer step (or at once, if armed while the clock fires a timer), so the
 * steps it waits through must share its time and not be timer steps.
 */
function constraintsOf(steps: number, timers: readonly TraceTimer[], timerSteps: readonly boolean[], strict: boolean): Edge[] | undefined {
  const origin = steps;
  const edges: Edge[] = [];
  for (let i = 0; i < steps; i++) {
    edges.push({ from: origin, to: i, weight: 0 });
    if (i + 1 < steps) edges.push({ from: i, to: i + 1, weight: 0 });
  }
  for (const timer of timers) {
    const a = timer.armedAt;
    if (a >= steps) continue;
    const d = timer.durationMs;
    const end = timer.firesAt ?? timer.disarmedAt ?? steps;
    if (timer.firesAt !== undefined && timer.firesAt < steps) {
      edges.push({ from: a, to: timer.firesAt, weight: d });
      edges.push({ from: timer.firesAt, to: a, weight: -d });
    }
    if (!strict) continue;
    // Steps while it is pending (including the one that disarms it) come before it is due.
    const last = timer.firesAt !== undefined ? end - 1 : Math.min(end, steps - 1);
    for (let j = a + 1; j <= last && j < steps; j++) {
      // Armed inside a clock flush (by a timer step), a zero timer fires in that same flush.
      if (d === 0 && (timerSteps[j] === true || timerSteps[a] === true)) return undefined;
      edges.push({ from: j, to: a, weight: d === 0 ? 0 : -(d - 1) });
    }
  }
  return edges;
}

/** Earliest times satisfying every `t[to] ≥ t[from] + weight`, or undefined if there are none. */
function longestPaths(steps: number, edges: readonly Edge[]): number[] | undefined {
  const dist = new Array<number>(steps + 1).fill(-Infinity);
  dist[steps] = 0;
  for (let round = 0; round <= steps + 1; round++) {
    let changed = false;
    for (const e of edges) {
      const from = dist[e.from] as number;
      if (from === -Infinity) continue;
      if (from + e.weight > (dist[e.to] as number)) {
        dist[e.to] = from + e.weight;
        changed = true;
      }
    }
    if (!changed) return dist.slice(0, steps);
  }
  return undefined;
}
