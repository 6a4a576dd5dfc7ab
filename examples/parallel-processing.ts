/** Guide: parallel processing optimization. Bounded concurrency per agent, retries with backoff. */
import { createNeuroFlux } from '../src';

export async function runParallelProcessing(): Promise<{ completed: number; peak: number; retries: number }> {
  const nf = createNeuroFlux();
  let running = 0;
  let peak = 0;
  const attempts = new Map<string, number>();
  nf.orchestrator.registerAgent('worker', {
    capabilities: ['compute'],
    maxConcurrentTasks: 4,
    execute: async (task) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      const n = (attempts.get(task.taskId) ?? 0) + 1;
      attempts.set(task.taskId, n);
      if (n === 1 && task.taskId.endsWith('7')) throw new Error('transient error'); // retried
      return n;
    },
  });
  await nf.start();
  const tasks = Array.from({ length: 20 }, (_, i) => ({ taskId: `job-${i}`, requiredCapabilities: ['compute'], retryPolicy: { initialDelay: 0 } }));
  const records = await nf.orchestrator.waitForWorkflow(nf.orchestrator.submitWorkflow({ tasks }).map((s) => s.taskId));
  const { retries } = nf.orchestrator.getStats();
  await nf.stop();
  return { completed: records.filter((r) => r.status === 'completed').length, peak, retries };
}

if (require.main === module) void runParallelProcessing().then((r) => console.log(r));
