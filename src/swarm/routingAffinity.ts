import { ownValue } from '../idRecord';
import { connectionOf, neuronOf } from './swarmState';
import type { SwarmSnapshot } from './swarmTypes';

/**
 * How well a candidate agent has worked with the agents whose results a task consumes:
 * the mean strength of the producer → candidate connections, a missing connection
 * counting 0 (no evidence is no affinity). Producers equal to the candidate are left
 * out (the swarm has no self-connections). 0 without producers. The orchestrator's
 * `swarm` balancer uses it to prefer agents downstream of strong links.
 *
 * Cost: one lookup per producer.
 *
 * @example
 * ```ts
 * const score = routingAffinity(network.getNetworkState(), 'trader_2', ['analyst_1', 'sentiment_1']);
 * ```
 */
export function routingAffinity(
  state: SwarmSnapshot,
  candidateAgentId: string,
  producerAgentIds: readonly string[],
): number {
  let total = 0;
  let count = 0;
  const seen = new Set<string>();
  for (const producer of producerAgentIds) {
    if (producer === candidateAgentId || seen.has(producer)) continue;
    seen.add(producer);
    count += 1;
    const connectionId = ownValue(neuronOf(state, producer)?.outgoing, candidateAgentId);
    if (connectionId !== undefined) total += connectionOf(state, connectionId)?.strength ?? 0;
  }
  return count === 0 ? 0 : total / count;
}
