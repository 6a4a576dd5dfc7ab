import type { Actor, AnyStateMachine } from 'xstate';
import { z } from 'zod';
import type { RuntimeMachine } from '../../machines/runtime.machine';
import { MAX_TIMER_MS, type NeuroFluxClock } from '../kernel/clock';
import type { MessageHandler } from './registeredAgent';

/** What a full mailbox does with one more message. */
export const OverflowPolicy = {
  /** Refuse the send with a `QueueFullError` (fan-out copies are dead-lettered instead). */
  REJECT: 'reject',
  /** Dead-letter the oldest message of the least urgent lane to make room. */
  DROP_LOWEST: 'drop_lowest',
} as const;
export type OverflowPolicy = (typeof OverflowPolicy)[keyof typeof OverflowPolicy];

const positiveInt = z.number().int().positive();

/** Validated bus options (defaults are the spec's). */
export const BusOptionsSchema = z.object({
  /** Capacity of each agent's mailbox. */
  maxQueueSize: positiveInt.default(1000),
  overflowPolicy: z.enum(['reject', 'drop_lowest']).default('reject'),
  /** Most messages handed to an agent in one step. 1 disables batching. */
  batchSize: positiveInt.default(10),
  defaultRequestTimeoutMs: z.number().positive().max(MAX_TIMER_MS).default(30_000),
  /** How often mailboxes nobody drains (offline or pull agents) are swept for expired messages. */
  ttlSweepIntervalMs: z.number().positive().default(1000),
  /** How many recent dead letters `getDeadLetters()` keeps. */
  deadLetterBufferSize: z.number().int().nonnegative().default(1000),
  /**
   * Most redeliveries of a message whose handler failed. A send asking for more is refused
   * (`ValidationError` on `maxRetries`); a frame from the network is clamped to it.
   */
  maxRetries: z.number().int().nonnegative().max(1000).default(10),
  /** Wait before the second redelivery, ms, doubling for each later one (the first is immediate); 0: none waits. */
  retryDelayMs: z.number().nonnegative().max(MAX_TIMER_MS).default(50),
  /** Longest wait between two redeliveries, ms. */
  maxRetryDelayMs: z.number().nonnegative().max(MAX_TIMER_MS).default(5000),
});

/** Options of a {@link CommunicationBus}. */
export interface CommunicationBusOptions extends z.input<typeof BusOptionsSchema> {
  /** Time source for TTLs and request timeouts; use XState's `SimulatedClock` in tests. */
  clock?: NeuroFluxClock;
  /** The running root actor whose system the agent actors join (a standalone bus makes its own). */
  root?: Actor<RuntimeMachine>;
}

/** @internal */
export const AgentRegistrationSchema = z
  .object({
    handler: z.custom<MessageHandler>((v) => typeof v === 'function', 'must be a function').optional(),
    machine: z
      .custom<AnyStateMachine>((v) => typeof v === 'object' && v !== null && typeof (v as { transition?: unknown }).transition === 'function', 'must be an XState machine')
      .optional(),
    topics: z.array(z.string().min(1)).default([]),
    concurrency: positiveInt.default(1),
    maxQueueSize: positiveInt.optional(),
    overflowPolicy: z.enum(['reject', 'drop_lowest']).optional(),
  })
  .refine((o) => !(o.handler && o.machine), { message: 'give either handler or machine, not both', path: ['machine'] });

/** How an agent is registered: its behaviour, subscriptions and mailbox limits. */
export interface AgentRegistration {
  /** Runs for each delivered message. */
  handler?: MessageHandler;
  /** A user machine that receives each message as an event `{ type: topic, message }`. */
  machine?: AnyStateMachine;
  /** Topic patterns to subscribe to at once. */
  topics?: string[];
  /** Messages processed at once (async handlers). Default 1. */
  concurrency?: number;
  maxQueueSize?: number;
  overflowPolicy?: OverflowPolicy;
}
