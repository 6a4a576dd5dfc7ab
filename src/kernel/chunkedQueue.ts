import { performance } from 'node:perf_hooks';

/**
 * Longest the runtime works through a queue in one turn of the event loop. A leader lease
 * is renewed from a timer: a submission that held the loop for 10 s (100 000 task actors
 * spawned in one go) lost it. Shared by all budgeted work of a turn (see
 * {@link turnStartedAt}); 10 ms leaves room for a garbage collection (up to 15 ms seen)
 * and the rest of the turn's work under the 50 ms a turn may take.
 * @internal
 */
export const TURN_BUDGET_MS = 10;

let budgetedSince: number | undefined;

/**
 * When budgeted work began in this turn of the event loop. Every budgeted worker of a
 * turn (a submission inserting tasks, the spawn queue, …) runs in the same phase of the
 * loop and shares this one budget: each with its own 20 ms held the turn for 50 - 60 ms.
 * @internal
 */
export function turnStartedAt(): number {
  if (budgetedSince === undefined) {
    budgetedSince = performance.now();
    // Queued before the worker's own next turn, so it runs first in the next turn.
    setImmediate(() => {
      budgetedSince = undefined;
    });
  }
  return budgetedSince;
}

/** True once this turn's budgeted work has had `budgetMs` (see {@link turnStartedAt}). @internal */
export function turnBudgetSpent(budgetMs = TURN_BUDGET_MS): boolean {
  return performance.now() - turnStartedAt() >= budgetMs;
}

/** Resolves on a later turn of the event loop, after pending I/O and timers had their turn. @internal */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** What a {@link ChunkedQueue} does with its items. @internal */
export interface ChunkedQueueEffects<T> {
  /**
   * Processes a chunk (at most `maxChunk` items, in queue order). `held`: the items waited
   * for a later turn (a throw goes to `failed`); otherwise it is `add`'s first chunk, and a
   * throw reaches `add`'s caller.
   */
  process(items: readonly T[], held: boolean): void;
  /** An item is left waiting for a later turn (e.g. pin what it needs meanwhile). */
  hold?(item: T): void;
  /** A held item was processed, or dropped by `clear()`. */
  release?(item: T): void;
  /** `process` threw for these items; the queue goes on with the next chunk. */
  failed?(items: readonly T[], error: unknown): void;
}

/**
 * Items processed in chunks, one chunk per turn of the event loop: at most `maxChunk`
 * items, and no more once `budgetMs` has passed in the turn (checked every `stride`
 * items), so a large batch never holds the loop for long whatever the machine's speed.
 * `add` processes the first `maxChunk` items at once, so a small batch is done before
 * `add` returns, exactly as if there were no queue.
 * @internal
 */
export class ChunkedQueue<T> {
  private readonly waiting = new Set<T>();
  private order: T[] = [];
  private head = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  /** Chunks processed, and the largest. */
  readonly counts = { chunks: 0, largestChunk: 0 };

  constructor(
    private readonly effects: ChunkedQueueEffects<T>,
    private readonly maxChunk: number,
    private readonly budgetMs = TURN_BUDGET_MS,
    private readonly stride = 32,
  ) {}

  /** Items waiting for a later turn. */
  get size(): number {
    return this.waiting.size;
  }

  /** True when this item waits for a later turn. */
  has(item: T): boolean {
    return this.waiting.has(item);
  }

  /**
   * Processes the first chunk of `items` now and queues the rest (all of them, with
   * `firstChunkNow` false: for a caller that has used its turn already).
   */
  add(items: readonly T[], firstChunkNow = true): void {
    if (this.waiting.size > 0 || !firstChunkNow) {
      // Behind what already waits: order is kept.
      this.enqueue(items);
      return;
    }
    // The first chunk is whole, whatever the time: a batch of up to `maxChunk` items is
    // processed before `add` returns, on a slow machine as on a fast one.
    const taken = Math.min(items.length, this.maxChunk);
    if (taken > 0) {
      this.run(items.length === taken ? items : items.slice(0, taken), false);
      this.countChunk(taken);
    }
    if (taken < items.length) this.enqueue(items.slice(taken));
  }

  /** Takes one waiting item out of the queue and processes it now (e.g. it is about to be cancelled). */
  processNow(item: T): void {
    if (!this.waiting.delete(item)) return;
    this.run([item], true);
    this.resolveIfIdle();
  }

  /** Drops every waiting item (releasing each). */
  clear(): void {
    const dropped = [...this.waiting];
    this.waiting.clear();
    this.order = [];
    this.head = 0;
    for (const item of dropped) this.effects.release?.(item);
    this.resolveIfIdle();
  }

  /** Resolves once nothing waits. */
  idle(): Promise<void> {
    if (this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(items: readonly T[]): void {
    for (const item of items) {
      this.effects.hold?.(item);
      this.waiting.add(item);
      this.order.push(item);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.size === 0) return;
    this.scheduled = true;
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.scheduled = false;
    turnStartedAt();
    let taken = 0;
    while (taken < this.maxChunk && this.head < this.order.length) {
      const chunk: T[] = [];
      while (chunk.length < this.stride && taken + chunk.length < this.maxChunk && this.head < this.order.length) {
        const item = this.order[this.head++] as T;
        // Items taken out by processNow() are skipped.
        if (this.waiting.delete(item)) chunk.push(item);
      }
      if (chunk.length > 0) this.run(chunk, true);
      taken += chunk.length;
      if (turnBudgetSpent(this.budgetMs)) break;
    }
    if (taken > 0) this.countChunk(taken);
    if (this.head >= this.order.length) {
      this.order = [];
      this.head = 0;
    }
    this.schedule();
    this.resolveIfIdle();
  };

  /** Items processed in the caller's turn throw to the caller; later turns have no caller to throw to. */
  private run(items: readonly T[], held: boolean): void {
    if (!held) {
      this.effects.process(items, false);
      return;
    }
    try {
      this.effects.process(items, true);
    } catch (error) {
      this.effects.failed?.(items, error);
    }
    for (const item of items) this.effects.release?.(item);
  }

  private countChunk(size: number): void {
    this.counts.chunks++;
    if (size > this.counts.largestChunk) this.counts.largestChunk = size;
  }

  private resolveIfIdle(): void {
    if (this.waiting.size > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
