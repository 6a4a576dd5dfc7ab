import { defaultScore, type ChoosingBalancer } from '../orchestration/balancers';
import type { NeuralSwarmNetwork } from './neuralSwarmNetwork';

/**
 * The orchestrator balancer `swarm`: among the available qualifying agents, prefers the one
 * most strongly connected (in the swarm network) to the agents that produced the task's
 * dependencies; ties, and tasks without producers, go to the default score. As the swarm
 * strengthens producer → consumer connections after successes and weakens them after
 * failures, routing follows the pairs that work.
 *
 * @example
 * ```ts
 * const orchestrator = new TaskOrchestrator({ bus, balancers: [swarmBalancer(swarm)], balancer: 'swarm' });
 * ```
 */
export function swarmBalancer(swarm: NeuralSwarmNetwork): ChoosingBalancer {
  return {
    name: 'swarm',
    choose(task, candidates, { producerAgentIds }) {
      let best: string | undefined;
      let bestAffinity = -Infinity;
      let bestScore = -Infinity;
      for (const agent of candidates) {
        const affinity = producerAgentIds.length === 0 ? 0 : swarm.routingAffinity(agent.agentId, producerAgentIds);
        const score = defaultScore(agent, task);
        if (affinity > bestAffinity || (affinity === bestAffinity && score > bestScore)) {
          best = agent.agentId;
          bestAffinity = affinity;
          bestScore = score;
        }
      }
      return best;
    },
  };
}
