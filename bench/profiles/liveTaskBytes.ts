/**
 * Bytes per live (queued) task and per finished record, measured as bench/orchestrator.ts
 * measures them, alone (a few seconds): `node --expose-gc -r @swc-node/register
 * bench/profiles/liveTaskBytes.ts [N=20000]`. For trying a change to what a task actor holds
 * without the whole bench.
 */
import { createNeuroFlux } from '../../src';
import { bytesPerItem, fmt } from '../measure';

const instant = () => undefined;

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 20_000);
  const nf = createNeuroFlux({ orchestrator: { retention: { maxRecords: 0, maxAgeMs: 0 } } });
  nf.orchestrator.registerAgent('worker', { capabilities: ['work'], maxConcurrentTasks: 1000, execute: instant });
  await nf.start();
  const live = await bytesPerItem(count, async (n) => {
    const submitted = await nf.orchestrator.submitWorkflowAsync(
      { tasks: Array.from({ length: n }, (_, i) => ({ taskId: `live${i}`, requiredCapabilities: ['absent'] })) },
      { requireCapableAgents: false },
    );
    await new Promise((resolve) => setImmediate(resolve));
    return submitted.length;
  });
  const done = await bytesPerItem(count, async (n) => {
    const s = nf.orchestrator.submitWorkflow({ tasks: Array.from({ length: n }, (_, i) => ({ taskId: `done${i}`, requiredCapabilities: ['work'] })) });
    await nf.orchestrator.waitForWorkflow(s.map((x) => x.taskId));
    await new Promise((resolve) => setImmediate(resolve));
    return s.length;
  });
  console.log(`live task ${fmt(live.bytes)} B, finished record ${fmt(done.bytes)} B`);
  await nf.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
