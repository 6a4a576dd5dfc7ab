import { isProxy } from 'node:util/types';
import { ValidationError } from '../errors';
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

/** `MessageSchema`'s keys in its shape order: the order zod reads them in. @internal */
export const MESSAGE_KEYS = [
  'messageId',
  'senderId',
  'recipientId',
  'messageType',
  'priority',
  'topic',
  'payload',
  'timestamp',
  'correlationId',
  'ttl',
  'retryCount',
  'maxRetries',
  'headers',
  'metadata',
] as const;
/** `MessageSchema` without `senderId` (a handle's send): its keys in its order. */
const AGENT_MESSAGE_KEYS = MESSAGE_KEYS.filter((k) => k !== 'senderId');

/**
 * What the schema is given when the hand check does not decide: the fields of the caller's
 * object as they were read, in a plain object, so that no field is read twice (a getter
 * answers once, whichever path judges it). @internal
 */
export class SchemaInput {
  constructor(
    /** A plain snapshot of the fields read; the caller's input itself when it is not an ordinary object (a non-object, an array, a Proxy) and the hand check read nothing. */
    readonly value: unknown,
  ) {}
}

/**
 * The fields zod would see in `input`, as already read: `values[i]` (the value of `keys[i]`)
 * kept only when `keys[i] in input`, as zod keeps a key. For an ordinary object (not a
 * Proxy) `in` has no side effect and agrees with what the read found, so the schema judges
 * this snapshot exactly as it would have judged `input`, without reading it again.
 * @internal
 */
export function snapshotFields(input: object, keys: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  const snapshot: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key in input) snapshot[key] = values[i];
  }
  return snapshot;
}

/**
 * What `parseMessage` makes of `input` through `MessageSchema` (with `senderId`: through the
 * same schema without `senderId`, then stamped with it), computed by hand; a
 * {@link SchemaInput} when the schema must judge it. `messageId` and `timestamp` are filled
 * in when absent; `maxRetries` above `maxRetriesCap` is refused, and its default lowered to
 * the cap.
 *
 * A message sent in this process is checked here against the same constraints as
 * `MessageSchema`: each field is read once (in the schema's order) and tested, the payload
 * goes through `findNonJson` like `JsonValueSchema` does, unknown fields are left out as zod
 * strips them, and an optional field present with the value `undefined` is kept as zod
 * keeps it. Only what this check accepts is built here; anything else (a bad field,
 * `headers` or `metadata`, which are records zod copies by its own rules) returns the
 * fields as read, and the caller runs the schema on them, which names the bad field. So
 * every message is still validated, the errors are the schema's, and the schema sees the
 * values this check saw (review F2: it used to read the caller's object again).
 *
 * A Proxy is not checked here (review F1): zod asks `key in input` of every field and this
 * check does not, so a Proxy whose `has` trap disagrees with its `get` would be judged
 * differently; the schema reads it itself (once per field). An ordinary object's `in` has
 * no side effect and agrees with what a read finds.
 *
 * Why by hand: zod's generic object parse was the largest cost of a local send. A CPU
 * profile of `bench/bus.ts` batched delivery (batch 10) put `safeParse` at 19 % of the time
 * and its allocations (about 1.1 KB of the 2.1 KB a message allocated) behind much of the
 * 30 % spent in GC; this check allocates only the message. See docs/benchmarks.md (Bus) for
 * the paired A/B.
 *
 * The message is built with the field order of `createMessage`, so every message the bus
 * routes has one hidden class and the hot path stays monomorphic.
 * @throws ValidationError when `maxRetries` is above `maxRetriesCap`.
 * @internal
 */
export function parsePlainMessage(input: unknown, now: number, senderId: string | undefined, maxRetriesCap = Number.POSITIVE_INFINITY): Message | SchemaInput {
  if (!isObjectInput(input)) return new SchemaInput(input);
  // A Proxy goes to the schema as it is (review F1): zod reads each field once, value then
  // `key in input`, and a `has` trap that disagrees with `get` changes its verdict (a field
  // present to `get` but not to `has` is "nonoptional" if required, dropped if optional).
  if (isProxy(input)) return new SchemaInput(input);
  // Each field is read once (a getter answers once), in the schema's order, and judged on
  // what it returned. With a handle's sender, the input's own `senderId` is not read, as the
  // schema without `senderId` does not read it.
  const messageId = input.messageId;
  const sender = senderId ?? input.senderId;
  const { recipientId, messageType, priority, topic, payload, timestamp, correlationId, ttl, retryCount, maxRetries, headers, metadata } = input;
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
    return new SchemaInput(
      senderId === undefined
        ? snapshotFields(input, MESSAGE_KEYS, [
            messageId,
            sender,
            recipientId,
            messageType,
            priority,
            topic,
            payload,
            timestamp,
            correlationId,
            ttl,
            retryCount,
            maxRetries,
            headers,
            metadata,
          ])
        : snapshotFields(input, AGENT_MESSAGE_KEYS, [
            messageId,
            recipientId,
            messageType,
            priority,
            topic,
            payload,
            timestamp,
            correlationId,
            ttl,
            retryCount,
            maxRetries,
            headers,
            metadata,
          ]),
    );
  }
  if (maxRetries !== undefined && maxRetries > maxRetriesCap) throw tooManyRetries(maxRetriesCap);
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
    // Only a value the sender asked for is refused; the default (3) is lowered to a lower cap.
    maxRetries: maxRetries ?? Math.min(DEFAULT_MAX_RETRIES, maxRetriesCap),
  };
  // Present but undefined: zod keeps the key (`'correlationId' in message`), and so does this.
  if (correlationId !== undefined || 'correlationId' in input) message.correlationId = correlationId;
  if ('headers' in input) message.headers = undefined;
  if ('metadata' in input) message.metadata = undefined;
  return message;
}

/** The refusal of a `maxRetries` above the bus's cap. @internal */
export function tooManyRetries(cap: number): ValidationError {
  return new ValidationError('message', [{ path: 'maxRetries', message: `must be at most ${cap} (the bus's maxRetries)` }]);
}
