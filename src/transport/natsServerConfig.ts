import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { PRIORITY_ORDER } from '../bus/message';
import { ValidationError } from '../errors';
import { natsKeys } from './natsClient';
import { SubjectTokenSchema } from './natsOptions';
import { Subjects } from './subjects';

const NatsServerConfigOptionsSchema = z
  .object({
    /** The namespace of the deployment (subjects `nf.<namespace>.…`). */
    namespace: SubjectTokenSchema,
    /** NATS identities (user names) of the orchestrator processes (leader-election candidates). */
    orchestrators: z.array(SubjectTokenSchema).min(1),
    /** NATS identities of the agent hosts: each must run its `AgentHost` with this `hostId`. */
    hosts: z.array(SubjectTokenSchema).default([]),
    /**
     * NATS identities of inspectors (`neuroflux inspect --nats --credentials`): they publish
     * under their own prefix like a host, with a host's JetStream rights (no KV, none of the
     * orchestrators' consumers). A runtime runs their page actions only when it lists them
     * (`publishInspection({ actions: { from } })`, `--inspect-actions-from`).
     */
    inspectors: z.array(SubjectTokenSchema).default([]),
    /** The orchestrators' bus agent id (`orchestratorId`, default `orchestrator`): hosts may not read its consumers. */
    orchestratorAgentId: z.string().min(1).default('orchestrator'),
    /** The KV bucket of the orchestrators' store and lease (default `neuroflux`, as `NatsKvSnapshotStore`). */
    bucket: SubjectTokenSchema.default('neuroflux'),
    /** `nkey` (default: the server keeps public keys only) or `password` (random, 32 characters). */
    auth: z.enum(['nkey', 'password']).default('nkey'),
    /** Where the server keeps JetStream data. */
    storeDir: z.string().min(1).default('/var/lib/nats'),
    /** Client port (default 4222). */
    port: z.number().int().min(1).max(65_535).default(4222),
  })
  .refine((o) => new Set([...o.orchestrators, ...o.hosts, ...o.inspectors]).size === o.orchestrators.length + o.hosts.length + o.inspectors.length, {
    message: 'every orchestrator, host and inspector needs its own identity',
    path: ['hosts'],
  });

/** Options of {@link natsServerConfig}. */
export type NatsServerConfigOptions = z.input<typeof NatsServerConfigOptionsSchema>;

/** What a NATS user is in the deployment. */
export type NatsUserRole = 'orchestrator' | 'host' | 'inspector';

/** What one process passes to `nats({ ... })` (with `servers` and `namespace`). */
export interface NatsUserCredentials {
  readonly role: NatsUserRole;
  /** The transport's `identity` (and, for a host, its `AgentHost` `hostId`). */
  readonly identity: string;
  readonly user?: string;
  readonly pass?: string;
  /** The user's nkey seed (`SU…`): keep it secret, like a password. */
  readonly nkeySeed?: string;
  /** The client's reply-subject prefix: no user may subscribe to another's replies. */
  readonly inboxPrefix: string;
}

/** Publish and subscribe permissions of one NATS user. */
export interface NatsUserPermissions {
  readonly publish: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[] };
}

/** A nats-server configuration and the credentials of each user in it. */
export interface NatsServerConfig {
  /** nats-server configuration text (`nats-server -c <file>`). Holds no secret with nkeys. */
  readonly serverConfig: string;
  readonly users: readonly NatsUserCredentials[];
  readonly permissions: Readonly<Record<string, NatsUserPermissions>>;
}

/**
 * The permissions of one process, least privilege where NATS subjects allow it:
 * - publish only under its own prefix `nf.<ns>.from.<identity>.` (so receivers can trust the
 *   identity they read from the subject), plus the JetStream API calls its role makes, on
 *   the namespace's streams only;
 * - replies (JetStream API answers, pull deliveries) only under its own inbox prefix;
 * - a host may not create, read, pull from or acknowledge the orchestrators' consumers (where
 *   results arrive), nor touch the KV bucket or any stream's configuration.
 */
function permissionsFor(role: NatsUserRole, identity: string, o: z.output<typeof NatsServerConfigOptionsSchema>): NatsUserPermissions {
  const subjects = new Subjects(o.namespace, identity);
  const ns = subjects.prefix;
  const work = subjects.stream();
  const dlq = subjects.dlqStream();
  const kv = `KV_${o.bucket}`;
  const publish = [`${subjects.from}.>`, '$JS.API.INFO', `$JS.API.STREAM.INFO.${work}`, `$JS.API.STREAM.INFO.${dlq}`];
  const deny: string[] = [];
  const subscribe = [`${ns}.from.*.broadcast`, `${ns}.from.*.topic.>`, `${ns}.from.*.agent.>`, `${ns}.from.*.inbox.*`, `_INBOX_${identity}.>`, subjects.maxDeliveriesAdvisories()];
  if (role === 'orchestrator') {
    for (const stream of [work, dlq, kv]) {
      publish.push(
        `$JS.API.STREAM.*.${stream}`,
        `$JS.API.STREAM.MSG.*.${stream}`,
        `$JS.API.DIRECT.GET.${stream}`,
        `$JS.API.DIRECT.GET.${stream}.>`,
        `$JS.API.CONSUMER.*.${stream}`,
        `$JS.API.CONSUMER.*.${stream}.>`,
        `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.>`,
        `$JS.ACK.${stream}.>`,
        `$JS.FC.${stream}.>`,
      );
    }
    publish.push(`$KV.${o.bucket}.>`);
  } else {
    // Hosts and inspectors: consumers on agents' durable subjects only (the filter is part of the API subject).
    publish.push(`$JS.API.CONSUMER.CREATE.${work}.*.${ns}.from.*.durable.agent.*.*`, `$JS.API.CONSUMER.INFO.${work}.*`, `$JS.API.CONSUMER.MSG.NEXT.${work}.*`, `$JS.ACK.${work}.>`);
    const token = subjects.agentToken(o.orchestratorAgentId);
    deny.push(`$JS.API.CONSUMER.CREATE.${work}.*.${ns}.from.*.durable.agent.${token}.*`);
    for (const priority of PRIORITY_ORDER) {
      const consumer = `nf_${token}_${priority}`;
      deny.push(
        `$JS.API.CONSUMER.CREATE.${work}.${consumer}.>`,
        `$JS.API.CONSUMER.INFO.${work}.${consumer}`,
        `$JS.API.CONSUMER.MSG.NEXT.${work}.${consumer}`,
        `$JS.ACK.${work}.${consumer}.>`,
      );
    }
  }
  return { publish: { allow: publish, deny }, subscribe: { allow: subscribe } };
}

const quoted = (values: readonly string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;

/**
 * A nats-server configuration for a NeuroFlux deployment with one NATS user per process:
 * each orchestrator and agent host publishes only under `nf.<ns>.from.<its identity>.`, so
 * the identity an orchestrator reads from a subject is the one NATS authenticated. Also the
 * credentials each process passes to `nats({ ... })`. `neuroflux nats-config` prints it.
 * See docs/security.md.
 *
 * @example
 * ```ts
 * const { serverConfig, users } = natsServerConfig({ namespace: 'prod', orchestrators: ['orch-1'], hosts: ['host-1', 'host-2'] });
 * // nats-server -c nats-server.conf, then in host-1:
 * const creds = users.find((u) => u.identity === 'host-1')!;
 * nats({ servers, namespace: 'prod', identity: creds.identity, nkeySeed: creds.nkeySeed, inboxPrefix: creds.inboxPrefix });
 * ```
 */
export function natsServerConfig(options: NatsServerConfigOptions): NatsServerConfig {
  const parsed = NatsServerConfigOptionsSchema.safeParse(options);
  if (!parsed.success) throw ValidationError.fromZod('nats-config options', parsed.error);
  const o = parsed.data;
  const users: NatsUserCredentials[] = [];
  const permissions: Record<string, NatsUserPermissions> = Object.create(null) as Record<string, NatsUserPermissions>;
  const entries: string[] = [];
  const roles = [
    ...o.orchestrators.map((id) => ['orchestrator', id] as const),
    ...o.hosts.map((id) => ['host', id] as const),
    ...o.inspectors.map((id) => ['inspector', id] as const),
  ];
  for (const [role, identity] of roles) {
    const p = permissionsFor(role, identity, o);
    permissions[identity] = p;
    const inboxPrefix = `_INBOX_${identity}`;
    let who: string;
    if (o.auth === 'nkey') {
      const pair = natsKeys().createUser();
      users.push({ role, identity, nkeySeed: new TextDecoder().decode(pair.getSeed()), inboxPrefix });
      who = `nkey: ${JSON.stringify(pair.getPublicKey())}`;
    } else {
      const pass = randomBytes(24).toString('base64url');
      users.push({ role, identity, user: identity, pass, inboxPrefix });
      who = `user: ${JSON.stringify(identity)}, password: ${JSON.stringify(pass)}`;
    }
    entries.push(
      [
        `      # ${role} ${identity}`,
        `      { ${who},`,
        `        permissions: {`,
        `          publish: { allow: ${quoted(p.publish.allow)}${p.publish.deny.length > 0 ? `, deny: ${quoted(p.publish.deny)}` : ''} }`,
        `          subscribe: { allow: ${quoted(p.subscribe.allow)} }`,
        `        } }`,
      ].join('\n'),
    );
  }
  const serverConfig = [
    `# nats-server configuration for NeuroFlux namespace '${o.namespace}' (neuroflux nats-config).`,
    `# Every process has its own user and publishes only under nf.${o.namespace}.from.<its identity>.`,
    `port: ${o.port}`,
    `jetstream { store_dir: ${JSON.stringify(o.storeDir)} }`,
    `accounts {`,
    `  NEUROFLUX: {`,
    `    jetstream: enabled`,
    `    users: [`,
    entries.join('\n'),
    `    ]`,
    `  }`,
    `}`,
    '',
  ].join('\n');
  return { serverConfig, users, permissions };
}
