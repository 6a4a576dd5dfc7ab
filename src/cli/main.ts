import { Command, CommanderError } from 'commander';
import { runBusDemo } from './busDemo';

/** Builds the `neuroflux` command line. @internal */
export function buildCli(write: (text: string) => void): Command {
  const program = new Command('neuroflux')
    .description('NeuroFlux: an actor runtime for multi-agent coordination on XState v5')
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: write });
  program
    .command('demo')
    .description('run a short scripted scenario on embedded defaults (no services needed)')
    .option('--json', 'print a machine-readable summary instead of the narrated run')
    .action(async (options: { json?: boolean }) => {
      const summary = await runBusDemo({ log: options.json ? () => undefined : (line) => write(`${line}\n`) });
      if (options.json) write(`${JSON.stringify(summary, null, 2)}\n`);
    });
  return program;
}

/** Entry point of the `neuroflux` binary. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildCli((text) => process.stdout.write(text));
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    throw error;
  }
}
