/**
 * Guide: horizontal scaling. The ScalingManager checks the load every 60 s (on the runtime's
 * clock) and launches or stops agents through your launcher, with the guide's thresholds.
 */
import { SimulatedClock } from 'xstate';
import { ScalingManager, type AgentInstance, type ScalingMetrics } from '../src';

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
};

export async function runScaling(): Promise<{ afterSpike: number; afterCalm: number }> {
  const clock = new SimulatedClock();
  const running: AgentInstance[] = [
    { agentId: 'analysis-1', agentType: 'analysis', utilization: 90 },
    { agentId: 'analysis-2', agentType: 'analysis', utilization: 90 },
  ];
  let load: ScalingMetrics = { cpuUsage: 92, memoryUsage: 60, queueDepth: 40 };
  const scaling = new ScalingManager({
    clock,
    // Which agent type each kind of pressure calls for (CPU-bound work here is analysis).
    policy: { agentTypes: { cpu: 'analysis', memory: 'analysis', queue: 'analysis' } },
    metrics: () => load,
    agents: () => running,
    launcher: {
      // In production: start a process or a container running agents of this type.
      launch: async (agentId, agentType) => void running.push({ agentId, agentType, utilization: 10 }),
      shutdown: async (agentId) => void running.splice(running.findIndex((a) => a.agentId === agentId), 1),
    },
  });
  scaling.start();
  clock.increment(60_000); // CPU above 80 %: the analysis agents double
  await settle();
  const afterSpike = running.length;
  load = { cpuUsage: 12, memoryUsage: 30, queueDepth: 0 };
  for (const a of running) Object.assign(a, { utilization: 5 }); // percent
  clock.increment(60_000); // calm: idle agents stop, two per type stay
  await settle();
  await scaling.stop();
  return { afterSpike, afterCalm: running.length };
}

if (require.main === module) void runScaling().then((r) => console.log(r));
