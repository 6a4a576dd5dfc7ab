/**
 * The `neuroflux` binary from source: what bin/neuroflux.js runs from dist/, for tests that
 * need a real process (its exit code, its stderr) without a build.
 */
import { main } from '../../src/cli/main';

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
