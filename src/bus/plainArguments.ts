import { isProxy } from 'node:util/types';
import { findNonJson } from '../jsonValue';
import { MAX_TIMER_MS } from '../kernel/clock';
import {
  HandlePublishArgsSchema,
  HandleRequestArgsSchema,
  parseOrThrow,
  PublishArgsSchema,
  RequestArgsSchema,
  ResponseTargetSchema,
  type PublishArgs,
  type RequestArgs,
} from './busArguments';
import type { MessagePriority } from './model/message';
import { isNonEmpty, isObjectInput, PRIORITIES, snapshotFields } from './plainMessage';

/** What a publish or request needs of its arguments once checked by hand (the fields `createMessage` reads). @internal */
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

/** The keys of `PublishArgsSchema` / `RequestArgsSchema` (and without `senderId`), in their shape order: zod's order of reads. */
const PUBLISH_KEYS = ['senderId', 'topic', 'payload', 'priority', 'ttl', 'headers', 'metadata'] as const;
const HANDLE_PUBLISH_KEYS = PUBLISH_KEYS.slice(1);
const REQUEST_KEYS = [...PUBLISH_KEYS, 'recipientId', 'timeoutMs'] as const;
const HANDLE_REQUEST_KEYS = REQUEST_KEYS.slice(1);
const RESPONSE_TARGET_KEYS = ['messageId', 'senderId', 'recipientId', 'correlationId'] as const;

/** A publish's arguments once checked, by hand or by the schema. @internal */
export type CheckedPublishArgs = PlainPublishArgs & Pick<PublishArgs, 'headers' | 'metadata'>;
/** A request's arguments once checked, by hand or by the schema. @internal */
export type CheckedRequestArgs = PlainRequestArgs & Pick<RequestArgs, 'headers' | 'metadata'>;

/** True when the hand check accepts the publish fields read (no `headers` / `metadata`: zod copies those by its own rules). */
function plainPublishFields(
  withSender: boolean,
  senderId: unknown,
  topic: unknown,
  payload: unknown,
  priority: unknown,
  ttl: unknown,
  headers: unknown,
  metadata: unknown,
): boolean {
  return (
    (!withSender || isNonEmpty(senderId)) &&
    isNonEmpty(topic) &&
    (priority === undefined || PRIORITIES.has(priority)) &&
    (ttl === undefined || isPositive(ttl)) &&
    headers === undefined &&
    metadata === undefined &&
    (payload === undefined || findNonJson(payload) === undefined)
  );
}

/**
 * What `PublishArgsSchema` (with `withSender`) or `HandlePublishArgsSchema` makes of `args`,
 * checked by hand for the common shape (`topic`, `payload`, `priority`, `ttl`, the sender);
 * anything else (a bad field, `headers` / `metadata`, which are records zod copies by its
 * own rules) goes through the schema, which names the bad field, so the errors are the
 * schema's. Each field is read once, in the schema's order, on either path: the schema is
 * given the values the hand check read (review F2); a Proxy is not checked by hand but given
 * to the schema, which reads it once, value then `key in args` (review F1; see
 * `parsePlainMessage`). Unknown
 * fields are left out as zod strips them; the payload goes through `findNonJson` as
 * `JsonValueSchema` does.
 *
 * Why by hand: the zod parse of the publish arguments was most of an agent's
 * `handle.publish` (1.3 – 1.6 µs per message against 0.1 µs for building and forwarding
 * the message; 6.4 % of the end-to-end NATS profile). See docs/benchmarks.md (NATS).
 * @throws ValidationError naming the bad field.
 * @internal
 */
export function checkPublishArgs(args: unknown, withSender: boolean, what: string): CheckedPublishArgs {
  const schema = withSender ? PublishArgsSchema : HandlePublishArgsSchema;
  if (!isObjectInput(args)) return parseOrThrow(schema, what, args);
  if (isProxy(args)) return parseOrThrow(schema, what, args);
  const senderId = withSender ? args.senderId : undefined;
  const { topic, payload, priority, ttl, headers, metadata } = args;
  if (plainPublishFields(withSender, senderId, topic, payload, priority, ttl, headers, metadata)) {
    return { senderId: senderId as string | undefined, topic: topic as string, payload, priority: priority as MessagePriority | undefined, ttl: ttl as number | undefined };
  }
  const snapshot = withSender
    ? snapshotFields(args, PUBLISH_KEYS, [senderId, topic, payload, priority, ttl, headers, metadata])
    : snapshotFields(args, HANDLE_PUBLISH_KEYS, [topic, payload, priority, ttl, headers, metadata]);
  return parseOrThrow(schema, what, snapshot);
}

/**
 * The same for `RequestArgsSchema` / `HandleRequestArgsSchema`: also `recipientId` and
 * `timeoutMs` (positive, at most `MAX_TIMER_MS`).
 * @throws ValidationError naming the bad field.
 * @internal
 */
export function checkRequestArgs(args: unknown, withSender: boolean): CheckedRequestArgs {
  const schema = withSender ? RequestArgsSchema : HandleRequestArgsSchema;
  if (!isObjectInput(args)) return parseOrThrow(schema, 'request', args);
  if (isProxy(args)) return parseOrThrow(schema, 'request', args);
  const senderId = withSender ? args.senderId : undefined;
  const { topic, payload, priority, ttl, headers, metadata, recipientId, timeoutMs } = args;
  if (
    isNonEmpty(recipientId) &&
    (timeoutMs === undefined || (isPositive(timeoutMs) && timeoutMs <= MAX_TIMER_MS)) &&
    plainPublishFields(withSender, senderId, topic, payload, priority, ttl, headers, metadata)
  ) {
    return {
      senderId: senderId as string | undefined,
      recipientId,
      topic: topic as string,
      payload,
      priority: priority as MessagePriority | undefined,
      ttl: ttl as number | undefined,
      timeoutMs,
    };
  }
  const snapshot = withSender
    ? snapshotFields(args, REQUEST_KEYS, [senderId, topic, payload, priority, ttl, headers, metadata, recipientId, timeoutMs])
    : snapshotFields(args, HANDLE_REQUEST_KEYS, [topic, payload, priority, ttl, headers, metadata, recipientId, timeoutMs]);
  return parseOrThrow(schema, 'request', snapshot);
}

/** What a response needs of the request it answers, read once. @internal */
export interface ResponseTarget {
  messageId: string;
  senderId: string;
  recipientId: string | null;
  correlationId?: string | undefined;
}

/**
 * What `ResponseTargetSchema` makes of `request` (the request a response answers):
 * `messageId` and `senderId` non-empty, `recipientId` non-empty or null, `correlationId`
 * absent or non-empty; checked by hand, else by the schema on the values read (a Proxy: by
 * the schema alone), so each field is read once and the response is built from what was checked.
 * @throws ValidationError naming the bad field.
 * @internal
 */
export function checkResponseTarget(request: unknown): ResponseTarget {
  if (!isObjectInput(request)) return parseOrThrow(ResponseTargetSchema, 'request being answered', request);
  if (isProxy(request)) return parseOrThrow(ResponseTargetSchema, 'request being answered', request);
  const { messageId, senderId, recipientId, correlationId } = request;
  if (isNonEmpty(messageId) && isNonEmpty(senderId) && (recipientId === null || isNonEmpty(recipientId)) && (correlationId === undefined || isNonEmpty(correlationId))) {
    return { messageId, senderId, recipientId, correlationId };
  }
  return parseOrThrow(ResponseTargetSchema, 'request being answered', snapshotFields(request, RESPONSE_TARGET_KEYS, [messageId, senderId, recipientId, correlationId]));
}
