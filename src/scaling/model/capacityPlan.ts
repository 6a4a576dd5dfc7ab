import { z } from 'zod';

/**
 * What scaling reads of one capability (the orchestrator's `capabilityFigures`): ready
 * tasks waiting for an agent with it, the oldest wait, and its agents' used slots and capacity.
 */
export interface CapacityFigures {
  readonly waitingTasks: number;
  readonly oldestWaitMs: number;
  readonly usedSlots: number;
  readonly capacity: number;
}

/** One host a launcher started for a capability, as the planner sees it. */
export interface PlannedHost {
  readonly hostId: string;
  /** `starting` until its agents are announced, `stopping` from the stop request on. */
  readonly state: 'starting' | 'running' | 'stopping';
  /** Runs (or holds) at least one task. */
  readonly busy: boolean;
}

/** What one check of a capability saw: the figures, the launcher's hosts, and the clock time. */
export interface CapacitySample {
  readonly figures: CapacityFigures;
  readonly hosts: readonly PlannedHost[];
  readonly at: number;
  /**
   * Task slots of one of the launcher's hosts, when known (the ScalingManager reads them from
   * its running hosts' agents). Else inferred as capacity / running hosts, which undercounts
   * the hosts needed when agents the launcher did not start share the capability.
   */
  readonly slotsPerHost?: number;
}

export const CapacityPolicySchema = z.object({
  /** Hosts kept at least (started when fewer run). */
  minHosts: z.number().int().nonnegative().max(1000).default(1),
  /** Hosts started at most. */
  maxHosts: z.number().int().positive().max(1000).default(4),
  /** Scale up when at least this many tasks wait (a burst)... */
  scaleUpWaitingTasks: z.number().int().positive().default(4),
  /** ...or when any task has waited this long, ms. */
  scaleUpWaitMs: z.number().nonnegative().default(2000),
  /** Task slots one host brings (default: the capacity seen per running host, else 1). */
  slotsPerHost: z.number().int().positive().optional(),
  /** Scale down only while no task waits and the used share of the capacity is at most this. */
  scaleDownUtilisation: z.number().min(0).max(1).default(0.5),
  /** ...and has been so for this long, ms (a lull between tasks is not idleness). */
  scaleDownAfterMs: z.number().nonnegative().default(5000),
  /** After a decision, no other one for this long, ms (the new hosts must show in the figures first). */
  cooldownMs: z.number().nonnegative().default(5000),
});

/** Rules of scaling one capability (defaults in {@link CapacityPolicySchema}). */
export type CapacityPolicy = z.input<typeof CapacityPolicySchema>;
/** A validated {@link CapacityPolicy}. */
export type ParsedCapacityPolicy = z.output<typeof CapacityPolicySchema>;

/** What a check decided. `from` and `to` count hosts not stopping. */
export type CapacityPlan =
  | { readonly action: 'hold'; readonly reason: string; readonly calm: boolean }
  | { readonly action: 'scale_up'; readonly from: number; readonly to: number; readonly reason: string }
  | { readonly action: 'scale_down'; readonly from: number; readonly to: number; readonly hostIds: readonly string[]; readonly reason: string };

const FiguresSchema = z.object({
  waitingTasks: z.number().finite().nonnegative(),
  oldestWaitMs: z.number().finite().nonnegative(),
  usedSlots: z.number().finite().nonnegative(),
  capacity: z.number().finite().nonnegative(),
});

/**
 * The scaling rule of one capability, pure. In order:
 * - figures that are not finite non-negative numbers: hold (nothing is decided on garbage);
 * - fewer hosts than `minHosts`: up to `minHosts`; more than `maxHosts`: down by an idle one;
 * - a burst (`scaleUpWaitingTasks` waiting) or a task waiting `scaleUpWaitMs`: up by the
 *   hosts the waiting tasks need (`ceil(waiting / slotsPerHost)`), at most to `maxHosts`;
 * - no task waiting and utilisation at most `scaleDownUtilisation` for `scaleDownAfterMs`
 *   (`calmForMs`, kept by the caller), with more than `minHosts`, and the slots in use would
 *   still be at most `scaleDownUtilisation` of the capacity left without one host: down by
 *   one idle host (the newest), never one that runs a task.
 * Tasks submitted one at a time, each taken at once by a free slot, never wait: no scale-up.
 *
 * @example
 * ```ts
 * planCapacity({ figures: { waitingTasks: 12, oldestWaitMs: 40, usedSlots: 2, capacity: 2 }, hosts: [{ hostId: 'h1', state: 'running', busy: true }], at: 0 }, CapacityPolicySchema.parse({}), 0);
 * // → { action: 'scale_up', from: 1, to: 4, reason: '12 tasks waiting (burst threshold 4)' }
 * ```
 */
export function planCapacity(sample: CapacitySample, policy: ParsedCapacityPolicy, calmForMs: number): CapacityPlan {
  const parsed = FiguresSchema.safeParse(sample.figures);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join('.') ?? 'figures';
    return { action: 'hold', reason: `figures refused: ${field} is not a finite non-negative number`, calm: false };
  }
  const { waitingTasks, oldestWaitMs, usedSlots, capacity } = parsed.data;
  const live = sample.hosts.filter((h) => h.state !== 'stopping');
  const running = live.filter((h) => h.state === 'running');
  const from = live.length;
  const idle = running.filter((h) => !h.busy);
  const newestIdle = idle.length > 0 ? [(idle[idle.length - 1] as PlannedHost).hostId] : [];

  if (from < policy.minHosts) return { action: 'scale_up', from, to: policy.minHosts, reason: `below the minimum of ${policy.minHosts} hosts` };
  if (from > policy.maxHosts && newestIdle.length > 0) {
    return { action: 'scale_down', from, to: from - 1, hostIds: newestIdle, reason: `above the maximum of ${policy.maxHosts} hosts` };
  }
  const burst = waitingTasks >= policy.scaleUpWaitingTasks;
  const slow = waitingTasks > 0 && oldestWaitMs >= policy.scaleUpWaitMs;
  const known = sample.slotsPerHost !== undefined && Number.isFinite(sample.slotsPerHost) && sample.slotsPerHost >= 1 ? Math.floor(sample.slotsPerHost) : undefined;
  const perHost = policy.slotsPerHost ?? known ?? (running.length > 0 && capacity > 0 ? Math.max(1, Math.floor(capacity / running.length)) : 1);
  if ((burst || slow) && from < policy.maxHosts) {
    const to = Math.min(policy.maxHosts, from + Math.max(1, Math.ceil(waitingTasks / perHost)));
    const reason = burst
      ? `${waitingTasks} tasks waiting (burst threshold ${policy.scaleUpWaitingTasks})`
      : `a task has waited ${Math.round(oldestWaitMs)} ms (threshold ${policy.scaleUpWaitMs} ms)`;
    return { action: 'scale_up', from, to, reason };
  }
  const utilisation = capacity === 0 ? 0 : Math.min(1, usedSlots / capacity);
  const calm = waitingTasks === 0 && utilisation <= policy.scaleDownUtilisation;
  // Judged on what is left after the removal: else 2 hosts at 50 % go down to 1 full one, the
  // next task waits, and it scales up again (flapping).
  const fitsAfterRemoval = usedSlots <= policy.scaleDownUtilisation * Math.max(0, capacity - perHost);
  if (calm && fitsAfterRemoval && from > policy.minHosts && newestIdle.length > 0 && calmForMs >= policy.scaleDownAfterMs) {
    return {
      action: 'scale_down',
      from,
      to: from - 1,
      hostIds: newestIdle,
      reason: `no task waiting, utilisation ${Math.round(utilisation * 100)} % for ${Math.round(calmForMs)} ms`,
    };
  }
  return { action: 'hold', reason: calm ? 'calm' : 'within bounds', calm };
}
