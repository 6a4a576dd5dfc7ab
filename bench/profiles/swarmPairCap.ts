/**
 * Learning at the pair cap: ten producers each paired with `MAX_PAIRS_PER_PRODUCER` (256)
 * consumers, then 2 000 outcomes one at a time, each pairing a producer with a consumer it
 * never met (so each meets the cap: one in 16 drops its 16 weakest pairs first). Prints wall-clock µs per outcome, the
 * median of 6 rounds after 2 warm-ups, for this tree and, given as argument, another one
 * (alternating in one process; the second of a pair reads 5 – 13 % slower in an A/A):
 *
 *   node --expose-gc -r @swc-node/register bench/profiles/swarmPairCap.ts [/tmp/before]
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TaskOutcomeBatch } from '../../src/swarm/model/outcomeLearning';
import type { SwarmState } from '../../src/swarm/model/swarmTypes';

interface Tree {
  readonly learn: (state: SwarmState, batches: readonly TaskOutcomeBatch[]) => SwarmState;
  readonly initial: (options: { networkId: string; seed: number }) => SwarmState;
}

function treeAt(root: string): Tree {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const learning = require(resolve(root, 'src/swarm/model/outcomeLearning')) as { learnFromTasks: Tree['learn'] };
  const state = require(resolve(root, 'src/swarm/model/swarmState')) as { initialSwarmState: Tree['initial'] };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return { learn: learning.learnFromTasks, initial: state.initialSwarmState };
}

const PRODUCERS = 10;
const OUTCOMES = 2000;

function run({ learn, initial }: Tree): number {
  const filling: TaskOutcomeBatch[] = [];
  for (let p = 0; p < PRODUCERS; p++) {
    for (let c = 0; c < 256; c++) filling.push({ outcomes: [{ outcome: { taskId: `w${p}-${c}`, agentId: `c${c}`, producerAgentIds: [`p${p}`] }, success: true }], at: 1 });
  }
  let state = learn(initial({ networkId: 'cap', seed: 1 }), filling);
  const start = performance.now();
  for (let i = 0; i < OUTCOMES; i++) {
    state = learn(state, [{ outcomes: [{ outcome: { taskId: `n${i}`, agentId: `new${i}`, producerAgentIds: [`p${i % PRODUCERS}`] }, success: true }], at: 2 + i }]);
  }
  return ((performance.now() - start) * 1000) / OUTCOMES;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const here = treeAt(resolve(__dirname, '../..'));
const other = process.argv[2] === undefined ? undefined : treeAt(process.argv[2]);
const before: number[] = [];
const after: number[] = [];
for (let round = 0; round < 8; round++) {
  const b = other ? run(other) : Number.NaN;
  const a = run(here);
  if (round < 2) continue;
  before.push(b);
  after.push(a);
}
console.log(`µs per outcome at the pair cap: this tree ${median(after).toFixed(1)}${other ? `, the other ${median(before).toFixed(1)}` : ''}`);
