/**
 * Runs several `neuroflux` command lines through the CLI's entry point (`main`, what
 * bin/neuroflux.js calls) one after another in this one process, and writes what each
 * ended with (the process exit code it set, its stderr) as JSON to the file named by the
 * first argument. One process for a table of commands: a process per command costs seconds.
 * Usage: node -r @swc-node/register test/support/cliBatch.ts <out.json> '<json array of argv arrays>'
 */
import { writeFileSync } from 'node:fs';
import { main } from '../../src/cli/main';

async function runAll(outFile: string, commands: string[][]): Promise<void> {
  const results: { args: string[]; exitCode: number; stderr: string }[] = [];
  const write = process.stderr.write.bind(process.stderr);
  for (const args of commands) {
    let stderr = '';
    process.exitCode = undefined;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    }) as typeof process.stderr.write;
    try {
      await main(['node', 'neuroflux', ...args]);
    } finally {
      process.stderr.write = write;
    }
    results.push({ args, exitCode: Number(process.exitCode ?? 0), stderr });
  }
  writeFileSync(outFile, JSON.stringify(results));
  process.exitCode = 0;
}

void runAll(process.argv[2] as string, JSON.parse(process.argv[3] as string) as string[][]);
