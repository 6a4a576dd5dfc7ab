// The message vocabulary (types, priorities, defaults, schema): pure data that the agent
// machine, the swarm's rules and the bus share. Making ids and parsing frames is the bus's
// (src/bus/message.ts): ids come from a per-process random prefix, which a model may not hold.
import { z } from 'zod';
import { JsonValueSchema } from '../../jsonValue';

/** What a message is for. Values are the guide's lowercase strings. */
export const MessageType = {
  REQUEST: 'request',
  RESPONSE: 'response',
  EVENT: 'event',
  BROADCAST: 'broadcast',
  COMMAND: 'command',
  NOTIFICATION: 'notification',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Delivery priority: critical is always delivered before high, medium and low. */
export const MessagePriority = {
  LOW: 'low',
  MEDIUM: 'medium',
  HIGH: 'high',
  CRITICAL: 'critical',
} as const;
export type MessagePriority = (typeof MessagePriority)[keyof typeof MessagePriority];

/** Priorities from most to least urgent; the index is the mailbox lane. */
export const PRIORITY_ORDER: readonly MessagePriority[] = ['critical', 'high', 'medium', 'low'];

/** @internal lane index of each priority (0 = most urgent). */
export const PRIORITY_LANE: Readonly<Record<MessagePriority, number>> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Default time to live of a message, in seconds. */
export const DEFAULT_TTL_SECONDS = 300;
/** Default number of redeliveries after a handler failure. */
export const DEFAULT_MAX_RETRIES = 3;

const messageTypeSchema = z.enum(Object.values(MessageType) as [MessageType, ...MessageType[]]);
const prioritySchema = z.enum(Object.values(MessagePriority) as [MessagePriority, ...MessagePriority[]]);
const nonEmpty = z.string().min(1, 'must be a non-empty string');

/**
 * The schema of a message as a caller supplies it: `messageId` and `timestamp` are
 * filled in when absent, every other optional field has the spec's default.
 */
export const MessageSchema = z.object({
  messageId: nonEmpty.optional(),
  senderId: nonEmpty,
  recipientId: nonEmpty.nullable().default(null),
  messageType: messageTypeSchema,
  priority: prioritySchema.default('medium'),
  topic: nonEmpty,
  /** A JSON value (see `findNonJson`): what a local subscriber gets is what a transport can carry. */
  payload: JsonValueSchema.default({}),
  /** Milliseconds on the runtime's clock. */
  timestamp: z.number().finite().nonnegative().optional(),
  correlationId: nonEmpty.optional(),
  /** Seconds; the message expires when `now - timestamp > ttl`. */
  ttl: z.number().positive().default(DEFAULT_TTL_SECONDS),
  retryCount: z.number().int().nonnegative().default(0),
  maxRetries: z.number().int().nonnegative().default(DEFAULT_MAX_RETRIES),
  headers: z.record(z.string(), z.string()).optional(),
  metadata: z.record(z.string(), JsonValueSchema).optional(),
});

/** A message as callers write it (before defaults). */
export type MessageInput = z.input<typeof MessageSchema>;

/** A validated message with every default applied. */
export type Message = Omit<z.output<typeof MessageSchema>, 'messageId' | 'timestamp'> & {
  messageId: string;
  timestamp: number;
};

/** Fields of a message built by the runtime itself from already validated parts. @internal */
export interface MessageFields {
  senderId: string;
  recipientId: string | null;
  messageType: MessageType;
  topic: string;
  payload?: unknown;
  priority?: MessagePriority;
  correlationId?: string;
  ttl?: number;
  maxRetries?: number;
  headers?: Record<string, string>;
  metadata?: Record<string, unknown>;
}

/** True when the message has outlived its TTL at time `now` (ms). */
export function isExpired(message: Message, now: number): boolean {
  return now - message.timestamp > message.ttl * 1000;
}
