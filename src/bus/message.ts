import { ValidationError } from '../errors';
import { nextMessageId } from './messageId';
import { isCount, isNonEmpty, isObjectInput, MESSAGE_TYPES, parsePlainMessage, PRIORITIES, SchemaInput, tooManyRetries } from './plainMessage';
import { DEFAULT_MAX_RETRIES, DEFAULT_TTL_SECONDS, MessagePriority, MessageSchema, MessageType, type Message, type MessageFields, type MessageInput } from './model/message';

// The vocabulary lives in the bus's model (machines and rules import it from there); the bus
// and its users keep importing it from here, beside the functions that make messages.
export {
  DEFAULT_MAX_RETRIES,
  DEFAULT_TTL_SECONDS,
  isExpired,
  MessagePriority,
  MessageSchema,
  MessageType,
  PRIORITY_LANE,
  PRIORITY_ORDER,
  type Message,
  type MessageFields,
  type MessageInput,
} from './model/message';

export { nextMessageId } from './messageId';

/**
 * `MessageSchema` as the bus judges a send the hand check left to it: the same constraints,
 * but `maxRetries` without its default, so the bus knows from the parse itself whether the
 * sender gave one (review F3: it used to read the caller's object again to find out). The
 * default is filled in by `parseMessage`.
 */
const SentMessageSchema = MessageSchema.extend({ maxRetries: MessageSchema.shape.maxRetries.unwrap().optional() });
/** The same for a message sent through an agent's handle: the handle supplies the sender. */
const AgentMessageSchema = SentMessageSchema.omit({ senderId: true });

/**
 * Validates a caller's message and fills in `messageId` and `timestamp`. With `senderId`
 * the input's own sender (if any) is ignored and replaced: the caller is an agent handle.
 * A `maxRetries` the caller gave above `maxRetriesCap` is refused; the default is lowered
 * to the cap. Throws {@link ValidationError} naming the first bad field.
 *
 * @example
 * ```ts
 * const m = parseMessage({ senderId: 'a', recipientId: 'b', messageType: 'request', topic: 't' }, Date.now());
 * ```
 */
export function parseMessage(input: unknown, now: number, senderId?: string, maxRetriesCap = Number.POSITIVE_INFINITY): Message {
  // The common case, checked by hand; anything else is judged (and its error written) by the
  // schema, on the fields as the hand check read them (each is read once on either path).
  const plain = parsePlainMessage(input, now, senderId, maxRetriesCap);
  if (!(plain instanceof SchemaInput)) return plain;
  const parsed = (senderId === undefined ? SentMessageSchema : AgentMessageSchema).safeParse(plain.value);
  if (!parsed.success) throw ValidationError.fromZod('message', parsed.error);
  const d = parsed.data as Omit<Message, 'senderId' | 'maxRetries'> & { senderId?: string; maxRetries?: number };
  if (d.maxRetries !== undefined && d.maxRetries > maxRetriesCap) throw tooManyRetries(maxRetriesCap);
  // One object literal in `createMessage`'s field order (zod's output has its shape's
  // order, with the fields filled in here appended): every message the bus routes has one
  // hidden class (review F4). A small literal, far cheaper than the parse before it.
  const message: Message = {
    messageId: d.messageId ?? nextMessageId(),
    senderId: senderId ?? (d.senderId as string),
    recipientId: d.recipientId,
    messageType: d.messageType,
    priority: d.priority,
    topic: d.topic,
    payload: d.payload,
    timestamp: d.timestamp ?? now,
    ttl: d.ttl,
    retryCount: d.retryCount,
    // Only a value the sender gave is refused above the cap; the default (3) is lowered to it.
    maxRetries: d.maxRetries ?? Math.min(DEFAULT_MAX_RETRIES, maxRetriesCap),
  };
  // Kept when zod kept the key (present, even as undefined), as zod's own output did.
  if ('correlationId' in d) message.correlationId = d.correlationId;
  if ('headers' in d) message.headers = d.headers;
  if ('metadata' in d) message.metadata = d.metadata;
  return message;
}

const FRAME_FIELDS: ReadonlySet<string> = new Set(Object.keys(MessageSchema.shape));
const isRecord = isObjectInput;

/** A copy of a JSON object as `z.record` would output it; undefined when zod must judge it (bad value, `__proto__` key). */
function copyRecord(v: unknown, stringValues: boolean): Record<string, unknown> | undefined {
  if (!isRecord(v) || Object.prototype.hasOwnProperty.call(v, '__proto__')) return undefined;
  const copy: Record<string, unknown> = {};
  for (const k in v) {
    const value = v[k];
    if (stringValues && typeof value !== 'string') return undefined;
    copy[k] = value;
  }
  return copy;
}

/**
 * {@link parseMessage} for a frame a transport decoded from JSON. A frame whose fields are
 * all known and valid is checked field by field against the same constraints as
 * {@link MessageSchema}, at a fraction of the schema's generic parse, which was the
 * largest cost of a receive after JSON itself. Any other frame goes through the schema,
 * which strips unknown fields or names the bad one. The frame is not modified. @internal
 */
export function parseFrame(frame: unknown, now: number): Message {
  if (!isRecord(frame)) return parseMessage(frame, now);
  for (const k in frame) if (!FRAME_FIELDS.has(k)) return parseMessage(frame, now);
  const f = frame as Partial<Record<keyof MessageInput, unknown>>;
  const { messageId, recipientId, priority, payload, timestamp, correlationId, ttl, retryCount, maxRetries } = f;
  if (
    !isNonEmpty(f.senderId) ||
    !isNonEmpty(f.topic) ||
    !MESSAGE_TYPES.has(f.messageType) ||
    !(messageId === undefined || isNonEmpty(messageId)) ||
    !(recipientId === undefined || recipientId === null || isNonEmpty(recipientId)) ||
    !(priority === undefined || PRIORITIES.has(priority)) ||
    !(timestamp === undefined || (typeof timestamp === 'number' && Number.isFinite(timestamp) && timestamp >= 0)) ||
    !(correlationId === undefined || isNonEmpty(correlationId)) ||
    !(ttl === undefined || (typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0)) ||
    !(retryCount === undefined || isCount(retryCount)) ||
    !(maxRetries === undefined || isCount(maxRetries))
  ) {
    return parseMessage(frame, now);
  }
  const headers = f.headers === undefined ? undefined : copyRecord(f.headers, true);
  const metadata = f.metadata === undefined ? undefined : copyRecord(f.metadata, false);
  if ((f.headers !== undefined && !headers) || (f.metadata !== undefined && !metadata)) return parseMessage(frame, now);
  // One object literal, the shape `createMessage` makes: downstream code stays monomorphic.
  const message: Message = {
    messageId: messageId ?? nextMessageId(),
    senderId: f.senderId,
    recipientId: recipientId ?? null,
    messageType: f.messageType as MessageType,
    priority: (priority as MessagePriority | undefined) ?? 'medium',
    topic: f.topic,
    payload: payload === undefined ? {} : payload,
    timestamp: timestamp ?? now,
    ttl: ttl ?? DEFAULT_TTL_SECONDS,
    retryCount: retryCount ?? 0,
    maxRetries: maxRetries ?? DEFAULT_MAX_RETRIES,
  };
  if (correlationId !== undefined) message.correlationId = correlationId;
  if (headers !== undefined) message.headers = headers as Record<string, string>;
  if (metadata !== undefined) message.metadata = metadata;
  return message;
}

/** Builds a message from trusted, validated parts (no second validation pass). @internal */
export function createMessage(fields: MessageFields, now: number): Message {
  const message: Message = {
    messageId: nextMessageId(),
    senderId: fields.senderId,
    recipientId: fields.recipientId,
    messageType: fields.messageType,
    priority: fields.priority ?? 'medium',
    topic: fields.topic,
    payload: fields.payload === undefined ? {} : fields.payload,
    timestamp: now,
    ttl: fields.ttl ?? DEFAULT_TTL_SECONDS,
    retryCount: 0,
    maxRetries: fields.maxRetries ?? DEFAULT_MAX_RETRIES,
  };
  if (fields.correlationId !== undefined) message.correlationId = fields.correlationId;
  if (fields.headers !== undefined) message.headers = fields.headers;
  if (fields.metadata !== undefined) message.metadata = fields.metadata;
  return message;
}
