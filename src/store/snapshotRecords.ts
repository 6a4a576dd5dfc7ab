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
  /** The record's id (a task id): its key is `<key>.records.<encoded id>`. */
  readonly id: string;
  /** The record as it was when the write started. */
  readonly item: R;
}

/**
 * The records part of the head value: what the write that stored it changed. The head is
 * written (compare-and-set, the fence) before these reach their own keys, so a load applies
 * it over what the record keys hold: a change is in the store once the head landed.
 */
export interface RecordsDelta<R> {
  /** Records written or changed by that write, as they were when it started. */
  readonly puts: readonly StoredRecord<R>[];
  /** Ids of the records that write removed (their keys are deleted). */
  readonly removes: readonly string[];
}

/**
 * Record ids are user input (task ids): `__proto__`, `/`, `.`, unicode, lone surrogates or
 * 10 000 characters must all make a distinct valid key for every store (NATS KV keys are
 * `[-/=\w.]`, a file name is at most 255 bytes, and on a case-insensitive file system —
 * macOS, Windows — two names differing only in case are one file). So: lowercase base32 of
 * the id's UTF-16 code units (injective, lone surrogates included: UTF-8 maps them all to
 * U+FFFD) up to this many characters (ids of up to 37 code units), a lowercase hex SHA-256
 * of the same bytes beyond. The stored value carries the id itself, checked on load.
 */
const LONGEST_ENCODED_ID = 120;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** The id's UTF-16 code units, big-endian, two bytes each. */
function utf16Bytes(id: string): Buffer {
  const bytes = Buffer.allocUnsafe(id.length * 2);
  for (let i = 0; i < id.length; i++) bytes.writeUInt16BE(id.charCodeAt(i), i * 2);
  return bytes;
}

/** Lowercase RFC 4648 base32 without padding. */
function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let buffer = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32.charAt((buffer >>> (bits - 5)) & 31);
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32.charAt((buffer << (5 - bits)) & 31);
  return out;
}

/** @internal The key part for a record id: `b<base32>` or, for long ids, `h<sha256 hex>`; lowercase either way. */
export function encodeRecordId(id: string): string {
  const bytes = utf16Bytes(id);
  const encoded = base32(bytes);
  return encoded.length <= LONGEST_ENCODED_ID ? `b${encoded}` : `h${createHash('sha256').update(bytes).digest('hex')}`;
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
 * submission) go to their keys at once, after the head. Every changed record is in the head
 * of the write that changed it all the same (fencing: a record reaches its key only after a
 * head carrying it landed; and the head is the one atomic write, so a crash before the keys
 * keeps a submission whole): a head carries up to this many kept records plus every record
 * changed since the last write, unbounded (one submission of 50 000 tasks: a head of ≈ 27 MB).
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

/** How often a record write that lost its compare-and-set to an older writer's late write (or our own unconfirmed one) is tried again. */
const RECORD_CAS_ATTEMPTS = 5;

/**
 * What a record key holds: the record, or a tombstone (a finished record a deposed writer
 * may still try to create), with the epoch of the writer that wrote it: the revision of
 * that writer's first head. A writer that took the head over wrote its first head after
 * loading the previous writer's last one, so epochs grow with every takeover.
 */
type RecordKeyValue<R> = { readonly id: string; readonly item: R; readonly epoch: number } | { readonly id: string; readonly gone: true; readonly epoch: number };

/**
 * Records that change one at a time (open tasks) under a key each, `<head>.records.<id>`,
 * so that a write carries what changed since the last one, not every record. Owned by a
 * {@link SnapshotWriter}, which writes the head value (with this write's delta in it)
 * compare-and-set first, then the changed record keys.
 *
 * Fencing: a record is written only after a head carrying it landed, one write at a time.
 * A new writer takes the head over only after loading it, so every record value a deposed
 * writer can still write late is in the delta the new writer loaded and applied. Each key
 * value carries its writer's epoch (the revision of its first head: larger for every later
 * writer). Record writes are compare-and-set on the revision this writer knows; when one
 * fails, the key is read again and its epoch decides, atomically with the revision the
 * next attempt is made on: an older epoch (a deposed writer's late write of a value we
 * loaded) or ours (our own write whose reply was lost) is overwritten; a newer one means a
 * writer took over from us: fenced, never overwritten. An id this writer loaded (from a key
 * or from the head's delta, where a deposed writer may still be creating its key) that
 * finishes gets a tombstone, written compare-and-set, so that such a late create fails
 * instead of bringing the record back; a later writer's `load()` ignores tombstones and
 * deletes them. Ids this writer created itself are deleted plainly.
 * @internal
 */
export class SnapshotRecords<R> {
  private readonly prefix: string;
  private readonly schema: z.ZodType<StoredRecord<R>>;
  private readonly recordSchema: z.ZodType<RecordKeyValue<R>>;
  private readonly tombstoneSchema: z.ZodType<RecordKeyValue<R>>;
  /** Revision of each record key this writer wrote or loaded (only confirmed writes). */
  private readonly revisions = new Map<string, number>();
  /**
   * Ids whose key may exist without this writer knowing its revision: a write whose reply
   * was lost, or an id the loaded head carries whose key the deposed writer may still create.
   */
  private readonly unsure = new Set<string>();
  /** Ids this writer loaded (a deposed writer may still write their keys): finished, they get a tombstone. */
  private readonly inherited = new Set<string>();
  /** Tombstone keys the last `load()` found: deleted once this writer's first head landed. */
  private tombstones: string[] = [];
  /** The revision of this writer's first head since `load()`: stamped on every key it writes. */
  private epoch: number | undefined;
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
    const epoch = z.number().int().nonnegative();
    this.recordSchema = z.object({ id: z.string().min(1), item: options.itemSchema, epoch }).strict();
    this.tombstoneSchema = z.object({ id: z.string().min(1), gone: z.literal(true), epoch }).strict();
  }

  /** Parses what a record key holds (a tombstone has `gone`): one schema each, so that an error names the field. */
  private parseKeyValue(value: unknown): z.ZodSafeParseResult<RecordKeyValue<R>> {
    const tombstone = typeof value === 'object' && value !== null && 'gone' in value;
    return (tombstone ? this.tombstoneSchema : this.recordSchema).safeParse(value);
  }

  /** The schema of the head's delta (validated with the head). */
  deltaSchema(): z.ZodType<RecordsDelta<R>> {
    return z.object({ puts: z.array(this.schema), removes: z.array(z.string().min(1)) }).strict();
  }

  /** The key of a record. */
  keyOf(id: string): string {
    return this.prefix + encodeRecordId(id);
  }

  /** Record keys this writer knows hold a record (written and confirmed, or loaded). */
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
        if (this.revisions.has(id) || this.unsure.has(id)) removes.push(id);
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
   * The head carrying `write` landed (at `headRevision`): writes its due records to their
   * keys and removes the keys of those gone; the records it kept stay in the head for the
   * next write. Ids whose write failed are marked again (the next head carries them); the
   * first error is thrown after every write settled.
   *
   * @throws RevisionMismatchError when a record key holds a newer writer's value (fenced).
   */
  async landed(write: RecordsWrite<R>, headRevision: number): Promise<void> {
    const epoch = (this.epoch ??= headRevision);
    for (const id of write.gone) this.inHead.delete(id);
    for (const { id } of write.toKeys) this.inHead.delete(id);
    for (const record of write.kept) this.inHead.set(record.id, record);
    let failure: unknown;
    const work: (() => Promise<void>)[] = [];
    for (const { id, item } of write.toKeys) work.push(() => this.put(id, { id, item, epoch }));
    for (const id of write.delta.removes) work.push(() => (this.inherited.has(id) ? this.put(id, { id, gone: true, epoch }) : this.remove(id)));
    const ids = [...write.toKeys.map((p) => p.id), ...write.delta.removes];
    await inBatches(work, (error, index) => {
      if (error instanceof RevisionMismatchError && !(failure instanceof RevisionMismatchError)) failure = error;
      failure ??= error;
      this.dirty.add(ids[index] as string);
    });
    if (failure === undefined && this.tombstones.length > 0) {
      const tombstones = this.tombstones;
      this.tombstones = [];
      // Left for a later load when the store refuses: a tombstone only costs a key.
      await inBatches(
        tombstones.map((key) => () => this.store.delete(key)),
        (_error, index) => this.tombstones.push(tombstones[index] as string),
      );
    }
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(describeError(failure));
  }

  /**
   * Writes a record or a tombstone, compare-and-set on the revision this writer knows. When
   * that fails, the key's stored epoch decides (see the class comment); this replaces a
   * check of the head, which no write can be made atomic with.
   */
  private async put(id: string, value: RecordKeyValue<R>): Promise<void> {
    const key = this.keyOf(id);
    for (let attempt = 1; ; attempt++) {
      const expected = this.revisions.get(id) ?? 0;
      try {
        const revision = await this.store.save(key, value, expected);
        this.unsure.delete(id);
        if ('gone' in value) this.revisions.delete(id);
        else this.revisions.set(id, revision);
        return;
      } catch (error) {
        // A lost reply: the write may have landed, with our epoch (the next attempt's
        // compare-and-set fails and finds it).
        if (!(error instanceof RevisionMismatchError)) {
          this.unsure.add(id);
          throw error;
        }
        if (attempt >= RECORD_CAS_ATTEMPTS) throw error;
        const current = await this.store.load(key);
        if (!current) {
          this.revisions.delete(id);
          continue;
        }
        const stored = this.parseKeyValue(current.value);
        if (!stored.success || stored.data.id !== id || stored.data.epoch > value.epoch) throw new RevisionMismatchError(key, expected, current.revision);
        this.revisions.set(id, current.revision);
      }
    }
  }

  private async remove(id: string): Promise<void> {
    await this.store.delete(this.keyOf(id));
    this.revisions.delete(id);
    this.unsure.delete(id);
  }

  /**
   * Loads every record key and applies the head's `delta` over them (the head landed before
   * its records were written): the records as the head's writer left them. Adopts their
   * revisions; the ids of the delta are marked, so this writer writes them again. Tombstones
   * are skipped (and deleted after this writer's first head).
   *
   * @throws ValidationError naming a record key whose value does not match the schema or names another id.
   */
  async load(delta: RecordsDelta<R> | undefined, name: string): Promise<void> {
    const keys = (await this.store.keys()).filter((key) => key.startsWith(this.prefix));
    const records = new Map<string, R>();
    const revisions = new Map<string, number>();
    const tombstones: string[] = [];
    await inBatches(
      keys.map((key) => async () => {
        const stored = await this.store.load(key);
        if (!stored) return; // deleted since the listing
        const parsed = this.parseKeyValue(stored.value);
        if (!parsed.success) throw ValidationError.fromZod(`${name} record '${key}'`, parsed.error);
        // Never merged: two ids under one key would lose one of them unseen.
        if (this.keyOf(parsed.data.id) !== key) throw new ValidationError(name, [{ path: `records.${key}`, message: `holds the record of another id` }]);
        if ('gone' in parsed.data) tombstones.push(key);
        else {
          records.set(parsed.data.id, parsed.data.item);
          revisions.set(parsed.data.id, stored.revision);
        }
      }),
      (error) => {
        throw error;
      },
    );
    this.revisions.clear();
    this.unsure.clear();
    this.inherited.clear();
    for (const [id, revision] of revisions) {
      this.revisions.set(id, revision);
      this.inherited.add(id);
    }
    for (const { id, item } of delta?.puts ?? []) {
      records.set(id, item);
      this.dirty.add(id);
      this.inherited.add(id);
      // The deposed writer may be creating its key right now.
      if (!revisions.has(id)) this.unsure.add(id);
    }
    for (const id of delta?.removes ?? []) {
      records.delete(id);
      this.dirty.add(id);
      this.inherited.add(id);
    }
    this.tombstones = tombstones.sort();
    this.epoch = undefined;
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
