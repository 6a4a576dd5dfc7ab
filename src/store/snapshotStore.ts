import { z } from 'zod';
import { ErrorCode, NeuroFluxError, ValidationError, type NeuroFluxErrorOptions } from '../errors';

/** A stored value and its revision (increases with every write; 0 means "absent"). */
export interface StoredSnapshot<T = unknown> {
  readonly value: T;
  readonly revision: number;
}

/**
 * Where orchestrator and conflict-engine state survives a process: JSON values by key,
 * with compare-and-set on revisions so that two processes never overwrite each other
 * unknowingly. {@link MemorySnapshotStore} (default), `FileSnapshotStore` (atomic write +
 * rename) and `NatsKvSnapshotStore` (JetStream KV) implement it.
 */
export interface SnapshotStore {
  /** The value under `key`, or `undefined`. */
  load<T = unknown>(key: string): Promise<StoredSnapshot<T> | undefined>;
  /**
   * Writes `value` and returns the new revision. With `expectedRevision` the write only
   * happens if the stored revision is that one (0: only if absent); otherwise it throws
   * {@link RevisionMismatchError}.
   */
  save(key: string, value: unknown, expectedRevision?: number): Promise<number>;
  /** Removes a key (no error when absent). */
  delete(key: string): Promise<void>;
  /** Every key, sorted. */
  keys(): Promise<string[]>;
  /** Releases files or connections (idempotent). */
  close(): Promise<void>;
}

/** A compare-and-set write found another revision than the one expected. */
export class RevisionMismatchError extends NeuroFluxError {
  constructor(
    readonly key: string,
    readonly expectedRevision: number,
    readonly actualRevision: number | undefined,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.REVISION_MISMATCH, `snapshot '${key}' is at revision ${actualRevision ?? 'unknown'}, not the expected ${expectedRevision}`, options);
  }
}

/** @internal Whether `value` has a snapshot store's `load` and `save`. */
export function isSnapshotStore(value: unknown): value is SnapshotStore {
  return typeof value === 'object' && value !== null && typeof (value as SnapshotStore).load === 'function' && typeof (value as SnapshotStore).save === 'function';
}

const KEY_PATTERN = /^[-/=\w]+(\.[-/=\w]+)*$/;

/** Keys are NATS KV keys as well: letters, digits and `-_=./`, no leading or trailing dot. */
export const SnapshotKeySchema = z.string().regex(KEY_PATTERN, 'must be letters, digits, - _ = / separated by single dots');

/**
 * @internal Checked on every load and save: the pattern first, zod only to word the error. A
 * zod `safeParse` per call (and, for the revision, a schema built per call) cost ≈ 25 µs a
 * write, a quarter of what the orchestrator's store costs per task with per-record keys
 * (CPU profile of bench/persistence.ts waves).
 */
export function checkKey(key: unknown): string {
  if (typeof key === 'string' && KEY_PATTERN.test(key)) return key;
  const parsed = SnapshotKeySchema.safeParse(key);
  if (!parsed.success) throw new ValidationError('snapshot key', [{ path: 'key', message: parsed.error.issues[0]?.message ?? 'invalid' }]);
  return parsed.data;
}

/** @internal */
export function checkRevision(revision: unknown): number | undefined {
  if (revision === undefined) return undefined;
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
    throw new ValidationError('snapshot write', [{ path: 'expectedRevision', message: 'must be a non-negative integer' }]);
  }
  return revision;
}

/** @internal JSON text of a value, or a ValidationError. */
export function toJson(key: string, value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new ValidationError('snapshot value', [{ path: 'value', message: `value for '${key}' is not JSON-serialisable` }]);
  return text;
}

/**
 * The in-process {@link SnapshotStore}: values are kept as JSON text, so loads return copies.
 *
 * @example
 * ```ts
 * const store = new MemorySnapshotStore();
 * const rev = await store.save('orchestrator.main', { tasks: [] }, 0); // 1
 * await store.save('orchestrator.main', { tasks: ['t1'] }, rev);
 * ```
 */
export class MemorySnapshotStore implements SnapshotStore {
  private readonly entries = new Map<string, { text: string; revision: number }>();
  private revision = 0;

  async load<T = unknown>(key: string): Promise<StoredSnapshot<T> | undefined> {
    const entry = this.entries.get(checkKey(key));
    return entry && { value: JSON.parse(entry.text) as T, revision: entry.revision };
  }

  async save(key: string, value: unknown, expectedRevision?: number): Promise<number> {
    checkKey(key);
    const expected = checkRevision(expectedRevision);
    const text = toJson(key, value);
    const current = this.entries.get(key)?.revision ?? 0;
    if (expected !== undefined && expected !== current) throw new RevisionMismatchError(key, expected, current);
    const revision = ++this.revision;
    this.entries.set(key, { text, revision });
    return revision;
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(checkKey(key));
  }

  async keys(): Promise<string[]> {
    return [...this.entries.keys()].sort();
  }

  async close(): Promise<void> {}
}
