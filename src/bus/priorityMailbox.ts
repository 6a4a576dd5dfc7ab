import { FifoQueue } from '../kernel/fifoQueue';
import { PRIORITY_LANE, type Message } from './message';

type Lane = FifoQueue<Message>;

/**
 * An agent's mailbox: one FIFO lane per priority, drained critical first.
 * Within a lane messages keep arrival order; a message put back after a failed delivery
 * goes to the front of its lane, where its original timestamp places it.
 * The mailbox itself is unbounded: the bus enforces capacity with `evictFor` or
 * `evictNewestBelow`.
 */
export class PriorityMailbox {
  private readonly lanes: Lane[] = [new FifoQueue(), new FifoQueue(), new FifoQueue(), new FifoQueue()];
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

  /** True when some queued message is strictly less urgent than `priority`. */
  holdsLessUrgentThan(priority: Message['priority']): boolean {
    for (let l = this.lanes.length - 1; l > PRIORITY_LANE[priority]; l--) if ((this.lanes[l] as Lane).length > 0) return true;
    return false;
  }

  /**
   * Makes room for a message of `priority` by removing the newest message of the least
   * urgent lane, when that lane is strictly less urgent; undefined otherwise. The newest,
   * not the oldest: it is the one that would have been refused had the urgent message
   * arrived first, so older messages keep the place they were promised.
   */
  evictNewestBelow(priority: Message['priority']): Message | undefined {
    for (let l = this.lanes.length - 1; l > PRIORITY_LANE[priority]; l--) {
      const lane = this.lanes[l] as Lane;
      if (lane.length === 0) continue;
      this.count--;
      return lane.pop();
    }
    return undefined;
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
