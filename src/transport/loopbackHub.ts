import { FifoMap } from '../kernel/fifoMap';
import { z } from 'zod';
import { ValidationError } from '../errors';
import { systemClock, type NeuroFluxClock } from '../kernel/clock';
import { EnvelopeHeader } from './envelope';
import { LoopbackTransport, type LoopbackTransportOptions } from './loopbackTransport';
import { SubjectTokenSchema } from './natsOptions';

/**
 * A frame as it travels through a {@link LoopbackHub}: the bytes and envelope headers a
 * NATS message would carry, the subject it was published on and its reply subject.
 */
export interface WireFrame {
  readonly subject: string;
  readonly body: Uint8Array;
  /** Envelope headers (`Nf-Encoding`, `Nf-Signature`, `Nf-Sent`, `Nf-Batch`); undefined: none. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly reply: string | undefined;
}

/**
 * One delivery of a durable (work-queue) message to one connection, settled once: `ack`
 * (handled: removed), `nak` (redelivered after `delayMs`, possibly to another connection),
 * `term` (refused: removed). A settlement from a connection that no longer holds it (it
 * closed and the message went elsewhere) is ignored.
 */
export interface DurableDelivery extends WireFrame {
  /** The message's sequence number in the hub's work queue (the same for each of its deliveries). */
  readonly seq: number;
  /** 1 for the first delivery. */
  readonly deliveryCount: number;
  /** Hub clock time the message was stored. */
  readonly storedAt: number;
  ack(): void;
  nak(delayMs: number): void;
  term(): void;
}

/** A durable message moved to the hub's dead-letter store (what `nf.<ns>.dlq` holds on NATS). */
export interface LoopbackDeadLetter {
  readonly frame: WireFrame;
  readonly reason: string;
  readonly agentId: string | undefined;
  readonly error: string | undefined;
  readonly deliveries: number;
}

/** A transport's identity as `disconnect` takes it (`~`: the transports made without one). */
const IdentitySchema = z.union([SubjectTokenSchema, z.literal('~')]);

/** Delivers one core frame to a connection. */
type CoreHandler = (frame: WireFrame) => void;
/** Delivers one durable message to a connection. */
type DurableHandler = (delivery: DurableDelivery) => void;

interface CoreSubscription {
  readonly tokens: readonly string[];
  readonly owner: object;
  readonly handler: CoreHandler;
}

interface DurableConsumer {
  readonly tokens: readonly string[];
  readonly owner: LoopbackTransport;
  readonly handler: DurableHandler;
}

interface StoredMessage {
  readonly seq: number;
  readonly frame: WireFrame;
  readonly storedAt: number;
  deliveries: number;
  /** The consumer holding the current delivery, if any. */
  holder: DurableConsumer | undefined;
  /** A redelivery waiting for its delay. */
  timer: unknown;
}

const HubOptionsSchema = z.object({
  /**
   * Deliveries of a durable message before it is dead-lettered (default 5, as the NATS
   * transport's `maxDeliver`): a handler failure is retried by redelivery, so a message gets
   * `min(maxDeliver, maxRetries + 1)` attempts.
   */
  maxDeliver: z.number().int().positive().max(1000).default(5),
  /**
   * How long the id of a stored durable message is remembered to drop a second publish of
   * it, ms (default 120 s, the NATS transport's `duplicate_window`).
   */
  duplicateWindowMs: z.number().int().nonnegative().max(86_400_000).default(120_000),
  /** Dead letters kept in `deadLetters`, at most (default 10 000); the oldest go first. */
  maxDeadLetters: z.number().int().positive().max(1_000_000).default(10_000),
});

/** Options of a {@link LoopbackHub}. */
export interface LoopbackHubOptions extends z.input<typeof HubOptionsSchema> {
  /** Time source of redelivery delays, storage times and signatures; XState's `SimulatedClock` in tests. */
  clock?: NeuroFluxClock;
  /**
   * Called with what a connection's handler (its runtime: bus, hooks, agents) threw while
   * the hub delivered to it. The hub goes on delivering to the others. Default: the error is
   * thrown again in a later microtask, an uncaught exception as in a NATS process whose
   * callback throws: that runtime's problem, never a hub that stops for everyone.
   */
  onDeliveryError?: (error: unknown, subject: string) => void;
}

/** The default {@link LoopbackHubOptions.onDeliveryError}: uncaught, after the delivery pass. */
function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/** True when `subject` matches the NATS pattern `tokens` (`*` one token, `>` one or more at the end). */
function subjectMatches(tokens: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (t === '>') return subject.length > i;
    const s = subject[i];
    if (s === undefined || (t !== '*' && t !== s)) return false;
  }
  return subject.length === tokens.length;
}

/**
 * An in-memory stand-in for a NATS server with JetStream, connecting several NeuroFlux
 * runtimes of ONE process (`hub.transport({ identity })` per runtime) with the semantics of
 * the NATS transport: the same subjects (publishers under `nf.<ns>.from.<identity>.`), the
 * same frame encoding and checks (size, signature, gzip, JSON, batches, then the message
 * schema in the bus), no echo of a connection's own publishes, request/reply through
 * inboxes, and for durable types (commands and notifications by default) a work queue with
 * at-least-once delivery: acknowledged once handled, redelivered after a failure (to any
 * connection listening for the agent) up to `maxDeliver`, then dead-lettered.
 *
 * Core frames are delivered in a microtask after they are published (asynchronously, as over
 * a network, in publish order); the only timers are redelivery delays, on the injected
 * clock. A connection that closes gives back the durable messages it held: they are
 * redelivered at once (NATS waits for `ackWait`). A connection receives a core frame once
 * however many of its subscriptions match it (NATS delivers one copy per subscription, which
 * the NATS transport then drops as duplicates).
 *
 * @example
 * ```ts
 * const hub = new LoopbackHub();
 * const orchestrator = createNeuroFlux({ transport: hub.transport({ identity: 'orch' }) });
 * const host = createNeuroFlux({ transport: hub.transport({ identity: 'host-1' }), orchestrator: false });
 * await Promise.all([orchestrator.start(), host.start()]);
 * ```
 */
export class LoopbackHub {
  readonly clock: NeuroFluxClock;
  /** Deliveries of a durable message before it is dead-lettered. */
  readonly maxDeliver: number;
  private readonly duplicateWindowMs: number;
  private readonly maxDeadLetters: number;
  private readonly onDeliveryError: (error: unknown, subject: string) => void;
  /** Ids of durable messages stored within the duplicate window → when they were stored (insertion order = time order). */
  private readonly storedIds = new FifoMap<string, number>();
  private closed = false;
  private readonly core: CoreSubscription[] = [];
  private readonly consumers: DurableConsumer[] = [];
  private readonly stored = new Map<number, StoredMessage>();
  private readonly dead: LoopbackDeadLetter[] = [];
  private readonly outbox: { frame: WireFrame; publisher: object | undefined }[] = [];
  /** Transports made by this hub and not closed (found by identity by `disconnect` / `reconnect`). */
  private readonly transports = new Set<LoopbackTransport>();
  /** Connections cut off by `disconnect`: nothing is delivered to them until `reconnect`. */
  private readonly cutOff = new Set<object>();
  private flushing = false;
  private seq = 0;
  private nextConsumer = 0;

  constructor(options: LoopbackHubOptions = {}) {
    const { clock, onDeliveryError, ...rest } = options;
    const parsed = HubOptionsSchema.safeParse(rest);
    if (!parsed.success) throw ValidationError.fromZod('loopback hub options', parsed.error);
    this.maxDeliver = parsed.data.maxDeliver;
    this.duplicateWindowMs = parsed.data.duplicateWindowMs;
    this.maxDeadLetters = parsed.data.maxDeadLetters;
    this.clock = clock ?? systemClock;
    if (onDeliveryError !== undefined && typeof onDeliveryError !== 'function') {
      throw new ValidationError('loopback hub options', [{ path: 'onDeliveryError', message: 'must be a function' }]);
    }
    this.onDeliveryError = onDeliveryError ?? rethrowLater;
  }

  /**
   * A transport for one runtime connected to this hub.
   *
   * @example
   * ```ts
   * const nf = createNeuroFlux({ transport: hub.transport({ identity: 'host-1', namespace: 'test' }) });
   * ```
   */
  transport(options: LoopbackTransportOptions = {}): LoopbackTransport {
    const transport = new LoopbackTransport(this, options);
    this.transports.add(transport);
    return transport;
  }

  /**
   * Cuts the connection of every open transport with this `identity` (`'~'`: those made
   * without one) as a lost NATS connection would: its `status$` reports `error`
   * (disconnected) then `reconnecting`, so its runtime's agents read `offline`; core frames
   * for it are lost (at most once), durable messages it held go back to the queue (on NATS
   * after `ackWait`) for another connection, or for it once back; what it publishes
   * meanwhile waits in its client and goes out on {@link reconnect}, within the transport's
   * `reconnectBufferBytes` (the NATS transport's bound; past it frames are dropped and counted
   * in `lostWhileCutOff`). Works before `start()` too. A transport already cut off is left as
   * it is (no second report). Returns how many were cut off now.
   *
   * @example
   * ```ts
   * hub.disconnect('host-1');
   * expect(hostRuntime.bus.getAgent('host-1-worker')?.actor.getSnapshot().matches('offline')).toBe(true);
   * hub.reconnect('host-1');
   * ```
   * @throws ValidationError (`identity`) when no open transport has this identity.
   */
  disconnect(identity: string): number {
    let changed = 0;
    for (const transport of this.withIdentity(identity)) {
      if (this.cutOff.has(transport)) continue;
      this.cutOff.add(transport);
      changed++;
      for (const message of this.stored.values()) if (message.holder?.owner === transport) this.release(message);
      transport.linkChanged(false);
    }
    return changed;
  }

  /**
   * Connects again the transports {@link disconnect} cut off (a transport that is connected
   * is left as it is): `status$` reports `ready`, what they published meanwhile goes out, and
   * durable messages waiting for their agents are delivered. Returns how many reconnected.
   *
   * @throws ValidationError (`identity`) when no open transport has this identity.
   */
  reconnect(identity: string): number {
    let changed = 0;
    for (const transport of this.withIdentity(identity)) {
      if (!this.cutOff.delete(transport)) continue;
      changed++;
      transport.linkChanged(true);
    }
    if (changed > 0) queueMicrotask(() => this.deliverWaiting());
    return changed;
  }

  /** True while `transport` is cut off by {@link disconnect}. */
  isCutOff(transport: LoopbackTransport): boolean {
    return this.cutOff.has(transport);
  }

  private withIdentity(identity: string): LoopbackTransport[] {
    const parsed = IdentitySchema.safeParse(identity);
    if (!parsed.success) throw ValidationError.fromZod('identity', parsed.error);
    const found = [...this.transports].filter((t) => t.identity === parsed.data);
    if (found.length === 0) throw new ValidationError('loopback hub', [{ path: 'identity', message: `no open transport of this hub has identity '${parsed.data}'` }]);
    return found;
  }

  /**
   * Publishes raw bytes on `subject` as some process of the namespace could (forged or
   * malformed frames in tests): delivered like any core frame, or stored like a durable
   * message when the subject is a durable one (`nf.<ns>.from.<id>.durable.…`). A durable
   * frame with a `Nats-Msg-Id` header whose id was stored within the duplicate window is
   * dropped, as JetStream does.
   *
   * @example
   * ```ts
   * hub.inject('nf.default.from.evil.broadcast', '{"not":"a message"}');
   * ```
   */
  inject(subject: string, body: Uint8Array | string, options: { headers?: Record<string, string>; reply?: string } = {}): void {
    const frame: WireFrame = {
      subject,
      body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
      headers: options.headers,
      reply: options.reply,
    };
    if (subject.split('.')[4] === 'durable') this.store(frame, options.headers?.[EnvelopeHeader.MESSAGE_ID]);
    else this.publish(frame, undefined);
  }

  /**
   * Stops the hub: pending redelivery timers are cancelled, stored and dead-lettered
   * messages dropped, and later publishes ignored. Call it after the runtimes stopped (a
   * redelivery timer on the system clock would otherwise keep the process alive).
   *
   * @example
   * ```ts
   * await Promise.all([a.stop(), b.stop()]);
   * hub.close();
   * ```
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const message of this.stored.values()) {
      if (message.timer !== undefined) this.clock.clearTimeout(message.timer);
      message.timer = undefined;
    }
    this.stored.clear();
    this.storedIds.clear();
    this.dead.length = 0;
    this.outbox.length = 0;
    this.cutOff.clear();
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Durable messages given up so far (oldest first), as the dead-letter stream holds them. */
  get deadLetters(): readonly LoopbackDeadLetter[] {
    return this.dead;
  }

  /** Durable messages stored and not yet acknowledged (waiting, held or waiting for a redelivery). */
  get pendingDurable(): number {
    return this.stored.size;
  }

  // --- for LoopbackTransport ------------------------------------------------------------

  /** @internal */
  subscribe(owner: object, pattern: string, handler: CoreHandler): () => void {
    const sub: CoreSubscription = { tokens: pattern.split('.'), owner, handler };
    this.core.push(sub);
    return () => {
      const i = this.core.indexOf(sub);
      if (i >= 0) this.core.splice(i, 1);
    };
  }

  /** Queues a core frame; every other connection with a matching subscription receives it once. @internal */
  publish(frame: WireFrame, publisher: object | undefined): void {
    if (this.closed) return;
    this.outbox.push({ frame, publisher });
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(this.flush);
  }

  /**
   * Stores a durable message and delivers it to a consumer of its subject, if one listens;
   * false when dropped as a duplicate: `msgId` stored within the duplicate window (JetStream's
   * msgID de-duplication). @internal
   */
  store(frame: WireFrame, msgId: string | undefined): boolean {
    if (this.closed) return false;
    if (msgId !== undefined && this.duplicateWindowMs > 0) {
      const now = this.clock.now();
      // Forget ids older than the window (the map is in storage order, so oldest first).
      for (let at = this.storedIds.oldestValue(); at !== undefined && now - at >= this.duplicateWindowMs; at = this.storedIds.oldestValue()) this.storedIds.shift();
      if (this.storedIds.has(msgId)) return false;
      this.storedIds.set(msgId, now);
    }
    const message: StoredMessage = { seq: ++this.seq, frame, storedAt: this.clock.now(), deliveries: 0, holder: undefined, timer: undefined };
    this.stored.set(message.seq, message);
    queueMicrotask(() => this.deliver(message));
    return true;
  }

  /** Adds a consumer of durable messages on `filter`; waiting messages it matches are delivered. @internal */
  consume(owner: LoopbackTransport, filter: string, handler: DurableHandler): () => void {
    const consumer: DurableConsumer = { tokens: filter.split('.'), owner, handler };
    this.consumers.push(consumer);
    queueMicrotask(() => this.deliverWaiting());
    return () => {
      const i = this.consumers.indexOf(consumer);
      if (i < 0) return;
      this.consumers.splice(i, 1);
      // What it held goes to another consumer (or waits for one).
      for (const message of this.stored.values()) if (message.holder === consumer) this.release(message);
    };
  }

  /** A transport closed: `disconnect` no longer finds it. @internal */
  forget(transport: LoopbackTransport): void {
    this.transports.delete(transport);
    this.cutOff.delete(transport);
  }

  /** Moves a durable message to the dead-letter store (acknowledging it). @internal */
  deadLetter(letter: LoopbackDeadLetter): void {
    if (this.closed) return;
    if (this.dead.length >= this.maxDeadLetters) this.dead.shift();
    this.dead.push(letter);
  }

  /** Delivers the stored messages no connection holds and none waits a delay for. */
  private deliverWaiting(): void {
    for (const message of this.stored.values()) if (message.holder === undefined && message.timer === undefined) this.deliver(message);
  }

  private readonly flush = (): void => {
    // Frames published while delivering are delivered in this same pass, after the earlier ones.
    try {
      for (let i = 0; i < this.outbox.length; i++) {
        const { frame, publisher } = this.outbox[i] as { frame: WireFrame; publisher: object | undefined };
        const subject = frame.subject.split('.');
        const reached = new Set<object>();
        for (const sub of [...this.core]) {
          // No echo, one copy per connection, nothing for a connection cut off (core traffic is at most once).
          if (sub.owner === publisher || reached.has(sub.owner) || this.cutOff.has(sub.owner) || !subjectMatches(sub.tokens, subject)) continue;
          reached.add(sub.owner);
          this.handOver(sub.handler, frame, frame.subject);
        }
      }
    } finally {
      // Even if reporting an error threw: the hub never stays wedged with `flushing` set.
      this.outbox.length = 0;
      this.flushing = false;
    }
  };

  /** One delivery to one connection: what its runtime throws is its own problem, reported, never the hub's. */
  private handOver<F>(handler: (frame: F) => void, frame: F, subject: string): void {
    try {
      handler(frame);
    } catch (error) {
      this.onDeliveryError(error, subject);
    }
  }

  private deliver(message: StoredMessage): void {
    if (message.holder !== undefined || message.timer !== undefined || !this.stored.has(message.seq)) return;
    const subject = message.frame.subject.split('.');
    const matching = this.consumers.filter((c) => !this.cutOff.has(c.owner) && subjectMatches(c.tokens, subject));
    if (matching.length === 0) return; // waits in the queue for a consumer
    const consumer = matching[this.nextConsumer++ % matching.length] as DurableConsumer;
    message.deliveries++;
    message.holder = consumer;
    let settled = false;
    const settle = (): boolean => {
      if (settled || message.holder !== consumer) return false;
      settled = true;
      message.holder = undefined;
      return true;
    };
    const delivery: DurableDelivery = {
      ...message.frame,
      seq: message.seq,
      deliveryCount: message.deliveries,
      storedAt: message.storedAt,
      ack: () => {
        if (settle()) this.stored.delete(message.seq);
      },
      term: () => {
        if (settle()) this.stored.delete(message.seq);
      },
      nak: (delayMs) => {
        if (!settle()) return;
        if (delayMs <= 0) queueMicrotask(() => this.deliver(message));
        else
          message.timer = this.clock.setTimeout(() => {
            message.timer = undefined;
            this.deliver(message);
          }, delayMs);
      },
    };
    this.handOver(consumer.handler, delivery, message.frame.subject);
  }

  /** A held message whose connection went away: redelivered, or dead-lettered at the delivery cap. */
  private release(message: StoredMessage): void {
    message.holder = undefined;
    if (message.deliveries < this.maxDeliver) {
      queueMicrotask(() => this.deliver(message));
      return;
    }
    // The delivery cap reached unacknowledged (NATS: the max-deliveries advisory): one live
    // connection of the namespace records the bus dead letter.
    this.stored.delete(message.seq);
    const detail = `delivery cap reached (${message.deliveries} deliveries, none acknowledged)`;
    this.deadLetter({ frame: message.frame, reason: 'max_retries', agentId: undefined, error: detail, deliveries: message.deliveries });
    const witness = this.consumers.find((c) => c.owner.handlesNamespaceOf(message.frame.subject))?.owner;
    witness?.recordDeliveryCap(message.frame, detail);
  }
}
