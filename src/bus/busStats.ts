import type { DeadLetterReason } from './deadLetter';
import type { MessagePriority } from './message';

/** A snapshot of the bus's counters. Times are milliseconds. */
export interface BusStats {
  /** Messages accepted by the bus (after validation). */
  readonly messagesSent: number;
  /** Deliveries handed to an agent (a broadcast to n agents counts n). */
  readonly messagesDelivered: number;
  /** Deliveries whose handler finished without error. */
  readonly messagesProcessed: number;
  /** Handler failures (each failed attempt). */
  readonly messagesFailed: number;
  /** Failed deliveries put back for another attempt. */
  readonly messagesRetried: number;
  /** Sends refused with a typed error (invalid input, full mailbox). */
  readonly messagesRejected: number;
  /**
   * Accepted messages removed from a full mailbox to make room for another (dead-lettered
   * as `queue_full`, with `evicted ...` as their error).
   */
  readonly messagesEvicted: number;
  readonly avgProcessingTime: number;
  readonly registeredAgents: number;
  readonly activeSubscriptions: number;
  readonly pendingResponses: number;
  /** Messages waiting in all mailboxes. */
  readonly queueDepth: number;
  readonly messagesByPriority: Readonly<Record<MessagePriority, number>>;
  readonly deadLetters: Readonly<Record<DeadLetterReason, number>> & { readonly total: number };
}

/** Mutable counters behind {@link BusStats}. @internal */
export class BusCounters {
  sent = 0;
  delivered = 0;
  processed = 0;
  failed = 0;
  retried = 0;
  rejected = 0;
  evicted = 0;
  processingTimeTotal = 0;
  readonly byPriority: Record<MessagePriority, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  readonly deadLetters: Record<DeadLetterReason, number> = {
    expired: 0,
    no_route: 0,
    orphan_response: 0,
    queue_full: 0,
    max_retries: 0,
    invalid: 0,
    unauthenticated: 0,
  };
}
