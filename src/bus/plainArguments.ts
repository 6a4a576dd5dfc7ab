import { findNonJson } from '../jsonValue';
import { MAX_TIMER_MS } from '../kernel/clock';
import type { MessagePriority } from './model/message';
import { isNonEmpty, isObjectInput, PRIORITIES } from './plainMessage';

/** What a publish or request needs of its arguments once checked (the fields `createMessage` reads). @internal */
export interface PlainPublishArgs {
  senderId?: string;
  topic: string;
  payload?: unknown;
  priority?: MessagePriority;
  ttl?: number;
}

/** A request's arguments once checked. @internal */
export interface PlainRequestArgs extends PlainPublishArgs {
  recipientId: string;
  timeoutMs?: number;
}

/** `z.number().positive()` (zod 4 refuses NaN and ±Infinity). */
const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/**
 * What `PublishArgsSchema` (with `withSender`) or `HandlePublishArgsSchema` makes of `args`,
 * checked by hand for the common shape (`topic`, `payload`, `priority`, `ttl`, the sender);
 * `undefined` when the schema must judge it: a bad field, or `headers` / `metadata`, which
 * are records zod copies by its own rules. The caller then runs the schema, which names the
 * bad field, so the errors are the schema's. Each field is read once; unknown fields are left
 * out as zod strips them; the payload goes through `findNonJson` as `JsonValueSchema` does.
 *
 * Why by hand: the zod parse of the publish arguments was most of an agent's
 * `handle.publish` (1.3 – 1.6 µs per message against 0.1 µs for building and forwarding
 * the message; 6.4 % of the end-to-end NATS profile). See docs/benchmarks.md (NATS).
 * @internal
 */
export function plainPublishArgs(args: unknown, withSender: boolean): PlainPublishArgs | undefined {
  if (!isObjectInput(args)) return undefined;
  const { topic, payload, priority, ttl, headers, metadata } = args;
  const senderId = withSender ? args.senderId : undefined;
  if (
    (withSender && !isNonEmpty(senderId)) ||
    !isNonEmpty(topic) ||
    !(priority === undefined || PRIORITIES.has(priority)) ||
    !(ttl === undefined || isPositive(ttl)) ||
    headers !== undefined ||
    metadata !== undefined ||
    (payload !== undefined && findNonJson(payload) !== undefined)
  ) {
    return undefined;
  }
  return { senderId: senderId as string | undefined, topic, payload, priority: priority as MessagePriority | undefined, ttl };
}

/**
 * The same for `RequestArgsSchema` / `HandleRequestArgsSchema`: also `recipientId` and
 * `timeoutMs` (positive, at most `MAX_TIMER_MS`). `undefined`: the schema judges.
 * @internal
 */
export function plainRequestArgs(args: unknown, withSender: boolean): PlainRequestArgs | undefined {
  if (!isObjectInput(args)) return undefined;
  const { recipientId, timeoutMs } = args;
  if (!isNonEmpty(recipientId) || !(timeoutMs === undefined || (isPositive(timeoutMs) && timeoutMs <= MAX_TIMER_MS))) return undefined;
  const publish = plainPublishArgs(args, withSender);
  if (publish === undefined) return undefined;
  return {
    senderId: publish.senderId,
    recipientId,
    topic: publish.topic,
    payload: publish.payload,
    priority: publish.priority,
    ttl: publish.ttl,
    timeoutMs,
  };
}

/**
 * True when `ResponseTargetSchema` accepts `request` (the request a response answers):
 * `messageId` and `senderId` non-empty, `recipientId` non-empty or null, `correlationId`
 * absent or non-empty. False: the schema judges (and throws its error).
 * @internal
 */
export function isPlainResponseTarget(request: unknown): boolean {
  if (!isObjectInput(request)) return false;
  const { messageId, senderId, recipientId, correlationId } = request;
  return isNonEmpty(messageId) && isNonEmpty(senderId) && (recipientId === null || isNonEmpty(recipientId)) && (correlationId === undefined || isNonEmpty(correlationId));
}
