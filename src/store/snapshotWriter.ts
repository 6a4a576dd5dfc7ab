import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { describeError } from '../describeError';
import { ValidationError } from '../errors';
import { replaceNonJson, type JsonProblem } from '../jsonValue';
import { SnapshotArchive, type ArchiveRef, type SnapshotArchiveOptions } from './snapshotArchive';
import { SnapshotRecords, type RecordsDelta, type RecordsWrite, type SnapshotRecordsOptions } from './snapshotRecords';
import { checkKey, isSnapshotStore, RevisionMismatchError, type SnapshotStore } from './snapshotStore';

/** Options of a {@link SnapshotWriter}. */
export interface SnapshotWriterOptions<T, I = never, R = never> {
  /** Where the state is written. */
  readonly store: SnapshotStore;
  /** The key of the state in the store. */
  readonly key: string;
  /**
   * Validates what `load()` finds: a store is outside input like any other (another
   * version, another writer, a hand edit).
   */
  readonly schema: z.ZodType<T>;
  /** The whole state to write, taken when a write starts (so it holds every change marked before). */
  readonly snapshot: () => T;
  /**
   * Called once when a write finds another revision than the last one this writer saw:
   * another instance loaded the key since and is the active writer now. Nothing is
   * written afterwards.
   */
  readonly onFenced?: (error: RevisionMismatchError) => void;
  /** Names the state in validation errors. Default `snapshot`. */
  readonly name?: string;
  /**
   * Items that no longer change, handed over with `archive(item)`, are kept out of the
   * rewritten state: each `segmentSize` of them go to a key of their own, written once
   * (`<key>.archive.<writer>.<n>`), and `archived()` returns them after `load()`.
   */
  readonly archive?: SnapshotArchiveOptions<I>;
  /**
   * Records that change one at a time (open tasks) are kept out of the rewritten state too:
   * each under a key of its own (`<key>.records.<encoded id>`), written when
   * `recordChanged(id)` marked it, so that a write costs what changed since the last one.
   * `takeRecords()` returns them after `load()`. See `SnapshotRecords` for the fencing.
   */
  readonly records?: SnapshotRecordsOptions<R>;
  /**
   * Runs `write` on a later turn of the event loop: a write starts no earlier than the turn
   * after the change that asked for it, so every change of a turn goes into one write,
   * whatever the store's latency. Default `setImmediate`; tests pass a manual one.
   * `flush()` does not wait for it.
   */
  readonly scheduleWrite?: (write: () => void) => void;
  /**
   * Nothing is written before `load()` or `takeOver()`: changes marked earlier are written
   * once the key is taken over (a write before it would be fenced by the stored value, or
   * would overwrite it unseen). Default false: a writer that never loads writes create-only.
   */
  readonly loadFirst?: boolean;
  /**
   * Told when the store keeps failing (after `failingAfter` failed writes in a row), when it
   * works again, and when a state that is not JSON was written with its bad parts as null.
   * A counter alone goes unnoticed: owners turn these into events.
   */
  readonly onProblem?: (problem: SnapshotWriterProblem) => void;
  /** Failed writes in a row after which the store counts as failing. Default 3. */
  readonly failingAfter?: number;
}

/** What a {@link SnapshotWriter} reports through `onProblem`. */
export type SnapshotWriterProblem =
  /** The last `consecutiveFailures` writes failed; `error` is the last one's. Reported once per run of failures. */
  | { readonly kind: 'failing'; readonly key: string; readonly error: string; readonly consecutiveFailures: number }
  /** A write landed after the store was reported failing. */
  | { readonly kind: 'recovered'; readonly key: string; readonly failedWrites: number }
  /**
   * The state was not JSON (a BigInt, a cycle...): it was written with `replaced` as null, so
   * that one bad value does not stop every later write. The value loads (it passed the schema).
   */
  | { readonly kind: 'repaired'; readonly key: string; readonly replaced: readonly JsonProblem[] };

/** What a {@link SnapshotWriter} has done, for stats. */
export interface SnapshotWriterStats {
  /** Writes that landed. */
  readonly saves: number;
  /** Writes the store refused for another reason than a lost compare-and-set (retried on the next change). */
  readonly saveErrors: number;
  /** Another instance took the key over: this writer writes no more. */
  readonly fenced: boolean;
  /**
   * Only while writes fail: how many in a row since the last that landed, the last one's
   * error, and whether that makes the store failing (`failingAfter` in a row; reported
   * through `onProblem`).
   */
  readonly failingWrites?: { readonly consecutive: number; readonly lastError: string; readonly failing: boolean };
  /** Only once it happened: states or archived items that were not JSON, written with their bad parts as null. */
  readonly repairedWrites?: number;
  /** With an archive: sealed segments the stored value names, and items written with the value itself. */
  readonly archive?: { readonly segments: number; readonly pending: number };
  /**
   * With records: record keys this writer knows of, records changed but not written yet, and
   * records written in the head only (their keys get them with the next write, unless gone by then).
   */
  readonly records?: { readonly keys: number; readonly pending: number; readonly keptInHead: number };
}

/**
 * Keeps one key of a {@link SnapshotStore} up to date with a piece of state: at most one
 * write in flight, a write started no earlier than the turn of the event loop after the
 * change (every change of a turn, and every change made while a write was in flight,
 * coalesced into the next write, whatever the store's latency), each write a
 * compare-and-set on the last revision this writer saw. A write that finds
 * another revision means another instance loaded the key since: this writer is fenced,
 * stops writing and calls `onFenced`. Any other store error is counted and the change is
 * kept for the next write (made on the next `markDirty`).
 *
 * With the `archive` option, items that no longer change (`archive(item)`) leave the
 * rewritten state and are sealed into write-once segment keys, so that a write costs
 * what is still changing, not the whole history (see `SnapshotArchive`). With the
 * `records` option, records that change one at a time live under keys of their own and a
 * write carries only those that changed (see `SnapshotRecords`).
 *
 * `load()` takes over the key: it adopts the stored revision, so the next write fences
 * whoever wrote it. A writer that never loads starts at revision 0 (create only): its
 * first write is fenced if the key already exists.
 *
 * @example
 * ```ts
 * const writer = new SnapshotWriter({
 *   store: new FileSnapshotStore({ directory: './state' }),
 *   key: 'counter',
 *   schema: z.object({ count: z.number() }),
 *   snapshot: () => ({ count }),
 *   onFenced: () => stop(),
 * });
 * const previous = await writer.load(); // { count: 41 } or undefined
 * count = (previous?.count ?? 0) + 1;
 * writer.markDirty();
 * await writer.flush();
 * ```
 */
export class SnapshotWriter<T, I = never, R = never> {
  private readonly store: SnapshotStore;
  readonly key: string;
  private readonly schema: z.ZodType<T>;
  private readonly archiveOf: SnapshotArchive<I> | undefined;
  private readonly recordsOf: SnapshotRecords<R> | undefined;
  /** What is stored: the state in an envelope that marks the write (and names the archive). */
  private readonly envelopeSchema: z.ZodType<StoredEnvelope<T, I, R>>;
  private readonly scheduleWrite: (write: () => void) => void;
  /** Ends the wait for the next turn (set while the write loop waits). */
  private wake: (() => void) | undefined;
  /** Calls of `flush()` under way: the write loop does not wait for the next turn. */
  private flushing = 0;
  private loadedArchive: I[] = [];
  /** Random per writer: marks its writes and names its archive segments. */
  private readonly writerId = randomBytes(4).toString('hex');
  /**
   * Tokens of the values this writer sent since its last confirmed write whose replies
   * were lost: one of them may have landed.
   */
  private readonly unconfirmed = new Set<string>();
  private writes = 0;
  /** False until `load()`/`takeOver()` with `loadFirst`: marked changes wait. */
  private writable: boolean;
  private readonly snapshot: () => T;
  private readonly onFenced: ((error: RevisionMismatchError) => void) | undefined;
  private readonly name: string;
  private revision = 0;
  private dirty = false;
  private saving: Promise<void> | undefined;
  private fencedBy: RevisionMismatchError | undefined;
  private savesDone = 0;
  private errors = 0;
  private consecutiveErrors = 0;
  private lastError: string | null = null;
  private repairs = 0;
  private readonly onProblem: ((problem: SnapshotWriterProblem) => void) | undefined;
  private readonly failingAfter: number;

  constructor(options: SnapshotWriterOptions<T, I, R>) {
    this.key = checkKey(options?.key);
    if (!(options.schema instanceof z.ZodType)) throw new ValidationError('snapshot writer options', [{ path: 'schema', message: 'must be a zod schema' }]);
    if (typeof options.snapshot !== 'function') {
      throw new ValidationError('snapshot writer options', [{ path: 'snapshot', message: 'must be a function' }]);
    }
    if (options.onFenced !== undefined && typeof options.onFenced !== 'function') {
      throw new ValidationError('snapshot writer options', [{ path: 'onFenced', message: 'must be a function' }]);
    }
    if (!isSnapshotStore(options.store)) {
      throw new ValidationError('snapshot writer options', [{ path: 'store', message: 'must be a SnapshotStore' }]);
    }
    this.store = options.store;
    this.schema = options.schema;
    this.snapshot = options.snapshot;
    this.onFenced = options.onFenced;
    this.name = options.name ?? 'snapshot';
    this.onProblem = typeof options.onProblem === 'function' ? options.onProblem : undefined;
    this.failingAfter = Number.isSafeInteger(options.failingAfter) && (options.failingAfter as number) > 0 ? (options.failingAfter as number) : 3;
    this.writable = options.loadFirst !== true;
    if (options.scheduleWrite !== undefined && typeof options.scheduleWrite !== 'function') {
      throw new ValidationError('snapshot writer options', [{ path: 'scheduleWrite', message: 'must be a function' }]);
    }
    this.scheduleWrite = options.scheduleWrite ?? nextTurnOfEventLoop;
    if (options.archive !== undefined) this.archiveOf = new SnapshotArchive(this.store, this.key, this.writerId, options.archive);
    if (options.records !== undefined) this.recordsOf = new SnapshotRecords(this.store, this.key, options.records);
    this.envelopeSchema = z
      .object({
        state: this.schema,
        written: z.string().optional(),
        // A writer without an archive refuses a value that names one rather than drop it.
        ...(options.archive && { archive: z.object({ segments: z.array(z.string().min(1)), tail: z.array(options.archive.itemSchema) }).optional() }),
        // Likewise a value whose open records live under keys of their own.
        ...(this.recordsOf && { records: this.recordsOf.deltaSchema().optional() }),
      })
      .strict() as z.ZodType<StoredEnvelope<T, I, R>>;
  }

  /** Another instance took the key over: nothing is written any more. */
  get fenced(): boolean {
    return this.fencedBy !== undefined;
  }

  /** Writes that landed. */
  get saves(): number {
    return this.savesDone;
  }

  /** Writes that failed for another reason than fencing. */
  get saveErrors(): number {
    return this.errors;
  }

  /** The counters, as one value. */
  stats(): SnapshotWriterStats {
    const archive = this.archiveOf && { segments: this.archiveOf.segmentCount, pending: this.archiveOf.pending };
    const records = this.recordsOf && { keys: this.recordsOf.keyCount, pending: this.recordsOf.pending, keptInHead: this.recordsOf.keptInHead };
    return {
      saves: this.savesDone,
      saveErrors: this.errors,
      fenced: this.fenced,
      ...(this.lastError !== null && {
        failingWrites: { consecutive: this.consecutiveErrors, lastError: this.lastError, failing: this.consecutiveErrors >= this.failingAfter },
      }),
      ...(this.repairs > 0 && { repairedWrites: this.repairs }),
      ...(archive && { archive }),
      ...(records && { records }),
    };
  }

  /**
   * Loads and validates the stored state, and adopts its revision: the next write fences
   * the previous writer. Undefined when the key is absent.
   *
   * @throws ValidationError naming the first offending field of a stored value that does not match the schema.
   */
  async load(): Promise<T | undefined> {
    const state = await this.read();
    this.becomeWritable();
    return state;
  }

  private async read(): Promise<T | undefined> {
    const stored = await this.store.load(this.key);
    if (!stored) return undefined;
    let state: T;
    this.loadedArchive = [];
    if (isEnvelope(stored.value)) {
      const parsed = this.envelopeSchema.safeParse(stored.value);
      if (!parsed.success) throw ValidationError.fromZod(`${this.name} '${this.key}'`, parsed.error);
      const { archive, records } = parsed.data;
      if (archive && this.archiveOf) this.loadedArchive = await this.archiveOf.load(archive, `${this.name} '${this.key}'`);
      if (records && this.recordsOf) await this.recordsOf.load(records, `${this.name} '${this.key}'`);
      state = parsed.data.state;
    } else {
      // Written by an earlier version: the state is the value.
      const parsed = this.schema.safeParse(stored.value);
      if (!parsed.success) throw ValidationError.fromZod(`${this.name} '${this.key}'`, parsed.error);
      state = parsed.data;
    }
    this.revision = stored.revision;
    return state;
  }

  /**
   * Loads the stored state and makes the key this writer's before anything acts on what was
   * loaded: writes it back with compare-and-set, and loads again when another writer (a
   * deposed one finishing a write) wrote in between. A previous writer's next write is fenced.
   *
   * @param cancelled Checked after each load: an error to throw instead of claiming (e.g. the owner stopped meanwhile).
   * @throws RevisionMismatchError when the key kept changing through 10 attempts.
   */
  async takeOver(cancelled?: () => Error | undefined): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      const state = await this.read();
      const error = cancelled?.();
      if (error) throw error;
      if (state === undefined || (await this.claim(state))) {
        this.becomeWritable();
        return state;
      }
      if (this.fencedBy) throw this.fencedBy;
      if (attempt >= 10) throw new RevisionMismatchError(this.key, this.revision, undefined);
    }
  }

  /** Changes marked while waiting for the load are written now. */
  private becomeWritable(): void {
    this.writable = true;
    if (this.dirty && !this.fencedBy) this.saving ??= this.saveLoop();
  }

  /** The archived items the last `load()` found, in the order they were archived. */
  archived(): readonly I[] {
    return this.loadedArchive;
  }

  /**
   * The archived items the last `load()` found, handed over once: the writer keeps no
   * reference to them afterwards (an owner that lets old items go, e.g. by retention, must
   * not have them all held here for the life of the process).
   *
   * @example
   * ```ts
   * for (const item of writer.takeArchived()) restore(item);
   * ```
   */
  takeArchived(): readonly I[] {
    const items = this.loadedArchive;
    this.loadedArchive = [];
    return items;
  }

  /**
   * The newest archived item `match` accepts, read from the store when it is no longer in
   * the value's tail (a store read per sealed segment searched, newest first). Undefined
   * without an archive or when none matches.
   *
   * @throws ValidationError naming a segment that is missing or does not match the item schema.
   * @example
   * ```ts
   * const task = await writer.findArchived((t) => t.record.taskId === 'old-task');
   * ```
   */
  findArchived(match: (item: I) => boolean): Promise<I | undefined> {
    if (!this.archiveOf) return Promise.resolve(undefined);
    return this.archiveOf.find(match, `${this.name} '${this.key}'`);
  }

  /**
   * The records the last `load()` found (its record keys with the head's last changes
   * applied), handed over once: the writer keeps no reference to them.
   *
   * @example
   * ```ts
   * for (const task of writer.takeRecords()) restore(task);
   * ```
   */
  takeRecords(): readonly R[] {
    return this.recordsOf?.takeLoaded() ?? [];
  }

  /**
   * The record under `id` changed (or is gone): the next write carries its value as the
   * `records.current` option gives it then, and writes its key (or deletes it).
   */
  recordChanged(id: string): void {
    if (!this.recordsOf) throw new ValidationError('snapshot writer', [{ path: 'records', message: 'this writer has no records option' }]);
    if (this.fencedBy) return;
    this.recordsOf.mark(id);
    this.markDirty();
  }

  /**
   * Hands over an item that will not change any more: it leaves the state the writer
   * rewrites (the `snapshot` must no longer include it) and is written with the next write.
   */
  archive(item: I): void {
    if (!this.archiveOf) throw new ValidationError('snapshot writer', [{ path: 'archive', message: 'this writer has no archive option' }]);
    if (this.fencedBy) return;
    // Checked on the way in: a sealed segment is written before the state, and one that can
    // never be written would hold back every later write.
    const repair = replaceNonJson(item);
    if (repair) {
      this.repairs++;
      this.report({ kind: 'repaired', key: this.key, replaced: repair.replaced });
    }
    this.archiveOf.add(repair ? (repair.value as I) : item);
    this.markDirty();
  }

  /**
   * Writes `value` (typically what `load()` returned) on the revision `load()` adopted,
   * compare-and-set, to make the key ours before acting on what was loaded. False when
   * another writer wrote in between (load and claim again); this writer is not fenced by it.
   */
  async claim(value: T): Promise<boolean> {
    await this.flush(); // one write at a time
    if (this.fencedBy) return false;
    try {
      this.revision = await this.store.save(this.key, this.envelope(value, this.archiveOf?.ref(), this.recordsOf?.carriedDelta()), this.revision);
      this.savesDone++;
      return true;
    } catch (error) {
      if (error instanceof RevisionMismatchError) return false;
      throw error;
    }
  }

  /** Something changed: write it on the next turn of the event loop (with every other change of this turn). */
  markDirty(): void {
    if (this.fencedBy) return;
    this.dirty = true;
    if (this.writable) this.saving ??= this.saveLoop();
  }

  /**
   * Resolves once every change marked so far is written, or its write failed; does not wait
   * for the next turn. Records the last write kept in the head go to their keys as well (one
   * more write), so that after a flush everything is in its final place.
   */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      for (let drains = 0; ; drains++) {
        while (this.saving) {
          this.wake?.();
          await this.saving;
        }
        // One attempt: a store that is down keeps them in the head, where they are durable anyway.
        if (drains > 0 || !this.recordsOf?.keptInHead || this.fencedBy || !this.writable) return;
        this.markDirty();
      }
    } finally {
      this.flushing--;
    }
  }

  /** Resolves on the next turn of the event loop (or at once when `flush()` asks). */
  private nextTurn(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.scheduleWrite(resolve);
    });
  }

  private async saveLoop(): Promise<void> {
    try {
      while (this.dirty && !this.fencedBy) {
        // Every change of this turn goes into one write, on the next turn: a store that
        // answers in the same turn (memory) otherwise took one write per change (a
        // microtask let only the changes of one synchronous run in: 0.10–0.29× no store).
        if (this.flushing === 0) await this.nextTurn();
        this.wake = undefined;
        if (this.fencedBy) break;
        this.dirty = false;
        let records: RecordsWrite<R> | undefined;
        let headLanded = false;
        try {
          await this.archiveOf?.seal();
          // State, archive and changed records in one step: an item is in one of them in every write.
          const archive = this.archiveOf?.ref();
          records = this.recordsOf?.take(this.flushing > 0);
          const written = this.envelope(this.snapshot(), archive, records?.delta);
          try {
            this.revision = await this.saveState(written);
          } catch (error) {
            // An earlier write whose reply was lost may have landed: then the key is still ours.
            if (!(error instanceof RevisionMismatchError) || !(await this.landedEarlier())) {
              if (!(error instanceof RevisionMismatchError)) this.unconfirmed.add(written.written);
              throw error;
            }
            this.revision = await this.saveState(written);
          }
          this.unconfirmed.clear();
          headLanded = true;
          if (archive) this.archiveOf?.committed(archive);
          // Only now, and before the next head: see SnapshotRecords on fencing.
          if (records) await this.recordsOf?.landed(records, this.revision);
          this.savesDone++;
          this.landed();
        } catch (error) {
          // Not in the store: the next head carries them (after the head, `apply` marked the failed ones).
          if (records && !headLanded) this.recordsOf?.retake(records);
          if (error instanceof RevisionMismatchError) {
            this.fencedBy = error;
            await this.archiveOf?.abandon(this.key);
            this.notifyFenced(error);
          } else {
            // Keep the change for the next attempt (a fresh snapshot, on the next change); a
            // store that stays down is reported, not only counted.
            this.errors++;
            this.dirty = true;
            this.failed(error);
            return;
          }
        }
      }
    } finally {
      this.saving = undefined;
    }
  }

  /**
   * Saves the envelope; when the store refuses it and it is not JSON (a BigInt or a cycle
   * the owner let in), saves it again with the bad parts as null, if that still matches the
   * schema. Retrying the same poisoned state would fail forever and keep every later change
   * out of the store.
   */
  private async saveState(written: StoredEnvelope<T, I, R> & { written: string }): Promise<number> {
    try {
      return await this.store.save(this.key, written, this.revision);
    } catch (error) {
      if (error instanceof RevisionMismatchError) throw error;
      const repair = replaceNonJson(written);
      if (!repair || !this.envelopeSchema.safeParse(repair.value).success) throw error;
      const revision = await this.store.save(this.key, repair.value, this.revision);
      this.repairs++;
      this.report({ kind: 'repaired', key: this.key, replaced: repair.replaced });
      return revision;
    }
  }

  private failed(error: unknown): void {
    this.consecutiveErrors++;
    this.lastError = describeError(error);
    if (this.consecutiveErrors === this.failingAfter) {
      this.report({ kind: 'failing', key: this.key, error: this.lastError, consecutiveFailures: this.consecutiveErrors });
    }
  }

  private landed(): void {
    const failedWrites = this.consecutiveErrors;
    this.consecutiveErrors = 0;
    this.lastError = null;
    if (failedWrites >= this.failingAfter) this.report({ kind: 'recovered', key: this.key, failedWrites });
  }

  private report(problem: SnapshotWriterProblem): void {
    try {
      this.onProblem?.(problem);
    } catch {
      // Nobody awaits the write loop: a throwing callback would be an unhandled rejection.
    }
  }

  /** Whether the stored value is one this writer sent whose reply was lost: then its revision is adopted. */
  private async landedEarlier(): Promise<boolean> {
    if (this.unconfirmed.size === 0) return false;
    const current = await this.store.load<{ written?: unknown; archive?: ArchiveRef<I> }>(this.key).catch(() => undefined);
    if (!current || typeof current.value?.written !== 'string' || !this.unconfirmed.has(current.value.written)) return false;
    this.revision = current.revision;
    if (current.value.archive) this.archiveOf?.committed(current.value.archive);
    return true;
  }

  /** The value stored for `state`: marked with a token of this write. */
  private envelope(state: T, archive: ArchiveRef<I> | undefined, records?: RecordsDelta<R>): StoredEnvelope<T, I, R> & { written: string } {
    return { state, written: `${this.writerId}.${++this.writes}`, ...(archive && { archive }), ...(records && { records }) };
  }

  private notifyFenced(error: RevisionMismatchError): void {
    try {
      this.onFenced?.(error);
    } catch {
      // Nobody awaits the write loop: a throwing callback would be an unhandled rejection.
    }
  }
}

/** What a writer stores under its key. */
interface StoredEnvelope<T, I, R> {
  readonly state: T;
  /** This write's token: `<writer id>.<n>`. */
  readonly written?: string | undefined;
  readonly archive?: ArchiveRef<I> | undefined;
  /** With records: what this write changed (its record keys are written after it). */
  readonly records?: RecordsDelta<R> | undefined;
}

/** The default `scheduleWrite`: the check phase of this turn's event loop, after its I/O callbacks. */
function nextTurnOfEventLoop(write: () => void): void {
  setImmediate(write);
}

/** A value written by this version's writers (earlier versions stored the state alone). */
function isEnvelope(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'state' in value && ('written' in value || 'archive' in value);
}
