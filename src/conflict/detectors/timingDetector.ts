import { z } from 'zod';
import { ValidationError } from '../../errors';
import { ConflictType, type ConflictInput } from '../model/conflictTypes';

export const TIMING_DEADLINE_MS = 60_000;
export const DEFAULT_TIMING_WINDOW_MS = 5_000;

/** Pairs of actions that undo each other (compared case-insensitively). */
export const DEFAULT_OPPOSING_ACTIONS: readonly (readonly [string, string])[] = [
  ['buy', 'sell'],
  ['open', 'close'],
  ['start', 'stop'],
  ['allocate', 'release'],
  ['increase', 'decrease'],
  ['lock', 'unlock'],
  ['enable', 'disable'],
  ['scale_up', 'scale_down'],
];

/** An action an agent takes, or means to take, on a resource at a time (ms). */
export const TimedActionSchema = z.object({
  agentId: z.string().min(1),
  resource: z.string().min(1),
  action: z.string().min(1),
  timestamp: z.number().finite(),
});
/** A list of {@link TimedActionSchema} (built once: a schema built at each call costs ~6 µs). */
const TimedActionsSchema = z.array(TimedActionSchema);
export type TimedAction = z.input<typeof TimedActionSchema>;

/** Options of {@link detectTimingConflicts}. */
export interface TimingDetectionOptions {
  /** Two opposing actions conflict when at most this far apart. Default 5000 ms. */
  readonly windowMs?: number;
  /** Default {@link DEFAULT_OPPOSING_ACTIONS}. */
  readonly opposites?: readonly (readonly [string, string])[];
}

const OptionsSchema = z.object({
  windowMs: z.number().finite().positive().default(DEFAULT_TIMING_WINDOW_MS),
  opposites: z.array(z.tuple([z.string().min(1), z.string().min(1)])).default(DEFAULT_OPPOSING_ACTIONS.map((p) => [...p])),
});

/**
 * Finds opposing actions (buy/sell, open/close...) by different agents on one resource
 * within a time window. One conflict per resource, covering every action in an opposing
 * pair; severity grows as the actions get closer: `0.5 + 0.5 × (1 − smallest gap / window)`
 * (simultaneous: 1). Options are the actions involved; 60 s deadline. Pure.
 *
 * @example
 * ```ts
 * const [conflict] = detectTimingConflicts(
 *   [
 *     { agentId: 'a', resource: 'BTC', action: 'buy', timestamp: 1000 },
 *     { agentId: 'b', resource: 'BTC', action: 'sell', timestamp: 2000 },
 *   ],
 *   clock.now(),
 *   { windowMs: 5000 },
 * ); // severity 0.9
 * ```
 */
export function detectTimingConflicts(actions: readonly TimedAction[], now: number, options: TimingDetectionOptions = {}): ConflictInput[] {
  const parsedActions = TimedActionsSchema.safeParse(actions);
  if (!parsedActions.success) throw ValidationError.fromZod('timed actions', parsedActions.error);
  const parsedOptions = OptionsSchema.safeParse(options);
  if (!parsedOptions.success) throw ValidationError.fromZod('timing options', parsedOptions.error);
  const { windowMs, opposites } = parsedOptions.data;
  const opposite = new Map<string, Set<string>>();
  for (const [a, b] of opposites) {
    for (const [x, y] of [
      [a.toLowerCase(), b.toLowerCase()],
      [b.toLowerCase(), a.toLowerCase()],
    ] as const) {
      let set = opposite.get(x);
      if (!set) opposite.set(x, (set = new Set()));
      set.add(y);
    }
  }
  const byResource = new Map<string, z.output<typeof TimedActionSchema>[]>();
  for (const action of parsedActions.data) {
    let group = byResource.get(action.resource);
    if (!group) byResource.set(action.resource, (group = []));
    group.push(action);
  }
  const conflicts: ConflictInput[] = [];
  for (const [resource, group] of byResource) {
    group.sort((a, b) => a.timestamp - b.timestamp);
    const involved = new Set<number>();
    let minGap = Infinity;
    // Sliding window: each action is compared only with the later ones inside the window.
    for (let i = 0; i < group.length; i++) {
      const a = group[i] as z.output<typeof TimedActionSchema>;
      const opposed = opposite.get(a.action.toLowerCase());
      if (!opposed) continue;
      for (let j = i + 1; j < group.length; j++) {
        const b = group[j] as z.output<typeof TimedActionSchema>;
        const gap = b.timestamp - a.timestamp;
        if (gap > windowMs) break;
        if (b.agentId === a.agentId || !opposed.has(b.action.toLowerCase())) continue;
        involved.add(i).add(j);
        minGap = Math.min(minGap, gap);
      }
    }
    if (involved.size === 0) continue;
    const clashing = [...involved].sort((x, y) => x - y).map((i) => group[i] as z.output<typeof TimedActionSchema>);
    conflicts.push({
      conflictType: ConflictType.TIMING_CONFLICT,
      description: `Opposing actions on ${resource} within ${windowMs} ms`,
      involvedAgents: clashing.map((a) => a.agentId),
      conflictingElements: { resource, windowMs, minGapMs: minGap, actions: clashing },
      severity: 0.5 + 0.5 * (1 - minGap / windowMs),
      detectedAt: now,
      resolutionDeadline: now + TIMING_DEADLINE_MS,
      options: [...new Set(clashing.map((a) => a.action))],
    });
  }
  return conflicts;
}
