import { Command, CommanderError } from 'commander';
import { z } from 'zod';
import { describeError } from '../describeError';
import { ExitCode, exitCodeOf, type Interruption } from './exitCodes';
import { CannotRunError } from './cannotRunError';
import { runBusDemo } from './busDemo';
import { NatsUrlSchema, parseCliOptions } from './cliOptions';
import { progressReporter } from './progressReporter';
import { formatTradingSummary, runTradingDemo } from './tradingDemo';
import { registerInspectCommand } from './inspectCommand';
import { registerProfileCommand } from './profileCommand';
import { registerVerifyCommand } from './verifyCommand';
import { registerHostCommand } from './hostCommand';
import { registerWorkflowCommands } from './workflowCommands';
import { registerNatsConfigCommand } from './natsConfigCommand';
import { nats } from '../transport/natsTransport';
import { packageVersion } from './packageVersion';

/** Where the CLI writes, and whether that is a terminal (progress bar) or a pipe (plain lines). */
export interface CliOutput {
  write(text: string): void;
  readonly isTTY: boolean;
}

const DemoOptionsSchema = z.object({
  seed: z.coerce.number().int().nonnegative().default(42),
  agents: z.coerce.number().int().min(1).max(50).default(2),
  tasks: z.coerce.number().int().min(1).max(100_000).default(60),
  duration: z.coerce.number().positive().optional(),
  json: z.boolean().optional(),
  bus: z.boolean().optional(),
  /** `--inspect` alone is `true` (free port); `--inspect 4000` picks the port. */
  inspect: z.union([z.literal(true), z.coerce.number().int().min(0).max(65_535)]).optional(),
  nats: NatsUrlSchema.optional(),
});

/** Builds the `neuroflux` command line. @internal */
export function buildCli(output: CliOutput, hooks: { untilInterrupted?: () => Promise<unknown>; errorOutput?: CliOutput } = {}): Command {
  const write = (text: string) => output.write(text);
  // Usage errors go to stderr like every other error (docs/cli.md); help and --version to stdout.
  const writeError = (text: string) => (hooks.errorOutput ? hooks.errorOutput.write(text) : process.stderr.write(text));
  const program = new Command('neuroflux')
    .description('NeuroFlux: an actor runtime for multi-agent coordination on XState v5')
    .version(packageVersion(), '-V, --version', 'print the version of neuroflux')
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: writeError });
  program
    .command('demo')
    .description('run the trading swarm end to end on embedded defaults (no services needed)')
    .option('--seed <n>', 'seed of every random choice (same seed, same summary)', '42')
    .option('--agents <n>', 'agents per role (analysis, sentiment, risk, trading)', '2')
    .option('--tasks <n>', 'workflows to run (4 tasks each)', '60')
    .option('--duration <seconds>', 'stop submitting workflows after this long')
    .option('--json', 'print a machine-readable summary')
    .option('--inspect [port]', 'serve the live inspector (paces the run, keeps serving until Ctrl-C)')
    .option('--nats <url>', 'run the same demo connected to a NATS server (traffic to other processes goes over it)')
    .option('--bus', 'run the short communication-bus tour instead')
    .action(async (raw: Record<string, unknown>) => {
      const options = parseCliOptions(DemoOptionsSchema, raw);
      if (options.bus) {
        const summary = await runBusDemo({ log: options.json ? () => undefined : (line) => write(`${line}\n`) });
        if (options.json) write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      const progress = options.json || options.inspect !== undefined ? undefined : progressReporter(output, 'workflows');
      const inspectPort = options.inspect === undefined ? undefined : options.inspect === true ? 0 : options.inspect;
      const transport = options.nats ? nats({ servers: options.nats, namespace: `demo-${options.seed}` }) : undefined;
      const summary = await runTradingDemo({
        ...((inspectPort !== undefined || transport) && {
          runtime: { ...(inspectPort !== undefined && { inspector: { port: inspectPort } }), ...(transport && { transport }) },
        }),
        ...(inspectPort !== undefined && {
          paceMs: 300,
          onStarted: (url: string) => write(`inspector: ${url}\n`),
          whenFinished: hooks.untilInterrupted,
        }),
        seed: options.seed,
        agents: options.agents,
        tasks: options.tasks,
        ...(options.duration !== undefined && { durationMs: options.duration * 1000 }),
        log: options.json ? () => undefined : (line) => write(`${line}\n`),
        ...(progress && { progress: (done: number, total: number) => progress.update(done, total) }),
      }).catch((error: unknown) => {
        // With NATS, most often the server: unreachable or refusing us. Named, exit code 3.
        throw transport ? new CannotRunError(`cannot run the demo on NATS at ${options.nats}: ${describeError(error)}`, { cause: error }) : error;
      });
      progress?.done();
      if (options.json) write(`${JSON.stringify(summary, null, 2)}\n`);
      else if (inspectPort === undefined) for (const line of formatTradingSummary(summary)) write(`${line}\n`);
    });
  registerWorkflowCommands(program, write, {
    ...(hooks.errorOutput && { stderr: hooks.errorOutput }),
    ...(hooks.untilInterrupted && { untilInterrupted: hooks.untilInterrupted }),
  });
  registerHostCommand(program, write, hooks.untilInterrupted, hooks.errorOutput);
  registerInspectCommand(program, write);
  registerProfileCommand(program, write);
  registerVerifyCommand(program, write, hooks.errorOutput && ((text) => hooks.errorOutput?.write(text)));
  registerNatsConfigCommand(program, write);
  return program;
}

let stdoutClosed = false;
let watchingStdout = false;
const stdoutClosedListeners = new Set<() => void>();

/**
 * A reader that goes away (`neuroflux run … | head -1`) makes stdout writes fail with EPIPE:
 * without a listener Node throws it as an uncaught exception. Registered once per process.
 */
function watchStdoutClosed(): void {
  if (watchingStdout) return;
  watchingStdout = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    if (stdoutClosed) return;
    stdoutClosed = true;
    process.exitCode = ExitCode.STDOUT_CLOSED;
    for (const listener of stdoutClosedListeners) listener();
  });
}

/** Settles with what interrupted the command: Ctrl-C, SIGTERM, or stdout closed by its reader. */
function untilInterrupted(): Promise<Interruption> {
  return new Promise((resolve) => {
    const onSignal = (signal: Interruption) => () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      stdoutClosedListeners.delete(onEpipe);
      resolve(signal);
    };
    const onSigint = onSignal('SIGINT');
    const onSigterm = onSignal('SIGTERM');
    const onEpipe = onSignal('EPIPE');
    // SIGTERM too: a process manager (or LocalHostLauncher) stops a host gracefully with it.
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigterm);
    if (stdoutClosed) onEpipe();
    else stdoutClosedListeners.add(onEpipe);
  });
}

/** Entry point of the `neuroflux` binary. */
export async function main(argv: readonly string[]): Promise<void> {
  watchStdoutClosed();
  // `isTTY` is typed boolean but is undefined when stdout is a pipe or a file.
  const program = buildCli({ write: (text) => void (stdoutClosed || process.stdout.write(text)), isTTY: process.stdout.isTTY ?? false }, { untilInterrupted });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    // One table of exit codes for every command (exitCodes.ts); commander printed its own usage errors.
    process.exitCode = exitCodeOf(error);
    if (!(error instanceof CommanderError)) process.stderr.write(`${error instanceof Error ? error.message : describeError(error)}\n`);
  }
  if (stdoutClosed) process.exitCode = ExitCode.STDOUT_CLOSED;
}
