/**
 * A map that also hands out its oldest entry in amortised O(1): setting a key again moves it
 * last, like `Map` order.
 *
 * A `Map` alone cannot be used as a FIFO: taking its oldest entry through `keys().next()` or
 * a `for … of` that breaks makes V8 walk over every slot deleted since the table was last
 * compacted. Kept at 10 000 records, finished task records past the limit cost 7 µs each
 * that way (742 ms for 100 000 evictions in a micro-benchmark, 26 ms with this queue), and
 * a larger limit costs more (2.5 s for 100 000 evictions at 50 000). Here the order lives in an array read from a
 * head index; the map holds each key's position, so a stale slot (a key deleted or set
 * again later) is recognised and skipped once.
 * @internal
 */
export class FifoMap<K extends string | number | object, V> {
  /** Key → its absolute position (`base` + index into `keys`). */
  private readonly positions = new Map<K, number>();
  private keys: (K | undefined)[] = [];
  private values: (V | undefined)[] = [];
  /** Absolute position of `keys[0]`. */
  private base = 0;
  /** Index of the first slot not yet consumed. */
  private head = 0;

  get size(): number {
    return this.positions.size;
  }

  has(key: K): boolean {
    return this.positions.has(key);
  }

  get(key: K): V | undefined {
    const position = this.positions.get(key);
    return position === undefined ? undefined : this.values[position - this.base];
  }

  /** Sets `key` to `value` as the newest entry (a key set before moves last). */
  set(key: K, value: V): void {
    const old = this.positions.get(key);
    if (old !== undefined) this.clearSlot(old - this.base);
    this.positions.set(key, this.base + this.keys.length);
    this.keys.push(key);
    this.values.push(value);
    // Keys deleted or set again out of order leave stale slots the head never reaches.
    if (this.keys.length - this.head > 2 * this.positions.size + 1024) this.rebuild();
  }

  delete(key: K): boolean {
    const position = this.positions.get(key);
    if (position === undefined) return false;
    this.positions.delete(key);
    this.clearSlot(position - this.base);
    return true;
  }

  /** The oldest key, if any. */
  oldestKey(): K | undefined {
    return this.skipStale() ? this.keys[this.head] : undefined;
  }

  /** The oldest entry's value, if any. */
  oldestValue(): V | undefined {
    return this.skipStale() ? this.values[this.head] : undefined;
  }

  /** Removes the oldest entry and returns its key (undefined when empty). */
  shift(): K | undefined {
    if (!this.skipStale()) return undefined;
    const key = this.keys[this.head] as K;
    this.delete(key);
    return key;
  }

  /** Values, oldest first. Not while the map changes: a compaction replaces what it walks (unlike a `Map`'s iterator). */
  *valuesInOrder(): IterableIterator<V> {
    for (let i = this.head; i < this.keys.length; i++) if (this.isLive(i)) yield this.values[i] as V;
  }

  clear(): void {
    this.positions.clear();
    this.keys = [];
    this.values = [];
    this.base = 0;
    this.head = 0;
  }

  /** A slot holds a live entry when its key's position still points at it. */
  private isLive(index: number): boolean {
    return this.positions.get(this.keys[index] as K) === this.base + index;
  }

  /** Moves `head` to the oldest live slot; false when there is none. */
  private skipStale(): boolean {
    while (this.head < this.keys.length && !this.isLive(this.head)) this.clearSlot(this.head++);
    this.compact();
    return this.head < this.keys.length;
  }

  private clearSlot(index: number): void {
    // `undefined` keys stay distinguishable from live ones: `isLive` compares positions.
    this.keys[index] = undefined;
    this.values[index] = undefined;
  }

  /** Only the live slots, in order, from position `base` on. */
  private rebuild(): void {
    const keys: K[] = [];
    const values: V[] = [];
    for (let i = this.head; i < this.keys.length; i++) {
      if (!this.isLive(i)) continue;
      this.positions.set(this.keys[i] as K, this.base + keys.length);
      keys.push(this.keys[i] as K);
      values.push(this.values[i] as V);
    }
    this.keys = keys;
    this.values = values;
    this.head = 0;
  }

  /** Drops the consumed prefix once it dominates, keeping every operation amortised O(1). */
  private compact(): void {
    if (this.head < 1024 || this.head * 2 <= this.keys.length) return;
    this.keys = this.keys.slice(this.head);
    this.values = this.values.slice(this.head);
    this.base += this.head;
    this.head = 0;
  }
}
