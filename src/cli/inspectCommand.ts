import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { createNeuroFlux, type NeuroFlux } from '../runtime/createNeuroFlux';
import { setUpDemoWorkload } from '../observability/demoWorkload';
import { createInspectionHub } from '../observability/inspector/inspectionHub';
import { startInspector } from '../observability/inspector/inspectorServer';
import { createMetrics } from '../observability/runtimeMetrics';
import { parseCliOptions } from './cliOptions';
import { describeError } from '../describeError';
import { startRemoteInspector } from '../observability/inspector/remoteInspector';
import { nats } from '../transport/natsTransport';
import { SubjectTokenSchema } from '../transport/natsOptions';
import { NatsUrlSchema } from './cliOptions';
import { readNatsCredentials } from './natsCredentialsFile';

const InspectOptionsSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65_535).default(0),
    host: z.string().min(1).default('127.0.0.1'),
    interval: z.coerce.number().int().nonnegative().default(2000),
    delay: z.coerce.number().int().nonnegative().default(150),
    nats: NatsUrlSchema.optional(),
    namespace: SubjectTokenSchema.default('default'),
    credentials: z.string().min(1).optional(),
  })
  .refine((o) => o.credentials === undefined || o.nats !== undefined, { path: ['credentials'], message: 'needs --nats (they are a NATS user)' });

/** Test seam: what stops the command instead of Ctrl-C, and where the URL goes. @internal */
export interface InspectCommandHooks {
  /** Resolves when the command should stop (default: SIGINT or SIGTERM). */
  readonly until?: () => Promise<unknown>;
  /** Called with the inspector's URL once it listens. */
  readonly onListening?: (url: string) => void;
  /** Called with the demo's runtime before it starts (tests wait on its events). */
  readonly onRuntime?: (runtime: NeuroFlux) => void;
}

function interrupted(): Promise<unknown> {
  const controller = new AbortController();
  return Promise.race([once(process, 'SIGINT', { signal: controller.signal }), once(process, 'SIGTERM', { signal: controller.signal })]).finally(() => controller.abort());
}

/**
 * `neuroflux inspect`: runs a small trading workflow in a loop on a fresh runtime with the
 * live inspector, prints the page's URL and serves it until Ctrl-C.
 * @internal
 */
export function registerInspectCommand(program: Command, write: (text: string) => void, hooks: InspectCommandHooks = {}): Command {
  return program
    .command('inspect')
    .description('run a looping demo workflow and serve the live inspector on loopback until Ctrl-C')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '0')
    .option('--host <host>', 'loopback address to listen on', '127.0.0.1')
    .option('--interval <ms>', 'pause between workflow runs', '2000')
    .option('--delay <ms>', 'time each task works', '150')
    .option('--nats <url>', 'attach to a running deployment instead: show every runtime of the NATS namespace')
    .option('--namespace <name>', 'NATS namespace of the deployment (with --nats)', 'default')
    .option('--credentials <file>', 'a file from `neuroflux nats-config --out` to connect with (with --nats)')
    .action(async (raw: Record<string, unknown>) => {
      const options = parseCliOptions(InspectOptionsSchema, raw);
      if (options.nats !== undefined) {
        await attachToDeployment({ ...options, nats: options.nats }, write, hooks);
        return;
      }
      const hub = createInspectionHub();
      const nf = createNeuroFlux({ inspect: hub.observer, name: 'neuroflux inspect demo' });
      const metrics = createMetrics(nf);
      const demo = setUpDemoWorkload(nf, { taskDelayMs: options.delay });
      hooks.onRuntime?.(nf);
      await nf.start();
      const inspector = await startInspector(nf, { hub, metrics, port: options.port, host: options.host });
      write(`NeuroFlux inspector: ${inspector.url}\n`);
      write(`Prometheus metrics:  ${inspector.url}metrics\n`);
      write('Running a demo workflow in a loop; press Ctrl-C to stop.\n');
      hooks.onListening?.(inspector.url);
      const stop = new AbortController();
      const looping = demo.loop(stop.signal, options.interval).catch((error: unknown) => {
        write(`demo stopped: ${describeError(error)}\n`);
      });
      try {
        await (hooks.until ?? interrupted)();
      } finally {
        stop.abort();
        // A run in progress ends within a second or two; do not wait for ever.
        await Promise.race([looping, sleep(3000, undefined, { ref: false })]);
        await inspector.close();
        metrics.dispose();
        await nf.stop();
        write('inspector stopped\n');
      }
    });
}

/**
 * `neuroflux inspect --nats URL`: the inspector of a running deployment, in this process.
 * It connects to the namespace (no orchestrator here), announces its interest, and shows
 * every runtime that publishes inspection until Ctrl-C.
 */
async function attachToDeployment(
  options: { port: number; host: string; nats: string; namespace: string; credentials?: string | undefined },
  write: (text: string) => void,
  hooks: InspectCommandHooks,
): Promise<void> {
  const credentials = options.credentials === undefined ? undefined : readNatsCredentials(options.credentials);
  const nf = createNeuroFlux({
    name: `inspector of ${options.namespace}`,
    orchestrator: false,
    transport: nats({ servers: options.nats, namespace: credentials?.transport.namespace ?? options.namespace, name: 'neuroflux-inspect', ...credentials?.transport }),
  });
  await nf.start();
  const inspector = await startRemoteInspector(nf, { port: options.port, host: options.host, name: `namespace ${options.namespace}` });
  write(`NeuroFlux inspector: ${inspector.url}\n`);
  write(`Attached to ${options.nats} (namespace ${options.namespace}); runtimes appear as they answer. Ctrl-C stops.\n`);
  hooks.onListening?.(inspector.url);
  try {
    await (hooks.until ?? interrupted)();
  } finally {
    await inspector.close();
    await nf.stop();
    write('inspector stopped\n');
  }
}
