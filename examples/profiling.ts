/** Guide: performance profiling. Round-trip latency between agents, task statistics, resources and bottlenecks. */
import { createNeuroFlux, formatProfileReport, profileSystemPerformance, type PerformanceReport } from '../src';

export async function runProfiling(): Promise<PerformanceReport> {
  const nf = createNeuroFlux();
  for (const id of ['analysis_agent_1', 'risk_agent_1', 'trading_agent_1']) nf.bus.registerAgent(id, { handler: () => undefined });
  nf.orchestrator.registerAgent('worker', { capabilities: ['work'], execute: async () => 'ok' });
  await nf.start();
  const submitted = nf.orchestrator.submitWorkflow({ tasks: Array.from({ length: 20 }, () => ({ requiredCapabilities: ['work'] })) });
  await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
  const report = await profileSystemPerformance(nf, { resourceWindowMs: 0, wait: async () => undefined });
  await nf.stop();
  return report;
}

if (require.main === module) void runProfiling().then((r) => console.log(formatProfileReport(r)));
