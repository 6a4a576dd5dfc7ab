import type { Message } from './message';

/** Why a message ended in the dead-letter stream. */
export const DeadLetterReason = {
  EXPIRED: 'expired',
  NO_ROUTE: 'no_route',
  ORPHAN_RESPONSE: 'orphan_response',
  QUEUE_FULL: 'queue_full',
  MAX_RETRIES: 'max_retries',
  INVALID: 'invalid',
  /**
   * A frame from the network whose HMAC signature was missing or wrong (transport with
   * `hmacSecret`). Its `message` is what the frame claims and must not be trusted.
   */
  UNAUTHENTICATED: 'unauthenticated',
} as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

/** A message that could not be delivered, with the reason and when it was given up. */
export interface DeadLetter {
  readonly reason: Exclude<DeadLetterReason, 'invalid'>;
  readonly message: Message;
  /** The agent whose mailbox held it, when there was one. */
  readonly agentId?: string;
  /**
   * The last handler error for `max_retries`; why the frame was refused for `unauthenticated`;
   * for `queue_full`, `evicted ...` when the message was queued and removed to make room.
   */
  readonly error?: string;
  /** Clock time (ms) at which it was dead-lettered. */
  readonly at: number;
}

/** A frame that never became a message because it failed validation. */
export interface InvalidDeadLetter {
  readonly reason: 'invalid';
  readonly frame: unknown;
  readonly error: string;
  readonly at: number;
}

export type AnyDeadLetter = DeadLetter | InvalidDeadLetter;
