import type { DeadLetter } from '../bus/deadLetter';
import { DEFAULT_MAX_RETRIES } from '../bus/message';
import type { FrameReceipt } from '../bus/transportLink';
import { RecentIds } from '../kernel/recentIds';

/**
 * The durable delivery policy of every transport, one implementation: which failures get
 * another delivery, after how long, and which deliveries are duplicates. Each transport
 * supplies only its broker adapter ({@link DurableBroker}). @internal
 */

/** How a transport talks to its broker about one held delivery (`D`: its delivery object). @internal */
export interface DurableBroker<D> {
  /** 1 for the first delivery. */
  deliveryCount(delivery: D): number;
  /** Handled: acknowledge. */
  acknowledge(held: HeldDelivery<D>): void;
  /** Gives the delivery back for a later attempt after `delayMs`; false when not running. */
  redeliver(held: HeldDelivery<D>, delayMs: number): boolean;
  /** Moves the message to the dead-letter store, then acknowledges it. */
  deadLetter(held: HeldDelivery<D>, letter: DeadLetter): void;
}

/** The limits the policy reads (the transport's validated options). @internal */
export interface DurableLimits {
  readonly maxDeliver: number;
  readonly retryDelayMs: number;
  /** Upper bound of a redelivery delay (NATS: the consumer's `ack_wait`). */
  readonly ackWaitMs: number;
}

/** The `maxRetries` a received frame claims (checked by the bus right after), or the default. @internal */
export function maxRetriesOf(frame: unknown): number {
  const m = typeof frame === 'object' && frame !== null ? (frame as { maxRetries?: unknown }).maxRetries : undefined;
  return typeof m === 'number' ? m : DEFAULT_MAX_RETRIES;
}

/** Delay before the next delivery after attempt `attempt` failed: doubling from `retryDelayMs`, at most `ackWaitMs`. @internal */
export function redeliveryDelay(limits: DurableLimits, attempt: number): number {
  return Math.min(limits.ackWaitMs, limits.retryDelayMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * A durable delivery a transport holds until the bus settles it: the bus's receipt for it.
 * A handler failure gets another delivery while under `min(maxDeliver, maxRetries + 1)`
 * deliveries; no route or a full mailbox (maybe only here) another one under `maxDeliver`,
 * maybe to another process; anything else is dead-lettered. @internal
 */
export class HeldDelivery<D> implements FrameReceipt {
  constructor(
    private readonly broker: DurableBroker<D>,
    private readonly limits: DurableLimits,
    /** The newest delivery (a redelivery while held replaces it): the one to settle. */
    public delivery: D,
    readonly key: string | undefined,
    readonly agentId: string,
    readonly maxRetries: number,
  ) {}

  handled(): void {
    this.broker.acknowledge(this);
  }

  failed(): boolean {
    const count = this.broker.deliveryCount(this.delivery);
    return count < Math.min(this.limits.maxDeliver, this.maxRetries + 1) && this.broker.redeliver(this, redeliveryDelay(this.limits, count));
  }

  abandoned(letter: DeadLetter): boolean {
    // No agent here (any more) or no room: another delivery, maybe to another process.
    const retriable = letter.reason === 'no_route' || letter.reason === 'queue_full';
    const count = this.broker.deliveryCount(this.delivery);
    if (retriable && count < this.limits.maxDeliver && this.broker.redeliver(this, redeliveryDelay(this.limits, count))) return true;
    this.broker.deadLetter(this, letter);
    return false;
  }
}

/** Durable message ids remembered after they were settled, at most. */
const SEEN_MEMORY = 10_000;

/**
 * Receiver-side de-duplication of durable deliveries (both transports): ids settled recently
 * (the broker redelivers a message whose ack was lost) and deliveries held now (a
 * redelivery while held replaces the held delivery). @internal
 */
export class HeldDeliveries<D> {
  private readonly seen = new RecentIds(SEEN_MEMORY);
  private readonly held = new Map<string, HeldDelivery<D>>();

  /** True when `key` was settled recently: the delivery is a duplicate to acknowledge and drop. */
  settled(key: string): boolean {
    return this.seen.has(key);
  }

  /** The delivery of `key` held now, if any. */
  holding(key: string): HeldDelivery<D> | undefined {
    return this.held.get(key);
  }

  /** The deliveries held now (NATS: to extend their ack wait). */
  values(): IterableIterator<HeldDelivery<D>> {
    return this.held.values();
  }

  /** Forgets every held delivery (the transport closed; unacknowledged, they go back to the broker). */
  clear(): void {
    this.held.clear();
  }

  hold(held: HeldDelivery<D>): void {
    if (held.key !== undefined) this.held.set(held.key, held);
  }

  /** Forgets a held delivery; `settled` remembers its id so a late redelivery is dropped. */
  release(held: HeldDelivery<D>, settled = true): void {
    if (held.key === undefined) return;
    if (this.held.get(held.key) === held) this.held.delete(held.key);
    if (settled) this.seen.add(held.key);
  }
}

/** A delivery its broker acknowledges or gives back after a delay (JetStream's `JsMsg`, the loopback hub's). @internal */
export interface AckableDelivery {
  ack(): void;
  nak(delayMs: number): void;
}

/**
 * The broker adapter of both transports: acknowledge, or give the delivery back for a later
 * attempt while the transport runs (counted); where a given-up message goes is the transport's own. @internal
 */
export function ackingBroker<D extends AckableDelivery>(parts: {
  readonly held: HeldDeliveries<D>;
  readonly isRunning: () => boolean;
  readonly counters: { redelivered: number };
  readonly deliveryCount: (delivery: D) => number;
  readonly deadLetter: (held: HeldDelivery<D>, letter: DeadLetter) => void;
}): DurableBroker<D> {
  return {
    deliveryCount: parts.deliveryCount,
    acknowledge: (held) => {
      parts.held.release(held);
      held.delivery.ack();
    },
    redeliver: (held, delayMs) => {
      if (!parts.isRunning()) return false;
      parts.held.release(held, false);
      held.delivery.nak(delayMs);
      parts.counters.redelivered++;
      return true;
    },
    deadLetter: parts.deadLetter,
  };
}
