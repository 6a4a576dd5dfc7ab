/**
 * Does the swarm learn to route? (issues 5 and 17). Producers and consumers of hidden
 * pairwise compatibility: a consumer task succeeds with probability 0.9 when it runs on the
 * consumer matched with the agent that produced its input, 0.3 otherwise. Per-agent scores
 * cannot see that (every agent is as good as any other on average); the swarm's per-pair
 * posteriors can.
 *
 * The real runtime runs it: `createNeuroFlux` (orchestrator, `swarm` balancer, swarm actor
 * learning from every attempt, `attempts$`). Each producer runs one extract task up front; every consumer
 * task depends on the output of one producer picked at random, and is routed by the
 * balancer under test. Over 10 seeds, in two modes (tasks submitted one at a time, as the
 * demo and most users do; and 10 at a time), the swarm is compared with the `default` and
 * `round_robin` balancers on the same seeded stream (same producers, same draws). A third
 * scenario permutes the hidden compatibility after task 750 and measures how many tasks the
 * swarm needs to get back to 80 % of its pre-shift success rate.
 *
 * Every seed's world runs in the same runtime, side by side, but with its own routing
 * stream (a `swarm` balancer per world, seeded from the world's seed), its own agents and
 * capabilities: a seed's figures do not depend on which other seeds are in the run.
 *
 * Tasks run without retries by default: a task's outcome is its one attempt. `RETRY=default`
 * runs them with the default retry policy (3 retries, no backoff to wait out on the
 * simulated clock); a task's outcome is then whether its first attempt succeeded (retries
 * would fill almost every task on any balancer), and the swarm also learns from each
 * retried attempt.
 *
 * `npm run bench -- swarm-learning`; `--json <file>` also writes every per-task outcome
 * (what `npm run plot:swarm-learning` draws). `SEEDS=3` for a quicker look.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { SimulatedClock } from 'xstate';
import { createNeuroFlux, randomSource, swarmBalancer, type BuiltInBalancerName, type ChoosingBalancer } from '../src';

export const PAIRS = 4;
export const TASKS = 1500;
export const SHIFT_AT = 750;
/** Window of the success rate the recovery is judged on (tasks). */
export const RECOVERY_WINDOW = 50;
const LAST = 500;

export type Routing = 'swarm' | Extract<BuiltInBalancerName, 'default' | 'round_robin'>;
export type Mode = 'one' | 'ten';
export const MODES: Record<Mode, { readonly wave: number; readonly label: string }> = {
  one: { wave: 1, label: 'one task at a time' },
  ten: { wave: 10, label: '10 tasks at a time' },
};

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed's world: which producer feeds each task, its success draw, the permutation after the shift. */
interface World {
  readonly producerOf: readonly number[];
  readonly draw: readonly number[];
  /** Consumer matched with each producer after the shift (a derangement: every pair changes). */
  readonly shifted: readonly number[];
}

function worldOf(seed: number): World {
  const random = mulberry32(seed);
  const producerOf = Array.from({ length: TASKS }, () => Math.floor(random() * PAIRS));
  const draw = Array.from({ length: TASKS }, () => random());
  const rotation = 1 + Math.floor(random() * (PAIRS - 1));
  const shifted = Array.from({ length: PAIRS }, (_, i) => (i + rotation) % PAIRS);
  return { producerOf, draw, shifted };
}

/**
 * Runs every seed's world through one runtime, side by side: each world has its own
 * agents (`s<seed>_producer<i>`, `s<seed>_consumer<i>`, capability `transform_s<seed>`),
 * so the worlds never share a pair, an agent or a pool, and each submits its tasks one
 * wave at a time (a wave is 1 or 10 tasks), the next wave only once the previous one
 * finished and the swarm learned from it. Sharing the runtime only shares its per-wave
 * overhead. Returns, per seed, the outcome of every consumer task in order.
 */
export async function simulate(seeds: readonly number[], routing: Routing, mode: Mode, shift: boolean): Promise<boolean[][]> {
  const worlds = seeds.map(worldOf);
  // One `swarm` balancer per world, each with its own stream (made on first use: the swarm is the runtime's).
  const perWorld = new Map<number, ChoosingBalancer>();
  const balancers: ChoosingBalancer[] = seeds.map((seed) => ({
    name: `swarm_s${seed}`,
    choose: (task, candidates, context) => {
      let inner = perWorld.get(seed);
      if (!inner) perWorld.set(seed, (inner = swarmBalancer(nf.swarm, { random: randomSource((seed * 0x9e3779b1) >>> 0) })));
      return inner.choose(task, candidates, context);
    },
  }));
  const clock = new SimulatedClock();
  const nf = createNeuroFlux({ clock, swarm: { seed: seeds[0] ?? 1 }, orchestrator: { balancers, retention: { maxRecords: 0, maxAgeMs: 0 } } });
  const retries = process.env['RETRY'] === 'default';
  seeds.forEach((seed, w) => {
    const world = worlds[w] as World;
    for (let i = 0; i < PAIRS; i++) {
      nf.orchestrator.registerAgent(`s${seed}_producer${i}`, { capabilities: [`extract_s${seed}_${i}`], execute: () => ({ batch: i }) });
      nf.orchestrator.registerAgent(`s${seed}_consumer${i}`, {
        capabilities: [`transform_s${seed}`],
        maxConcurrentTasks: 100,
        execute: (task, { dependencyResults }) => {
          const { index } = task.payload as { index: number };
          const [input] = Object.values(dependencyResults) as { batch: number }[];
          const batch = input?.batch ?? -1;
          const matched = shift && index >= SHIFT_AT ? world.shifted[batch] : batch;
          if ((world.draw[index] as number) < (matched === i ? 0.9 : 0.3)) return 'ok';
          throw new Error('incompatible input');
        },
      });
    }
  });
  await nf.start();
  const extracts = seeds.flatMap((seed) => Array.from({ length: PAIRS }, (_, i) => ({ taskId: `s${seed}-extract-${i}`, requiredCapabilities: [`extract_s${seed}_${i}`] })));
  nf.orchestrator.submitWorkflow({ tasks: extracts });
  await nf.orchestrator.waitForWorkflow(extracts.map((t) => t.taskId));
  const outcomes: boolean[][] = seeds.map(() => []);
  const { wave } = MODES[mode];
  for (let start = 0; start < TASKS; start += wave) {
    const tasks = [];
    for (const [w, seed] of seeds.entries()) {
      for (let index = start; index < Math.min(TASKS, start + wave); index++) {
        tasks.push({
          taskId: `s${seed}-transform-${index}`,
          dependencies: [`s${seed}-extract-${(worlds[w] as World).producerOf[index]}`],
          requiredCapabilities: [`transform_s${seed}`],
          payload: { index },
          retryPolicy: retries ? { initialDelay: 0 } : { retryOnFailure: false },
          balancer: routing === 'swarm' ? `swarm_s${seed}` : routing,
        });
      }
    }
    nf.orchestrator.submitWorkflow({ tasks });
    const waiting = nf.orchestrator.waitForWorkflow(tasks.map((t) => t.taskId));
    if (retries) {
      // A retry, even without backoff, waits on the (simulated) clock: move it along until the wave is done.
      let done = false;
      void waiting.then(() => (done = true));
      while (!done) {
        clock.increment(1);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const records = await waiting;
    records.forEach((r, k) => outcomes[Math.floor(k / (tasks.length / seeds.length))]?.push(r.status === 'completed' && (!retries || r.retryCount === 0)));
    await new Promise((resolve) => setImmediate(resolve)); // the swarm learns from this wave
  }
  await nf.stop();
  return outcomes;
}

const rate = (xs: readonly boolean[]) => (xs.length === 0 ? 0 : xs.filter(Boolean).length / xs.length);

/**
 * Tasks after the shift until the success rate over the last `RECOVERY_WINDOW` tasks (all
 * after the shift) first reaches 80 % of the rate over the 250 tasks before the shift;
 * `null` if it never does.
 */
export function recoveryTasks(outcomes: readonly boolean[]): number | null {
  const target = 0.8 * rate(outcomes.slice(SHIFT_AT - 250, SHIFT_AT));
  for (let n = RECOVERY_WINDOW; SHIFT_AT + n <= outcomes.length; n++) {
    if (rate(outcomes.slice(SHIFT_AT + n - RECOVERY_WINDOW, SHIFT_AT + n)) >= target) return n;
  }
  return null;
}

/** Every run of the bench: per mode, per routing, per seed, the outcome of each task. */
export interface SwarmLearningRuns {
  readonly seeds: readonly number[];
  readonly stationary: Record<Mode, Record<Routing, boolean[][]>>;
  /** The swarm with the compatibility permuted after task `SHIFT_AT`. */
  readonly shifted: Record<Mode, boolean[][]>;
}

/** The runs of one mode: the three balancers, then the swarm with the shift. */
export async function runMode(seeds: readonly number[], mode: Mode): Promise<{ stationary: Record<Routing, boolean[][]>; shifted: boolean[][] }> {
  return {
    stationary: {
      swarm: await simulate(seeds, 'swarm', mode, false),
      default: await simulate(seeds, 'default', mode, false),
      round_robin: await simulate(seeds, 'round_robin', mode, false),
    },
    shifted: await simulate(seeds, 'swarm', mode, true),
  };
}

/** Runs one mode in a child process of this script (`--mode <mode>`), which prints its runs as JSON. */
function runModeInChild(seeds: readonly number[], mode: Mode): Promise<Awaited<ReturnType<typeof runMode>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', __filename, '--mode', mode], {
      env: { ...process.env, SEEDS: String(seeds.length) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`--mode ${mode} exited with ${code}`))));
  });
}

/**
 * Every run. The two modes are independent: with more than one core they run in two
 * processes at once (the bench stays well under a minute), else one after the other.
 */
export async function runAll(seeds: readonly number[]): Promise<SwarmLearningRuns> {
  const modes = Object.keys(MODES) as Mode[];
  const results =
    availableParallelism() > 1
      ? await Promise.all(modes.map((mode) => runModeInChild(seeds, mode)))
      : await modes.reduce<Promise<Awaited<ReturnType<typeof runMode>>[]>>(async (done, mode) => [...(await done), await runMode(seeds, mode)], Promise.resolve([]));
  const stationary = {} as Record<Mode, Record<Routing, boolean[][]>>;
  const shifted = {} as Record<Mode, boolean[][]>;
  modes.forEach((mode, i) => {
    stationary[mode] = results[i]!.stationary;
    shifted[mode] = results[i]!.shifted;
  });
  return { seeds, stationary, shifted };
}

/** Seeds 1..`SEEDS` (default 10). */
export function benchSeeds(): number[] {
  const count = Number(process.env['SEEDS'] ?? 10);
  return Array.from({ length: Number.isInteger(count) ? Math.max(1, Math.min(50, count)) : 10 }, (_, i) => i + 1);
}

const points = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;

/** The lines the bench prints. */
export function report(runs: SwarmLearningRuns): string[] {
  const lines = [
    `${runs.seeds.length} seeds (${runs.seeds.join(', ')}): ${PAIRS} producers × ${PAIRS} consumers, ${TASKS} dependent tasks, success 0.9 on the matched pair, 0.3 otherwise; rates over the last ${LAST} tasks${process.env['RETRY'] === 'default' ? '; default retry policy, a task counts as a success when its first attempt succeeded' : ', no retries'}`,
  ];
  for (const mode of Object.keys(MODES) as Mode[]) {
    const last = (routing: Routing) => runs.stationary[mode][routing].map((o) => rate(o.slice(-LAST)));
    const swarm = last('swarm');
    const gain = (baseline: Routing) => {
      const diffs = last(baseline).map((b, i) => (swarm[i] as number) - b);
      const worst = Math.min(...diffs);
      return `mean ${points(diffs.reduce((a, b) => a + b, 0) / diffs.length)} points, worst seed ${points(worst)} (seed ${runs.seeds[diffs.indexOf(worst)]})`;
    };
    const mean = (xs: number[]) => (100 * xs.reduce((a, b) => a + b, 0)) / xs.length;
    const recoveries = runs.shifted[mode].map(recoveryTasks);
    const recovered = recoveries.filter((n): n is number => n !== null);
    const slowest = recovered.length === recoveries.length ? `${Math.max(...recovered)} tasks` : `never for ${recoveries.length - recovered.length} seed(s)`;
    lines.push(
      `${MODES[mode].label}: success swarm ${mean(swarm).toFixed(1)} %, default ${mean(last('default')).toFixed(1)} %, round-robin ${mean(last('round_robin')).toFixed(1)} %`,
      `  swarm − default:     ${gain('default')}`,
      `  swarm − round-robin: ${gain('round_robin')}`,
      `  after the shift at task ${SHIFT_AT}: back to 80 % of the pre-shift rate (over ${RECOVERY_WINDOW} tasks) in ${recovered.length > 0 ? (recovered.reduce((a, b) => a + b, 0) / recovered.length).toFixed(0) : '-'} tasks on average, slowest seed ${slowest}`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const seeds = benchSeeds();
  const modeAt = process.argv.indexOf('--mode');
  if (modeAt >= 0) {
    const mode = process.argv[modeAt + 1] as Mode;
    if (!(mode in MODES)) throw new Error(`--mode must be one of ${Object.keys(MODES).join(', ')}`);
    process.stdout.write(JSON.stringify(await runMode(seeds, mode)));
    return;
  }
  const started = performance.now();
  const runs = await runAll(seeds);
  for (const line of report(runs)) console.log(line);
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
  const jsonAt = process.argv.indexOf('--json');
  const file = jsonAt >= 0 ? process.argv[jsonAt + 1] : undefined;
  if (file) writeFileSync(file, JSON.stringify(runs));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
