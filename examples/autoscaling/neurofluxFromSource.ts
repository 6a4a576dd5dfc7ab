/**
 * The `neuroflux` command run from this repository's TypeScript sources (an installed
 * package runs `bin/neuroflux.js`, LocalHostLauncher's default): lets the autoscaling
 * example start hosts from the code it is tested with, without a build.
 *
 * Usage: node -r @swc-node/register examples/autoscaling/neurofluxFromSource.ts host <file> --nats URL ...
 */
import { main } from '../../src/cli/main';

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
