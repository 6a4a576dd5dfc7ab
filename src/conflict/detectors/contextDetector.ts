import type { ConflictInput } from '../model/conflictTypes';
import { detectPriorityConflicts, type AgentSlots, type TaskClaim } from './priorityDetector';
import { detectResourceConflicts, type ResourceAvailability, type ResourceRequest } from './resourceDetector';
import { detectSignalConflicts, type SignalRule, type TradingSignalInput } from './signalDetector';
import { detectTimingConflicts, type TimedAction, type TimingDetectionOptions } from './timingDetector';

/** Everything `detectConflicts` can look at; every part is optional. */
export interface ConflictDetectionContext {
  readonly signals?: readonly TradingSignalInput[];
  readonly signalRule?: SignalRule;
  readonly resourceRequests?: readonly ResourceRequest[];
  /** Required with `resourceRequests`. */
  readonly availability?: ResourceAvailability;
  readonly taskClaims?: readonly TaskClaim[];
  /** Required with `taskClaims`. */
  readonly agentSlots?: AgentSlots;
  readonly actions?: readonly TimedAction[];
  readonly timing?: TimingDetectionOptions;
}

/**
 * Runs every detector that has input in `context` (signals, resource requests, task claims,
 * timed actions, in that order) and returns what they find, reporting nothing.
 *
 * @example
 * ```ts
 * detectInContext({ resourceRequests, availability: { gpu: 4 } }, clock.now()); // [{ conflictType: 'resource_conflict', ... }]
 * ```
 * @internal
 */
export function detectInContext(context: ConflictDetectionContext, now: number): ConflictInput[] {
  const found: ConflictInput[] = [];
  if (context.signals) found.push(...detectSignalConflicts(context.signals, now, { rule: context.signalRule }));
  if (context.resourceRequests) found.push(...detectResourceConflicts(context.resourceRequests, context.availability ?? {}, now));
  if (context.taskClaims) found.push(...detectPriorityConflicts(context.taskClaims, context.agentSlots ?? {}, now));
  if (context.actions) found.push(...detectTimingConflicts(context.actions, now, context.timing));
  return found;
}
