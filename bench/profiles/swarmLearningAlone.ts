/**
 * The swarm's task-outcome learning alone (`learnFromTasks`), on outcomes shaped like the
 * 10 000-task layered DAG's (1 000 agents, 1–3 producers a task, ~830 outcomes a batch):
 * `node --expose-gc [--cpu-prof] -r @swc-node/register bench/profiles/swarmLearningAlone.ts`.
 * Prints µs per outcome for ROUNDS (default 5) runs of 10 000 outcomes on one state, in
 * batches of PER_BATCH (default 830; 1 is one task finishing at a time).
 */
import { learnFromTasks, type TaskOutcomeBatch } from '../../src/swarm/model/outcomeLearning';
import { initialSwarmState } from '../../src/swarm/model/swarmState';
import type { SwarmState } from '../../src/swarm/model/swarmTypes';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

function batches(random: () => number, outcomes: number, agents: number, perBatch: number, at: number): TaskOutcomeBatch[] {
  const out: TaskOutcomeBatch[] = [];
  for (let done = 0; done < outcomes; done += perBatch) {
    const batch = Array.from({ length: Math.min(perBatch, outcomes - done) }, (_, i) => {
      const producers = Array.from({ length: 1 + Math.floor(random() * 3) }, () => `a${Math.floor(random() * agents)}`);
      return { outcome: { taskId: `t${done + i}`, agentId: `a${Math.floor(random() * agents)}`, producerAgentIds: producers, durationMs: 1 }, success: random() < 0.95 };
    });
    out.push({ outcomes: batch, at: at + done });
  }
  return out;
}

const rounds = Number(process.env.ROUNDS ?? 5);
const perBatch = Number(process.env.PER_BATCH ?? 830);
const random = seeded(7);
let state: SwarmState = initialSwarmState({ networkId: 'bench', seed: 1 });
for (let round = 0; round < rounds; round++) {
  const work = batches(random, 10_000, 1_000, perBatch, round * 10_000);
  const started = process.cpuUsage();
  for (const batch of work) state = learnFromTasks(state, [batch]);
  const used = process.cpuUsage(started);
  console.log(`round ${round}: ${((used.user + used.system) / 10_000).toFixed(2)} µs per outcome`);
}
