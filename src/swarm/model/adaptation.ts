import { decayConnection } from './connection';
import { evidenceAt } from './routingBandit';
import { nextRandom } from './seededRandom';
import { connect, disconnect, findConnection, listConnections, neuronOf, neuronsInOrder } from './swarmState';
import type { AdaptationResult, SwarmState } from './swarmTypes';

/** Below this much routing evidence a pair reads as the prior (to 0.1 %): pruning it loses nothing. */
const NEGLIGIBLE_EVIDENCE = 1e-3;

/**
 * Decays every connection for its idle time since its last activation (see
 * `decayConnection`), mutating `state` (an immer draft).
 *
 * @example
 * ```ts
 * produce(state, (draft) => decayConnections(draft, clock.now()));
 * ```
 */
export function decayConnections(state: SwarmState, at: number): void {
  for (const connection of listConnections(state)) {
    decayConnection(connection, at, state.rules.decayRatePerSecond);
  }
}

/**
 * The spec's topology adaptation, mutating `state` (an immer draft):
 * 1. connections weaker than `pruneThreshold` (0.1) are removed, unless they hold routing
 *    evidence (a posterior that does not read as the prior): pruning must not forget
 *    that a pair fails;
 * 2. each pair of high performers (performance > 0.7, in joining order, earlier → later)
 *    without a connection gets a new 0.3 connection with probability 0.1.
 *
 * Draws come from the seeded generator in the state, one per unconnected pair, so two
 * networks with the same seed and history adapt identically.
 *
 * @example
 * ```ts
 * const next = produce(state, (draft) => { adaptTopology(draft, clock.now()); });
 * next.lastAdaptation; // { pruned, created, at }
 * ```
 */
export function adaptTopology(state: SwarmState, at: number): AdaptationResult {
  const { rules } = state;
  const pruned: string[] = [];
  for (const connection of listConnections(state)) {
    // A connection that holds routing evidence stays, however weak: its posterior is what
    // keeps the balancer away from a bad pair (a failing pair is exactly the weak one).
    const producerSteps = neuronOf(state, connection.source)?.producerSteps ?? 0;
    if (evidenceAt(connection.posterior, producerSteps, rules.banditDiscount) >= NEGLIGIBLE_EVIDENCE) continue;
    if (connection.strength < rules.pruneThreshold) {
      pruned.push(connection.connectionId);
      disconnect(state, connection.source, connection.target);
    }
  }

  const created: string[] = [];
  const highPerformers = neuronsInOrder(state).filter((n) => n.performance > rules.highPerformerThreshold);
  for (let i = 0; i < highPerformers.length; i++) {
    for (let j = i + 1; j < highPerformers.length; j++) {
      const source = highPerformers[i]!.agentId;
      const target = highPerformers[j]!.agentId;
      if (findConnection(state, source, target)) continue;
      const draw = nextRandom(state.rngState);
      state.rngState = draw.state;
      if (draw.value >= rules.newLinkProbability) continue;
      const connection = connect(state, source, target, rules.newLinkStrength, at);
      if (connection) created.push(connection.connectionId);
    }
  }

  state.counters.connectionsPruned += pruned.length;
  state.counters.connectionsGrown += created.length;
  const result: AdaptationResult = { pruned, created, at };
  state.lastAdaptation = result;
  return result;
}
