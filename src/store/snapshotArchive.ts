import { z } from 'zod';
import { ValidationError } from '../errors';
import { RevisionMismatchError, type SnapshotStore } from './snapshotStore';

/** Options of the archive of a {@link SnapshotWriter} (its `archive` option). */
export interface SnapshotArchiveOptions<I> {
  /** Validates each archived item when it is loaded. */
  readonly itemSchema: z.ZodType<I>;
  /** Items per sealed segment; the rewritten value carries fewer than this many. Default 256. */
  readonly segmentSize?: number;
}

/** The archive's part of the value a writer rewrites: sealed segment keys and the items not sealed yet. */
export interface ArchiveRef<I> {
  readonly segments: readonly string[];
  readonly tail: readonly I[];
}

/**
 * Items that no longer change (finished tasks) leave the value a {@link SnapshotWriter}
 * rewrites on every change, so that a write costs what is open, not everything ever done.
 * They gather in a tail written with that value; each full `segmentSize` of them is
 * sealed into a key of its own, written once, and from then on the value only names it.
 *
 * A segment is written before the value that names it. Segment keys carry a random id
 * per writer, so a deposed writer's late segment can never replace one the new writer
 * named: it is an unnamed key, nothing loads it.
 * @internal
 */
export class SnapshotArchive<I> {
  private readonly size: number;
  private sequence = 0;
  /** Named by the last value written. */
  private segments: string[] = [];
  /** Items in archive order; the first `sealed.length * size` of them are in `sealed`. */
  private readonly tail: I[] = [];
  /** Written, not yet named by a value that landed. */
  private readonly sealed: string[] = [];
  /**
   * How many items at the head of `tail` came from the last `load()` (not from `add()`): a
   * second load (a takeover whose claim lost to a late write) replaces them instead of
   * keeping them as items archived meanwhile, which stored them twice.
   */
  private loadedInTail = 0;
  private readonly segmentSchema: z.ZodType<I[]>;

  constructor(
    private readonly store: SnapshotStore,
    private readonly key: string,
    /** The writer's random id: its segment keys cannot be another writer's. */
    private readonly writerId: string,
    options: SnapshotArchiveOptions<I>,
  ) {
    const size = options.segmentSize ?? 256;
    if (!Number.isInteger(size) || size < 1) {
      throw new ValidationError('snapshot writer options', [{ path: 'archive.segmentSize', message: 'must be a positive integer' }]);
    }
    if (!(options.itemSchema instanceof z.ZodType)) {
      throw new ValidationError('snapshot writer options', [{ path: 'archive.itemSchema', message: 'must be a zod schema' }]);
    }
    this.size = size;
    this.segmentSchema = z.array(options.itemSchema);
  }

  /** Items waiting in the tail (sealed or not). */
  get pending(): number {
    return this.tail.length;
  }

  /** Keys of the segments the last written value names. */
  get segmentCount(): number {
    return this.segments.length;
  }

  add(item: I): void {
    this.tail.push(item);
  }

  /** Writes a segment for every full `size` of tail items not sealed yet. Store errors propagate (retried on the next write). */
  async seal(): Promise<void> {
    while ((this.sealed.length + 1) * this.size <= this.tail.length) {
      const from = this.sealed.length * this.size;
      const key = `${this.key}.archive.${this.writerId}.${this.sequence++}`;
      try {
        // Create only: the key is this writer's own.
        await this.store.save(key, this.tail.slice(from, from + this.size), 0);
      } catch (error) {
        // A write reported failed may have landed: that key stays unnamed, the next one is used.
        if (error instanceof RevisionMismatchError) continue;
        throw error;
      }
      this.sealed.push(key);
    }
  }

  /** What the next value carries, taken in the same step as the state it is written with. */
  ref(): ArchiveRef<I> {
    return { segments: [...this.segments, ...this.sealed], tail: this.tail.slice(this.sealed.length * this.size) };
  }

  /** The value carrying `ref` landed: its sealed items leave the tail. */
  committed(ref: ArchiveRef<I>): void {
    const added = ref.segments.length - this.segments.length;
    if (added <= 0) return;
    this.segments = [...ref.segments];
    this.sealed.splice(0, added);
    this.tail.splice(0, added * this.size);
    this.loadedInTail = Math.max(0, this.loadedInTail - added * this.size);
  }

  /**
   * Adopts a loaded value's archive and reads its segments: every archived item, in
   * archive order.
   *
   * @throws ValidationError naming a segment that is missing or does not match the item schema.
   */
  async load(ref: ArchiveRef<I>, name: string): Promise<I[]> {
    const segments = await Promise.all(
      ref.segments.map(async (key) => {
        const stored = await this.store.load(key);
        if (!stored) throw new ValidationError(name, [{ path: `archive.segments.${key}`, message: 'segment missing from the store' }]);
        const parsed = this.segmentSchema.safeParse(stored.value);
        if (!parsed.success) throw ValidationError.fromZod(`${name} segment '${key}'`, parsed.error);
        return parsed.data;
      }),
    );
    this.segments = [...ref.segments];
    // Items archived before the load (finished while it ran) follow the loaded ones; the
    // segments already written for them stay unnamed and they are sealed again.
    const before = this.tail.splice(0).slice(this.loadedInTail);
    this.sealed.length = 0;
    this.tail.push(...ref.tail, ...before);
    this.loadedInTail = ref.tail.length;
    return [...segments.flat(), ...ref.tail];
  }

  /**
   * The newest archived item that `match` accepts: the tail first, then the segments the
   * last written value names, newest first (each read from the store). Costs a store read
   * per segment searched: meant for the rare lookup of an item no longer held in memory.
   *
   * @throws ValidationError naming a segment that is missing or does not match the item schema.
   */
  async find(match: (item: I) => boolean, name: string): Promise<I | undefined> {
    // Taken together, synchronously: an item sealed meanwhile is in one of them.
    const segments = [...this.segments];
    for (let i = this.tail.length - 1; i >= 0; i--) {
      const item = this.tail[i] as I;
      if (match(item)) return item;
    }
    for (let s = segments.length - 1; s >= 0; s--) {
      const key = segments[s] as string;
      const stored = await this.store.load(key);
      if (!stored) throw new ValidationError(name, [{ path: `archive.segments.${key}`, message: 'segment missing from the store' }]);
      const parsed = this.segmentSchema.safeParse(stored.value);
      if (!parsed.success) throw ValidationError.fromZod(`${name} segment '${key}'`, parsed.error);
      for (let i = parsed.data.length - 1; i >= 0; i--) {
        const item = parsed.data[i] as I;
        if (match(item)) return item;
      }
    }
    return undefined;
  }

  /**
   * Fenced: the segments written for a value that never landed are removed. Only those
   * the stored value does not name: a value whose reply was lost may have landed, and a
   * later value can only name segments the stored one names.
   */
  async abandon(key: string): Promise<void> {
    const sealed = this.sealed.splice(0);
    if (sealed.length === 0) return;
    const current = await this.store.load<{ archive?: { segments?: unknown } }>(key).catch(() => null);
    if (current === null) return; // unknown: keep them
    const named = new Set(Array.isArray(current?.value?.archive?.segments) ? (current.value.archive.segments as unknown[]) : []);
    for (const segment of sealed) if (!named.has(segment)) await this.store.delete(segment).catch(() => undefined);
  }
}
