/**
 * The `neuroflux` binary from the TypeScript sources, for tests that need a real process
 * (signals, exit codes, stdout and stderr apart). Usage: node -r @swc-node/register cliProcess.ts <args>
 */
import { main } from '../../src/cli/main';

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
