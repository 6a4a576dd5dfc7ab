import { defaultScore, ourBalancer, type ChoosingBalancer } from '../orchestration/balancers';
import type { NeuralSwarmNetwork } from './neuralSwarmNetwork';
import { pairPosterior } from './routingAffinity';
import { sampleBeta, type RandomSource } from './model/routingBandit';
import { randomSource } from './model/seededRandom';
import { MAX_PRODUCERS_PER_OUTCOME } from './model/swarmSchemas';

/** Options of {@link swarmBalancer}. */
export interface SwarmBalancerOptions {
  /**
   * Uniform draws in [0, 1) for Thompson sampling. Default: a mulberry32 stream seeded from
   * the network's seed state when the balancer is created, so a run from a fresh start is
   * reproducible per seed. The stream lives in this closure, not in the swarm's snapshot: a
   * runtime restored from a snapshot starts it again from the seed, not where it was.
   */
  readonly random?: RandomSource;
}

/** Mixed into the network's seed so that routing draws are not the actor's own sequence. */
const ROUTING_STREAM = 0x5bd1e995;

/**
 * The orchestrator balancer `swarm`: Thompson sampling over the swarm's routing posteriors.
 * For a task that consumes other agents' results, each available qualifying agent gets a
 * draw from the Beta posterior of every producer → agent pair (the mean of the draws when
 * there are several producers), and the highest draw wins; exact ties, and tasks without
 * producers, go to the default score. A pair never tried draws from the uniform prior, so
 * it gets explored; a pair that keeps failing draws low and is rarely chosen; evidence
 * fades with the rule `banditDiscount`, so routing follows a world that changes.
 *
 * The posteriors are the swarm actor's state, changed only by it from observed outcomes;
 * this balancer only reads them.
 *
 * @example
 * ```ts
 * const orchestrator = new TaskOrchestrator({ bus, balancers: [swarmBalancer(swarm)], balancer: 'swarm' });
 * ```
 */
export function swarmBalancer(swarm: NeuralSwarmNetwork, options: SwarmBalancerOptions = {}): ChoosingBalancer {
  const random = options.random ?? randomSource((swarm.getNetworkState().rngState ^ ROUTING_STREAM) >>> 0);
  return ourBalancer<ChoosingBalancer>({
    name: 'swarm',
    choose(task, candidates, { producerAgentIds }) {
      const state = producerAgentIds.length === 0 ? undefined : swarm.getNetworkState();
      let best: string | undefined;
      let bestDraw = -Infinity;
      let bestScore = -Infinity;
      for (const agent of candidates) {
        let draw = 0;
        if (state) {
          let total = 0;
          let count = 0;
          const seen = new Set<string>();
          for (const producer of producerAgentIds) {
            if (producer === agent.agentId || seen.has(producer)) continue;
            // As many producers as learning looks at: the draws per choice stay bounded.
            if (seen.size >= MAX_PRODUCERS_PER_OUTCOME) break;
            seen.add(producer);
            total += sampleBeta(pairPosterior(state, producer, agent.agentId), random);
            count += 1;
          }
          // An agent that produced every input itself: no pair to judge it by.
          draw = count === 0 ? 0.5 : total / count;
        }
        const score = defaultScore(agent, task);
        if (draw > bestDraw || (draw === bestDraw && score > bestScore)) {
          best = agent.agentId;
          bestDraw = draw;
          bestScore = score;
        }
      }
      return best;
    },
  });
}
