/**
 * A fixed-capacity buffer that keeps the newest items: pushing into a full buffer
 * overwrites the oldest and counts it as dropped. O(1) per push, no allocation after the
 * first fill; what the inspector uses so that a burst of events costs bounded memory.
 * @internal
 */
export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private length = 0;
  /** Items overwritten since the last `takeDropped()`. */
  private dropped = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(Math.max(1, capacity));
  }

  get size(): number {
    return this.length;
  }

  push(item: T): void {
    if (this.capacity <= 0) {
      this.dropped++;
      return;
    }
    if (this.length < this.capacity) {
      this.items[(this.start + this.length) % this.capacity] = item;
      this.length++;
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
    this.dropped++;
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.items[(this.start + i) % this.capacity] as T);
    return out;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const out = this.toArray();
    this.items.fill(undefined);
    this.start = 0;
    this.length = 0;
    return out;
  }

  /** How many items were overwritten since the last call. */
  takeDropped(): number {
    const dropped = this.dropped;
    this.dropped = 0;
    return dropped;
  }
}
