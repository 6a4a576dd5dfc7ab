import { randomUUID } from 'node:crypto';
import type { NeuroFluxClock } from '../kernel/clock';
import { DeliveryFailedError, UnknownAgentError, ValidationError, type NeuroFluxErrorOptions } from '../errors';
import { findNonJson } from '../jsonValue';
import { checkRequestArgs, checkResponseTarget } from './plainArguments';
import type { DeadLetter } from './deadLetter';
import { DeliveryFailureHeader, deliveryFailureOf } from './deliveryFailure';
import { MessagePriority, MessageType, type Message, type MessageFields } from './message';
import { PendingRequests } from './pendingRequests';

/**
 * What request/reply asks of its bus: send a message built from validated parts (throws
 * what a send throws). One object per bus, not a closure per request.
 * @internal
 */
export interface RequestSender {
  /** Throws `NotRunningError` once the bus has stopped. */
  assertRunning(): void;
  sendBuilt(fields: MessageFields): Message;
}

/** What became of a response offered to the waiting requests. @internal */
export type ResponseSettlement = 'resolved' | 'rejected' | undefined;

/**
 * The request/response protocol of a bus: correlation ids, the `sendRequest` waiters and
 * their timeouts, responses settling them (a response flagged as a delivery failure rejects
 * its waiter), plain request messages whose response goes back to the requester's mailbox,
 * and requests failing early when they were dead-lettered. The bookkeeping itself is
 * {@link PendingRequests}; this is what the bus does with it.
 * @internal
 */
export class RequestReply {
  private readonly pending: PendingRequests;

  constructor(
    clock: NeuroFluxClock,
    private readonly defaultTimeoutMs: number,
    private readonly sender: RequestSender,
  ) {
    this.pending = new PendingRequests(clock);
  }

  /** `sendRequest` waiters not yet settled. */
  get waiting(): number {
    return this.pending.size;
  }

  /**
   * Sends a request (validated here; `senderId` fixed by an agent handle, or taken from
   * `args`) and resolves with its response; rejects at its timeout, or at once when the send
   * throws.
   */
  request(args: unknown, senderId: string | undefined): Promise<Message> {
    // The common shape checked by hand (plainArguments.ts), anything else by the schema.
    const a = checkRequestArgs(args, senderId === undefined);
    this.sender.assertRunning();
    const correlationId = randomUUID();
    const response = this.pending.wait(correlationId, a.recipientId, a.topic, a.timeoutMs ?? this.defaultTimeoutMs);
    try {
      // Fields named one by one, as in the bus's `publishAs` (V8 slow path for a spread).
      this.sender.sendBuilt({
        senderId: senderId ?? (a.senderId as string),
        recipientId: a.recipientId,
        messageType: MessageType.REQUEST,
        topic: a.topic,
        payload: a.payload,
        priority: a.priority,
        correlationId,
        ttl: a.ttl,
        headers: a.headers,
        metadata: a.metadata,
      });
    } catch (error) {
      this.pending.reject(correlationId, error as Error);
    }
    return response;
  }

  /**
   * Answers `request`: type response, priority high, topic `response`, same correlation id
   * (or the request's message id when it had none).
   */
  respond(request: Message, payload: unknown, senderId: string | undefined): Message {
    // Each field of the request is read once (review F1/F2): the response is built from what was checked.
    const target = checkResponseTarget(request);
    const notJson = findNonJson(payload);
    if (notJson) throw new ValidationError('response', [{ path: notJson.path ? `payload.${notJson.path}` : 'payload', message: notJson.message }]);
    return this.sender.sendBuilt({
      senderId: senderId ?? target.recipientId ?? 'bus',
      recipientId: target.senderId,
      messageType: MessageType.RESPONSE,
      priority: MessagePriority.HIGH,
      topic: 'response',
      payload,
      correlationId: target.correlationId ?? target.messageId,
    });
  }

  /**
   * Offers a response (with a correlation id) to the `sendRequest` waiters: `resolved` when
   * one took it, `rejected` when it reported that its request was dead-lettered in the
   * recipient's process, undefined when nobody waits for it.
   */
  settle(response: Message & { correlationId: string }): ResponseSettlement {
    const failure = deliveryFailureOf(response);
    if (failure !== undefined && this.pending.isWaiting(response.correlationId)) {
      this.pending.reject(
        response.correlationId,
        failure === 'no_route'
          ? new UnknownAgentError(response.senderId)
          : new DeliveryFailedError(response.senderId, response.topic, failure, response.headers?.[DeliveryFailureHeader.DETAIL]),
      );
      return 'rejected';
    }
    return this.pending.resolve(response) ? 'resolved' : undefined;
  }

  /** True when `response` answers a plain request message still open: it goes to the requester's mailbox. */
  claimOpen(response: Message, now: number): boolean {
    return this.pending.closeCorrelation(response, now);
  }

  /** A request message is being delivered: remember it when nobody waits for it with `sendRequest`. */
  routed(request: Message, now: number): void {
    if (!this.pending.isWaiting(request.correlationId)) this.pending.openCorrelation(request, now);
  }

  /**
   * A request was dead-lettered: its waiter (if in this process) rejects now rather than at
   * its timeout. False when nobody here waits for it.
   */
  failed(request: Message, reason: DeadLetter['reason'], agentId: string | undefined, error: string | undefined, thrown: NeuroFluxErrorOptions | undefined): boolean {
    const correlationId = request.correlationId;
    if (correlationId === undefined || !this.pending.isWaiting(correlationId)) return false;
    const recipient = request.recipientId ?? agentId ?? '?';
    this.pending.reject(correlationId, reason === 'no_route' ? new UnknownAgentError(recipient) : new DeliveryFailedError(recipient, request.topic, reason, error, thrown));
    return true;
  }

  /** Rejects every waiter whose request went to `recipientId` (or all, without one). */
  rejectAll(error: (recipientId: string) => Error, recipientId?: string): void {
    this.pending.rejectAll(error, recipientId);
  }

  /** Forgets open correlations whose request expired (the TTL sweep). */
  pruneOpen(now: number): void {
    this.pending.pruneOpen(now);
  }
}
