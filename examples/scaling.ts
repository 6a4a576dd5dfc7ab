/**
 * Guide: horizontal scaling. A ScalingManager reads the orchestrator's live figures for a
 * capability (tasks waiting, oldest wait, utilisation) every second on the runtime's clock
 * and starts or stops hosts through a launcher: here the in-process MemoryHostLauncher and
 * a simulated clock (examples/autoscaling-nats.ts does the same with `neuroflux host`
 * processes over NATS).
 */
import { SimulatedClock } from 'xstate';
import { createNeuroFlux, MemoryHostLauncher, ScalingManager, type ScalingEvent } from '../src';

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

export async function runScaling(): Promise<{ peakHosts: number; afterCalm: number; completed: number; decisions: string[] }> {
  const clock = new SimulatedClock();
  const nf = createNeuroFlux({ clock });
  // Each task takes 1 s of the (simulated) clock.
  const work = () => new Promise<string>((resolve) => clock.setTimeout(() => resolve('done'), 1000));
  const launcher = new MemoryHostLauncher({ orchestrator: nf.orchestrator, agents: { compute: { maxConcurrentTasks: 2, execute: work } } });
  const scaling = new ScalingManager({ runtime: nf, launcher, capabilities: { compute: { minHosts: 1, maxHosts: 4 } } });
  const decisions: string[] = [];
  scaling.events$.subscribe((e: ScalingEvent) => {
    if (e.type === 'scale_up' || e.type === 'scale_down') decisions.push(`${e.type} ${e.capability} ${e.from}→${e.to}: ${e.reason}`);
  });
  await nf.start();
  scaling.start();
  let peakHosts = 0;
  const tick = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      clock.increment(100);
      await settle();
      peakHosts = Math.max(peakHosts, launcher.hosts().length);
    }
  };
  await tick(1000); // the first check starts the minimum of one host
  const burst = Array.from({ length: 24 }, (_, i) => nf.orchestrator.submitTask({ taskId: `job-${i}`, requiredCapabilities: ['compute'] }));
  await tick(60_000); // the burst waits: up to four hosts; then calm: back to one, one host per 10 s
  const records = await Promise.all(burst.map((s) => nf.orchestrator.waitForTask(s.taskId)));
  const afterCalm = launcher.hosts().length;
  await scaling.stop();
  await nf.stop();
  return { peakHosts, afterCalm, completed: records.filter((r) => r.status === 'completed').length, decisions };
}

if (require.main === module) void runScaling().then((r) => console.log(r));
