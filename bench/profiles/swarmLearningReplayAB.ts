/**
 * The swarm's learning alone, on the outcome batches a real run makes: records what the
 * runtime sends the swarm actor (`TASK_OUTCOME_BATCHES_OBSERVED`, one event per flush) during
 * the orchestrator bench's 10 000-task layered DAG, then replays those batches through
 * `learnFromTasks` from a fresh state, in this tree and in another one given as argument,
 * alternating in one process (so that the machine's drift hits both):
 *
 *   git archive <before> | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/node_modules
 *   node --expose-gc -r @swc-node/register bench/profiles/swarmLearningReplayAB.ts /tmp/before
 *
 * Without an argument it replays this tree against itself (an A/A). Prints wall-clock µs per
 * outcome (the main thread's time: CPU time counts the GC's and compiler's helper threads
 * too) for each tree, and the median of the per-round ratios. `REPEATS` rounds (default 20);
 * `SINGLE=1` replays everything as one batch (what learning costs when nothing is copied).
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { forceGc } from '../measure';
import { recordFlushes } from './recordedSwarmOutcomes';

type Learn = (state: unknown, batches: readonly unknown[]) => unknown;
type Initial = (options: { networkId: string; seed: number }) => unknown;

function treeAt(root: string): { learn: Learn; initial: Initial } {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const learning = require(resolve(root, 'src/swarm/model/outcomeLearning')) as { learnFromTasks: Learn };
  const state = require(resolve(root, 'src/swarm/model/swarmState')) as { initialSwarmState: Initial };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return { learn: learning.learnFromTasks, initial: state.initialSwarmState };
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

async function main(): Promise<void> {
  const recorded = await recordFlushes();
  const flushes = process.env['SINGLE'] ? [recorded.flat()] : recorded;
  const outcomes = flushes.flat().reduce((n: number, batch) => n + (batch as { outcomes: unknown[] }).outcomes.length, 0);
  const trees = { after: treeAt(resolve(__dirname, '../..')), before: treeAt(process.argv[2] ?? resolve(__dirname, '../..')) };
  const replay = ({ learn, initial }: { learn: Learn; initial: Initial }): number => {
    let state = initial({ networkId: 'replay', seed: 1 });
    forceGc();
    const start = performance.now();
    for (const batches of flushes) state = learn(state, batches);
    return ((performance.now() - start) * 1000) / outcomes;
  };
  const before: number[] = [];
  const after: number[] = [];
  const rounds = Number(process.env['REPEATS'] ?? 20);
  for (let round = 0; round < rounds + 2; round++) {
    const b = replay(trees.before);
    const a = replay(trees.after);
    // Two warm-up rounds.
    if (round < 2) continue;
    before.push(b);
    after.push(a);
  }
  const ratios = after.map((a, i) => a / (before[i] as number));
  console.log(`${outcomes} outcomes in ${flushes.length} batches, ${rounds} rounds (wall µs per outcome, median)`);
  console.log(`  before ${median(before).toFixed(1)}`);
  console.log(`  after  ${median(after).toFixed(1)}`);
  console.log(`  after/before ${median(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}]`);
}

void main();
