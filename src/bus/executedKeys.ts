import { RecentIds } from '../kernel/recentIds';
import type { Message } from './message';

/**
 * The message header that makes a command idempotent: an agent that has handled a message
 * with this key handles no other with the same key (a redelivery, a re-sent command).
 */
export const IDEMPOTENCY_HEADER = 'nf-idempotency-key';

/**
 * How many keys an agent remembers. A redelivery comes soon after the first delivery (bus
 * retries, an engine restored after a failover re-sending what it had sent), not thousands
 * of commands later; at ~100 bytes a key this bounds the memory to about 1 MB per agent.
 */
export const DEFAULT_EXECUTED_KEYS = 10_000;

/**
 * The idempotency keys one agent has handled (or is handling), the oldest forgotten first.
 * @internal
 */
export class ExecutedKeys {
  /** Made on the first key: most agents never see an idempotent command, and idle agents are counted in bytes. */
  private keys: RecentIds | undefined;

  constructor(private readonly capacity = DEFAULT_EXECUTED_KEYS) {}

  /** The message's idempotency key, if it has one. */
  static keyOf(message: Message): string | undefined {
    const key = message.headers?.[IDEMPOTENCY_HEADER];
    return typeof key === 'string' && key !== '' ? key : undefined;
  }

  /**
   * True when the message is to be handled: it has no key, or its key is new (it is then
   * remembered). False for a key already handled or in hand.
   */
  claim(message: Message): boolean {
    const key = ExecutedKeys.keyOf(message);
    if (key === undefined) return true;
    const keys = (this.keys ??= new RecentIds(this.capacity));
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  }

  /** Forgets the key of a message whose handling failed: its retry must run. */
  release(message: Message): void {
    const key = ExecutedKeys.keyOf(message);
    if (key !== undefined) this.keys?.delete(key);
  }

  get size(): number {
    return this.keys?.size ?? 0;
  }
}
