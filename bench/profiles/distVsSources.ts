/**
 * Whether the benches' figures hold for the package: they load the sources through swc, users
 * load the esbuild bundle in `dist/`. Paired rounds in one process, 10 000 tasks on 1 000
 * agents × 5 with instant executors, flat and a DAG (each task after the 100th depends on one
 * about a hundred before it); prints the median and range of dist/sources CPU time.
 * `npm run build && node --expose-gc -r @swc-node/register bench/profiles/distVsSources.ts`
 */
import type { NeuroFlux, TaskInput } from '../../src';

interface Library {
  readonly createNeuroFlux: (options: { bus: { maxQueueSize: number } }) => NeuroFlux;
}

/* eslint-disable @typescript-eslint/no-require-imports -- both builds are loaded side by side */
const sources = require('../../src') as Library;
const bundle = require('../../dist/index.js') as Library;
/* eslint-enable @typescript-eslint/no-require-imports */

const ROUNDS = Number(process.env.ROUNDS ?? 9);

function workflow(dag: boolean): TaskInput[] {
  return Array.from({ length: 10_000 }, (_, i) => ({
    taskId: `t${i}`,
    requiredCapabilities: ['work'],
    ...(dag && i >= 107 && { dependencies: [`t${i - 100 - (i % 7)}`] }),
  }));
}

async function cpuOf(library: Library, dag: boolean): Promise<number> {
  const nf = library.createNeuroFlux({ bus: { maxQueueSize: 100_000 } });
  for (let i = 0; i < 1000; i++) nf.orchestrator.registerAgent(`agent${i}`, { capabilities: ['work'], maxConcurrentTasks: 5, execute: () => undefined });
  await nf.start();
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.cpuUsage();
  const submitted = nf.orchestrator.submitWorkflow({ tasks: workflow(dag) });
  await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
  const used = process.cpuUsage(start);
  await nf.stop();
  return (used.user + used.system) / 1000;
}

async function main(): Promise<void> {
  for (const dag of [false, true]) {
    await cpuOf(sources, dag);
    await cpuOf(bundle, dag);
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const first = round % 2 === 0 ? sources : bundle;
      const a = await cpuOf(first, dag);
      const b = await cpuOf(first === sources ? bundle : sources, dag);
      ratios.push(first === sources ? b / a : a / b);
    }
    ratios.sort((x, y) => x - y);
    const median = ratios[Math.floor(ratios.length / 2)] as number;
    console.log(
      `${dag ? 'DAG ' : 'flat'} dist/sources CPU: median ${median.toFixed(3)} [${(ratios[0] as number).toFixed(2)}–${(ratios[ratios.length - 1] as number).toFixed(2)}], ${ROUNDS} rounds`,
    );
  }
}

void main();
