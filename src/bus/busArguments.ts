import { z } from 'zod';
import { ValidationError } from '../errors';
import { JsonValueSchema } from '../jsonValue';
import { MAX_TIMER_MS } from '../kernel/clock';
import { MessagePriority } from './message';

/** Schemas of the arguments of the bus's sending and subscribing methods (validated at each call). */

/** @internal */
export const PublishArgsSchema = z.object({
  senderId: z.string().min(1),
  topic: z.string().min(1),
  payload: JsonValueSchema.optional(),
  priority: z.enum(Object.values(MessagePriority) as [MessagePriority, ...MessagePriority[]]).optional(),
  ttl: z.number().positive().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  metadata: z.record(z.string(), JsonValueSchema).optional(),
});
/** Arguments of `publishEvent` and `broadcastMessage`. */
export type PublishArgs = z.input<typeof PublishArgsSchema>;

/** @internal */
export const RequestArgsSchema = PublishArgsSchema.extend({
  recipientId: z.string().min(1),
  /** At most 2^31 − 1 ms (what a host timer holds). */
  timeoutMs: z.number().positive().max(MAX_TIMER_MS).optional(),
});
/** Arguments of `sendRequest`. */
export type RequestArgs = z.input<typeof RequestArgsSchema>;

/** @internal */
export const HandlePublishArgsSchema = PublishArgsSchema.omit({ senderId: true });
export const HandleRequestArgsSchema = RequestArgsSchema.omit({ senderId: true });

/** What `sendResponse` needs of the request it answers. */
export const ResponseTargetSchema = z.object({
  messageId: z.string().min(1),
  senderId: z.string().min(1),
  recipientId: z.string().min(1).nullable(),
  correlationId: z.string().min(1).optional(),
});

/** @internal */
export const PatternArgsSchema = z.object({ agentId: z.string().min(1), pattern: z.string().min(1) });

/** Parses `value` or throws a `ValidationError` naming `what` and each bad field. @internal */
export function parseOrThrow<T>(schema: z.ZodType<T>, what: string, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw ValidationError.fromZod(what, parsed.error);
  return parsed.data;
}
