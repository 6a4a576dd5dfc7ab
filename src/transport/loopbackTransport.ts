import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { z } from 'zod';
import type { DeadLetter } from '../bus/deadLetter';
import { MessageType, PRIORITY_ORDER, type Message } from '../bus/message';
import { UNIDENTIFIED_ORIGIN } from '../bus/messageOrigin';
import { ValidationError } from '../errors';
import { ConnectionStatus, type ConnectionStatusEvent } from '../kernel/connectionStatus';
import { decodeFrame, encodeFrame, EnvelopeHeader, signEncoded, type EncodedFrame, type FrameRejection } from './envelope';
import { ackingBroker, HeldDeliveries, HeldDelivery, maxRetriesOf, type DurableBroker, type DurableLimits } from './durableSettlement';
import { frameFreshness } from './frameFreshness';
import { FrameRefusals, type TransportRejection } from './frameRefusals';
import { ReconnectBudget, ReconnectBufferBytesSchema } from './reconnectBudget';
import { openFrame, stampOrigin } from './inboundFrame';
import type { DurableDelivery, LoopbackHub, WireFrame } from './loopbackHub';
import { SubjectTokenSchema } from './natsOptions';
import type { ReplayGuard } from './replayGuard';
import { ReplyMemory } from './replyMemory';
import { routeMessage, type RouteSink } from './routeChoice';
import { FrameCheckOptionsShape, replayGuardFor } from './signingOptions';
import { Subjects } from './subjects';
import type { BusPort, Transport, TransportLink } from './transport';

const messageTypes = Object.values(MessageType) as [MessageType, ...MessageType[]];

const LoopbackTransportOptionsSchema = z.object({
  /** This runtime's identity (a subject token): it publishes under `nf.<ns>.from.<identity>.`. Unset: `~`, unidentified. */
  identity: SubjectTokenSchema.optional(),
  namespace: SubjectTokenSchema.default('default'),
  // hmacSecret, replayWindowMs, maxClockSkewMs, maxFrameBytes: the NATS transport's fields, bounds and defaults.
  ...FrameCheckOptionsShape,
  /** Message types carried by the hub's work queue, at least once (default: commands and notifications). */
  durableTypes: z.array(z.enum(messageTypes)).default(['command', 'notification']),
  /** Delay before a durable message whose handler failed is redelivered, ms; doubles per attempt up to `ackWaitMs` (default 0: at once). */
  retryDelayMs: z.number().int().nonnegative().max(3_600_000).default(0),
  /** Longest redelivery delay, ms (default 30 s; the NATS transport's `ackWaitMs` caps it the same way). */
  ackWaitMs: z.number().int().positive().default(30_000),
  /**
   * Bytes (frame bodies and subjects) it keeps while cut off, for the reconnect; later frames
   * are dropped and counted in `lostWhileCutOff` (default 8 MiB, as the NATS transport's).
   */
  reconnectBufferBytes: ReconnectBufferBytesSchema,
});

/** Options of a {@link LoopbackTransport} (see {@link LoopbackHub.transport}). */
export type LoopbackTransportOptions = z.input<typeof LoopbackTransportOptionsSchema>;

/** A frame refused by a loopback transport before it reached the bus (the NATS transport's {@link TransportRejection}). */
export type LoopbackRejection = TransportRejection;

/** Counters of a {@link LoopbackTransport} (the same meaning as the NATS transport's). */
export interface LoopbackTransportStats {
  readonly published: number;
  readonly publishedDurable: number;
  /** Messages received (a batch counts each of its messages; a refused frame counts one). */
  readonly received: number;
  /** Durable deliveries dropped because their message id was settled or is held already. */
  readonly duplicates: number;
  /** Durable deliveries given back for another attempt. */
  readonly redelivered: number;
  /** Durable messages moved to the hub's dead-letter store. */
  readonly deadLettered: number;
  /**
   * Messages published while cut off ({@link LoopbackHub.disconnect}) and never sent: past
   * `reconnectBufferBytes` (as the NATS transport counts them), or the transport closed first.
   */
  readonly lostWhileCutOff: number;
  readonly rejected: Readonly<Record<FrameRejection, number>>;
}

type Held = HeldDelivery<DurableDelivery>;

/**
 * A transport through a {@link LoopbackHub}: several runtimes of one process exchange
 * frames exactly as over NATS (same subjects, envelope, checks, origin stamping and
 * durable semantics), with no server. Frames are checked by the same code as the NATS
 * transport's (`openFrame`, then `bus.acceptFrame`), so forged or odd frames
 * ({@link LoopbackHub.inject}) meet the same refusals. Made by `hub.transport(options)`.
 *
 * @example
 * ```ts
 * const hub = new LoopbackHub();
 * const a = createNeuroFlux({ transport: hub.transport({ identity: 'a' }) });
 * const b = createNeuroFlux({ transport: hub.transport({ identity: 'b' }), orchestrator: false });
 * ```
 */
export class LoopbackTransport implements Transport {
  /** The instance id of this transport (names its reply inbox). */
  readonly instanceId = randomUUID().replace(/-/g, '');
  /** Frames refused before validation (as the NATS transport's `rejected$`); completes on `close()`. */
  readonly rejected$: Observable<TransportRejection>;
  /**
   * The connection's changes, as the NATS transport reports them (source `connection`):
   * `error` (disconnected) then `reconnecting` when {@link LoopbackHub.disconnect} cuts it off,
   * `ready` when {@link LoopbackHub.reconnect} connects it again. Completes on `close()`.
   */
  readonly status$: Observable<ConnectionStatusEvent>;
  private readonly status = new ConnectionStatus();
  /**
   * Frames published while cut off, sent on reconnect (the NATS client's outbound buffer),
   * within `reconnectBufferBytes` ({@link ReconnectBudget}, the same bound as the NATS transport's).
   */
  private readonly whileCutOff: { readonly frame: WireFrame; readonly durableId: string | undefined }[] = [];
  private readonly options: z.output<typeof LoopbackTransportOptionsSchema>;
  private readonly subjects: Subjects;
  private readonly inbox: string;
  private readonly durableTypes: ReadonlySet<string>;
  private readonly decodeOptions: { readonly hmacSecret: string | undefined; readonly maxFrameBytes: number };
  private readonly replayGuard: ReplayGuard | undefined;
  private bus: BusPort | undefined;
  private detach: (() => void) | undefined;
  private state: 'created' | 'running' | 'closed' = 'created';
  private readonly backlog: Message[] = [];
  private readonly replies: ReplyMemory;
  private readonly refusals: FrameRefusals;
  private readonly limits: DurableLimits;
  private readonly heldDeliveries = new HeldDeliveries<DurableDelivery>();
  private readonly budget: ReconnectBudget;
  private readonly agentSubs = new Map<string, (() => void)[]>();
  private readonly patternSubs = new Map<string, { count: number; unsubscribe: (() => void) | undefined }>();
  private readonly ownSubs: (() => void)[] = [];
  private readonly counters = {
    published: 0,
    publishedDurable: 0,
    received: 0,
    duplicates: 0,
    redelivered: 0,
    deadLettered: 0,
    lostWhileCutOff: 0,
  };

  /** @internal Use `hub.transport(options)`. */
  constructor(
    private readonly hub: LoopbackHub,
    options: LoopbackTransportOptions,
  ) {
    const parsed = LoopbackTransportOptionsSchema.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod('loopback transport options', parsed.error);
    this.options = parsed.data;
    this.subjects = new Subjects(parsed.data.namespace, parsed.data.identity);
    this.inbox = this.subjects.inbox(this.instanceId);
    this.durableTypes = new Set(parsed.data.durableTypes);
    this.decodeOptions = { hmacSecret: parsed.data.hmacSecret, maxFrameBytes: parsed.data.maxFrameBytes };
    this.replayGuard = replayGuardFor(parsed.data);
    this.replies = new ReplyMemory(this.subjects);
    this.refusals = new FrameRefusals(parsed.data.maxFrameBytes);
    this.rejected$ = this.refusals.rejected$;
    this.status$ = this.status.status$;
    this.budget = new ReconnectBudget(parsed.data.reconnectBufferBytes, (detail) => this.status.report('error', 'reconnect buffer', detail));
    this.limits = {
      maxDeliver: this.hub.maxDeliver,
      retryDelayMs: parsed.data.retryDelayMs,
      ackWaitMs: parsed.data.ackWaitMs,
    };
  }

  /** The identity it publishes under (`~`: none given), as {@link LoopbackHub.disconnect} takes it. */
  get identity(): string {
    return this.options.identity ?? '~';
  }

  /** Deliveries of a durable message before it is dead-lettered (the hub's). */
  get maxDeliver(): number {
    return this.hub.maxDeliver;
  }

  attach(bus: BusPort): void {
    if (this.bus) throw new ValidationError('transport', [{ path: 'bus', message: 'transport is already attached to a bus' }]);
    this.bus = bus;
    const link: TransportLink = {
      forward: (message) => this.forward(message),
      agentAdded: (agentId) => {
        if (this.state === 'running') this.listenAgent(agentId);
      },
      agentRemoved: (agentId) => this.unlistenAgent(agentId),
      subscribed: (pattern) => this.addPattern(pattern),
      unsubscribed: (pattern) => this.removePattern(pattern),
    };
    this.detach = bus.attachTransport(link);
  }

  async start(): Promise<void> {
    if (this.state !== 'created') return;
    if (!this.bus) throw new ValidationError('transport', [{ path: 'bus', message: 'attach the transport to a bus before start()' }]);
    this.state = 'running';
    this.ownSubs.push(this.hub.subscribe(this, this.subjects.inboxAll(this.instanceId), this.onCore));
    this.ownSubs.push(this.hub.subscribe(this, this.subjects.broadcastAll(), this.onCore));
    for (const [pattern, entry] of this.patternSubs) entry.unsubscribe ??= this.subscribePattern(pattern);
    for (const agentId of this.bus.getAgentIds()) this.listenAgent(agentId);
    for (const message of this.backlog.splice(0)) this.forward(message);
  }

  /** Stops listening; durable messages held and not settled go back to the hub for another connection. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.detach?.();
    for (const unsubscribe of this.ownSubs.splice(0)) unsubscribe();
    for (const entry of this.patternSubs.values()) entry.unsubscribe?.();
    this.patternSubs.clear();
    for (const agentId of [...this.agentSubs.keys()]) this.unlistenAgent(agentId);
    // Never connected again: what waited for the link is lost, as in a NATS client closed while reconnecting.
    this.counters.lostWhileCutOff += this.whileCutOff.length;
    this.whileCutOff.length = 0;
    this.hub.forget(this);
    this.refusals.complete();
    this.status.complete();
  }

  /**
   * The hub cut this connection off (`up` false) or connected it again: reported on
   * `status$` as the NATS transport reports its connection; back up, what was published
   * meanwhile goes out in order. Nothing once closed. @internal
   */
  linkChanged(up: boolean): void {
    if (this.state === 'closed') return;
    if (!up) {
      this.budget.linkDown();
      this.status.report('error', 'connection', 'disconnected from the loopback hub');
      this.status.report('reconnecting', 'connection');
      return;
    }
    this.budget.linkUp();
    this.status.report('ready', 'connection');
    for (const { frame, durableId } of this.whileCutOff.splice(0)) this.send(frame, durableId);
  }

  /** The transport's counters. */
  getStats(): LoopbackTransportStats {
    return { ...this.counters, lostWhileCutOff: this.counters.lostWhileCutOff + this.budget.lost, rejected: { ...this.refusals.counts } };
  }

  /** The last frames refused before validation (at most 100), oldest first. */
  get lastRejections(): readonly LoopbackRejection[] {
    return this.refusals.last;
  }

  // --- outbound ---------------------------------------------------------------------

  private forward(message: Message): boolean {
    if (this.state !== 'running') {
      if (this.state === 'closed') return false;
      this.backlog.push(message);
      return true;
    }
    routeMessage(message, this.subjects, this.durableTypes, this.replies, this.inbox, this.sink);
    return true;
  }

  /** The hub side of the shared routing choice. */
  private readonly sink: RouteSink = {
    core: (subject, message, reply) => this.send(this.wireFrame(subject, encodeFrame(message), reply), undefined),
    // The message id de-duplicates it in the hub's duplicate window, as JetStream's msgID.
    durable: (subject, message) => this.send(this.wireFrame(subject, encodeFrame(message), undefined), message.messageId),
  };

  /** A core frame (`durableId` undefined) or a durable one to the hub; kept for the reconnect while cut off. */
  private send(frame: WireFrame, durableId: string | undefined): void {
    if (this.hub.isCutOff(this)) {
      if (this.budget.admit(frame.body.byteLength + frame.subject.length)) this.whileCutOff.push({ frame, durableId });
      return;
    }
    if (durableId === undefined) {
      this.hub.publish(frame, this);
      this.counters.published++;
    } else {
      this.hub.store(frame, durableId);
      this.counters.publishedDurable++;
    }
  }

  /** A frame as it goes on the wire: signed (with a secret) for its subject and reply subject. */
  private wireFrame(subject: string, encoded: EncodedFrame, reply: string | undefined): WireFrame {
    const secret = this.options.hmacSecret;
    const frame = secret === undefined ? encoded : signEncoded(encoded, secret, subject, reply, this.hub.clock.now());
    let headers: Record<string, string> | undefined;
    if (frame.gzip || frame.signature !== undefined) {
      headers = {};
      if (frame.gzip) headers[EnvelopeHeader.ENCODING] = 'gzip';
      if (frame.signature !== undefined) headers[EnvelopeHeader.SIGNATURE] = frame.signature;
      if (frame.sentAt !== undefined) headers[EnvelopeHeader.SENT] = String(frame.sentAt);
    }
    return { subject, body: frame.body, headers, reply };
  }

  // --- inbound ----------------------------------------------------------------------

  private listenAgent(agentId: string): void {
    if (this.agentSubs.has(agentId)) return;
    const subs = [this.hub.subscribe(this, this.subjects.agentAll(agentId), this.onCore)];
    for (const priority of PRIORITY_ORDER) {
      subs.push(this.hub.consume(this, this.subjects.durableFilter(agentId, priority), (delivery) => this.receiveDurable(delivery, agentId)));
    }
    this.agentSubs.set(agentId, subs);
  }

  private unlistenAgent(agentId: string): void {
    const subs = this.agentSubs.get(agentId);
    if (!subs) return;
    this.agentSubs.delete(agentId);
    // Durable messages for the agent wait in the hub for it to register again (here or elsewhere).
    for (const unsubscribe of subs) unsubscribe();
  }

  private addPattern(pattern: string): void {
    const existing = this.patternSubs.get(pattern);
    if (existing) {
      existing.count++;
      return;
    }
    this.patternSubs.set(pattern, { count: 1, unsubscribe: this.state === 'running' ? this.subscribePattern(pattern) : undefined });
  }

  private removePattern(pattern: string): void {
    const entry = this.patternSubs.get(pattern);
    if (!entry || --entry.count > 0) return;
    this.patternSubs.delete(pattern);
    entry.unsubscribe?.();
  }

  private subscribePattern(pattern: string): () => void {
    return this.hub.subscribe(this, this.subjects.topicPattern(pattern), this.onCore);
  }

  /**
   * Envelope checks, as the NATS transport runs them: the frame, its batch elements, or
   * undefined when refused (counted and recorded; an unauthenticated one is dead-lettered on
   * the bus, each message it claims).
   */
  private open(frame: WireFrame, batches: boolean, reference: number, sequence: number): { frame: unknown; frames?: readonly unknown[] } | undefined {
    this.counters.received++;
    const h = frame.headers;
    const encoding = h?.[EnvelopeHeader.ENCODING];
    const batch = h?.[EnvelopeHeader.BATCH];
    const sent = h?.[EnvelopeHeader.SENT];
    const binding = this.replayGuard && { subject: frame.subject, reply: frame.reply ?? '', sent };
    const opened = openFrame(frame.body, h?.[EnvelopeHeader.SIGNATURE], encoding, batch, this.decodeOptions, binding, batches);
    if (!opened.ok) return this.refuse(frame, opened.reason, opened.detail);
    if (this.replayGuard) {
      // A redelivery of a durable message has its sequence: the same signature again is no replay.
      const stale = frameFreshness(this.replayGuard, h?.[EnvelopeHeader.SIGNATURE], sent, reference, this.hub.clock.now(), sequence);
      if (stale !== undefined) return this.refuse(frame, stale.reason, stale.detail);
    }
    if (opened.frames !== undefined) this.counters.received += opened.frames.length - 1;
    return opened;
  }

  private refuse(frame: WireFrame, reason: FrameRejection, detail: string): undefined {
    const h = frame.headers;
    this.refusals.refuse(this.bus, frame.subject, frame.body, reason, detail, h?.[EnvelopeHeader.ENCODING], h?.[EnvelopeHeader.BATCH], this.hub.clock.now());
    return undefined;
  }

  private readonly onCore = (wire: WireFrame): void => {
    const bus = this.bus;
    if (!bus || this.state !== 'running') return;
    const opened = this.open(wire, true, this.hub.clock.now(), 0);
    if (opened === undefined) return;
    const origin = this.subjects.origin(wire.subject) ?? UNIDENTIFIED_ORIGIN;
    if (opened.frames === undefined) return this.acceptCore(bus, opened.frame, wire.reply, origin);
    // Element by element, exactly as single frames: an invalid one is dead-lettered, the others go on.
    for (const element of opened.frames) this.acceptCore(bus, element, wire.reply, origin);
  };

  private acceptCore(bus: BusPort, frame: unknown, reply: string | undefined, origin: string): void {
    const correlationId = this.replies.remember(frame, reply);
    stampOrigin(frame, origin);
    if (!bus.acceptFrame(frame) && correlationId !== undefined) this.replies.forget(correlationId);
  }

  private receiveDurable(delivery: DurableDelivery, agentId: string): void {
    const bus = this.bus;
    if (!bus || this.state !== 'running') return;
    const opened = this.open(delivery, false, delivery.storedAt, delivery.seq);
    if (opened === undefined) return delivery.term();
    const frame = opened.frame as Partial<Message> | null | undefined;
    const key = typeof frame?.messageId === 'string' ? frame.messageId : undefined;
    if (key !== undefined && this.heldDeliveries.settled(key)) {
      this.counters.duplicates++;
      return delivery.ack();
    }
    const holding = key === undefined ? undefined : this.heldDeliveries.holding(key);
    if (holding) {
      // Stored again while this runtime still has it: keep the newest delivery to settle.
      holding.delivery = delivery;
      this.counters.duplicates++;
      return;
    }
    const held: Held = new HeldDelivery(this.broker, this.limits, delivery, key, agentId, maxRetriesOf(frame));
    this.heldDeliveries.hold(held);
    stampOrigin(frame, this.subjects.origin(delivery.subject) ?? UNIDENTIFIED_ORIGIN);
    if (!bus.acceptFrame(frame, held)) {
      this.heldDeliveries.release(held);
      delivery.term();
    }
  }

  /** The hub side of the shared durable policy. */
  private readonly broker: DurableBroker<DurableDelivery> = ackingBroker({
    held: this.heldDeliveries,
    isRunning: () => this.state === 'running',
    counters: this.counters,
    deliveryCount: (delivery) => delivery.deliveryCount,
    deadLetter: (held, letter) => this.moveToDeadLetters(held, letter),
  });

  /** Moves a given-up durable message to the hub's dead-letter store, then acknowledges it. */
  private moveToDeadLetters(held: Held, letter: DeadLetter): void {
    this.heldDeliveries.release(held);
    const d = held.delivery;
    if (this.state !== 'running') return; // unacknowledged: given back to the next connection
    this.hub.deadLetter({
      frame: { subject: d.subject, body: d.body, headers: d.headers, reply: d.reply },
      reason: letter.reason,
      agentId: letter.agentId ?? held.agentId,
      error: letter.error,
      deliveries: d.deliveryCount,
    });
    this.counters.deadLettered++;
    d.ack();
  }

  /** True when `subject` is in this transport's namespace. @internal */
  handlesNamespaceOf(subject: string): boolean {
    return this.state === 'running' && subject.startsWith(`${this.subjects.prefix}.`);
  }

  /** Records the bus dead letter of a durable message that reached the delivery cap unacknowledged. @internal */
  recordDeliveryCap(wire: WireFrame, detail: string): void {
    const h = wire.headers;
    const decoded = decodeFrame(wire.body, h?.[EnvelopeHeader.SIGNATURE], h?.[EnvelopeHeader.ENCODING], this.decodeOptions, {
      subject: wire.subject,
      reply: '',
      sent: h?.[EnvelopeHeader.SENT],
    });
    if (decoded.ok) this.bus?.deadLetterFrame(decoded.frame, 'max_retries', detail);
  }
}
