import { FifoMap } from './fifoMap';

/**
 * The last `capacity` keys remembered, with a value each, oldest forgotten first, in O(1)
 * per key: a {@link FifoMap} (a `Map` read from its start for the oldest walks every slot
 * deleted before) bounded by a capacity. Setting a key again makes it the newest.
 * @internal
 */
export class RecentMap<V> {
  private readonly entries = new FifoMap<string, V>();

  constructor(private readonly capacity: number) {}

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
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.shift();
  }

  /** Forgets `key` now. */
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

  /** Remembers `id` as the newest, forgetting the oldest beyond capacity. */
  add(id: string): void {
    this.map.set(id, true);
  }

  /** Forgets `id` now. */
  delete(id: string): void {
    this.map.delete(id);
  }
}
