/**
 * Tasks finishing one at a time: a chain of CHAIN tasks (default 10 000; each depends on the
 * one before) on 1 000 agents with instant executors, default options (the swarm learns from
 * every task). Each task's outcome is learned alone in its turn, and each task pairs the
 * agent that ran the one before with the agent that runs it, so the swarm's network grows
 * through the run. Prints tasks/s and the CPU time per task for each fifth of the chain
 * after the first (a warm-up), to show whether a task's cost grows with the network.
 * `node --expose-gc -r @swc-node/register bench/profiles/chainOneAtATime.ts`
 */
import { createNeuroFlux, listConnections, type TaskInput } from '../../src';
import { forceGc } from '../measure';

async function main(): Promise<void> {
  const length = Number(process.env.CHAIN ?? 10_000);
  // A seeded random choice: one task at a time, the default balancer gives every task to the
  // same idle agent (no pairs) and round robin makes only 1 000 pairs.
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
  const nf = createNeuroFlux({ bus: { maxQueueSize: 100_000 }, orchestrator: { balancer: { name: 'seeded_random', score: () => random() } } });
  for (let i = 0; i < 1000; i++) nf.orchestrator.registerAgent(`agent${i}`, { capabilities: ['work'], maxConcurrentTasks: 1, execute: () => undefined });
  await nf.start();
  forceGc();
  const quarter = Math.floor(length / 5);
  // The first fifth warms the JIT up; the four after it are measured.
  for (let q = 0; q < 5; q++) {
    const tasks: TaskInput[] = Array.from({ length: quarter }, (_, i) => {
      const n = q * quarter + i;
      return { taskId: `c${n}`, requiredCapabilities: ['work'], ...(n > 0 && { dependencies: [`c${n - 1}`] }) };
    });
    const cpu = process.cpuUsage();
    const started = performance.now();
    nf.orchestrator.submitWorkflow({ tasks });
    await nf.orchestrator.waitForWorkflow(tasks.map((t) => t.taskId as string));
    const used = process.cpuUsage(cpu);
    const seconds = (performance.now() - started) / 1000;
    const pairs = listConnections(nf.swarm.getNetworkState()).length;
    if (q > 0) console.log(`fifth ${q + 1}: ${(quarter / seconds).toFixed(0)} tasks/s, ${((used.user + used.system) / quarter).toFixed(0)} µs CPU a task, ${pairs} pairs`);
  }
  await nf.stop();
}

void main();
