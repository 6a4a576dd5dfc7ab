import { z } from 'zod';
import { FifoMap } from './fifoMap';

/** How long finished records stay in memory. */
export interface RetentionOptions {
  /** Finished records kept; past it the oldest finished go first. 0 keeps every one. Default 10 000. */
  readonly maxRecords?: number;
  /** A finished record older than this (clock ms since it finished) goes. 0: no age limit. Default 3 600 000 (1 h). */
  readonly maxAgeMs?: number;
}

/** Validates {@link RetentionOptions} and fills in the defaults. @internal */
export const RetentionOptionsSchema = z
  .object({
    maxRecords: z.number().int().nonnegative().default(10_000),
    maxAgeMs: z.number().nonnegative().default(3_600_000),
  })
  .strict()
  .prefault({});

/** Limits of a {@link RecordRetention}: `Infinity` for none. @internal */
export interface RetentionLimits {
  readonly maxRecords: number;
  readonly maxAgeMs: number;
}

/** {@link RetentionOptions} as limits: 0 means no limit. @internal */
export function retentionLimits(options: z.output<typeof RetentionOptionsSchema>): RetentionLimits {
  return {
    maxRecords: options.maxRecords === 0 ? Infinity : options.maxRecords,
    maxAgeMs: options.maxAgeMs === 0 ? Infinity : options.maxAgeMs,
  };
}

/**
 * Decides when a finished record leaves memory: the oldest finished first, once more than
 * `maxRecords` are kept or once it is older than `maxAgeMs`. Limits are checked when a
 * record finishes (`add`), on the clock time given: an idle process keeps what it has,
 * since nothing new is added to it. A pinned record (something still needs it, e.g. a
 * dependency of a task not finished yet) is let go only once unpinned.
 * @internal
 */
export class RecordRetention<K extends string | number | object> {
  /**
   * Finish time per key, in the order they finished (re-adding moves a key last). Not a
   * `Map` read from its start: past `maxRecords` that cost 7 µs a finished task (see
   * {@link FifoMap}).
   */
  private readonly kept = new FifoMap<K, number>();
  private readonly pins = new Map<K, number>();
  /** Due to go, but pinned. */
  private readonly held = new Set<K>();
  private evictedCount = 0;

  constructor(
    private readonly limits: RetentionLimits,
    /** Called once per record that leaves memory. */
    private readonly evict: (key: K) => void,
  ) {}

  /** Records let go so far. */
  get evicted(): number {
    return this.evictedCount;
  }

  /** A record finished at `finishedAt`; older ones past a limit go. */
  add(key: K, finishedAt: number, now: number): void {
    // Without limits nothing ever goes: no bookkeeping (a Map entry per record, measured
    // among the bytes of a finished task record).
    if (this.limits.maxRecords === Infinity && this.limits.maxAgeMs === Infinity) return;
    this.held.delete(key);
    this.kept.set(key, finishedAt);
    this.sweep(now);
  }

  /** Lets go the oldest records past a limit (all of them with `Infinity`-free limits reached). */
  sweep(now: number): void {
    for (;;) {
      const finishedAt = this.kept.oldestValue();
      if (finishedAt === undefined || (this.kept.size <= this.limits.maxRecords && now - finishedAt <= this.limits.maxAgeMs)) return;
      const key = this.kept.shift() as K;
      if (this.pins.has(key)) this.held.add(key);
      else this.drop(key);
    }
  }

  /** Something needs the record (it may not be finished yet): it stays until `unpin`. */
  pin(key: K): void {
    this.pins.set(key, (this.pins.get(key) ?? 0) + 1);
  }

  /** Releases one `pin`; a record due to go while pinned goes now. */
  unpin(key: K): void {
    const count = this.pins.get(key);
    if (count === undefined) return;
    if (count > 1) {
      this.pins.set(key, count - 1);
      return;
    }
    this.pins.delete(key);
    if (this.held.delete(key)) this.drop(key);
  }

  private drop(key: K): void {
    this.evictedCount++;
    this.evict(key);
  }
}
