import type { Command } from 'commander';
import { z } from 'zod';
import { createNeuroFlux } from '../runtime/createNeuroFlux';
import { workflowJsonSchema } from '../orchestration/workflowFile';
import { trustedExecutorDirs } from '../orchestration/executorModule';
import { loadWorkflowFile, requireCapableAgents, resolveWorkflowExecutors, workflowFileError } from '../orchestration/workflowFileLoader';
import type { WorkflowFile } from '../orchestration/workflowFile';
import { nats } from '../transport/natsTransport';
import { SubjectTokenSchema } from '../transport/natsOptions';
import { ALLOW_EXECUTORS_OPTION, collectOption, logLevelOption, namespaceOption, natsOption, NatsUrlSchema, parseCliOptions } from './cliOptions';
import { jsonLinesLogger, LogLevelSchema } from '../kernel/logger';
import { startOrCannotRun } from './cannotRunError';
import { warnOnStoreProblems } from './storeWarnings';
import { readNatsCredentials } from './natsCredentialsFile';
import { ValidationError } from '../errors';
import { FileSnapshotStore } from '../store/fileSnapshotStore';
import type { CliOutput } from './main';
import { superviseWorkflowRun } from './workflowRun';
import { publishInspection } from '../observability/inspector/inspectionPublisher';
import {
  INSPECT_ACTIONS_FROM_HELP,
  INSPECT_OPTION_HELP,
  InspectActionsFromSchema,
  InspectPortSchema,
  inspectActionsOption,
  inspectionHubFor,
  orchestratorRuntimeId,
  startCliInspector,
} from './inspectOption';

/** A resumed run recognises its tasks by id: with `--state-dir` every task needs one. */
function requireTaskIds(workflow: WorkflowFile, file: string): void {
  const missing = workflow.tasks.flatMap((t, i) =>
    t.taskId === undefined ? [{ path: ['tasks', i, 'taskId'], message: 'required with --state-dir (a resumed run finds its tasks by id)' }] : [],
  );
  if (missing.length > 0) throw workflowFileError(workflow, file, missing);
}

/**
 * stderr shared by the progress bar (which ends its line only when it is done) and the log:
 * `writeLine` first ends a line the bar left open, so a log line never lands on the bar.
 * @internal
 */
export function lineKeepingOutput(output: CliOutput): CliOutput & { writeLine(text: string): void } {
  let open = false;
  const write = (text: string) => {
    if (text.length > 0) open = !text.endsWith('\n');
    output.write(text);
  };
  return {
    write,
    isTTY: output.isTTY,
    writeLine: (text) => {
      if (open) write('\n');
      write(text);
    },
  };
}

const RunOptionsSchema = z
  .object({
    seed: z.coerce.number().int().nonnegative().default(1),
    allowExecutorsOutside: z.array(z.string().min(1)).default([]),
    json: z.boolean().optional(),
    nats: NatsUrlSchema.optional(),
    namespace: SubjectTokenSchema.default('default'),
    remoteAgents: z.boolean().optional(),
    stateDir: z.string().min(1).optional(),
    inspect: InspectPortSchema,
    inspectActionsFrom: InspectActionsFromSchema,
    credentials: z.string().min(1).optional(),
    quiet: z.boolean().optional(),
    events: z.boolean().optional(),
    /** Seconds a stall (tasks no agent can take, nothing else running) may last before the run gives up. */
    stallTimeout: z.coerce.number().nonnegative().max(86_400).default(30),
    logLevel: LogLevelSchema.default('info'),
  })
  .refine((o) => !(o.events && o.json), { path: ['events'], message: 'cannot be combined with --json (both write to stdout)' })
  .refine((o) => !o.remoteAgents || o.nats !== undefined, { path: ['remote-agents'], message: 'needs --nats (the agents live in other processes)' })
  .refine((o) => o.credentials === undefined || o.nats !== undefined, { path: ['credentials'], message: 'needs --nats (they are a NATS user)' })
  .refine((o) => o.inspectActionsFrom === undefined || o.nats !== undefined, { path: ['inspect-actions-from'], message: 'needs --nats (inspectors of the namespace)' });

/**
 * `neuroflux run <file>` runs a workflow file on embedded defaults and exits 1 unless every
 * task completed; `neuroflux schema` prints the JSON Schema of workflow files.
 * @internal
 */
export function registerWorkflowCommands(program: Command, write: (text: string) => void, io: { stderr?: CliOutput; untilInterrupted?: () => Promise<unknown> } = {}): void {
  // `isTTY` is typed boolean but is undefined when stderr is a pipe or a file.
  const stderr: CliOutput = io.stderr ?? { write: (text) => process.stderr.write(text), isTTY: process.stderr.isTTY ?? false };
  program
    .command('run')
    .description('run a workflow file (.json or .yaml): its agents, executors and tasks')
    .argument('<file>', 'the workflow file')
    .option('--seed <n>', 'seed of the simulated executors', '1')
    .option(`${ALLOW_EXECUTORS_OPTION} <dir>`, "also load executor modules from <dir> (repeatable; default: only from the workflow file's folder)", collectOption)
    .option('--json', 'print the task records as JSON')
    .option('--events', 'write a JSON line per task event on stdout while it runs (the summary goes to stderr)')
    .option('--quiet', 'no progress on stderr, and no info-level log unless --log-level is given')
    .option('--stall-timeout <seconds>', 'give up when no agent can take the waiting tasks and nothing else runs for this long', '30')
    .addOption(natsOption('connect to NATS: agents of other processes can take the tasks'))
    .addOption(namespaceOption('NATS namespace shared with the agent hosts'))
    .addOption(logLevelOption())
    .option('--remote-agents', "run none of the file's agents here: they come from `neuroflux host` processes")
    .option('--credentials <file>', "this orchestrator's file from `neuroflux nats-config --out`: its NATS user, identity and namespace (with --nats)")
    .option('--inspect [port]', `${INSPECT_OPTION_HELP}; it closes when the run ends (neuroflux inspect --nats stays)`)
    .option('--inspect-actions-from <identities>', INSPECT_ACTIONS_FROM_HELP)
    .option('--state-dir <dir>', 'keep the orchestrator state in <dir> (a file store): run again with it, the workflow resumes and finished tasks are not run again')
    .action(async (file: string, raw: Record<string, unknown>, command: Command) => {
      const options = parseCliOptions(RunOptionsSchema, raw, command);
      const workflow = loadWorkflowFile(file);
      if (options.stateDir !== undefined) requireTaskIds(workflow, file);
      if (!options.remoteAgents) requireCapableAgents(workflow, file);
      const credentials = options.credentials === undefined ? undefined : readNatsCredentials(options.credentials);
      if (credentials !== undefined && credentials.role !== 'orchestrator') {
        throw new ValidationError('command-line options', [
          { path: '--credentials', message: `${options.credentials} is ${credentials.role} ${credentials.transport.identity}'s: run needs an orchestrator's` },
        ]);
      }
      const inspectHub = inspectionHubFor(options.inspect);
      const runStderr = lineKeepingOutput(stderr);
      const nf = createNeuroFlux({
        // --quiet silences info-level logs too ("agent host joined") unless a level was asked for.
        // A log line after a drawn progress bar starts on a line of its own.
        logger: jsonLinesLogger({
          level: options.quiet && command.getOptionValueSource('logLevel') === 'default' ? 'warn' : options.logLevel,
          write: (line) => runStderr.writeLine(line),
          bindings: { name: 'neuroflux' },
        }),
        ...(inspectHub && { inspect: inspectHub.observer }),
        orchestrator: {
          // `run` reports every record at the end, and a resumed run looks each task up: none is let go.
          retention: { maxRecords: 0, maxAgeMs: 0 },
          ...(workflow.balancer && { balancer: workflow.balancer }),
          ...(options.stateDir !== undefined && { store: new FileSnapshotStore({ directory: options.stateDir }) }),
        },
        ...(options.nats && { transport: nats({ servers: options.nats, namespace: options.namespace, ...credentials?.transport }) }),
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
      await startOrCannotRun(nf, options.nats);
      const inspector = await startCliInspector(nf, inspectHub, options.inspect, (text) => stderr.write(text));
      // Inspectors of the namespace (`neuroflux inspect --nats`) see this orchestrator when they ask.
      const inspection =
        options.nats === undefined
          ? undefined
          : publishInspection(nf, {
              runtimeId: credentials?.transport.identity ?? orchestratorRuntimeId(),
              role: 'orchestrator',
              actions: inspectActionsOption(options.inspectActionsFrom),
            });
      try {
        const exitCode = await superviseWorkflowRun(nf, {
          tasks: workflow.tasks,
          json: options.json === true,
          events: options.events === true,
          quiet: options.quiet === true,
          stallTimeoutMs: options.stallTimeout * 1000,
          remoteAgents: options.remoteAgents === true,
          transport: options.nats !== undefined,
          namespace: options.namespace,
          stateDir: options.stateDir,
          stdout: write,
          stderr: runStderr,
          interrupted: io.untilInterrupted?.(),
        });
        if (exitCode !== 0) process.exitCode = exitCode;
      } finally {
        await inspector?.close();
        await inspection?.close();
        await nf.stop();
      }
    });
  program
    .command('schema')
    .description('print the JSON Schema of workflow files (for editors)')
    .action(() => write(`${JSON.stringify(workflowJsonSchema(), null, 2)}\n`));
}
