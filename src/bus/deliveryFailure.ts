import { DeadLetterReason } from './deadLetter';
import { createMessage, MessageType, type Message } from './message';

/**
 * Message headers of a response that reports a failed request instead of answering it: the
 * request was dead-lettered in its recipient's process (another process than the requester's).
 * @internal
 */
export const DeliveryFailureHeader = {
  REASON: 'nf-delivery-failed',
  DETAIL: 'nf-delivery-detail',
} as const;

const deadLetterReasons: ReadonlySet<string> = new Set(Object.values(DeadLetterReason));

/** The dead-letter reason a response reports instead of answering, when it names a known one. @internal */
export function deliveryFailureOf(message: Message): DeadLetterReason | undefined {
  const reason = message.headers?.[DeliveryFailureHeader.REASON];
  return reason !== undefined && deadLetterReasons.has(reason) ? (reason as DeadLetterReason) : undefined;
}

/**
 * The response that tells a requester in another process that its request was dead-lettered
 * here (`reason`, and `error` cut to 500 characters), instead of answering it. @internal
 */
export function deliveryFailureResponse(request: Message, reason: DeadLetterReason, recipientId: string, error: string | undefined, now: number): Message {
  return createMessage(
    {
      senderId: recipientId,
      recipientId: request.senderId,
      messageType: MessageType.RESPONSE,
      topic: request.topic,
      correlationId: request.correlationId,
      priority: request.priority,
      payload: null,
      headers: { [DeliveryFailureHeader.REASON]: reason, ...(error && { [DeliveryFailureHeader.DETAIL]: error.slice(0, 500) }) },
    },
    now,
  );
}
