/**
 * One agent-host process of the multi-process example: a NeuroFlux runtime on NATS without
 * an orchestrator of its own (`orchestrator: false`), hosting one agent `<hostId>-worker`
 * with an `AgentHost`. The host announces the agent by heartbeat; the orchestrator process
 * registers it from that announcement, sends it `task_assignment` commands over JetStream
 * and gets `task_result` notifications back. A second bus agent, `<hostId>-reporter`,
 * answers a `report` request with what this process executed.
 *
 * Usage: node -r @swc-node/register examples/multi-process/host.ts <natsUrl> <hostId> <namespace> [heartbeatMs]
 */
import { z } from 'zod';
import { AgentHost, createNeuroFlux, nats } from '../../src';

const ArgsSchema = z.tuple([
  z.string().min(1),
  z.string().regex(/^[A-Za-z0-9_-]+$/),
  z.string().regex(/^[A-Za-z0-9_-]+$/),
  z.coerce.number().int().positive().default(1000),
]);

/** The task input this example's workflow gives each task. */
const WorkPayloadSchema = z.object({ n: z.number().int(), workMs: z.number().int().nonnegative().max(10_000) });

async function main(): Promise<void> {
  const args = ArgsSchema.safeParse(process.argv.slice(2));
  if (!args.success) throw new Error('usage: host.ts <natsUrl> <hostId> <namespace> [heartbeatMs]');
  const [servers, hostId, namespace, heartbeatIntervalMs] = args.data;
  const nf = createNeuroFlux({ transport: nats({ servers, namespace, name: hostId }), orchestrator: false });
  const host = new AgentHost({ bus: nf.bus, hostId, heartbeatIntervalMs });
  const executed: string[] = [];
  host.addAgent(`${hostId}-worker`, {
    capabilities: ['compute'],
    maxConcurrentTasks: 2,
    execute: async (task, { dependencyResults, signal }) => {
      const work = WorkPayloadSchema.parse(task.payload);
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, work.workMs);
        signal.addEventListener('abort', () => (clearTimeout(timer), reject(new Error('aborted'))));
      });
      executed.push(task.taskId);
      const inputs = Object.values(dependencyResults).reduce<number>((sum, r) => sum + ((r as { value?: number }).value ?? 0), 0);
      return { value: work.n + inputs, hostId, pid: process.pid };
    },
  });
  nf.bus.registerAgent(`${hostId}-reporter`, {
    handler: (message, agent) => {
      if (message.messageType === 'request' && message.topic === 'report') agent.respond(message, { hostId, pid: process.pid, executed });
    },
  });
  await nf.start();
  host.start();
  process.stdout.write(`ready ${hostId}\n`);
  const stop = () => void host.stop().then(() => nf.stop()).then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
