/** Guide: load balancing and resource management. The weighted balancer prefers less loaded, better performing specialists. */
import { createNeuroFlux } from '../src';

export async function runLoadBalancing(): Promise<Record<string, number>> {
  const nf = createNeuroFlux({ orchestrator: { balancer: 'weighted' } });
  const perAgent: Record<string, number> = {};
  for (const [id, capabilities] of [
    ['specialist', ['technical_analysis']],
    ['generalist', ['technical_analysis', 'research', 'trading', 'risk_assessment']],
  ] as const) {
    nf.orchestrator.registerAgent(id, {
      capabilities: [...capabilities],
      maxConcurrentTasks: 10,
      execute: async () => {
        perAgent[id] = (perAgent[id] ?? 0) + 1;
        return 'ok';
      },
    });
  }
  await nf.start();
  const tasks = Array.from({ length: 12 }, (_, i) => ({ taskId: `analysis-${i}`, requiredCapabilities: ['technical_analysis'] }));
  const submitted = nf.orchestrator.submitWorkflow({ tasks });
  await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
  await nf.stop();
  return perAgent;
}

if (require.main === module) void runLoadBalancing().then((r) => console.log('tasks per agent:', r));
