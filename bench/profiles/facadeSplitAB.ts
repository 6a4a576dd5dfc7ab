/**
 * Paired A/B of the TaskOrchestrator facade split (issue #16: 5f1d5d0, 098489e, 637a05c; the
 * figures in docs/architecture.md "Inside the orchestrator" come from this), two source trees
 * in one process, with an A/A control from a second copy of the "before" tree:
 *
 *   git archive 637a05c | tar -x -C /tmp/split-after
 *   git archive 637a05c | tar -x -C /tmp/split-before
 *   git show 637a05c 098489e 5f1d5d0 -- src | (cd /tmp/split-before && patch -R -p1)   # newest first
 *   # the facade's onTransition then calls persistence.changed() where the table calls
 *   # changed(entry): make it changed(entry) too (line 1189), so that both write the same (review F3)
 *   cp -r /tmp/split-before /tmp/split-before-copy
 *   for t in /tmp/split-after /tmp/split-before /tmp/split-before-copy; do ln -s "$PWD/node_modules" $t/node_modules; done
 *   node --expose-gc -r @swc-node/register bench/profiles/facadeSplitAB.ts /tmp/split-before /tmp/split-before-copy [/tmp/split-after]
 *
 * The "after" tree defaults to this checkout. Each run: TASKS tasks (default 4 000, auto ids)
 * in one `submitWorkflow` on AGENTS agents (default 100) of 5 slots with executors that return
 * at once, on a SimulatedClock, until `waitForWorkflow` resolves; CPU time from
 * `process.cpuUsage()` (user + system), a GC before each run. Two warm-up rounds, then ROUNDS
 * rounds (default 11) in rotated order (before, after, copy; after, copy, before; ...).
 * Prints the median CPU per run of each tree, and the median and range of after/before and
 * of the A/A copy/before ratio. Two copies of one tree are two module instances, so the A/A
 * shows the noise of the machine and of running two trees side by side. Not a top-level bench:
 * bench/run.ts runs every top-level bench/*.ts, and this one needs other trees.
 */
import { resolve } from 'node:path';
import { SimulatedClock } from 'xstate';
import { layeredDag } from '../workloads';

interface Runtime {
  readonly orchestrator: {
    registerAgent(agentId: string, options: { capabilities: string[]; maxConcurrentTasks: number; execute: () => number }): void;
    submitWorkflow(workflow: { tasks: { requiredCapabilities: string[]; taskId?: string; dependencies?: string[] }[] }): { taskId: string }[];
    waitForWorkflow(taskIds: readonly string[]): Promise<unknown[]>;
  };
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface Tree {
  readonly name: string;
  readonly createNeuroFlux: (options: { clock: SimulatedClock }) => Runtime;
}

const ROUNDS = Number(process.env.ROUNDS ?? 11);
const TASKS = Number(process.env.TASKS ?? 4000);
const AGENTS = Number(process.env.AGENTS ?? 100);
/** `dag`: the layered DAG of bench/orchestrator.ts (100 tasks a layer) instead of independent tasks. */
const WORKLOAD = process.env.WORKLOAD === 'dag' ? 'dag' : 'flat';

function load(name: string, root: string): Tree {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a tree chosen at run time
  const { createNeuroFlux } = require(resolve(root, 'src')) as Pick<Tree, 'createNeuroFlux'>;
  return { name, createNeuroFlux };
}

/** CPU milliseconds for one run of `TASKS` tasks on one tree. */
async function cpuOf(tree: Tree): Promise<number> {
  const nf = tree.createNeuroFlux({ clock: new SimulatedClock() });
  for (let i = 0; i < AGENTS; i++) nf.orchestrator.registerAgent(`a${i}`, { capabilities: ['x'], maxConcurrentTasks: 5, execute: () => 1 });
  await nf.start();
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.cpuUsage();
  const tasks =
    WORKLOAD === 'dag'
      ? layeredDag(TASKS, 100).map((task) => ({ taskId: task.taskId as string, dependencies: [...(task.dependencies ?? [])], requiredCapabilities: ['x'] }))
      : Array.from({ length: TASKS }, () => ({ requiredCapabilities: ['x'] }));
  const submitted = nf.orchestrator.submitWorkflow({ tasks });
  await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
  const used = process.cpuUsage(start);
  await nf.stop();
  return (used.user + used.system) / 1000;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function summary(ratios: readonly number[]): string {
  return `${median(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}]`;
}

async function main(): Promise<void> {
  const [beforeRoot, copyRoot, afterRoot = resolve(__dirname, '../..')] = process.argv.slice(2);
  if (!beforeRoot || !copyRoot) throw new Error('usage: facadeSplitAB.ts <beforeTree> <copyOfBeforeTree> [afterTree]');
  const before = load('before', beforeRoot);
  const copy = load('copy', copyRoot);
  const after = load('after', afterRoot);
  const trees = [before, after, copy];
  const cpu = new Map<Tree, number[]>(trees.map((tree) => [tree, []]));
  for (let warmup = 0; warmup < 2; warmup++) for (const tree of trees) await cpuOf(tree);
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...trees.slice(round % 3), ...trees.slice(0, round % 3)];
    for (const tree of order) cpu.get(tree)?.push(await cpuOf(tree));
  }
  const of = (tree: Tree) => cpu.get(tree) as number[];
  const ratio = (a: Tree, b: Tree) => of(a).map((value, i) => value / (of(b)[i] as number));
  console.log(`${WORKLOAD} ${TASKS} tasks, ${AGENTS} agents x 5 slots, ${ROUNDS} rounds (CPU ms per run, median)`);
  for (const tree of trees) console.log(`  ${tree.name.padEnd(6)} ${median(of(tree)).toFixed(0)}`);
  console.log(`  after/before ${summary(ratio(after, before))}`);
  console.log(`  A/A copy/before ${summary(ratio(copy, before))}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
