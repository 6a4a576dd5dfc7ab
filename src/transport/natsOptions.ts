import type { ConnectionOptions, NatsConnection, TlsOptions } from '@nats-io/transport-node';
import { z } from 'zod';
import { ValidationError } from '../errors';
import { natsCore } from './natsClient';

/** One NATS subject token: a namespace, a host id (what the CLI's `--namespace` and `--host-id` take too). */
export const SubjectTokenSchema = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, - or _');

/** Validated options of the NATS transport and stores (defaults documented per field). */
export const NatsOptionsSchema = z
  .object({
    /** `nats://host:port` URLs (or `host:port`). */
    servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** Subject namespace: every subject starts with `nf.<namespace>.` (default `default`). */
    namespace: SubjectTokenSchema.default('default'),
    /** Connection name shown by the server's monitoring. */
    name: z.string().optional(),
    user: z.string().min(1).optional(),
    pass: z.string().optional(),
    token: z.string().min(1).optional(),
    /** An nkey seed (`SU...`): the client signs the server's nonce with it. */
    nkeySeed: z.string().startsWith('SU', 'must be a user nkey seed (SU...)').optional(),
    /** TLS options, passed through to the NATS client. */
    tls: z.custom<TlsOptions>((v) => typeof v === 'object' && v !== null, 'must be an object').optional(),
    /** Reconnect forever by default: durable traffic resumes when the server is back. */
    maxReconnectAttempts: z.number().int().min(-1).default(-1),
    reconnectTimeWaitMs: z.number().int().positive().default(250),
    /** Connect timeout, ms. */
    timeoutMs: z.number().int().positive().default(5000),
    /**
     * Prefix of the client's reply subjects (JetStream API answers, pull deliveries; default
     * `_INBOX`). With per-process NATS users each gets its own (`neuroflux nats-config` prints
     * it), so that no user may subscribe to another's replies.
     */
    inboxPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, - or _')
      .optional(),
  })
  .refine((o) => !(o.user && o.token), { message: 'give user/pass or token, not both', path: ['token'] });

/** Options of a NATS connection (servers, namespace, auth, TLS). */
export type NatsOptions = z.input<typeof NatsOptionsSchema>;
/** @internal */
export type ParsedNatsOptions = z.output<typeof NatsOptionsSchema>;

/** @internal validates NATS options, naming the bad field. */
export function parseNatsOptions(options: unknown): ParsedNatsOptions {
  const parsed = NatsOptionsSchema.safeParse(options);
  if (!parsed.success) throw ValidationError.fromZod('nats options', parsed.error);
  return parsed.data;
}

/**
 * Connects to NATS with validated options (user/password, token or nkey; TLS passed
 * through) and reconnection on by default.
 *
 * @example
 * ```ts
 * const nc = await connectNats({ servers: 'nats://127.0.0.1:4222', user: 'nf', pass: 's3cret' });
 * ```
 */
export async function connectNats(options: NatsOptions | ParsedNatsOptions, extra: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  const o = parseNatsOptions(options);
  const connection: ConnectionOptions = {
    servers: o.servers,
    maxReconnectAttempts: o.maxReconnectAttempts,
    reconnectTimeWait: o.reconnectTimeWaitMs,
    timeout: o.timeoutMs,
    waitOnFirstConnect: false,
    // The client would otherwise build two Error objects (with stack traces) per request and
    // JetStream publish, in case it fails: a quarter of the CPU of durable traffic. Our
    // errors name the subject and agent themselves.
    noAsyncTraces: true,
    ...(o.name !== undefined && { name: o.name }),
    ...(o.user !== undefined && { user: o.user, pass: o.pass ?? '' }),
    ...(o.token !== undefined && { token: o.token }),
    ...(o.tls !== undefined && { tls: o.tls }),
    ...(o.inboxPrefix !== undefined && { inboxPrefix: o.inboxPrefix }),
    ...(o.nkeySeed !== undefined && { authenticator: natsCore().nkeyAuthenticator(new TextEncoder().encode(o.nkeySeed)) }),
    ...extra,
  };
  return natsCore().connect(connection);
}
