import { createHash } from 'node:crypto';
import { z } from 'zod';
import { describeError } from '../describeError';
import { ValidationError } from '../errors';
import { RevisionMismatchError, type SnapshotStore } from './snapshotStore';

/** Options of the per-record keys of a {@link SnapshotWriter} (its `records` option). */
export interface SnapshotRecordsOptions<R> {
  /** Validates each record when it is loaded. */
  readonly itemSchema: z.ZodType<R>;
  /**
   * The record under `id` as it is now, taken when a write starts; undefined when it is
   * gone (its key is deleted). Called only for ids marked with `recordChanged(id)`.
   */
  readonly current: (id: string) => R | undefined;
}

/** One record as it is stored, under its own key and in the head's delta. */
export interface StoredRecord<R> {
  readonly id: string;
  readonly item: R;
}

/**
 * The records part of the head value: what the write that stored it changed. The head is
 * written (compare-and-set, the fence) before these reach their own keys, so a load applies
 * it over what the record keys hold: a change is in the store once the head landed.
 */
export interface RecordsDelta<R> {
  readonly puts: readonly StoredRecord<R>[];
  readonly removes: readonly string[];
}

/**
 * Record ids are user input (task ids): `__proto__`, `/`, `.`, unicode or 10 000 characters
 * must all make a valid key for every store (NATS KV keys are `[-/=\w.]`, a file name is at
 * most 255 bytes). base64url of the UTF-8 (letters, digits, `-`, `_`) up to this many
 * characters, a SHA-256 of the id beyond: the stored value carries the id itself.
 */
const LONGEST_ENCODED_ID = 120;

/** @internal The key part for a record id: `b<base64url>` or, for long ids, `h<sha256 hex>`. */
export function encodeRecordId(id: string): string {
  const encoded = Buffer.from(id, 'utf8').toString('base64url');
  return encoded.length <= LONGEST_ENCODED_ID ? `b${encoded}` : `h${createHash('sha256').update(id, 'utf8').digest('hex')}`;
}

/**
 * Writes and loads in parallel, this many at a time: a NATS KV write is a round trip, and
 * the reply of each batch waits for a turn of the event loop, which a busy orchestrator
 * makes long (≈ 0.5 s a turn in bench/persistence.ts's waves under load): at 64 a batch, a
 * write of 1 000 records lagged several waves behind on NATS KV.
 */
const PARALLEL_WRITES = 1024;

/**
 * Most records changed in one write that ride in the head for one more write instead of
 * going to their keys at once. A record that is gone by then (a task that finished within
 * the next write: every task of bench/persistence.ts's waves) never costs a key write nor a
 * delete; one still there goes to its key with the next write (the head carries it until
 * then, so it is in the store either way). More changes than this in one write (a large
 * submission) go to their keys at once, so a head carries at most twice this many records.
 */
const RECORDS_KEPT_IN_HEAD = 1024;

/** What one write does with the records. */
export interface RecordsWrite<R> {
  /** What the head carries: every record not in its key yet, and the ids whose key goes. */
  readonly delta: RecordsDelta<R>;
  /** Written to their keys once the head landed. */
  readonly toKeys: readonly StoredRecord<R>[];
  /** Carried by this head, left for the next write. */
  readonly kept: readonly StoredRecord<R>[];
  /** Ids that are gone (with a key or not). */
  readonly gone: readonly string[];
}

/** How often a record write that lost its compare-and-set to a late write is tried again while the head is still ours. */
const RECORD_CAS_ATTEMPTS = 5;

/**
 * Records that change one at a time (open tasks) under a key each, `<head>.records.<id>`,
 * so that a write carries what changed since the last one, not every record. Owned by a
 * {@link SnapshotWriter}, which writes the head value (with this write's delta in it)
 * compare-and-set first, then the changed record keys.
 *
 * Fencing: a record is written only after a head carrying it landed, one write at a time.
 * A new writer takes the head over only after loading it, so every record value a deposed
 * writer can still write late is in the delta the new writer loaded and applied. Record
 * writes are compare-and-set on the revision this writer knows: a late write that landed
 * makes the next one fail, and the writer then checks the head (still ours: reload the
 * record's revision and write again; not ours: fenced).
 * @internal
 */
export class SnapshotRecords<R> {
  private readonly prefix: string;
  private readonly schema: z.ZodType<StoredRecord<R>>;
  /** Revision of each record key this writer wrote or loaded; 0 for one named by a head but not written yet. */
  private readonly revisions = new Map<string, number>();
  /** Ids changed since the last write started. */
  private readonly dirty = new Set<string>();
  /** Records the last head that landed carries and their keys do not have yet. */
  private readonly inHead = new Map<string, StoredRecord<R>>();
  private loaded: R[] = [];
  /** The delta of the loaded head: carried by the claim, so that a crash before our first write keeps it. */
  private carried: RecordsDelta<R> = { puts: [], removes: [] };

  constructor(
    private readonly store: SnapshotStore,
    headKey: string,
    private readonly options: SnapshotRecordsOptions<R>,
  ) {
    if (!(options.itemSchema instanceof z.ZodType)) {
      throw new ValidationError('snapshot writer options', [{ path: 'records.itemSchema', message: 'must be a zod schema' }]);
    }
    if (typeof options.current !== 'function') {
      throw new ValidationError('snapshot writer options', [{ path: 'records.current', message: 'must be a function' }]);
    }
    this.prefix = `${headKey}.records.`;
    this.schema = z.object({ id: z.string().min(1), item: options.itemSchema }).strict();
  }

  /** The schema of the head's delta (validated with the head). */
  deltaSchema(): z.ZodType<RecordsDelta<R>> {
    return z.object({ puts: z.array(this.schema), removes: z.array(z.string().min(1)) }).strict();
  }

  /** The key of a record. */
  keyOf(id: string): string {
    return this.prefix + encodeRecordId(id);
  }

  /** Record keys this writer knows of (written or loaded). */
  get keyCount(): number {
    return this.revisions.size;
  }

  /** Ids changed and not written yet. */
  get pending(): number {
    return this.dirty.size;
  }

  /** Records written in the head only (their keys get them with the next write). */
  get keptInHead(): number {
    return this.inHead.size;
  }

  mark(id: string): void {
    this.dirty.add(id);
  }

  /**
   * What the next write does: the current value of every id changed since the last write,
   * with the records the last head kept that did not change since. An id gone that no key
   * holds (created and gone before reaching its key) costs nothing. With `drain` (a flush),
   * nothing is kept in the head: every record goes to its key.
   */
  take(drain = false): RecordsWrite<R> {
    const fresh: StoredRecord<R>[] = [];
    const changed = new Set<string>();
    const removes: string[] = [];
    const gone: string[] = [];
    for (const id of this.dirty) {
      changed.add(id);
      const item = this.options.current(id);
      if (item !== undefined) fresh.push({ id, item });
      else {
        gone.push(id);
        if (this.revisions.has(id)) removes.push(id);
      }
    }
    this.dirty.clear();
    const due: StoredRecord<R>[] = [];
    for (const [id, record] of this.inHead) if (!changed.has(id)) due.push(record);
    const keep = !drain && fresh.length <= RECORDS_KEPT_IN_HEAD;
    return { delta: { puts: [...due, ...fresh], removes }, toKeys: keep ? due : [...due, ...fresh], kept: keep ? fresh : [], gone };
  }

  /** A head carrying `write` did not land: its changes go into the next one (the records the last head kept stay kept). */
  retake(write: RecordsWrite<R>): void {
    for (const record of write.delta.puts) if (this.inHead.get(record.id) !== record) this.dirty.add(record.id);
    for (const id of write.gone) this.dirty.add(id);
  }

  /** The delta the claim of a loaded head carries again. */
  carriedDelta(): RecordsDelta<R> {
    return this.carried;
  }

  /**
   * The head carrying `write` landed: writes its due records to their keys and deletes the
   * keys of those gone; the records it kept stay in the head for the next write. Ids whose
   * write failed are marked again (the next head carries them); the first error is thrown
   * after every write settled.
   *
   * @throws RevisionMismatchError when a record key was written by another writer and the head is no longer ours (fenced).
   */
  async landed(write: RecordsWrite<R>, headIsOurs: () => Promise<boolean>): Promise<void> {
    for (const id of write.gone) this.inHead.delete(id);
    for (const { id } of write.toKeys) this.inHead.delete(id);
    for (const record of write.kept) this.inHead.set(record.id, record);
    let failure: unknown;
    const work: (() => Promise<void>)[] = [];
    for (const record of write.toKeys) work.push(() => this.put(record, headIsOurs));
    for (const id of write.delta.removes) work.push(() => this.remove(id));
    const ids = [...write.toKeys.map((p) => p.id), ...write.delta.removes];
    await inBatches(work, (error, index) => {
      if (error instanceof RevisionMismatchError && !(failure instanceof RevisionMismatchError)) failure = error;
      failure ??= error;
      this.dirty.add(ids[index] as string);
    });
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(describeError(failure));
  }

  private async put(record: StoredRecord<R>, headIsOurs: () => Promise<boolean>): Promise<void> {
    const key = this.keyOf(record.id);
    for (let attempt = 1; ; attempt++) {
      try {
        this.revisions.set(record.id, await this.store.save(key, record, this.revisions.get(record.id) ?? 0));
        return;
      } catch (error) {
        // A late write of a deposed writer (whose value is in the head we loaded), or the
        // reply of our own earlier write lost: the head decides whose key this is.
        // A write whose reply was lost may have landed: its key may exist now.
        if (!this.revisions.has(record.id)) this.revisions.set(record.id, 0);
        if (!(error instanceof RevisionMismatchError) || attempt >= RECORD_CAS_ATTEMPTS || !(await headIsOurs())) throw error;
        this.revisions.set(record.id, (await this.store.load(key))?.revision ?? 0);
      }
    }
  }

  private async remove(id: string): Promise<void> {
    await this.store.delete(this.keyOf(id));
    this.revisions.delete(id);
  }

  /**
   * Loads every record key and applies the head's `delta` over them (the head landed before
   * its records were written): the records as the head's writer left them. Adopts their
   * revisions; the ids of the delta are marked, so this writer writes them again.
   *
   * @throws ValidationError naming a record key whose value does not match the schema or names another id.
   */
  async load(delta: RecordsDelta<R> | undefined, name: string): Promise<void> {
    const keys = (await this.store.keys()).filter((key) => key.startsWith(this.prefix));
    const records = new Map<string, R>();
    const revisions = new Map<string, number>();
    await inBatches(
      keys.map((key) => async () => {
        const stored = await this.store.load(key);
        if (!stored) return; // deleted since the listing
        const parsed = this.schema.safeParse(stored.value);
        if (!parsed.success) throw ValidationError.fromZod(`${name} record '${key}'`, parsed.error);
        if (this.keyOf(parsed.data.id) !== key) throw new ValidationError(name, [{ path: `records.${key}`, message: `holds the record of another id` }]);
        records.set(parsed.data.id, parsed.data.item);
        revisions.set(parsed.data.id, stored.revision);
      }),
      (error) => {
        throw error;
      },
    );
    for (const { id, item } of delta?.puts ?? []) {
      records.set(id, item);
      this.dirty.add(id);
    }
    for (const id of delta?.removes ?? []) {
      records.delete(id);
      this.dirty.add(id);
    }
    this.revisions.clear();
    for (const [id, revision] of revisions) this.revisions.set(id, revision);
    this.inHead.clear();
    this.carried = delta ?? { puts: [], removes: [] };
    this.loaded = [...records.values()];
  }

  /** The records the last `load()` found, handed over once (the writer keeps no reference to them). */
  takeLoaded(): R[] {
    const loaded = this.loaded;
    this.loaded = [];
    return loaded;
  }
}

/** Runs `work` `PARALLEL_WRITES` at a time; `failed` is told of each error (and may throw to stop). */
async function inBatches(work: readonly (() => Promise<void>)[], failed: (error: unknown, index: number) => void): Promise<void> {
  for (let from = 0; from < work.length; from += PARALLEL_WRITES) {
    const batch = work.slice(from, from + PARALLEL_WRITES);
    const results = await Promise.allSettled(batch.map((run) => run()));
    results.forEach((result, i) => {
      if (result.status === 'rejected') failed(result.reason, from + i);
    });
  }
}
