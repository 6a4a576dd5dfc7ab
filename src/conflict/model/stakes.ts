import type { ConflictType } from './conflictTypes';

/** Lowest stake a voter can have (also the stake of an abstention). */
export const MIN_STAKE = 0.1;
/** Highest stake a voter can have. */
export const MAX_STAKE = 2.0;
/** Stake of a voter that did not answer in time or answered something malformed. */
export const ABSTENTION_STAKE = 0.1;
/** Performance of an agent nothing is known about yet (overall and per conflict type). */
export const DEFAULT_PERFORMANCE = 0.5;
/** Weight of the agent's overall performance in its stake; the rest is its per-type performance. */
export const OVERALL_PERFORMANCE_WEIGHT = 0.6;

/**
 * Where stakes come from. The engine's default reads its own performance ledger; the
 * swarm network can supply its own. Results are clamped to [0.1, 2.0].
 *
 * @example
 * ```ts
 * const stakeProvider: StakeProvider = (agentId, conflictType) => swarm.trustOf(agentId, conflictType);
 * ```
 */
export type StakeProvider = (agentId: string, conflictType: ConflictType) => number;

/**
 * Keeps a stake within [0.1, 2.0]; anything that is not a finite number gets the floor.
 *
 * @example
 * ```ts
 * clampStake(3); // 2
 * ```
 */
export function clampStake(stake: number): number {
  if (!Number.isFinite(stake)) return MIN_STAKE;
  return Math.min(MAX_STAKE, Math.max(MIN_STAKE, stake));
}

/**
 * The spec's stake: `0.6 × overall + 0.4 × per-type performance`, each 0.5 when
 * unknown, clamped to [0.1, 2.0].
 *
 * @example
 * ```ts
 * computeStake(1.0, 0.5); // 0.8
 * computeStake(); // 0.5
 * ```
 */
export function computeStake(overall = DEFAULT_PERFORMANCE, perType = DEFAULT_PERFORMANCE): number {
  return clampStake(OVERALL_PERFORMANCE_WEIGHT * overall + (1 - OVERALL_PERFORMANCE_WEIGHT) * perType);
}
