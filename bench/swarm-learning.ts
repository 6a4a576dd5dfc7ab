/**
 * Does the swarm learn to route? (issue 5). Producers and consumers of hidden pairwise
 * compatibility: a consumer task succeeds with probability 0.9 when it runs on the
 * consumer matched with the agent that produced its input, 0.3 otherwise. Per-agent
 * scores cannot see that (every agent is as good as any other on average); connection
 * strengths between agents can. Same seeded stream of tasks for both balancers, in one run.
 */
import { SimulatedClock } from 'xstate';
import { createNeuroFlux, type BuiltInBalancerName } from '../src';

const SEED = Number(process.env['SEED'] ?? 7);
const PAIRS = 4;
const TASKS = 1500;
const WAVE = 10;

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

async function simulate(balancer: BuiltInBalancerName | 'swarm'): Promise<boolean[]> {
  const random = mulberry32(SEED);
  const clock = new SimulatedClock();
  const nf = createNeuroFlux({ clock, swarm: { seed: SEED } });
  for (let i = 0; i < PAIRS; i++) {
    nf.orchestrator.registerAgent(`producer${i}`, { capabilities: ['extract'], maxConcurrentTasks: 100, execute: () => ({ batch: i }) });
    nf.orchestrator.registerAgent(`consumer${i}`, {
      capabilities: ['transform'],
      maxConcurrentTasks: 100,
      execute: (_task, { dependencyResults }) => {
        const [input] = Object.values(dependencyResults) as { batch: number }[];
        const compatible = input?.batch === i;
        if (random() < (compatible ? 0.9 : 0.3)) return 'ok';
        throw new Error('incompatible input');
      },
    });
  }
  await nf.start();
  const outcomes: boolean[] = [];
  for (let wave = 0; wave < TASKS / WAVE; wave++) {
    const tasks = [];
    for (let k = 0; k < WAVE; k++) {
      const id = `${wave}-${k}`;
      // Producers are spread evenly: each consumer task's input comes from a random producer.
      tasks.push({ taskId: `extract-${id}`, requiredCapabilities: ['extract'], balancer: 'round_robin' });
      tasks.push({
        taskId: `transform-${id}`,
        dependencies: [`extract-${id}`],
        requiredCapabilities: ['transform'],
        retryPolicy: { retryOnFailure: false },
        balancer,
      });
    }
    nf.orchestrator.submitWorkflow({ tasks });
    const records = await nf.orchestrator.waitForWorkflow(tasks.filter((t) => t.taskId.startsWith('transform')).map((t) => t.taskId));
    for (const r of records) outcomes.push(r.status === 'completed');
    await new Promise((resolve) => setImmediate(resolve)); // the swarm learns from this wave
  }
  await nf.stop();
  return outcomes;
}

const rate = (xs: boolean[]) => xs.filter(Boolean).length / xs.length;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

async function main(): Promise<void> {
  console.log(`seed ${SEED}: ${PAIRS} producers × ${PAIRS} consumers, ${TASKS} dependent tasks, success 0.9 on the matched pair, 0.3 otherwise`);
  const results: Record<string, { first: number; last: number }> = {};
  for (const balancer of ['default', 'swarm'] as const) {
    const outcomes = await simulate(balancer);
    results[balancer] = { first: rate(outcomes.slice(0, 500)), last: rate(outcomes.slice(-500)) };
    console.log(`${balancer.padEnd(8)} first 500: ${pct(results[balancer].first).padStart(7)}   last 500: ${pct(results[balancer].last).padStart(7)}`);
  }
  const gain = (results.swarm?.last ?? 0) - (results.default?.last ?? 0);
  console.log(`swarm − default over the last 500 tasks: ${gain >= 0 ? '+' : ''}${(100 * gain).toFixed(1)} points`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
