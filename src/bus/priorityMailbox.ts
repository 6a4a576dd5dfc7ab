import { PRIORITY_LANE, type Message } from './message';

/** A FIFO lane with O(1) push, shift and unshift-after-shift. */
class Lane {
  private items: (Message | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(message: Message): void {
    this.items.push(message);
  }

  unshift(message: Message): void {
    if (this.head > 0) this.items[--this.head] = message;
    else this.items.unshift(message);
  }

  peek(): Message | undefined {
    return this.items[this.head];
  }

  shift(): Message | undefined {
    if (this.head >= this.items.length) return undefined;
    const message = this.items[this.head];
    this.items[this.head++] = undefined;
    // Compact once the consumed prefix dominates, keeping shift amortised O(1).
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return message;
  }

  /** Removes every message for which `drop` is true, keeping the order of the rest. */
  removeWhere(drop: (message: Message) => boolean): Message[] {
    const removed: Message[] = [];
    const kept: Message[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const message = this.items[i] as Message;
      (drop(message) ? removed : kept).push(message);
    }
    this.items = kept;
    this.head = 0;
    return removed;
  }
}

/**
 * An agent's mailbox: one FIFO lane per priority, drained critical first.
 * Within a lane messages keep arrival order; a message put back after a failed delivery
 * goes to the front of its lane, where its original timestamp places it.
 */
export class PriorityMailbox {
  private readonly lanes: Lane[] = [new Lane(), new Lane(), new Lane(), new Lane()];
  private count = 0;

  get size(): number {
    return this.count;
  }

  enqueue(message: Message): void {
    (this.lanes[PRIORITY_LANE[message.priority]] as Lane).push(message);
    this.count++;
  }

  /** Puts a message back at the head of its lane (redelivery after a failure). */
  requeue(message: Message): void {
    (this.lanes[PRIORITY_LANE[message.priority]] as Lane).unshift(message);
    this.count++;
  }

  /** Takes the most urgent, oldest message. */
  dequeue(): Message | undefined {
    if (this.count === 0) return undefined;
    for (const lane of this.lanes) {
      if (lane.length > 0) {
        this.count--;
        return lane.shift();
      }
    }
    return undefined;
  }

  /**
   * Makes room for `incoming` by removing the oldest message of the least urgent lane,
   * or returns `incoming` itself when it is less urgent than everything queued.
   */
  evictFor(incoming: Message): Message | undefined {
    const incomingLane = PRIORITY_LANE[incoming.priority];
    for (let l = this.lanes.length - 1; l >= 0; l--) {
      const lane = this.lanes[l] as Lane;
      if (lane.length === 0) continue;
      if (l < incomingLane) return incoming;
      this.count--;
      return lane.shift();
    }
    return incoming;
  }

  /** Removes every message matching `drop` (e.g. expired ones), most urgent lane first. */
  removeWhere(drop: (message: Message) => boolean): Message[] {
    const removed: Message[] = [];
    for (const lane of this.lanes) removed.push(...lane.removeWhere(drop));
    this.count -= removed.length;
    return removed;
  }

  /** Empties the mailbox, returning its messages in delivery order. */
  drainAll(): Message[] {
    const all: Message[] = [];
    let message: Message | undefined;
    while ((message = this.dequeue()) !== undefined) all.push(message);
    return all;
  }
}
