/**
 * The last `capacity` ids seen, oldest forgotten first, in O(1) per id.
 *
 * A `Set` alone cannot be used as a FIFO: deleting its oldest entry through
 * `values().next()` makes V8 walk over every slot deleted since the table was last
 * compacted, which made each remembered id cost a scan of up to thousands of holes.
 * The ring remembers insertion order instead.
 * @internal
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(private readonly capacity: number) {
    this.ring = new Array<string | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Remembers `id` (no-op when it is remembered already), forgetting the oldest beyond capacity. */
  add(id: string): void {
    if (this.ids.has(id)) return;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.ids.delete(evicted);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.ids.add(id);
  }
}
