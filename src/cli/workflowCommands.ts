import type { Command } from 'commander';
import { z } from 'zod';
import { createNeuroFlux } from '../kernel/createNeuroFlux';
import { workflowJsonSchema } from '../orchestration/workflowFile';
import { trustedExecutorDirs } from '../orchestration/executorModule';
import { loadWorkflowFile, resolveWorkflowExecutors } from '../orchestration/workflowFileLoader';
import { nats } from '../transport/natsTransport';
import { SubjectTokenSchema } from '../transport/natsOptions';
import { ALLOW_EXECUTORS_OPTION, collectOption, NatsUrlSchema, parseCliOptions } from './cliOptions';
import { warnOnStoreProblems } from './storeWarnings';

const RunOptionsSchema = z
  .object({
    seed: z.coerce.number().int().nonnegative().default(1),
    allowExecutorsOutside: z.array(z.string().min(1)).default([]),
    json: z.boolean().optional(),
    nats: NatsUrlSchema.optional(),
    namespace: SubjectTokenSchema.default('default'),
    remoteAgents: z.boolean().optional(),
  })
  .refine((o) => !o.remoteAgents || o.nats !== undefined, { path: ['remote-agents'], message: 'needs --nats (the agents live in other processes)' });

/**
 * `neuroflux run <file>` runs a workflow file on embedded defaults and exits 1 unless every
 * task completed; `neuroflux schema` prints the JSON Schema of workflow files.
 * @internal
 */
export function registerWorkflowCommands(program: Command, write: (text: string) => void): void {
  program
    .command('run')
    .description('run a workflow file (.json or .yaml): its agents, executors and tasks')
    .argument('<file>', 'the workflow file')
    .option('--seed <n>', 'seed of the simulated executors', '1')
    .option(`${ALLOW_EXECUTORS_OPTION} <dir>`, "also load executor modules from <dir> (repeatable; default: only from the workflow file's folder)", collectOption)
    .option('--json', 'print the task records as JSON')
    .option('--nats <url>', 'connect to NATS: agents of other processes can take the tasks')
    .option('--namespace <name>', 'NATS namespace shared with the agent hosts', 'default')
    .option('--remote-agents', "run none of the file's agents here: they come from `neuroflux host` processes")
    .action(async (file: string, raw: Record<string, unknown>) => {
      const options = parseCliOptions(RunOptionsSchema, raw);
      const workflow = loadWorkflowFile(file);
      const nf = createNeuroFlux({
        ...(workflow.balancer && { orchestrator: { balancer: workflow.balancer } }),
        ...(options.nats && { transport: nats({ servers: options.nats, namespace: options.namespace }) }),
      });
      warnOnStoreProblems(nf, (text) => process.stderr.write(text));
      const trustedDirs = trustedExecutorDirs(options.allowExecutorsOutside, ALLOW_EXECUTORS_OPTION);
      const executors = resolveWorkflowExecutors(workflow, file, { clock: nf.clock, seed: options.seed, trustedDirs });
      // Remote agents register themselves by heartbeat (AgentHost); tasks wait in the queue for them.
      for (const agent of options.remoteAgents ? [] : workflow.agents) {
        const execute = executors.get(agent.agentId);
        nf.orchestrator.registerAgent(agent.agentId, {
          capabilities: agent.capabilities,
          maxConcurrentTasks: agent.maxConcurrentTasks,
          ...(execute && { execute }),
        });
      }
      await nf.start();
      const started = Date.now();
      try {
        const submitted = await nf.orchestrator.submitWorkflowAsync({ tasks: workflow.tasks }, { requireCapableAgents: !options.remoteAgents });
        const records = await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
        if (options.json) write(`${JSON.stringify(records, null, 2)}\n`);
        else {
          for (const r of records) {
            const detail = r.status === 'completed' ? JSON.stringify(r.result) : `${r.reason ?? ''} ${r.error ?? ''}`.trim();
            write(`${r.status === 'completed' ? '✔' : '✘'} ${r.taskId.padEnd(24)} ${r.status.padEnd(10)} ${(r.assignedAgent ?? '-').padEnd(20)} retries ${r.retryCount}  ${detail}\n`);
          }
          const done = records.filter((r) => r.status === 'completed').length;
          write(`${done}/${records.length} tasks completed in ${Date.now() - started} ms\n`);
        }
        if (records.some((r) => r.status !== 'completed')) process.exitCode = 1;
      } finally {
        await nf.stop();
      }
    });
  program
    .command('schema')
    .description('print the JSON Schema of workflow files (for editors)')
    .action(() => write(`${JSON.stringify(workflowJsonSchema(), null, 2)}\n`));
}
