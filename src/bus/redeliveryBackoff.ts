import { timerDelay, type NeuroFluxClock } from '../kernel/clock';
import type { Message } from './message';
import type { RegisteredAgent } from './registeredAgent';

/**
 * How long redelivery number `redelivery` (1 for the first) of a failed message waits:
 * the first goes back at once, as it always did (a failure caused by the state of the
 * moment costs nothing, and the message keeps its place ahead of later ones); each later
 * one waits `baseMs`, doubling per redelivery, at most `maxMs`. Without the wait one
 * message into an always-throwing handler kept the thread busy redelivering.
 * @internal
 */
export function redeliveryDelay(redelivery: number, baseMs: number, maxMs: number): number {
  if (redelivery <= 1 || baseMs <= 0) return 0;
  return timerDelay(Math.min(maxMs, baseMs * 2 ** (redelivery - 2)));
}

interface Waiting {
  readonly agent: RegisteredAgent;
  readonly message: Message;
  timer: unknown;
}

/**
 * Failed messages waiting out their backoff before they go back to their mailbox, each
 * on a timer of the runtime's clock (a `SimulatedClock` drives them in tests).
 * @internal
 */
export class RedeliveryBackoff {
  private readonly waiting = new Set<Waiting>();

  constructor(
    private readonly clock: NeuroFluxClock,
    /** Called when a message's wait is over. */
    private readonly due: (agent: RegisteredAgent, message: Message) => void,
  ) {}

  /** Messages waiting. */
  get size(): number {
    return this.waiting.size;
  }

  hold(agent: RegisteredAgent, message: Message, delayMs: number): void {
    const entry: Waiting = { agent, message, timer: undefined };
    this.waiting.add(entry);
    entry.timer = this.clock.setTimeout(() => {
      if (!this.waiting.delete(entry)) return;
      this.due(agent, message);
    }, delayMs);
  }

  /** Stops waiting for the messages of one agent (or of every agent) and returns them. */
  release(agent?: RegisteredAgent): { agent: RegisteredAgent; message: Message }[] {
    const released: { agent: RegisteredAgent; message: Message }[] = [];
    for (const entry of this.waiting) {
      if (agent !== undefined && entry.agent !== agent) continue;
      this.clock.clearTimeout(entry.timer);
      this.waiting.delete(entry);
      released.push({ agent: entry.agent, message: entry.message });
    }
    return released;
  }
}
