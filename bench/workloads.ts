/** Workloads shared by the benchmarks, and one way to run them. */
import { performance } from 'node:perf_hooks';
import { createNeuroFlux, type TaskInput } from '../src';
import { forceGc } from './measure';

/**
 * A layered DAG of `n` tasks, `width` per layer, each depending on 1–3 tasks of the layer
 * before (seeded, so every run gets the same graph).
 */
export function layeredDag(n: number, width: number, extra: Partial<TaskInput> = {}): TaskInput[] {
  const tasks: TaskInput[] = [];
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / width);
    const dependencies: string[] = [];
    if (layer > 0) {
      const count = 1 + Math.floor(random() * 3);
      for (let d = 0; d < count; d++) {
        const dep = `t${(layer - 1) * width + Math.floor(random() * width)}`;
        if (!dependencies.includes(dep)) dependencies.push(dep);
      }
    }
    tasks.push({ ...extra, taskId: `t${i}`, requiredCapabilities: ['work'], dependencies });
  }
  return tasks;
}

/**
 * Seconds from `submitWorkflow` to every task completed, on a fresh runtime with `agents`
 * agents of `slots` slots whose executors return at once (a GC just before the clock starts).
 */
export async function runInstantWorkflow(tasks: TaskInput[], agents: number, slots = 5): Promise<number> {
  return (await timeInstantWorkflow(tasks, agents, slots)).seconds;
}

/**
 * {@link runInstantWorkflow} with the process CPU time of the run too (`process.cpuUsage()`,
 * user + system): what other processes on the machine do not inflate.
 */
export async function timeInstantWorkflow(tasks: TaskInput[], agents: number, slots = 5): Promise<{ seconds: number; cpuSeconds: number }> {
  const nf = createNeuroFlux({ bus: { maxQueueSize: 100_000 } });
  for (let i = 0; i < agents; i++) {
    nf.orchestrator.registerAgent(`agent${i}`, { capabilities: ['work'], maxConcurrentTasks: slots, execute: () => undefined });
  }
  await nf.start();
  forceGc();
  const start = performance.now();
  const cpu = process.cpuUsage();
  const submitted = nf.orchestrator.submitWorkflow({ tasks });
  const records = await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - start) / 1000;
  const completed = records.filter((r) => r.status === 'completed').length;
  if (completed !== tasks.length) throw new Error(`only ${completed}/${tasks.length} tasks completed`);
  await nf.stop();
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}
