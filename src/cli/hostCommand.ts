import type { Command } from 'commander';
import { z } from 'zod';
import { ValidationError } from '../errors';
import { createNeuroFlux } from '../runtime/createNeuroFlux';
import { AgentHost } from '../orchestration/agentHost';
import { trustedExecutorDirs } from '../orchestration/executorModule';
import { loadWorkflowFile, resolveWorkflowExecutors } from '../orchestration/workflowFileLoader';
import { nats } from '../transport/natsTransport';
import { SubjectTokenSchema } from '../transport/natsOptions';
import { ALLOW_EXECUTORS_OPTION, collectOption, logLevelOption, namespaceOption, natsOption, NatsUrlSchema, parseCliOptions } from './cliOptions';
import { jsonLinesLogger, LogLevelSchema } from '../kernel/logger';
import type { CliOutput } from './main';
import { startOrCannotRun } from './cannotRunError';
import { readNatsCredentials } from './natsCredentialsFile';
import { warnOnStoreProblems } from './storeWarnings';
import { publishInspection } from '../observability/inspector/inspectionPublisher';
import { INSPECT_OPTION_HELP, InspectPortSchema, inspectionHubFor, startCliInspector } from './inspectOption';

const HostOptionsSchema = z.object({
  nats: NatsUrlSchema,
  namespace: SubjectTokenSchema.default('default'),
  logLevel: LogLevelSchema.default('info'),
  hostId: SubjectTokenSchema.default(`host-${process.pid}`),
  heartbeat: z.coerce.number().int().positive().default(1000),
  /** Comma-separated agent ids of the file to host (default: every agent with an executor). */
  agents: z.string().optional(),
  /** Only the file's agents with this capability. */
  capability: z.string().min(1).optional(),
  /** Hosted agents are `<prefix><agentId>`: several hosts of one file announce distinct agents. */
  agentPrefix: SubjectTokenSchema.optional(),
  /** On SIGTERM / SIGINT, how long running tasks may take to finish before they are aborted, ms. */
  drainTimeout: z.coerce.number().int().nonnegative().default(30_000),
  seed: z.coerce.number().int().nonnegative().default(1),
  allowExecutorsOutside: z.array(z.string().min(1)).default([]),
  credentials: z.string().min(1).optional(),
  inspect: InspectPortSchema,
  /** Drain and exit when stdin ends: the launcher that piped it has died (even by SIGKILL). */
  exitWithParent: z.boolean().default(false),
});

/**
 * `neuroflux host <file> --nats URL` runs the agents of a workflow file that have executors
 * as an {@link AgentHost} (no orchestrator in this process) until interrupted: orchestrators
 * on the same NATS namespace (`neuroflux run <file> --nats URL --remote-agents`, or your own)
 * register them from the host's heartbeats and send them tasks.
 * @internal
 */
export function registerHostCommand(program: Command, write: (text: string) => void, untilInterrupted?: () => Promise<unknown>, stderr?: CliOutput): void {
  const writeErr = stderr ? (text: string) => stderr.write(text) : (text: string) => void process.stderr.write(text);
  program
    .command('host')
    .description("host a workflow file's agents (those with executors) for orchestrators on NATS, until Ctrl-C")
    .argument('<file>', 'the workflow file')
    .addOption(natsOption('the NATS server (JetStream enabled)').makeOptionMandatory())
    .addOption(namespaceOption('NATS namespace shared with the orchestrator'))
    .addOption(logLevelOption())
    .option('--host-id <id>', 'this host in presence announcements (default host-<pid>)')
    .option('--heartbeat <ms>', 'heartbeat interval', '1000')
    .option('--agents <ids>', 'comma-separated agent ids to host (default: every agent with an executor)')
    .option('--capability <name>', "host only the file's agents with this capability")
    .option('--agent-prefix <prefix>', 'host each agent as <prefix><agentId> (several hosts of one file)')
    .option('--drain-timeout <ms>', 'on SIGTERM or SIGINT, let running tasks finish for this long (no new ones start)', '30000')
    .option('--seed <n>', 'seed of the simulated executors', '1')
    .option('--inspect [port]', INSPECT_OPTION_HELP)
    .option('--exit-with-parent', 'drain and exit when stdin ends (the process that started this host, holding its stdin, has died)')
    .option('--credentials <file>', "this host's file from `neuroflux nats-config --out`: its NATS user, identity (the host id) and namespace")
    .option(`${ALLOW_EXECUTORS_OPTION} <dir>`, "also load executor modules from <dir> (repeatable; default: only from the workflow file's folder)", collectOption)
    .action(async (file: string, raw: Record<string, unknown>, command: Command) => {
      const parsed = parseCliOptions(HostOptionsSchema, raw, command);
      const credentials = parsed.credentials === undefined ? undefined : readNatsCredentials(parsed.credentials);
      if (credentials && credentials.role !== 'host') {
        throw new ValidationError('command-line options', [
          { path: '--credentials', message: `${parsed.credentials} is ${credentials.role} ${credentials.transport.identity}'s: host needs a host's` },
        ]);
      }
      if (credentials && raw['hostId'] !== undefined && raw['hostId'] !== credentials.transport.identity) {
        throw new ValidationError('command-line options', [
          { path: '--host-id', message: `must be the identity of --credentials (${credentials.transport.identity}), or left out` },
        ]);
      }
      // With credentials the host id is the NATS identity: orchestrators refuse a presence published under another.
      const options = credentials ? { ...parsed, hostId: credentials.transport.identity, namespace: credentials.transport.namespace } : parsed;
      const workflow = loadWorkflowFile(file);
      const transport = nats({ servers: options.nats, namespace: options.namespace, name: options.hostId, ...credentials?.transport });
      const inspectHub = inspectionHubFor(options.inspect);
      // Each task the host runs is logged at info level (JSON lines on stderr; --log-level).
      const logger = jsonLinesLogger({ level: options.logLevel, write: writeErr, bindings: { name: 'neuroflux' } });
      const nf = createNeuroFlux({ transport, orchestrator: false, logger, ...(inspectHub && { inspect: inspectHub.observer }) });
      warnOnStoreProblems(nf, (text) => process.stderr.write(text));
      const trustedDirs = trustedExecutorDirs(options.allowExecutorsOutside, ALLOW_EXECUTORS_OPTION);
      const executors = resolveWorkflowExecutors(workflow, file, { clock: nf.clock, seed: options.seed, trustedDirs });
      const wanted = options.agents
        ?.split(',')
        .map((id) => id.trim())
        .filter(Boolean);
      const unknown = wanted?.filter((id) => !executors.has(id)) ?? [];
      if (unknown.length > 0) {
        throw new ValidationError('command-line options', [{ path: '--agents', message: `no agent with an executor named ${unknown.join(', ')} in ${file}` }]);
      }
      const host = new AgentHost({ bus: nf.bus, hostId: options.hostId, heartbeatIntervalMs: options.heartbeat });
      const hosted: string[] = [];
      for (const agent of workflow.agents) {
        const execute = executors.get(agent.agentId);
        if (!execute || (wanted && !wanted.includes(agent.agentId))) continue;
        if (options.capability !== undefined && !agent.capabilities.includes(options.capability)) continue;
        const agentId = `${options.agentPrefix ?? ''}${agent.agentId}`;
        host.addAgent(agentId, { capabilities: agent.capabilities, maxConcurrentTasks: agent.maxConcurrentTasks, execute });
        hosted.push(agentId);
      }
      if (hosted.length === 0) {
        const which = options.capability === undefined ? 'an executor' : `an executor and the capability '${options.capability}'`;
        throw new ValidationError('workflow', [{ path: 'agents', message: `${file} has no agent with ${which} to host` }]);
      }
      await startOrCannotRun(nf, options.nats);
      const inspector = await startCliInspector(nf, inspectHub, options.inspect, write);
      // Inspectors of the namespace (`neuroflux inspect --nats`) see this host when they ask.
      const inspection = publishInspection(nf, { runtimeId: options.hostId, role: 'host' });
      host.start();
      // Listening for SIGTERM before saying we run: a launcher may stop us as soon as it reads the line.
      const signalled = untilInterrupted?.() ?? Promise.resolve();
      const interrupted = options.exitWithParent ? Promise.race([signalled, stdinEnded()]) : signalled;
      if (options.exitWithParent) {
        // Once the parent is gone its pipes are broken: what we print then must not crash the drain.
        process.stdout.on('error', () => undefined);
        process.stderr.on('error', () => undefined);
      }
      // LocalHostLauncher (src/scaling) reads this line: it says the host runs, and its agents.
      write(`hosting ${hosted.join(', ')} as ${options.hostId} on ${options.nats} (namespace ${options.namespace})\n`);
      try {
        await interrupted;
      } finally {
        // A flowing stdin would keep this process alive after the drain.
        if (options.exitWithParent) process.stdin.destroy();
        // Graceful: running tasks finish (and report) before the host says it leaves.
        await host.drain(options.drainTimeout);
        await inspector?.close();
        await inspection.close();
        await nf.stop();
        const stats = host.getStats();
        write(`${options.hostId}: ${stats.completed} completed, ${stats.failed} failed, ${stats.aborted} aborted\n`);
      }
    });
}

/** Resolves when this process's stdin ends or closes (the write end's process is gone). */
function stdinEnded(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.once('end', () => resolve());
    process.stdin.once('close', () => resolve());
    process.stdin.once('error', () => resolve());
    // Flowing, so that 'end' is emitted; what a parent might write is ignored.
    process.stdin.resume();
  });
}
