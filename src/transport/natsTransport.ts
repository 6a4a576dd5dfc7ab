import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { z } from 'zod';
import type { BusPort, Transport, TransportLink } from './transport';
import type { DeadLetter } from '../bus/deadLetter';
import { MessageType, PRIORITY_ORDER, type Message } from '../bus/message';
import { ValidationError } from '../errors';
import { ackingBroker, HeldDeliveries, HeldDelivery, maxRetriesOf, type DurableBroker, type DurableLimits } from './durableSettlement';
import { ConnectionStatus, type ConnectionStatusEvent, type ConnectionStatusStats } from '../kernel/connectionStatus';
import { encodeFrame, EnvelopeHeader, signEncoded, type EncodedFrame, type FrameRejection } from './envelope';
import type { ReplayGuard } from './replayGuard';
import { FrameRefusals, type TransportRejection } from './frameRefusals';
import { frameFreshness } from './frameFreshness';
import { FrameCheckOptionsShape, replayGuardFor } from './signingOptions';
import { batchCapacity, FrameBatcher } from './frameBatcher';
import { RecentIds } from '../kernel/recentIds';
import { natsCore, natsJetStream } from './natsClient';
import { connectNats, NatsOptionsSchema, SubjectTokenSchema, type NatsOptions } from './natsOptions';
import { UNIDENTIFIED_ORIGIN } from '../bus/messageOrigin';
import { openFrame, stampOrigin } from './inboundFrame';
import { ReplyMemory } from './replyMemory';
import { routeMessage, type RouteSink } from './routeChoice';
import { idOfSubjectToken, Subjects } from './subjects';
import { durableConsumerOf, sweepUndelivered } from './undeliveredSweep';
import { connectionStatusOf, consumerProblem } from './transportStatus';
import { agentConsumerConfig, ensureTransportStreams } from './jetStreamSetup';
import { DeadLetterStream } from './deadLetterStream';
import { PatternSubscriptions, type PatternSubscription } from './patternSubscriptions';
import { ReconnectBudget, ReconnectBufferBytesSchema } from './reconnectBudget';

export { DeadLetterHeader } from './deadLetterStream';

/** The interface every transport meets, in its own module; re-exported here for existing imports. */
export type { Transport } from './transport';

const messageTypes = Object.values(MessageType) as [MessageType, ...MessageType[]];

const NatsTransportOptionsSchema = NatsOptionsSchema.and(
  z.object({
    /**
     * This process's identity (a subject token; with per-process NATS users, its user name):
     * it publishes only under `nf.<ns>.from.<identity>.`, and receivers read it from there
     * as the message's origin (`messageOrigin`). Unset: `~`, unidentified. See docs/security.md.
     */
    identity: SubjectTokenSchema.optional(),
    // hmacSecret, replayWindowMs (JetStream frames count from the time the server stored them),
    // maxClockSkewMs, maxFrameBytes: shared with the loopback transport (signingOptions.ts).
    ...FrameCheckOptionsShape,
    /**
     * Core frames (events, broadcasts, requests, responses, direct events) for the same
     * subject published in the same tick go out as one NATS message (`Nf-Batch`; default
     * true). Turn it off while processes of an earlier version (before batching, or before its
     * compact elements: docs/changelog.md) still receive on the namespace.
     */
    batching: z.boolean().default(true),
    /** Message types carried by JetStream, at least once (default: commands and notifications, i.e. task traffic). */
    durableTypes: z.array(z.enum(messageTypes)).default(['command', 'notification']),
    /**
     * Deliveries of a durable message before it is dead-lettered (default 5). A handler
     * failure is retried by redelivery, so a message gets `min(maxDeliver, maxRetries + 1)`
     * attempts; then it goes to the bus's dead letters (`max_retries`) and `nf.<ns>.dlq`.
     */
    maxDeliver: z.number().int().positive().default(5),
    /**
     * How long a durable delivery may stay unacknowledged before redelivery, ms (default
     * 30 s). A live process extends it (in-progress acks) while the message waits or runs.
     */
    ackWaitMs: z.number().int().positive().default(30_000),
    /** Delay before a durable message whose handler failed is redelivered, ms; doubles per attempt up to `ackWaitMs` (default 250). */
    retryDelayMs: z.number().int().nonnegative().default(250),
    /** How long dead-lettered durable messages stay in the `NF_<ns>_DLQ` stream, ms (default 7 days). */
    deadLetterMaxAgeMs: z
      .number()
      .int()
      .positive()
      .default(7 * 24 * 3_600_000),
    /**
     * The server deletes an agent's durable consumers after they have had no process for this
     * long, ms (default 7 days): agents that never come back (e.g. per-process ids of hosts
     * that died) leave no consumers behind. Their messages stay in the stream and are
     * delivered if the agent registers again (the consumer is created anew).
     */
    consumerInactiveMs: z
      .number()
      .int()
      .min(1000)
      .default(7 * 24 * 3_600_000),
    /**
     * A durable message still in the work queue this long after it was stored, while no
     * process consumes its agent (a host that died for good), is moved to `nf.<ns>.dlq`
     * (reason `no_route`), ms (default 24 h). Every process checks every quarter of it, at
     * most hourly; `sweepUndelivered()` checks at once.
     */
    undeliveredMaxAgeMs: z
      .number()
      .int()
      .min(1000)
      .default(24 * 3_600_000),
    /**
     * Replicas of the streams this transport creates (work queue and DLQ) in a NATS cluster
     * (default 1, a single server; at most 5). Existing streams keep theirs.
     */
    replicas: z.number().int().min(1).max(5).default(1),
    /**
     * Bytes (frame bodies and subjects) this process may publish while its connection is down
     * (between `reconnecting` and `ready`), kept by the NATS client for the reconnect; later
     * frames are dropped, counted in `getStats().lostWhileCutOff` and reported once per outage
     * on `status$` (`error`, source `reconnect buffer`). Default 8 MiB (the Go client's
     * reconnect buffer); the JavaScript client itself buffers without limit.
     */
    reconnectBufferBytes: ReconnectBufferBytesSchema,
  }),
);

/** Options of {@link nats}: connection, namespace, auth/TLS, signing and durability. */
export type NatsTransportOptions = NatsOptions & z.input<typeof NatsTransportOptionsSchema>;

export type { TransportRejection } from './frameRefusals';

/** Counters of a {@link NatsTransport}. */
export interface TransportStats {
  /** Core messages published (a batch counts each of its messages). */
  readonly published: number;
  readonly publishedDurable: number;
  /** Messages received (a batch counts each of its messages; a refused frame counts one). */
  readonly received: number;
  /** NATS messages published carrying several core messages (`Nf-Batch`). */
  readonly batchesPublished: number;
  /** NATS messages received carrying several messages (`Nf-Batch`), accepted as a whole. */
  readonly batchesReceived: number;
  /** Messages lost because their publish failed: core ones deferred to the end of the tick (connection closed meanwhile), durable ones the server had not acknowledged when the transport closed (also reported on `status$`). */
  readonly publishFailures: number;
  readonly compressed: number;
  readonly publishRetries: number;
  /** Redelivered or doubly subscribed frames dropped because their message id was seen recently. */
  readonly duplicates: number;
  /** Durable deliveries given back to JetStream for another attempt (handler failure, no agent, full mailbox). */
  readonly redelivered: number;
  /** Durable messages moved to the dead-letter stream (`nf.<ns>.dlq`). */
  readonly deadLettered: number;
  /**
   * Messages published while the connection was down and dropped past `reconnectBufferBytes`
   * (a batch counts each of its messages). Frames within the budget wait in the client; if the
   * transport closes before the reconnect the client drops those too, uncounted here.
   */
  readonly lostWhileCutOff: number;
  readonly rejected: Readonly<Record<FrameRejection, number>>;
  /** Counts of the events on `status$` (connection and consumer errors, reconnects), and the last error. */
  readonly status: ConnectionStatusStats;
}

/** A durable delivery this process holds until the bus settles it (the shared policy, durableSettlement.ts). */
type Held = HeldDelivery<JsMsg>;

/**
 * How long a pull request lasts. The client pulls again after two missed idle heartbeats (half
 * of this): a pull lost with the NATS node that held it (a cluster node dying) is replaced
 * after about 5 s. With the client's default of 30 s, nothing reached an agent for 15 – 45 s
 * in the chaos run (bench/chaos.ts; the longest stall of a leader fell from 35 s to 10 s in
 * the same run). Costs one pull request per consumer every 5 s while idle.
 */
const PULL_EXPIRES_MS = 5000;
const SEEN_MEMORY = 10_000;

/** What `decode` returns for a frame it refused (counted and reported already). */
const REFUSED: unique symbol = Symbol('refused');

/** What `decode` returns for a batch frame: its elements, each still a frame to validate. */
class FrameBatch {
  constructor(readonly frames: readonly unknown[]) {}
}

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
  /**
   * Connection changes (source `connection`: disconnected, reconnecting, reconnected, server
   * errors) and JetStream consumer problems that the client otherwise retries silently
   * (source `consumer <name>`: consumer or stream deleted or not found, heartbeats
   * missed), and failures to set up an agent's consumers (source `listen <agentId>`).
   * Counted in `getStats().status`; completes on `close()`.
   */
  readonly status$: Observable<ConnectionStatusEvent>;
  private readonly status = new ConnectionStatus();
  /** The instance id of this process's transport (names its reply inbox). */
  readonly instanceId = randomUUID().replace(/-/g, '');
  private readonly options: z.output<typeof NatsTransportOptionsSchema>;
  private readonly subjects: Subjects;
  private bus: BusPort | undefined;
  private detach: (() => void) | undefined;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private state: 'created' | 'starting' | 'running' | 'closed' = 'created';
  private readonly backlog: Message[] = [];
  private readonly agentSubs = new Map<string, { core: Subscription; durable: ConsumerMessages[] }>();
  /** Topic patterns of local agents, one NATS subscription each. */
  private readonly patterns: PatternSubscriptions;
  /** `nf.<ns>.dlq`: durable messages given up. */
  private readonly deadLetters: DeadLetterStream;
  private readonly coreSubs: Subscription[] = [];
  /** correlationId → reply subject of requests that came from other processes. */
  private readonly replies: ReplyMemory;
  /** Recently accepted topic frames: overlapping pattern subscriptions deliver an event twice. */
  private readonly seenEvents = new RecentIds(SEEN_MEMORY);
  private readonly durableTypes: ReadonlySet<string>;
  private readonly decodeOptions: { readonly hmacSecret: string | undefined; readonly maxFrameBytes: number };
  /** With a secret: refuses signed frames seen before, stale or dated in the future. */
  private readonly replayGuard: ReplayGuard | undefined;
  /** This process's reply subject (set on requests it publishes). */
  private readonly inbox: string;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Durable deliveries accepted but not yet settled by the bus, by message id. */
  private readonly held = new HeldDeliveries<JsMsg>();
  private readonly limits: DurableLimits;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private undeliveredSweep: ReturnType<typeof setInterval> | undefined;
  /** Outbound core frames, batched per subject and tick (created on start: its size limit depends on the server). */
  private batcher: FrameBatcher | undefined;
  /** Refusal accounting shared with the loopback transport: counts by reason, `rejected$`. */
  private readonly refusals: FrameRefusals;
  /** What may be published while the connection is down (the client's own buffer has no bound). */
  private readonly budget: ReconnectBudget;
  private readonly counters = {
    published: 0,
    publishedDurable: 0,
    received: 0,
    batchesPublished: 0,
    batchesReceived: 0,
    publishFailures: 0,
    compressed: 0,
    publishRetries: 0,
    duplicates: 0,
    redelivered: 0,
    deadLettered: 0,
  };

  constructor(options: NatsTransportOptions) {
    const parsed = NatsTransportOptionsSchema.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod('nats transport options', parsed.error);
    this.options = parsed.data;
    this.subjects = new Subjects(parsed.data.namespace, parsed.data.identity);
    this.durableTypes = new Set(parsed.data.durableTypes);
    this.decodeOptions = { hmacSecret: parsed.data.hmacSecret, maxFrameBytes: parsed.data.maxFrameBytes };
    this.replayGuard = replayGuardFor(parsed.data);
    this.limits = { maxDeliver: parsed.data.maxDeliver, retryDelayMs: parsed.data.retryDelayMs, ackWaitMs: parsed.data.ackWaitMs };
    this.refusals = new FrameRefusals(parsed.data.maxFrameBytes);
    this.inbox = this.subjects.inbox(this.instanceId);
    this.replies = new ReplyMemory(this.subjects);
    this.patterns = new PatternSubscriptions(this.subjects, (entry) => this.subscribePattern(entry));
    this.deadLetters = new DeadLetterStream(this.subjects, this.decodeOptions, {
      publishDurable: (subject, body, h, messageId) => this.publishDurable(subject, body, h, messageId),
      moved: () => void this.counters.deadLettered++,
      deadLetterFrame: (frame, reason, detail) => this.bus?.deadLetterFrame(frame, reason, detail),
    });
    this.rejected$ = this.refusals.rejected$;
    this.status$ = this.status.status$;
    this.budget = new ReconnectBudget(parsed.data.reconnectBufferBytes, (detail) => this.status.report('error', 'reconnect buffer', detail));
  }

  attach(bus: BusPort): void {
    if (this.bus) throw new ValidationError('transport', [{ path: 'bus', message: 'transport is already attached to a bus' }]);
    this.bus = bus;
    const link: TransportLink = {
      forward: (message) => this.forward(message),
      agentAdded: (agentId) => this.whenRunning(() => this.listenAgent(agentId), `listen ${agentId}`),
      agentRemoved: (agentId) => this.whenRunning(() => this.unlistenAgent(agentId), `unlisten ${agentId}`),
      subscribed: (pattern) => this.patterns.add(pattern, this.state === 'running'),
      unsubscribed: (pattern) => this.patterns.remove(pattern),
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
    if (this.closedWhileStarting()) return;
    this.watchConnection(this.nc);
    const jsm = await natsJetStream().jetstreamManager(this.nc);
    await ensureTransportStreams(jsm, this.subjects, this.options);
    if (this.closedWhileStarting()) return;
    this.js = natsJetStream().jetstream(this.nc);
    // A batch must fit what this process accepts (peers are expected to share the limit) and what the server takes.
    const maxPayload = this.nc.info?.max_payload ?? this.options.maxFrameBytes;
    const capacity = this.options.batching ? batchCapacity(Math.min(this.options.maxFrameBytes, maxPayload)) : 1;
    this.batcher = new FrameBatcher(this.publishFrame, capacity, (messages) => {
      this.counters.publishFailures += messages;
    });
    this.coreSubs.push(this.nc.subscribe(this.subjects.inboxAll(this.instanceId), { callback: this.onCoreFrame }));
    this.coreSubs.push(this.nc.subscribe(this.subjects.broadcastAll(), { callback: this.onCoreFrame }));
    this.coreSubs.push(
      this.nc.subscribe(this.subjects.maxDeliveriesAdvisories(), {
        callback: (err, msg) => void (!err && this.track(this.deadLetters.onMaxDeliveries(msg, this.jetStreamManager), 'delivery-cap advisory')),
      }),
    );
    // In-progress acks: a message waiting in a mailbox or being handled here is not redelivered elsewhere.
    this.heartbeat = setInterval(
      () => {
        for (const h of this.held.values()) h.delivery.working();
      },
      Math.max(50, Math.floor(this.options.ackWaitMs / 2)),
    );
    this.heartbeat.unref();
    this.undeliveredSweep = setInterval(
      // A sweep that fails (connection down) is reported, and tried again by the next one.
      () => this.track(this.sweepUndelivered(), 'undelivered sweep'),
      Math.min(3_600_000, Math.max(250, Math.floor(this.options.undeliveredMaxAgeMs / 4))),
    );
    this.undeliveredSweep.unref();
    this.state = 'running';
    this.patterns.openAll();
    for (const agentId of this.bus.getAgentIds()) await this.listenAgent(agentId);
    await this.nc.flush();
    const backlog = this.backlog.splice(0);
    for (const message of backlog) this.forward(message);
  }

  /**
   * `close()` was called while `start()` waited on the server: the connection made since is
   * closed and nothing more is set up (no subscriptions, no timers, no `running` state).
   */
  private closedWhileStarting(): boolean {
    if (this.state !== 'closed') return false;
    void this.nc?.close().catch(() => undefined);
    return true;
  }

  /** Stops listening, waits for durable publishes in flight, drains and closes the connection. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasRunning = this.state === 'running';
    // Frames queued in this tick go out before the connection drains.
    this.batcher?.flush();
    this.state = 'closed';
    this.detach?.();
    // Durable publishes waiting for the link give up (they throw once closed).
    this.budget.linkUp();
    clearInterval(this.heartbeat);
    clearInterval(this.undeliveredSweep);
    // Deliveries not settled yet stay unacknowledged: JetStream redelivers them.
    this.held.clear();
    for (const { durable } of this.agentSubs.values()) for (const m of durable) await m.close().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    if (this.nc && wasRunning) await this.nc.drain().catch(() => this.nc?.close());
    else await this.nc?.close();
    this.refusals.complete();
    this.status.complete();
  }

  /** The transport's counters. */
  getStats(): TransportStats {
    return { ...this.counters, lostWhileCutOff: this.budget.lost, rejected: { ...this.refusals.counts }, status: this.status.stats() };
  }

  /** The underlying connection (after `start`), e.g. to open a KV store on it. */
  get connection(): NatsConnection | undefined {
    return this.nc;
  }

  private whenRunning(fn: () => Promise<void> | void, source: string): void {
    if (this.state !== 'running') return;
    const p = Promise.resolve(fn()).catch((error: unknown) => {
      if (this.state === 'running') this.status.report('error', source, error);
    });
    this.track(p);
  }

  /**
   * Keeps `p` until it settles so that `close()` waits for it. A failure is reported on
   * `status$`, never left unhandled: a durable publish still failing when the transport
   * closes (its server gone) once ended the process with an unhandled TimeoutError.
   */
  private track(p: Promise<unknown>, source = 'publish'): void {
    const settled: Promise<unknown> = p.then(
      () => undefined,
      (error: unknown) => {
        if (source === 'publish') this.counters.publishFailures++;
        this.status.report('error', source, error);
      },
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }

  // --- outbound ---------------------------------------------------------------------

  private forward(message: Message): boolean {
    if (this.state !== 'running') {
      if (this.state === 'closed') return false;
      this.backlog.push(message);
      return true;
    }
    // The routing choice shared with the loopback transport (plain calls into `sink`, no allocation).
    routeMessage(message, this.subjects, this.durableTypes, this.replies, this.inbox, this.sink);
    return true;
  }

  /** The NATS side of the shared routing choice: core frames batched per subject and tick, durable ones to JetStream. */
  private readonly sink: RouteSink = {
    core: (subject, message, reply) => {
      // Requests and direct events to one agent share its subject; the batch carries the reply
      // subject when it holds a request (the receiver reads it for requests only).
      (this.batcher as FrameBatcher).add(subject, message, reply);
      this.counters.published++;
    },
    durable: (subject, message) => {
      // One JetStream message per bus message: each is acknowledged, de-duplicated and dead-lettered on its own.
      // Signed without a reply subject: JetStream puts its own there (and another on delivery).
      const secret = this.options.hmacSecret;
      const frame = secret === undefined ? encodeFrame(message) : signEncoded(encodeFrame(message), secret, subject, undefined, Date.now());
      if (frame.gzip) this.counters.compressed++;
      if (!this.budget.admit(frame.body.byteLength + subject.length)) return;
      const h = frame.gzip || frame.signature !== undefined ? frameHeaders(frame) : undefined;
      this.track(this.publishDurable(subject, frame.body, h, message.messageId));
    },
  };

  /** Publishes a core frame from the batcher: one message as before batching, or a batch. */
  private readonly publishFrame = (subject: string, encoded: EncodedFrame, reply: string | undefined): void => {
    const secret = this.options.hmacSecret;
    const frame = secret === undefined ? encoded : signEncoded(encoded, secret, subject, reply, Date.now());
    if (frame.gzip) this.counters.compressed++;
    if (frame.batch !== undefined) this.counters.batchesPublished++;
    if (!this.budget.admit(frame.body.byteLength + subject.length, frame.batch ?? 1)) return;
    const h = frame.gzip || frame.signature !== undefined || frame.batch !== undefined ? frameHeaders(frame) : undefined;
    const nc = this.nc as NatsConnection;
    if (reply === undefined) nc.publish(subject, frame.body, h && { headers: h });
    else nc.publish(subject, frame.body, h ? { headers: h, reply } : { reply });
  };

  /** Publishes to JetStream until the server acknowledges (the message id de-duplicates retries). */
  private async publishDurable(subject: string, body: Uint8Array, h: MsgHdrs | undefined, messageId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await (this.js as JetStreamClient).publish(subject, body, { ...(h && { headers: h }), msgID: messageId, timeout: 2000 });
        this.counters.publishedDurable++;
        return;
      } catch (error) {
        if (this.state === 'closed' && attempt > 0) throw error;
        this.counters.publishRetries++;
        // Retried until the server takes it, but never silently: a publish the server keeps
        // refusing (a permissions violation) shows on status$ from its first failure.
        if (attempt === 0 || attempt % 20 === 0) this.status.report('error', 'publish', error);
        // While the link is down each attempt would add one more copy to the client's buffer
        // (the first one is there already and goes out on the reconnect): wait for the link.
        await this.budget.whenUp();
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      }
    }
  }

  // --- inbound ----------------------------------------------------------------------

  private async listenAgent(agentId: string): Promise<void> {
    if (this.agentSubs.has(agentId) || !this.nc || !this.js) return;
    const entry = { core: this.nc.subscribe(this.subjects.agentAll(agentId), { callback: this.onCoreFrame }), durable: [] as ConsumerMessages[] };
    this.agentSubs.set(agentId, entry);
    const jsm = await natsJetStream().jetstreamManager(this.nc);
    const stream = this.subjects.stream();
    for (const priority of PRIORITY_ORDER) {
      const config = agentConsumerConfig(agentId, priority, this.subjects, this.options);
      const name = config.durable_name;
      await jsm.consumers.add(stream, config);
      if (this.agentSubs.get(agentId) !== entry) return;
      const consumer = await this.js.consumers.get(stream, name);
      const messages = await consumer.consume({ max_messages: 1024, expires: PULL_EXPIRES_MS });
      entry.durable.push(messages);
      this.watchConsumer(name, messages);
      void (async () => {
        for await (const m of messages) this.receiveDurable(m, agentId);
      })().catch((error: unknown) => this.status.report('error', `consumer ${name}`, error));
    }
  }

  /** Reports the consumer's problems: its client keeps pulling after each, silently. */
  private watchConsumer(name: string, messages: ConsumerMessages): void {
    void (async () => {
      for await (const notification of messages.status()) {
        const problem = consumerProblem(notification);
        if (problem !== undefined) this.status.report('error', `consumer ${name}`, problem);
      }
    })().catch((error: unknown) => this.status.report('error', `consumer ${name}`, error));
  }

  /** Reports disconnects, reconnects and server errors of the connection (it reconnects by itself). */
  private watchConnection(nc: NatsConnection): void {
    void (async () => {
      for await (const change of nc.status()) {
        const event = connectionStatusOf(change);
        // Told before the report: what a `ready` listener publishes goes out freely.
        if (change.type === 'disconnect' || event?.kind === 'reconnecting') this.budget.linkDown();
        else if (event?.kind === 'ready') this.budget.linkUp();
        if (event && this.state !== 'closed') this.status.report(event.kind, 'connection', event.error);
      }
    })().catch((error: unknown) => this.status.report('error', 'connection', error));
  }

  private async unlistenAgent(agentId: string): Promise<void> {
    const entry = this.agentSubs.get(agentId);
    if (!entry) return;
    this.agentSubs.delete(agentId);
    entry.core.unsubscribe();
    // The durable consumers stay: messages for the agent wait for it to register again (here or elsewhere).
    for (const m of entry.durable) await m.close().catch(() => undefined);
  }

  /** The JetStream manager of the connection (after `start`). */
  private readonly jetStreamManager = () => natsJetStream().jetstreamManager(this.nc as NatsConnection);

  private subscribePattern(entry: PatternSubscription): Subscription {
    return (this.nc as NatsConnection).subscribe(entry.subject, {
      callback: (err, msg) => {
        if (!err) this.receive(msg, entry);
      },
    });
  }

  private readonly onCoreFrame = (err: Error | null, msg: Msg): void => {
    if (!err) this.receive(msg, undefined);
  };

  /**
   * One JetStream delivery: checked, de-duplicated, handed to the bus with a receipt, and
   * acknowledged only once the bus settled it (handled, or moved to the dead-letter stream).
   */
  private receiveDurable(m: JsMsg, agentId: string): void {
    const bus = this.bus;
    if (!bus || this.state === 'closed') return;
    const decoded = this.decode(m, false, '');
    if (decoded === REFUSED) return void m.term();
    // A replay is another stream message with the same signature; a redelivery has the same sequence.
    if (this.replayGuard && !this.fresh(m, m.info.timestampNanos / 1e6, m.seq, false)) return void m.term();
    const frame = decoded as Partial<Message> | null | undefined;
    const key = typeof frame?.messageId === 'string' ? frame.messageId : undefined;
    if (key !== undefined && this.held.settled(key)) {
      this.counters.duplicates++;
      return void m.ack();
    }
    const holding = key === undefined ? undefined : this.held.holding(key);
    if (holding) {
      // Redelivered while this process still has it: keep the newest delivery to acknowledge.
      holding.delivery = m;
      this.counters.duplicates++;
      return;
    }
    const held: Held = new HeldDelivery(this.broker, this.limits, m, key, agentId, maxRetriesOf(frame));
    this.held.hold(held);
    stampOrigin(frame, this.subjects.origin(m.subject) ?? UNIDENTIFIED_ORIGIN);
    const message = bus.acceptFrame(frame, held);
    if (!message) {
      this.held.release(held);
      m.term();
    }
  }

  /** The JetStream side of the shared durable policy (which failure is retried, after how long). */
  private readonly broker: DurableBroker<JsMsg> = ackingBroker({
    held: this.held,
    isRunning: () => this.state === 'running',
    counters: this.counters,
    deliveryCount: (m) => m.info.deliveryCount,
    deadLetter: (held, letter) => this.moveToDeadLetterStream(held, letter),
  });

  /** Publishes a given-up durable message to `nf.<ns>.dlq` (original bytes and headers, plus why), then acknowledges it. */
  private moveToDeadLetterStream(held: Held, letter: DeadLetter): void {
    this.held.release(held);
    const m = held.delivery;
    if (this.state === 'closed' || !this.js) return; // unacknowledged: redelivered to the next process
    this.track(this.deadLetters.moveDelivery(m, letter, held.agentId));
  }

  /**
   * Moves to `nf.<ns>.dlq` the durable messages stored more than `undeliveredMaxAgeMs`
   * before `now` (server time) for agents no process consumes any more, and records each as
   * a bus dead letter (`no_route`) in the process whose delete succeeded. Runs on its own
   * every quarter of `undeliveredMaxAgeMs` (at most hourly); resolves with how many this
   * call moved (at most 1 000; the next call goes on).
   *
   * @example
   * ```ts
   * const moved = await transport.sweepUndelivered();
   * ```
   */
  async sweepUndelivered(now = Date.now()): Promise<number> {
    if (this.state !== 'running' || !this.nc) return 0;
    const stream = this.subjects.stream();
    const jsm = await natsJetStream().jetstreamManager(this.nc);
    return sweepUndelivered(
      {
        jsm,
        stream,
        maxAgeMs: this.options.undeliveredMaxAgeMs,
        maxMoves: 1000,
        consumerOf: durableConsumerOf,
        moveToDeadLetters: (stored, detail) => {
          const token = stored.subject.split('.').at(-2);
          const agentId = token === undefined ? undefined : idOfSubjectToken(token);
          return this.deadLetters.moveStored(jsm, stream, stored, { reason: 'no_route', error: detail, deliveries: 0, subject: stored.subject, agentId }, 'no_route');
        },
      },
      now,
    );
  }

  /**
   * Size, signature and encoding checks: the decoded frame, a {@link FrameBatch} (checked
   * as a whole: size, signature, an array of as many frames as `Nf-Batch` says), or
   * {@link REFUSED}. A refused frame is counted and emitted on `rejected$`; an
   * unauthenticated one is also dead-lettered on the bus (each message it claims).
   */
  private decode(msg: Pick<Msg, 'subject' | 'data' | 'headers'>, batches: boolean, reply: string): unknown {
    this.counters.received++;
    // Undefined for a header-less frame (the client parses headers only when there are some).
    const h = msg.headers;
    const encoding = h?.get(EnvelopeHeader.ENCODING) || undefined;
    const batch = h?.get(EnvelopeHeader.BATCH) || undefined;
    // The signature binds the frame to the subject it came on and its reply subject.
    const binding = this.replayGuard && { subject: msg.subject, reply, sent: h?.get(EnvelopeHeader.SENT) || undefined };
    // JetStream traffic is never batched (`batches` false): each durable message is acknowledged on its own.
    const opened = openFrame(msg.data, h?.get(EnvelopeHeader.SIGNATURE) || undefined, encoding, batch, this.decodeOptions, binding, batches);
    if (!opened.ok) return this.refuse(msg, opened.reason, opened.detail, encoding, batch);
    const frames = opened.frames;
    if (frames === undefined) return opened.frame;
    this.counters.received += frames.length - 1;
    this.counters.batchesReceived++;
    return new FrameBatch(frames);
  }

  private refuse(msg: Pick<Msg, 'subject' | 'data'>, reason: FrameRejection, detail: string, encoding: string | undefined, batch: string | undefined): typeof REFUSED {
    this.refusals.refuse(this.bus, msg.subject, msg.data, reason, detail, encoding, batch, Date.now());
    return REFUSED;
  }

  /**
   * With a secret, after the signature checked out: whether the frame is fresh and new
   * ({@link ReplayGuard}); a refusal is counted (`replayed`, `stale`, `future`) and emitted on
   * `rejected$`, not dead-lettered (the message was delivered the first time). `twins`: the
   * frame may come twice through overlapping pattern subscriptions (a duplicate, not a replay).
   */
  private fresh(msg: Pick<Msg, 'subject' | 'data' | 'headers'>, reference: number, sequence: number, twins: boolean): boolean {
    const h = msg.headers;
    // Both checked by the signature already.
    const stale = frameFreshness(
      this.replayGuard as ReplayGuard,
      h?.get(EnvelopeHeader.SIGNATURE) || undefined,
      h?.get(EnvelopeHeader.SENT) || undefined,
      reference,
      Date.now(),
      sequence,
    );
    if (stale === undefined) return true;
    if (stale.reason === 'replayed' && twins) {
      this.counters.duplicates++;
      return false;
    }
    this.refuse(msg, stale.reason, stale.detail, undefined, undefined);
    return false;
  }

  /** Checks and decodes one core NATS message (one frame or a batch) and hands its frames to the bus. */
  private receive(msg: Msg, pattern: PatternSubscription | undefined): void {
    const bus = this.bus;
    if (!bus || this.state === 'closed') return;
    const frame = this.decode(msg, true, msg.reply ?? '');
    if (frame === REFUSED) return;
    if (this.replayGuard && !this.fresh(msg, Date.now(), 0, pattern !== undefined && pattern.overlaps > 0)) return;
    const origin = this.subjects.origin(msg.subject) ?? UNIDENTIFIED_ORIGIN;
    if (!(frame instanceof FrameBatch)) return this.acceptCore(bus, frame, msg.reply, pattern, origin);
    // Element by element, exactly as single frames: an invalid one is dead-lettered, the others go on.
    for (const element of frame.frames) this.acceptCore(bus, element, msg.reply, pattern, origin);
  }

  /** One core frame (alone or out of a batch): de-duplicated, accepted by the bus, its reply subject kept. */
  private acceptCore(bus: BusPort, frame: unknown, reply: string | undefined, pattern: PatternSubscription | undefined, origin: string): void {
    // A topic frame arrives twice only through two live subscriptions whose patterns overlap
    // (the client drops what arrives for one it has ended), so only their frames' ids are
    // kept; once any was kept, every topic frame is checked (its twin may come after an
    // unsubscribe).
    const id = pattern && this.seenEvents.size > 0 ? (frame as Partial<Message> | null)?.messageId : undefined;
    if (typeof id === 'string' && this.seenEvents.has(id)) {
      this.counters.duplicates++;
      return;
    }
    // Kept before the bus sees the request: it may dead-letter it at once (no route, expired,
    // queue full), and the failure response goes to this reply subject.
    // The response goes out under this process's prefix (never to a subject the request names freely).
    const correlationId = this.replies.remember(frame, reply);
    stampOrigin(frame, origin);
    const message = bus.acceptFrame(frame);
    if (!message) {
      if (correlationId !== undefined) this.replies.forget(correlationId);
      return;
    }
    if (pattern && pattern.overlaps > 0) this.seenEvents.add(message.messageId);
  }
}

/** The headers of a frame that needs some (compressed, signed or a batch). */
function frameHeaders(frame: EncodedFrame): MsgHdrs {
  const h = natsCore().headers();
  if (frame.gzip) h.set(EnvelopeHeader.ENCODING, 'gzip');
  if (frame.batch !== undefined) h.set(EnvelopeHeader.BATCH, String(frame.batch));
  if (frame.signature !== undefined) h.set(EnvelopeHeader.SIGNATURE, frame.signature);
  if (frame.sentAt !== undefined) h.set(EnvelopeHeader.SENT, String(frame.sentAt));
  return h;
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
