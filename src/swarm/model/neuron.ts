import { idRecord, ownValue } from '../../idRecord';
import { getEntry } from './shardedRecord';
import type { SwarmNeuron, SwarmRules, SwarmSnapshot } from './swarmTypes';
import { emptyPairIndex } from './pairIndex';

/**
 * Rules of one neuron (an agent of the swarm). Functions that change a neuron mutate
 * the one they are given: call them on an immer draft.
 */

/** Per-neuron settings chosen when an agent joins. */
export interface NeuronSettings {
  readonly activationThreshold?: number;
  readonly bias?: number;
  readonly refractoryPeriodMs?: number;
}

/**
 * A new neuron at rest: no activation, never fired, performance 0.5.
 *
 * @example
 * ```ts
 * const n = newNeuron('risk', 0, { activationThreshold: 0.8 }, SWARM_DEFAULTS);
 * ```
 */
export function newNeuron(agentId: string, seq: number, settings: NeuronSettings, rules: SwarmRules): SwarmNeuron {
  return {
    agentId,
    seq,
    activationThreshold: settings.activationThreshold ?? rules.activationThreshold,
    bias: settings.bias ?? rules.bias,
    refractoryPeriodMs: settings.refractoryPeriodMs ?? rules.refractoryPeriodMs,
    activation: 0,
    lastFiredAt: null,
    fireCount: 0,
    performance: rules.initialPerformance,
    knowledgeBase: idRecord(),
    patterns: idRecord(),
    outgoing: emptyPairIndex(),
    outgoingCount: 0,
    incoming: emptyPairIndex(),
  };
}

/**
 * True while the neuron is within its refractory period after a firing.
 *
 * @example
 * ```ts
 * isRefractory(neuronOf(state, 'risk')!, clock.now()); // true for 1 s after it fired
 * ```
 */
export function isRefractory(neuron: SwarmNeuron, at: number): boolean {
  return neuron.lastFiredAt !== null && at - neuron.lastFiredAt < neuron.refractoryPeriodMs;
}

/**
 * The spec's firing rule: activation at or above the threshold, out of the refractory period.
 *
 * @example
 * ```ts
 * if (canFire(neuron, clock.now())) fireNeuron(neuron, clock.now());
 * ```
 */
export function canFire(neuron: SwarmNeuron, at: number): boolean {
  return neuron.activation >= neuron.activationThreshold && !isRefractory(neuron, at);
}

/**
 * Fires: returns `activation + bias`, resets the activation and starts the refractory
 * period. Callers check {@link canFire} first.
 *
 * @example
 * ```ts
 * const output = fireNeuron(neuronOf(draft, 'analysis')!, clock.now());
 * ```
 */
export function fireNeuron(neuron: SwarmNeuron, at: number): number {
  const output = neuron.activation + neuron.bias;
  neuron.activation = 0;
  neuron.lastFiredAt = at;
  neuron.fireCount += 1;
  return output;
}

/**
 * Moves the performance toward `score` (0..1) by exponential moving average:
 * `performance = alpha × score + (1 − alpha) × performance`.
 *
 * @example
 * ```ts
 * updatePerformance(neuron, 1, 0.1); // 0.5 → 0.55
 * ```
 */
export function updatePerformance(neuron: SwarmNeuron, score: number, alpha: number): void {
  neuron.performance = alpha * score + (1 - alpha) * neuron.performance;
}

/** Counts one decision of kind `key` (e.g. `task:analysis`) and whether it succeeded. */
export function recordDecision(neuron: SwarmNeuron, key: string, success: boolean): void {
  const pattern = ownValue(neuron.patterns, key);
  if (pattern) {
    pattern.uses += 1;
    if (success) pattern.successes += 1;
  } else {
    neuron.patterns[key] = { uses: 1, successes: success ? 1 : 0 };
  }
}

/** Clamps an activation threshold to the rules' bounds [0.1, 0.9]. */
export function clampThreshold(threshold: number, rules: SwarmRules): number {
  return Math.min(rules.maxThreshold, Math.max(rules.minThreshold, threshold));
}

/**
 * The performance the swarm has learned for an agent (0..1), the initial 0.5 for an
 * agent it has never seen. The conflict engine uses it as a stake provider.
 *
 * @example
 * ```ts
 * const stake = 0.6 * agentPerformance(network.getNetworkState(), 'risk') + 0.4 * perType;
 * ```
 */
export function agentPerformance(state: SwarmSnapshot, agentId: string): number {
  return getEntry(state.neurons, agentId)?.performance ?? state.rules.initialPerformance;
}
