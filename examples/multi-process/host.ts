/**
 * One agent-host process of the multi-process example: a NeuroFlux runtime on NATS without
 * an orchestrator of its own (`orchestrator: false`), hosting one agent `<hostId>-worker`
 * with an `AgentHost`. The host announces the agent by heartbeat; the orchestrator process
 * registers it from that announcement, sends it `task_assignment` commands over JetStream
 * and gets `task_result` notifications back. A second bus agent, `<hostId>-reporter`,
 * answers a `report` request with what this process executed.
 *
 * Usage: node -r @swc-node/register examples/multi-process/host.ts <natsUrl[,natsUrl...]> <hostId> <namespace> [heartbeatMs] [executionLog]
 *
 * With `executionLog`, every attempt the worker starts is appended to that file as a line
 * `<taskId> <attempt> <epoch ms>` before it runs (a process killed mid-task still logged it): the chaos
 * run (bench/chaos.ts) counts repeated executions from these logs.
 */
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { AgentHost, createNeuroFlux, nats } from '../../src';

const ArgsSchema = z.tuple([
  // Several servers (a cluster), comma-separated: the client fails over between them.
  z
    .string()
    .min(1)
    .transform((urls) => urls.split(',')),
  z.string().regex(/^[A-Za-z0-9_-]+$/),
  z.string().regex(/^[A-Za-z0-9_-]+$/),
  z.coerce.number().int().positive().default(1000),
  z.string().min(1).optional(),
]);

/** The task input this example's workflow gives each task. */
const WorkPayloadSchema = z.object({
  n: z.number().int(),
  workMs: z.number().int().nonnegative().max(10_000),
  /** The first `failAttempts` attempts throw (exercises the retry policy). */
  failAttempts: z.number().int().nonnegative().default(0),
});

async function main(): Promise<void> {
  const args = ArgsSchema.safeParse(process.argv.slice(2));
  if (!args.success) throw new Error('usage: host.ts <natsUrl[,natsUrl...]> <hostId> <namespace> [heartbeatMs] [executionLog]');
  const [servers, hostId, namespace, heartbeatIntervalMs, executionLog] = args.data;
  const nf = createNeuroFlux({ transport: nats({ servers, namespace, name: hostId }), orchestrator: false });
  const host = new AgentHost({ bus: nf.bus, hostId, heartbeatIntervalMs });
  const executed: string[] = [];
  host.addAgent(`${hostId}-worker`, {
    capabilities: ['compute'],
    maxConcurrentTasks: 2,
    execute: async (task, { dependencyResults, signal, attempt }) => {
      const work = WorkPayloadSchema.parse(task.payload);
      if (executionLog) appendFileSync(executionLog, `${task.taskId} ${attempt} ${Date.now()}\n`);
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, work.workMs);
        signal.addEventListener('abort', () => (clearTimeout(timer), reject(new Error('aborted'))));
      });
      if (attempt < work.failAttempts) throw new Error(`attempt ${attempt} fails on purpose`);
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
  const stop = () =>
    void host
      .stop()
      .then(() => nf.stop())
      .then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
