import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type ConsumerMessages, type JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, nanos, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { Subject, type Observable } from 'rxjs';
import { z } from 'zod';
import type { BusTransportLink, CommunicationBus } from '../bus/communicationBus';
import { MessageType, PRIORITY_ORDER, type Message, type MessagePriority } from '../bus/message';
import { ValidationError } from '../errors';
import { decodeEnvelope, encodeEnvelope, EnvelopeHeader, type FrameRejection } from './envelope';
import { connectNats, NatsOptionsSchema, type NatsOptions } from './natsOptions';
import { Subjects } from './subjects';

/**
 * Carries bus traffic between processes. A transport is attached to one bus, started
 * before it and closed after it (`createNeuroFlux({ transport })` does both).
 */
export interface Transport {
  /** Connects the transport to a bus (before `start`). */
  attach(bus: CommunicationBus): void;
  start(): Promise<void>;
  /** Drains what is in flight and closes; awaited. */
  close(): Promise<void>;
}

const messageTypes = Object.values(MessageType) as [MessageType, ...MessageType[]];

const NatsTransportOptionsSchema = NatsOptionsSchema.and(
  z.object({
    /** Signs every frame with HMAC-SHA256 and refuses unsigned or tampered ones. */
    hmacSecret: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Largest frame accepted, before and after decompression (default 1 MiB). */
    maxFrameBytes: z.number().int().positive().default(1024 * 1024),
    /** Message types carried by JetStream, at least once (default: commands and notifications, i.e. task traffic). */
    durableTypes: z.array(z.enum(messageTypes)).default(['command', 'notification']),
    /** Deliveries of a durable message before JetStream gives up on it (default 5). */
    maxDeliver: z.number().int().positive().default(5),
    /** How long a durable delivery may stay unacknowledged before redelivery, ms (default 30 s). */
    ackWaitMs: z.number().int().positive().default(30_000),
  }),
);

/** Options of {@link nats}: connection, namespace, auth/TLS, signing and durability. */
export type NatsTransportOptions = NatsOptions & z.input<typeof NatsTransportOptionsSchema>;

/** A frame refused by the transport before it reached the bus. */
export interface TransportRejection {
  readonly reason: FrameRejection;
  readonly subject: string;
  readonly detail: string;
  readonly at: number;
}

/** Counters of a {@link NatsTransport}. */
export interface TransportStats {
  readonly published: number;
  readonly publishedDurable: number;
  readonly received: number;
  readonly compressed: number;
  readonly publishRetries: number;
  /** Redelivered or doubly subscribed frames dropped because their message id was seen recently. */
  readonly duplicates: number;
  readonly rejected: Readonly<Record<FrameRejection, number>>;
}

const REPLY_MEMORY = 10_000;
const SEEN_MEMORY = 10_000;

/**
 * The NATS transport: bus traffic between processes over NATS subjects
 * (`nf.<ns>.agent.<id>.<priority>`, `nf.<ns>.topic.<topic>`, `nf.<ns>.broadcast`),
 * with commands and notifications (task traffic) on JetStream: at least once, acked
 * after the bus accepted them, de-duplicated by message id, redelivered up to
 * `maxDeliver` times. Frames are size-checked, HMAC-verified (when a secret is set),
 * decompressed and validated by the bus; refusals are counted and emitted on `rejected$`.
 *
 * @example
 * ```ts
 * const nf = createNeuroFlux({ transport: nats({ servers: 'nats://127.0.0.1:4222', namespace: 'prod' }) });
 * await nf.start();
 * ```
 */
export class NatsTransport implements Transport {
  /** Frames refused before validation (unauthenticated, oversized, undecodable). */
  readonly rejected$: Observable<TransportRejection>;
  /** The instance id of this process's transport (names its reply inbox). */
  readonly instanceId = randomUUID().replace(/-/g, '');
  private readonly options: z.output<typeof NatsTransportOptionsSchema>;
  private readonly subjects: Subjects;
  private bus: CommunicationBus | undefined;
  private detach: (() => void) | undefined;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private state: 'created' | 'starting' | 'running' | 'closed' = 'created';
  private readonly backlog: Message[] = [];
  private readonly agentSubs = new Map<string, { core: Subscription; durable: ConsumerMessages[] }>();
  private readonly patternSubs = new Map<string, { sub: Subscription | undefined; count: number }>();
  private readonly coreSubs: Subscription[] = [];
  /** correlationId → reply subject of requests that came from other processes. */
  private readonly replyTo = new Map<string, string>();
  /**
   * Recently accepted ids of topic and durable frames: overlapping pattern subscriptions
   * deliver an event twice, and JetStream redelivers a message whose ack was lost.
   */
  private readonly seen = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly rejectedSubject = new Subject<TransportRejection>();
  private readonly counters = {
    published: 0,
    publishedDurable: 0,
    received: 0,
    compressed: 0,
    publishRetries: 0,
    duplicates: 0,
    rejected: { unauthenticated: 0, oversized: 0, undecodable: 0 } as Record<FrameRejection, number>,
  };

  constructor(options: NatsTransportOptions) {
    const parsed = NatsTransportOptionsSchema.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod('nats transport options', parsed.error);
    this.options = parsed.data;
    this.subjects = new Subjects(parsed.data.namespace);
    this.rejected$ = this.rejectedSubject.asObservable();
  }

  attach(bus: CommunicationBus): void {
    if (this.bus) throw new ValidationError('transport', [{ path: 'bus', message: 'transport is already attached to a bus' }]);
    this.bus = bus;
    const link: BusTransportLink = {
      forward: (message) => this.forward(message),
      agentAdded: (agentId) => this.whenRunning(() => this.listenAgent(agentId)),
      agentRemoved: (agentId) => this.whenRunning(() => this.unlistenAgent(agentId)),
      subscribed: (pattern) => this.addPattern(pattern),
      unsubscribed: (pattern) => this.removePattern(pattern),
    };
    this.detach = bus.attachTransport(link);
  }

  /** Connects, makes sure the JetStream stream exists, and starts listening. */
  async start(): Promise<void> {
    if (this.state !== 'created') return;
    if (!this.bus) throw new ValidationError('transport', [{ path: 'bus', message: 'attach the transport to a bus before start()' }]);
    this.state = 'starting';
    // No echo: this process never receives back its own topic publishes and broadcasts.
    this.nc = await connectNats(this.options, { noEcho: true });
    const jsm = await jetstreamManager(this.nc);
    const stream = this.subjects.stream();
    try {
      await jsm.streams.info(stream);
    } catch {
      await jsm.streams
        .add({
          name: stream,
          subjects: [this.subjects.durableAll()],
          retention: RetentionPolicy.Workqueue,
          storage: StorageType.File,
          duplicate_window: nanos(120_000),
        })
        .catch(async (error: unknown) => {
          // Another process created it in between.
          await jsm.streams.info(stream).catch(() => {
            throw error;
          });
        });
    }
    this.js = jetstream(this.nc);
    this.coreSubs.push(this.nc.subscribe(this.subjects.inbox(this.instanceId), { callback: (err, msg) => void (!err && this.receive(msg)) }));
    this.coreSubs.push(this.nc.subscribe(this.subjects.broadcast(), { callback: (err, msg) => void (!err && this.receive(msg)) }));
    this.state = 'running';
    for (const [pattern, entry] of this.patternSubs) entry.sub ??= this.subscribePattern(pattern);
    for (const agentId of this.bus.getAgentIds()) await this.listenAgent(agentId);
    await this.nc.flush();
    const backlog = this.backlog.splice(0);
    for (const message of backlog) this.forward(message);
  }

  /** Stops listening, waits for durable publishes in flight, drains and closes the connection. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasRunning = this.state === 'running';
    this.state = 'closed';
    this.detach?.();
    for (const { durable } of this.agentSubs.values()) for (const m of durable) await m.close().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    if (this.nc && wasRunning) await this.nc.drain().catch(() => this.nc?.close());
    else await this.nc?.close();
    this.rejectedSubject.complete();
  }

  /** The transport's counters. */
  getStats(): TransportStats {
    const c = this.counters;
    return { ...c, rejected: { ...c.rejected } };
  }

  /** The underlying connection (after `start`), e.g. to open a KV store on it. */
  get connection(): NatsConnection | undefined {
    return this.nc;
  }

  private whenRunning(fn: () => Promise<void> | void): void {
    if (this.state !== 'running') return;
    const p = Promise.resolve(fn()).catch(() => undefined);
    this.track(p);
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  // --- outbound ---------------------------------------------------------------------

  private forward(message: Message): boolean {
    if (this.state === 'closed') return false;
    if (this.state !== 'running') {
      this.backlog.push(message);
      return true;
    }
    const nc = this.nc as NatsConnection;
    const envelope = encodeEnvelope(message, { hmacSecret: this.options.hmacSecret });
    if (envelope.headers[EnvelopeHeader.ENCODING]) this.counters.compressed++;
    const h = natsHeaders();
    for (const [k, v] of Object.entries(envelope.headers)) h.set(k, v);

    if (message.messageType === MessageType.EVENT || message.messageType === MessageType.BROADCAST) {
      const subject = message.messageType === MessageType.EVENT ? this.subjects.topic(message.topic) : this.subjects.broadcast();
      nc.publish(subject, envelope.body, { headers: h });
      this.counters.published++;
      return true;
    }
    if (message.messageType === MessageType.RESPONSE && message.correlationId !== undefined) {
      const reply = this.replyTo.get(message.correlationId);
      if (reply !== undefined) {
        this.replyTo.delete(message.correlationId);
        nc.publish(reply, envelope.body, { headers: h });
        this.counters.published++;
        return true;
      }
    }
    const recipient = message.recipientId as string;
    if (this.options.durableTypes.includes(message.messageType)) {
      this.track(this.publishDurable(this.subjects.durable(recipient, message.priority), envelope.body, h, message.messageId));
      return true;
    }
    nc.publish(this.subjects.agent(recipient, message.priority), envelope.body, {
      headers: h,
      ...(message.messageType === MessageType.REQUEST && { reply: this.subjects.inbox(this.instanceId) }),
    });
    this.counters.published++;
    return true;
  }

  /** Publishes to JetStream until the server acknowledges (the message id de-duplicates retries). */
  private async publishDurable(subject: string, body: Uint8Array, h: MsgHdrs, messageId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await (this.js as JetStreamClient).publish(subject, body, { headers: h, msgID: messageId, timeout: 2000 });
        this.counters.publishedDurable++;
        return;
      } catch (error) {
        if (this.state === 'closed' && attempt > 0) throw error;
        this.counters.publishRetries++;
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      }
    }
  }

  // --- inbound ----------------------------------------------------------------------

  private async listenAgent(agentId: string): Promise<void> {
    if (this.agentSubs.has(agentId) || !this.nc || !this.js) return;
    const entry = { core: this.nc.subscribe(this.subjects.agentAll(agentId), { callback: (err, msg) => void (!err && this.receive(msg)) }), durable: [] as ConsumerMessages[] };
    this.agentSubs.set(agentId, entry);
    const jsm = await jetstreamManager(this.nc);
    const stream = this.subjects.stream();
    for (const priority of PRIORITY_ORDER) {
      const name = consumerName(agentId, priority, this.subjects);
      await jsm.consumers.add(stream, {
        durable_name: name,
        filter_subject: this.subjects.durable(agentId, priority),
        ack_policy: AckPolicy.Explicit,
        max_deliver: this.options.maxDeliver,
        ack_wait: nanos(this.options.ackWaitMs),
      });
      if (this.agentSubs.get(agentId) !== entry) return;
      const consumer = await this.js.consumers.get(stream, name);
      const messages = await consumer.consume({ max_messages: 256 });
      entry.durable.push(messages);
      void (async () => {
        for await (const m of messages) {
          const accepted = this.receive(m, true);
          if (accepted) m.ack();
          else m.term();
        }
      })().catch(() => undefined);
    }
  }

  private async unlistenAgent(agentId: string): Promise<void> {
    const entry = this.agentSubs.get(agentId);
    if (!entry) return;
    this.agentSubs.delete(agentId);
    entry.core.unsubscribe();
    // The durable consumers stay: messages for the agent wait for it to register again (here or elsewhere).
    for (const m of entry.durable) await m.close().catch(() => undefined);
  }

  private addPattern(pattern: string): void {
    const entry = this.patternSubs.get(pattern);
    if (entry) {
      entry.count++;
      return;
    }
    this.patternSubs.set(pattern, { sub: this.state === 'running' ? this.subscribePattern(pattern) : undefined, count: 1 });
  }

  private removePattern(pattern: string): void {
    const entry = this.patternSubs.get(pattern);
    if (!entry || --entry.count > 0) return;
    this.patternSubs.delete(pattern);
    entry.sub?.unsubscribe();
  }

  private subscribePattern(pattern: string): Subscription {
    return (this.nc as NatsConnection).subscribe(this.subjects.topic(pattern), { callback: (err, msg) => void (!err && this.receive(msg, true)) });
  }

  /** Checks, decodes and hands one frame to the bus; false when it was refused. */
  private receive(msg: Pick<Msg, 'subject' | 'data' | 'headers' | 'reply'>, deduplicate = false): boolean {
    const bus = this.bus;
    if (!bus || this.state === 'closed') return false;
    this.counters.received++;
    const decoded = decodeEnvelope(msg.data, (name) => msg.headers?.get(name) || undefined, {
      hmacSecret: this.options.hmacSecret,
      maxFrameBytes: this.options.maxFrameBytes,
    });
    if (!decoded.ok) {
      this.counters.rejected[decoded.reason]++;
      this.rejectedSubject.next({ reason: decoded.reason, subject: msg.subject, detail: decoded.detail, at: Date.now() });
      return false;
    }
    const frame = decoded.frame as Partial<Message> | undefined;
    if (deduplicate && typeof frame?.messageId === 'string' && this.seen.has(frame.messageId)) {
      this.counters.duplicates++;
      return true;
    }
    const message = bus.acceptFrame(frame);
    if (!message) return false;
    if (deduplicate) remember(this.seen, message.messageId, SEEN_MEMORY);
    if (message.messageType === MessageType.REQUEST && msg.reply && message.correlationId !== undefined) {
      this.replyTo.set(message.correlationId, msg.reply);
      if (this.replyTo.size > REPLY_MEMORY) this.replyTo.delete(this.replyTo.keys().next().value as string);
    }
    return true;
  }
}

function remember(set: Set<string>, id: string, max: number): void {
  set.add(id);
  if (set.size > max) set.delete(set.values().next().value as string);
}

function consumerName(agentId: string, priority: MessagePriority, subjects: Subjects): string {
  const token = subjects.agent(agentId, priority).split('.')[3] as string;
  return `nf_${token}_${priority}`;
}

/**
 * The NATS transport factory for `createNeuroFlux({ transport: nats({ servers, ...auth }) })`.
 *
 * @example
 * ```ts
 * const nf = createNeuroFlux({ transport: nats({ servers: ['nats://10.0.0.1:4222'], user: 'nf', pass: 'secret', hmacSecret: process.env.NF_HMAC }) });
 * ```
 */
export function nats(options: NatsTransportOptions): NatsTransport {
  return new NatsTransport(options);
}
