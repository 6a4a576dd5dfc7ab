/**
 * One agent-host process of the multi-process example: a NeuroFlux runtime on NATS with
 * one remote agent `<hostId>-worker` that answers `task_assignment` commands with
 * `task_started` and `task_result` notifications (the bus protocol of
 * src/orchestration/taskProtocol.ts), and answers a `report` request with what it ran.
 *
 * Usage: node -r @swc-node/register examples/multi-process/host.ts <natsUrl> <hostId> <namespace>
 */
import { z } from 'zod';
import { createNeuroFlux, nats, TaskTopic } from '../../src';
import { TaskAssignmentPayloadSchema } from '../../src/orchestration/taskProtocol';

const ArgsSchema = z.tuple([z.string().min(1), z.string().regex(/^[A-Za-z0-9_-]+$/), z.string().regex(/^[A-Za-z0-9_-]+$/)]);

/** The task input this example's workflow gives each task. */
const WorkPayloadSchema = z.object({ n: z.number().int(), workMs: z.number().int().nonnegative().max(10_000) });

async function main(): Promise<void> {
  const args = ArgsSchema.safeParse(process.argv.slice(2));
  if (!args.success) throw new Error('usage: host.ts <natsUrl> <hostId> <namespace>');
  const [servers, hostId, namespace] = args.data;
  const agentId = `${hostId}-worker`;
  const nf = createNeuroFlux({
    transport: nats({ servers, namespace, name: hostId }),
    // Not the main orchestrator's id: task results must travel to the orchestrator process.
    orchestrator: { orchestratorId: `${hostId}-orchestrator` },
  });
  const executed: string[] = [];
  nf.bus.registerAgent(agentId, {
    concurrency: 4,
    handler: async (message, agent) => {
      if (message.messageType === 'request' && message.topic === 'report') {
        agent.respond(message, { hostId, pid: process.pid, executed });
        return;
      }
      if (message.topic !== TaskTopic.ASSIGNMENT) return; // task_cancel: nothing to abort here
      const assignment = TaskAssignmentPayloadSchema.safeParse(message.payload);
      if (!assignment.success) return;
      const { task, attempt, dependencyResults } = assignment.data;
      const reply = (topic: string, payload: unknown) => agent.send({ recipientId: message.senderId, messageType: 'notification', topic, payload });
      reply(TaskTopic.STARTED, { taskId: task.taskId, attempt });
      const work = WorkPayloadSchema.safeParse(task['payload']);
      if (!work.success) {
        reply(TaskTopic.RESULT, { taskId: task.taskId, attempt, status: 'failed', error: 'bad task payload' });
        return;
      }
      await new Promise((r) => setTimeout(r, work.data.workMs));
      executed.push(task.taskId);
      const inputs = Object.values(dependencyResults).reduce<number>((sum, r) => sum + ((r as { value?: number }).value ?? 0), 0);
      reply(TaskTopic.RESULT, { taskId: task.taskId, attempt, status: 'completed', result: { value: work.data.n + inputs, hostId, pid: process.pid } });
    },
  });
  await nf.start();
  process.stdout.write(`ready ${hostId} ${agentId}\n`);
  const stop = () => void nf.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
