import { produce } from 'immer';
import { adaptTopology, decayConnections } from './adaptation';
import { amplifyPatterns, detectPatterns } from './emergentPatterns';
import type { SwarmState } from './swarmTypes';

/**
 * Detects emergent patterns and amplifies the confident ones; returns the next state
 * (the patterns are in `patterns`). Detection reads the frozen state, not a draft, so
 * the pairwise scan pays no proxy cost.
 *
 * @example
 * ```ts
 * const next = detectAndAmplify(state, clock.now());
 * next.patterns;
 * ```
 */
export function detectAndAmplify(state: SwarmState, at: number): SwarmState {
  const patterns = detectPatterns(state, at);
  return produce(state, (draft) => {
    amplifyPatterns(draft, patterns);
    draft.patterns = patterns as typeof draft.patterns;
  });
}

/**
 * One network cycle at time `at`: decay every connection for its idle time, adapt the
 * topology (prune, grow links between high performers), then detect and amplify
 * patterns. Returns the next state.
 *
 * @example
 * ```ts
 * const next = runCycle(state, clock.now());
 * next.lastAdaptation?.pruned;
 * ```
 */
export function runCycle(state: SwarmState, at: number): SwarmState {
  const adapted = produce(state, (draft) => {
    decayConnections(draft, at);
    adaptTopology(draft, at);
    draft.lastCycleAt = at;
    draft.counters.cycles += 1;
  });
  return detectAndAmplify(adapted, at);
}
