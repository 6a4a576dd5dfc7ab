/**
 * A process that starts one `neuroflux host` (from the sources) with LocalHostLauncher,
 * prints `HOSTPID <pid>` and idles: tests kill it by a signal and check the host does not
 * outlive it. Usage: hostLauncherParent.ts <natsUrl> <namespace> <workflowFile>
 */
import { join } from 'node:path';
import { LocalHostLauncher } from '../../src';

const [natsUrl, namespace, workflowFile] = process.argv.slice(2) as [string, string, string];
const launcher = new LocalHostLauncher({
  nats: natsUrl,
  namespace,
  workflowFile,
  startTimeoutMs: 120_000,
  command: [process.execPath, '-r', '@swc-node/register', join(__dirname, '..', '..', 'examples', 'autoscaling', 'neurofluxFromSource.ts')],
});
launcher.start('compute').then(
  (host) => process.stdout.write(`HOSTPID ${host.pid}\n`),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
setInterval(() => undefined, 1000);
