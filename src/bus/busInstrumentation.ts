import type { Message } from './message';

/**
 * Hooks for tracing and metrics. The bus calls them only when one is installed
 * (`bus.instrument(...)`), so an uninstrumented bus pays one property check per message.
 */
export interface BusInstrumentation {
  /**
   * A message was accepted (validated), before it is routed. The hook may add headers
   * (e.g. W3C `traceparent`) to `message.headers`: the last moment it may, since the bus
   * freezes the message right after (every subscriber gets the same object).
   */
  onAccepted?(message: Message): void;
  /**
   * Wraps one delivery of `message` to `agentId`'s behaviour: call `run` inside it (e.g.
   * inside a span whose parent is read from the headers, so that messages the handler
   * sends continue the trace). `run` returns what the behaviour returned (maybe a promise).
   */
  aroundDelivery?(message: Message, agentId: string, run: () => unknown): unknown;
  /** A delivery finished: `error` is set when the behaviour failed. */
  onSettled?(message: Message, agentId: string, durationMs: number, error?: unknown): void;
}
