/**
 * The orchestrator bench's flat and DAG cases alone, for CPU profiles: `PROFILE_CASE=dag|flat`
 * runs that case `PROFILE_ROUNDS` times (default 4) on `PROFILE_TASKS` tasks (default 10 000):
 * `node --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof -r @swc-node/register bench/profiles/orchestratorProfile.ts`.
 */
import type { TaskInput } from '../../src';
import { layeredDag, runInstantWorkflow } from '../workloads';

const run = runInstantWorkflow;

const independent = (n: number): TaskInput[] => Array.from({ length: n }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: ['work'] }));

async function main(): Promise<void> {
  const which = process.env.PROFILE_CASE ?? 'dag';
  const rounds = Number(process.env.PROFILE_ROUNDS ?? 4);
  const width = Number(process.env.DAG_WIDTH ?? 100);
  const n = Number(process.env.PROFILE_TASKS ?? 10_000);
  for (let i = 0; i < rounds; i++) {
    const tasks = which === 'dag' ? layeredDag(n, width) : independent(n);
    const s = await run(tasks, 1000);
    console.log(`${which} ${(n / s).toFixed(0)} tasks/s`);
  }
}

void main();
