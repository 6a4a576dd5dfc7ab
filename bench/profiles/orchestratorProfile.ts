/**
 * A trimmed copy of bench/orchestrator.ts for CPU profiles: `PROFILE_CASE=dag|flat` runs
 * that case a few times. Run with `node --cpu-prof -r @swc-node/register`.
 */
import { performance } from 'node:perf_hooks';
import { createNeuroFlux, type TaskInput } from '../../src';
import { layeredDag } from '../workloads';

const instant = () => undefined;

async function run(tasks: TaskInput[], agents: number, slots = 5): Promise<number> {
  const nf = createNeuroFlux({ bus: { maxQueueSize: 100_000 } });
  for (let i = 0; i < agents; i++) {
    nf.orchestrator.registerAgent(`agent${i}`, { capabilities: ['work'], maxConcurrentTasks: slots, execute: instant });
  }
  await nf.start();
  const start = performance.now();
  const submitted = nf.orchestrator.submitWorkflow({ tasks });
  const records = await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
  const seconds = (performance.now() - start) / 1000;
  if (records.some((r) => r.status !== 'completed')) throw new Error('not all completed');
  await nf.stop();
  return seconds;
}

const independent = (n: number): TaskInput[] => Array.from({ length: n }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: ['work'] }));

async function main(): Promise<void> {
  const which = process.env.PROFILE_CASE ?? 'dag';
  const rounds = Number(process.env.PROFILE_ROUNDS ?? 4);
  const width = Number(process.env.DAG_WIDTH ?? 100);
  for (let i = 0; i < rounds; i++) {
    const tasks = which === 'dag' ? layeredDag(10_000, width) : independent(10_000);
    const s = await run(tasks, 1000);
    console.log(`${which} ${(10_000 / s).toFixed(0)} tasks/s`);
  }
}

void main();
