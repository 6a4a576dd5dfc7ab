import type { Command } from 'commander';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { natsServerConfig } from '../transport/natsServerConfig';
import { parseCliOptions } from './cliOptions';

const list = (value: unknown) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    : value;

const NatsConfigOptionsSchema = z.object({
  namespace: z.string(),
  orchestrators: z.preprocess(list, z.array(z.string()).min(1)),
  hosts: z.preprocess(list, z.array(z.string())).default([]),
  inspectors: z.preprocess(list, z.array(z.string())).default([]),
  orchestratorId: z.string().min(1).default('orchestrator'),
  bucket: z.string().default('neuroflux'),
  auth: z.enum(['nkey', 'password']).default('nkey'),
  storeDir: z.string().min(1).default('/var/lib/nats'),
  port: z.coerce.number().int().min(1).max(65_535).default(4222),
  out: z.string().min(1).optional(),
});

/**
 * `neuroflux nats-config`: a nats-server configuration with one user per orchestrator and
 * agent host, each allowed to publish only under its own subject prefix, and the
 * credentials each process passes to `nats({ ... })`. @internal
 */
export function registerNatsConfigCommand(program: Command, write: (text: string) => void): void {
  program
    .command('nats-config')
    .description('print a nats-server configuration with one NATS user per orchestrator and agent host, and their credentials (see docs/security.md)')
    .requiredOption('--namespace <ns>', 'the NeuroFlux namespace (subjects nf.<ns>.…)')
    .requiredOption('--orchestrators <ids>', 'comma-separated identities of the orchestrator processes')
    .option('--hosts <ids>', 'comma-separated identities of the agent hosts (each runs its AgentHost with this hostId)')
    .option('--inspectors <ids>', 'comma-separated identities of inspectors (neuroflux inspect --nats --credentials); runtimes run their actions only with --inspect-actions-from')
    .option('--orchestrator-id <id>', "the orchestrators' bus agent id (orchestratorId)", 'orchestrator')
    .option('--bucket <name>', 'KV bucket of the orchestrator store and lease', 'neuroflux')
    .option('--auth <kind>', 'nkey (the server keeps public keys only) or password', 'nkey')
    .option('--store-dir <dir>', 'JetStream storage of the server', '/var/lib/nats')
    .option('--port <n>', 'client port of the server', '4222')
    .option('--out <dir>', 'write nats-server.conf and one <identity>.json of credentials per process (mode 0600) instead of printing JSON')
    .action((raw: Record<string, unknown>) => {
      const o = parseCliOptions(NatsConfigOptionsSchema, raw);
      const generated = natsServerConfig({
        namespace: o.namespace,
        orchestrators: o.orchestrators,
        hosts: o.hosts,
        inspectors: o.inspectors,
        orchestratorAgentId: o.orchestratorId,
        bucket: o.bucket,
        auth: o.auth,
        storeDir: o.storeDir,
        port: o.port,
      });
      if (o.out === undefined) {
        write(`${JSON.stringify({ serverConfig: generated.serverConfig, users: generated.users }, null, 2)}\n`);
        return;
      }
      // Secrets (passwords in the server config, seeds in the credentials): readable by the owner
      // only, also when the files or the folder already existed (a mode given to a write only
      // applies to a file it creates).
      mkdirSync(o.out, { recursive: true, mode: 0o700 });
      chmodSync(o.out, 0o700);
      const writeSecret = (file: string, text: string) => {
        writeFileSync(file, text, { mode: 0o600 });
        chmodSync(file, 0o600);
        write(`${file}\n`);
      };
      writeSecret(join(o.out, 'nats-server.conf'), generated.serverConfig);
      for (const user of generated.users) writeSecret(join(o.out, `${user.identity}.json`), `${JSON.stringify({ namespace: o.namespace, ...user }, null, 2)}\n`);
    });
}
