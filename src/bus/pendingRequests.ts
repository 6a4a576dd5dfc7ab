import type { NeuroFluxClock } from '../kernel/clock';
import { RequestTimeoutError } from '../errors';
import type { Message } from './message';

interface Waiter {
  readonly recipientId: string;
  readonly resolve: (response: Message) => void;
  readonly reject: (error: Error) => void;
  readonly timer: unknown;
}

/**
 * Correlation bookkeeping for request/response.
 * - `waiting`: requests made with `sendRequest`, resolved by their response or rejected
 *   by their timeout (a timer on the runtime's clock).
 * - `open`: requests sent as plain messages (the guide's manual pattern); their response
 *   is delivered to the requester's mailbox while the request's TTL lasts.
 * A response matching neither is an orphan.
 * @internal
 */
export class PendingRequests {
  private readonly waiting = new Map<string, Waiter>();
  private readonly open = new Map<string, number>();
  private openedSincePrune = 0;

  constructor(private readonly clock: NeuroFluxClock) {}

  get size(): number {
    return this.waiting.size;
  }

  isWaiting(correlationId: string | undefined): boolean {
    return correlationId !== undefined && this.waiting.has(correlationId);
  }

  /** Registers a waiter; the returned promise settles with the response or a timeout. */
  wait(correlationId: string, recipientId: string, topic: string, timeoutMs: number): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        if (this.waiting.delete(correlationId)) reject(new RequestTimeoutError(recipientId, topic, timeoutMs));
      }, timeoutMs);
      this.waiting.set(correlationId, { recipientId, resolve, reject, timer });
    });
  }

  /** Resolves the waiter of `response`; false when nobody waits for it. */
  resolve(response: Message): boolean {
    const id = response.correlationId;
    const waiter = id === undefined ? undefined : this.waiting.get(id);
    if (!waiter || id === undefined) return false;
    this.waiting.delete(id);
    this.clock.clearTimeout(waiter.timer);
    waiter.resolve(response);
    return true;
  }

  /** Rejects one waiter (e.g. its request could not be routed). */
  reject(correlationId: string, error: Error): void {
    const waiter = this.waiting.get(correlationId);
    if (!waiter) return;
    this.waiting.delete(correlationId);
    this.clock.clearTimeout(waiter.timer);
    waiter.reject(error);
  }

  /** Rejects every waiter whose request went to `recipientId` (or all, without one). */
  rejectAll(error: (recipientId: string) => Error, recipientId?: string): void {
    for (const [id, waiter] of this.waiting) {
      if (recipientId === undefined || waiter.recipientId === recipientId) this.reject(id, error(waiter.recipientId));
    }
  }

  /**
   * Remembers a plain request message so that its response can be routed back, under its
   * correlation id (or its message id, which `sendResponse` uses when there is none).
   */
  openCorrelation(request: Message, now: number): void {
    this.open.set(request.correlationId ?? request.messageId, request.timestamp + request.ttl * 1000);
    // Unanswered requests must not pile up: sweep expired ones now and then.
    if (++this.openedSincePrune >= 1024) {
      this.openedSincePrune = 0;
      this.pruneOpen(now);
    }
  }

  /** Closes the open correlation of `response`; true when it was open and unexpired. */
  closeCorrelation(response: Message, now: number): boolean {
    const id = response.correlationId;
    if (id === undefined) return false;
    const expiresAt = this.open.get(id);
    if (expiresAt === undefined) return false;
    this.open.delete(id);
    return now <= expiresAt;
  }

  /** Forgets open correlations whose request expired. */
  pruneOpen(now: number): void {
    for (const [id, expiresAt] of this.open) if (now > expiresAt) this.open.delete(id);
  }
}
