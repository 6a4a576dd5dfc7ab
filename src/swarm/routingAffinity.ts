import { betaPosterior, type BetaParameters } from './model/routingBandit';
import { connectionOf, neuronOf } from './model/swarmState';
import { SWARM_DEFAULTS, type SwarmSnapshot } from './model/swarmTypes';
import { pairOf } from './model/pairIndex';

/**
 * How well a candidate agent has worked with the agents whose results a task consumes:
 * the mean strength of the producer → candidate connections, a missing connection
 * counting 0 (no evidence is no affinity). Producers equal to the candidate are left
 * out (the swarm has no self-connections). 0 without producers. A reading of the guide's
 * strengths, for reports: the `swarm` balancer routes by {@link pairPosterior} instead
 * (strengths never explore a pair not tried, see docs/swarm.md).
 *
 * Cost: one lookup per producer.
 *
 * @example
 * ```ts
 * const score = routingAffinity(network.getNetworkState(), 'trader_2', ['analyst_1', 'sentiment_1']);
 * ```
 */
export function routingAffinity(state: SwarmSnapshot, candidateAgentId: string, producerAgentIds: readonly string[]): number {
  let total = 0;
  let count = 0;
  const seen = new Set<string>();
  for (const producer of producerAgentIds) {
    if (producer === candidateAgentId || seen.has(producer)) continue;
    seen.add(producer);
    count += 1;
    const connectionId = pairOf(neuronOf(state, producer)?.outgoing, candidateAgentId);
    if (connectionId !== undefined) total += connectionOf(state, connectionId)?.strength ?? 0;
  }
  return count === 0 ? 0 : total / count;
}

/**
 * The routing posterior of the pair `producer → candidate`: Beta(1, 1) plus the pair's
 * discounted successes and failures, discounted up to the producer's current step (see
 * `routingBandit`). A pair never tried, or whose connection was pruned, reads as the prior.
 *
 * @example
 * ```ts
 * const { alpha, beta } = pairPosterior(network.getNetworkState(), 'risk_agent_1', 'trading_agent_2');
 * ```
 */
export function pairPosterior(state: SwarmSnapshot, producerAgentId: string, candidateAgentId: string): BetaParameters {
  const producer = neuronOf(state, producerAgentId);
  const connectionId = pairOf(producer?.outgoing, candidateAgentId);
  const connection = connectionId === undefined ? undefined : connectionOf(state, connectionId);
  return betaPosterior(connection?.posterior, producer?.producerSteps ?? 0, state.rules.banditDiscount ?? SWARM_DEFAULTS.banditDiscount);
}
