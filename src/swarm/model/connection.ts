import { current, isDraft } from 'immer';
import type { ConnectionOutcome, SwarmConnection, SwarmRules } from './swarmTypes';

/**
 * Rules of one directed connection. Functions that change a connection mutate the one
 * they are given: call them on an immer draft (the swarm machine does), never on state
 * you share.
 */

/** Clamps a strength to [0, 1]. */
export function clampStrength(strength: number): number {
  return Math.min(1, Math.max(0, strength));
}

/**
 * A new connection at `strength`, never activated.
 *
 * @example
 * ```ts
 * const c = newConnection('c1', 'analysis', 'trading', 0.9, 0, SWARM_DEFAULTS);
 * ```
 */
export function newConnection(connectionId: string, source: string, target: string, strength: number, at: number, rules: SwarmRules): SwarmConnection {
  return {
    connectionId,
    source,
    target,
    strength: clampStrength(strength),
    learningRate: rules.learningRate,
    createdAt: at,
    lastActivatedAt: null,
    lastOutput: 0,
    activationCount: 0,
    decayedAt: at,
    outcomes: [],
  };
}

/**
 * A shallow copy of a connection (its window and posterior shared), for a copy-on-write update.
 * An object literal, not a spread: V8 spreads a frozen object by its slow path (~140 against
 * ~17 ns for a connection). Every connection comes from {@link newConnection}, so the fields
 * listed here are all it holds; `posterior` stays absent where it is.
 */
export function copyConnection(connection: Readonly<SwarmConnection>): SwarmConnection {
  const copy: SwarmConnection = {
    connectionId: connection.connectionId,
    source: connection.source,
    target: connection.target,
    strength: connection.strength,
    learningRate: connection.learningRate,
    createdAt: connection.createdAt,
    lastActivatedAt: connection.lastActivatedAt,
    lastOutput: connection.lastOutput,
    activationCount: connection.activationCount,
    decayedAt: connection.decayedAt,
    outcomes: connection.outcomes,
  };
  if (connection.posterior !== undefined) copy.posterior = connection.posterior;
  return copy;
}

/**
 * Carries `signal` through the connection: returns `signal × strength`, then learns
 * (`strength = min(1, strength + learningRate × signal)`). Use resets the decay clock.
 *
 * @example
 * ```ts
 * // At strength 0.5: output 0.5, and the strength becomes 0.6.
 * const output = activateConnection(connectionOf(draft, id)!, 1, clock.now());
 * ```
 */
export function activateConnection(connection: SwarmConnection, signal: number, at: number): number {
  const output = signal * connection.strength;
  connection.lastOutput = output;
  connection.activationCount += 1;
  connection.strength = clampStrength(connection.strength + connection.learningRate * signal);
  markUsed(connection, at);
  return output;
}

/** Records a use of the connection at `at` without learning (the decay clock restarts). */
export function markUsed(connection: SwarmConnection, at: number): void {
  connection.lastActivatedAt = at;
  connection.decayedAt = Math.max(connection.decayedAt, at);
}

/**
 * Decays the strength for the time not yet accounted since the last activation (or
 * creation), so that after any number of calls the total factor is
 * `exp(−rate × secondsSinceLastActivation)`. The original compounded
 * `exp(−rate × age since creation)` on every cycle.
 *
 * @example
 * ```ts
 * decayConnection(connectionOf(draft, id)!, clock.now(), 0.01); // 10 s idle: strength × e^−0.1
 * ```
 */
export function decayConnection(connection: SwarmConnection, at: number, ratePerSecond: number): void {
  const from = Math.max(connection.decayedAt, connection.lastActivatedAt ?? connection.createdAt);
  const elapsedMs = at - from;
  if (elapsedMs <= 0) return;
  connection.strength *= Math.exp((-ratePerSecond * elapsedMs) / 1000);
  connection.decayedAt = at;
}

/** Sets the strength; the value holds as of `at` (decay counts from then). */
export function setConnectionStrength(connection: SwarmConnection, strength: number, at: number): void {
  connection.strength = clampStrength(strength);
  connection.decayedAt = Math.max(connection.decayedAt, at);
}

/**
 * Success rate of the connection's recent outcomes (within `successWindowMs` of `at`),
 * `neutralSuccessRate` (0.5) when there are none.
 *
 * @example
 * ```ts
 * connectionSuccessRate(connection, clock.now(), SWARM_DEFAULTS); // 0.5 for a new connection
 * ```
 */
export function connectionSuccessRate(connection: { readonly outcomes: readonly ConnectionOutcome[] }, at: number, rules: SwarmRules): number {
  let total = 0;
  let successes = 0;
  for (const outcome of connection.outcomes) {
    if (at - outcome.at > rules.successWindowMs) continue;
    total += 1;
    if (outcome.success) successes += 1;
  }
  return total === 0 ? rules.neutralSuccessRate : successes / total;
}

/**
 * The spec's success-rate rule: above `successRateHigh` (0.8) +0.1 (at most 1), below
 * `successRateLow` (0.4) −0.1 (at least 0.1), otherwise unchanged.
 *
 * @example
 * ```ts
 * successRateAdjustedStrength(0.5, 0.9, SWARM_DEFAULTS); // 0.6
 * successRateAdjustedStrength(0.15, 0.2, SWARM_DEFAULTS); // 0.1
 * ```
 */
export function successRateAdjustedStrength(strength: number, successRate: number, rules: SwarmRules): number {
  if (successRate > rules.successRateHigh) return Math.min(1, strength + rules.successRateStep);
  if (successRate < rules.successRateLow) {
    // A connection already under the floor is left to pruning, not lifted to the floor.
    if (strength <= rules.successRateFloor) return strength;
    return Math.max(rules.successRateFloor, strength - rules.successRateStep);
  }
  return strength;
}

/**
 * Remembers one outcome that flowed through the connection (a consumer's task that used
 * the producer's result), drops outcomes outside the sliding window, then applies the
 * success-rate rule. The outcome counts as a use (the decay clock restarts).
 *
 * @example
 * ```ts
 * recordConnectionOutcome(connectionOf(draft, id)!, true, clock.now(), SWARM_DEFAULTS);
 * ```
 */
export function recordConnectionOutcome(connection: SwarmConnection, success: boolean, at: number, rules: SwarmRules): void {
  appendConnectionOutcome(connection, { at, success }, rules);
}

/**
 * {@link recordConnectionOutcome} with the outcome as a record, which the caller may share:
 * the swarm's batch learning gives every pair of a task outcome the same frozen record.
 * @internal
 */
export function appendConnectionOutcome(connection: SwarmConnection, outcome: Readonly<ConnectionOutcome>, rules: SwarmRules): void {
  // Always a new window, of the exact size: `[...previous, outcome]` and `push` leave V8's
  // spare capacity in it (22 slots for 4 outcomes) for as long as the state holds it, and
  // `slice` and `concat` of a frozen array take V8's slow path (~0.1 – 1 µs a window). On an
  // immer draft the window is read once, not through a proxy trap per element.
  const { at } = outcome;
  const previous = isDraft(connection.outcomes) ? current(connection.outcomes) : connection.outcomes;
  const total = previous.length + 1;
  let drop = Math.max(0, total - Math.max(1, Math.floor(rules.successWindowSize)));
  while (drop < total && at - (drop < previous.length ? previous[drop]!.at : at) > rules.successWindowMs) drop++;
  const window = new Array<ConnectionOutcome>(total - drop);
  for (let i = drop; i < previous.length; i++) window[i - drop] = previous[i]!;
  if (drop < total) window[total - drop - 1] = outcome;
  connection.outcomes = window;
  connection.activationCount += 1;
  markUsed(connection, at);
  connection.strength = successRateAdjustedStrength(connection.strength, connectionSuccessRate(connection, at, rules), rules);
}
