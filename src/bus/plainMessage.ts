import { findNonJson } from '../jsonValue';
import { nextMessageId } from './messageId';
import { DEFAULT_MAX_RETRIES, DEFAULT_TTL_SECONDS, MessagePriority, MessageType, type Message } from './model/message';

/** The message types, for a membership test. @internal */
export const MESSAGE_TYPES: ReadonlySet<unknown> = new Set(Object.values(MessageType));
/** The priorities, for a membership test. @internal */
export const PRIORITIES: ReadonlySet<unknown> = new Set(Object.values(MessagePriority));

/** A string `MessageSchema`'s `nonEmpty` accepts. @internal */
export const isNonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
/** A count `z.number().int().nonnegative()` accepts (zod's `int` is a safe integer). @internal */
export const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
/** An object zod's `z.object` looks into (it refuses null and arrays, and reads any other object's properties). @internal */
export const isObjectInput = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What `parseMessage` makes of `input` through `MessageSchema` (with `senderId`: through the
 * same schema without `senderId`, then stamped with it), computed by hand; `undefined` when
 * the schema must judge it. `messageId` and `timestamp` are filled in when absent.
 *
 * A message sent in this process is checked here against the same constraints as
 * `MessageSchema`: each field is read once and tested, the payload goes through
 * `findNonJson` like `JsonValueSchema` does, unknown fields are left out as zod strips them,
 * and an optional field present with the value `undefined` is kept as zod keeps it. Only
 * what this check accepts is built here; anything else (a bad field, `headers` or
 * `metadata`, which are records zod copies by its own rules) returns `undefined`, and the
 * caller runs the schema, which names the bad field. So every message is still validated,
 * and the errors are the schema's.
 *
 * Why by hand: zod's generic object parse was the largest cost of a local send. A CPU
 * profile of `bench/bus.ts` batched delivery (batch 10) put `safeParse` at 19 % of the time
 * and its allocations (about 1.1 KB of the 2.1 KB a message allocated) behind much of the
 * 30 % spent in GC; this check allocates only the message. See docs/benchmarks.md (Bus) for
 * the paired A/B.
 *
 * The message is built with the field order of `createMessage`, so every message the bus
 * routes has one hidden class and the hot path stays monomorphic.
 * @internal
 */
export function parsePlainMessage(input: unknown, now: number, senderId: string | undefined): Message | undefined {
  if (!isObjectInput(input)) return undefined;
  // Each field is read once (a getter answers once) and judged on what it returned.
  const sender = senderId ?? input.senderId;
  const { messageId, recipientId, messageType, priority, topic, payload, timestamp, correlationId, ttl, retryCount, maxRetries, headers, metadata } = input;
  if (
    !isNonEmpty(sender) ||
    !isNonEmpty(topic) ||
    !MESSAGE_TYPES.has(messageType) ||
    !(messageId === undefined || isNonEmpty(messageId)) ||
    !(recipientId === undefined || recipientId === null || isNonEmpty(recipientId)) ||
    !(priority === undefined || PRIORITIES.has(priority)) ||
    // zod's `z.number()` refuses NaN and ±Infinity.
    !(timestamp === undefined || (typeof timestamp === 'number' && Number.isFinite(timestamp) && timestamp >= 0)) ||
    !(correlationId === undefined || isNonEmpty(correlationId)) ||
    !(ttl === undefined || (typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0)) ||
    !(retryCount === undefined || isCount(retryCount)) ||
    !(maxRetries === undefined || isCount(maxRetries)) ||
    headers !== undefined ||
    metadata !== undefined ||
    (payload !== undefined && findNonJson(payload) !== undefined)
  ) {
    return undefined;
  }
  const message: Message = {
    messageId: messageId ?? nextMessageId(),
    senderId: sender,
    recipientId: recipientId ?? null,
    messageType: messageType as MessageType,
    priority: (priority as MessagePriority | undefined) ?? 'medium',
    topic,
    payload: payload === undefined ? {} : payload,
    timestamp: timestamp ?? now,
    ttl: ttl ?? DEFAULT_TTL_SECONDS,
    retryCount: retryCount ?? 0,
    maxRetries: maxRetries ?? DEFAULT_MAX_RETRIES,
  };
  // Present but undefined: zod keeps the key (`'correlationId' in message`), and so does this.
  if (correlationId !== undefined || 'correlationId' in input) message.correlationId = correlationId;
  if ('headers' in input) message.headers = undefined;
  if ('metadata' in input) message.metadata = undefined;
  return message;
}
