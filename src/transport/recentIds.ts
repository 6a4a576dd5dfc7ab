/**
 * The last `capacity` keys remembered, with a value each, oldest forgotten first, in O(1)
 * per key.
 *
 * A `Map` alone cannot be used as a FIFO: deleting its oldest entry through
 * `keys().next()` makes V8 walk over every slot deleted since the table was last
 * compacted, which made each remembered key cost a scan of up to thousands of holes.
 * The ring remembers insertion order instead.
 * @internal
 */
export class RecentMap<V> {
  private readonly entries = new Map<string, V>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(private readonly capacity: number) {
    this.ring = new Array<string | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Remembers `value` under `key`, forgetting the oldest key beyond capacity. */
  set(key: string, value: V): void {
    if (this.entries.has(key)) {
      this.entries.set(key, value);
      return;
    }
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.entries.delete(evicted);
    this.ring[this.next] = key;
    this.next = (this.next + 1) % this.capacity;
    this.entries.set(key, value);
  }

  /** Forgets `key` now (its ring slot is reused in turn; keys are not reused). */
  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** The last `capacity` ids seen (a {@link RecentMap} without values). @internal */
export class RecentIds {
  private readonly map: RecentMap<true>;

  constructor(capacity: number) {
    this.map = new RecentMap(capacity);
  }

  get size(): number {
    return this.map.size;
  }

  has(id: string): boolean {
    return this.map.has(id);
  }

  /** Remembers `id` (no-op when it is remembered already), forgetting the oldest beyond capacity. */
  add(id: string): void {
    this.map.set(id, true);
  }
}
