import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { ValidationError } from '../errors';
import { natsKv } from '../transport/natsClient';
import { checkKey, checkRevision, RevisionMismatchError, toJson, type SnapshotStore, type StoredSnapshot } from './snapshotStore';

const KvStoreOptionsSchema = z.object({
  /** Bucket name (default `neuroflux`). */
  bucket: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, - or _')
    .default('neuroflux'),
  /** Replicas of the bucket's stream in a NATS cluster (1 on a single server). */
  replicas: z.number().int().min(1).max(5).default(1),
});

/** Options of a {@link NatsKvSnapshotStore}. */
export type NatsKvSnapshotStoreOptions = z.input<typeof KvStoreOptionsSchema>;

/** @internal true for JetStream's "wrong last sequence" (a lost compare-and-set). */
export function isRevisionConflict(error: unknown): boolean {
  const e = error as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10071 || /wrong last sequence|key exists/i.test(String(e?.message));
}

/** Values whose JSON is longer than this are stored gzip-compressed. */
const COMPRESS_ABOVE_CHARS = 16 * 1024;
/** Largest state a compressed value may expand to (256 MiB). */
const MAX_STATE_BYTES = 256 * 1024 * 1024;

/**
 * {@link SnapshotStore} on a NATS JetStream KV bucket: revisions are the KV's, so
 * compare-and-set (`expectedRevision`) is atomic across every process of the cluster.
 *
 * @example
 * ```ts
 * const store = await NatsKvSnapshotStore.open(nc, { bucket: 'neuroflux' });
 * const rev = await store.save('orchestrator.main', snapshot, 0);
 * ```
 */
export class NatsKvSnapshotStore implements SnapshotStore {
  private constructor(readonly kv: KV) {}

  /** Opens (creating when missing) the bucket on a connection the caller owns. */
  static async open(connection: NatsConnection, options: NatsKvSnapshotStoreOptions = {}): Promise<NatsKvSnapshotStore> {
    const parsed = KvStoreOptionsSchema.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod('nats kv store options', parsed.error);
    const kv = await new (natsKv().Kvm)(connection).create(parsed.data.bucket, { history: 1, replicas: parsed.data.replicas });
    return new NatsKvSnapshotStore(kv);
  }

  async load<T = unknown>(key: string): Promise<StoredSnapshot<T> | undefined> {
    const entry = await this.kv.get(checkKey(key));
    if (!entry || entry.operation !== 'PUT') return undefined;
    const bytes = entry.value;
    // JSON text never starts with gzip's magic bytes: a compressed value needs no flag.
    const isGzip = bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
    // Bounded: a store is outside input, and a tiny gzip bomb could fill the memory.
    const value = isGzip ? (JSON.parse(gunzipSync(bytes, { maxOutputLength: MAX_STATE_BYTES }).toString('utf8')) as T) : entry.json<T>();
    return { value, revision: entry.revision };
  }

  async save(key: string, value: unknown, expectedRevision?: number): Promise<number> {
    checkKey(key);
    const expected = checkRevision(expectedRevision);
    const json = toJson(key, value);
    // A KV value is one NATS message (1 MiB by default): task and conflict records are
    // repetitive JSON that gzip shrinks about 40×, so large states still fit.
    const text = json.length > COMPRESS_ABOVE_CHARS ? gzipSync(json) : json;
    try {
      if (expected === undefined) return await this.kv.put(key, text);
      if (expected === 0) return await this.kv.create(key, text);
      return await this.kv.update(key, text, expected);
    } catch (error) {
      if (!isRevisionConflict(error)) throw error;
      const current = await this.kv.get(key).catch(() => null);
      throw new RevisionMismatchError(key, expected ?? 0, current?.operation === 'PUT' ? current.revision : 0, { cause: error });
    }
  }

  async delete(key: string): Promise<void> {
    await this.kv.delete(checkKey(key));
  }

  async keys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys()) keys.push(key);
    return keys.sort();
  }

  /** The connection belongs to the caller: nothing to release here. */
  async close(): Promise<void> {}
}
