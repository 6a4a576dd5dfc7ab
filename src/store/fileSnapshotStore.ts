import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors';
import { checkKey, checkRevision, RevisionMismatchError, toJson, type SnapshotStore, type StoredSnapshot } from './snapshotStore';

const DirectorySchema = z.string().min(1);

const FileRecordSchema = z.object({ revision: z.number().int().positive(), value: z.unknown() });

/** Options of a {@link FileSnapshotStore}. */
export interface FileSnapshotStoreOptions {
  /** Directory of the snapshot files (created when missing). */
  directory: string;
}

/**
 * A {@link SnapshotStore} of one JSON file per key. Every write goes to a temporary file
 * that is fsynced and then renamed over the old one, so a crash leaves either the old
 * snapshot or the new one, never a torn file. Compare-and-set is exact within one
 * process (writes to a key are serialised); across processes use the NATS KV store.
 *
 * @example
 * ```ts
 * const store = new FileSnapshotStore({ directory: './state' });
 * await store.save('orchestrator.main', snapshot);
 * ```
 */
export class FileSnapshotStore implements SnapshotStore {
  private readonly directory: string;
  private ready: Promise<unknown> | undefined;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(options: FileSnapshotStoreOptions) {
    const dir = DirectorySchema.safeParse(options?.directory);
    if (!dir.success) throw ValidationError.fromZod('file store options', dir.error);
    this.directory = dir.data;
  }

  async load<T = unknown>(key: string): Promise<StoredSnapshot<T> | undefined> {
    const record = await this.read(checkKey(key));
    return record && { value: record.value as T, revision: record.revision };
  }

  async save(key: string, value: unknown, expectedRevision?: number): Promise<number> {
    checkKey(key);
    const expected = checkRevision(expectedRevision);
    const text = toJson(key, value);
    return this.serialise(key, async () => {
      await this.ensureDirectory();
      const current = (await this.read(key))?.revision ?? 0;
      if (expected !== undefined && expected !== current) throw new RevisionMismatchError(key, expected, current);
      const revision = current + 1;
      const target = this.fileOf(key);
      const temp = `${target}.${randomUUID()}.tmp`;
      const handle = await open(temp, 'w');
      try {
        await handle.writeFile(`{"revision":${revision},"value":${text}}`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
      return revision;
    });
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    return this.serialise(key, async () => {
      await unlink(this.fileOf(key)).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      });
    });
  }

  async keys(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => decodeURIComponent(n.slice(0, -'.json'.length)))
      .sort();
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.values());
  }

  private fileOf(key: string): string {
    return join(this.directory, `${encodeURIComponent(key)}.json`);
  }

  private async read(key: string): Promise<z.output<typeof FileRecordSchema> | undefined> {
    let text: string;
    try {
      text = await readFile(this.fileOf(key), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ValidationError('snapshot file', [{ path: key, message: 'is not valid JSON' }], { cause: error });
    }
    const parsed = FileRecordSchema.safeParse(json);
    if (!parsed.success) throw ValidationError.fromZod(`snapshot file '${key}'`, parsed.error);
    return parsed.data;
  }

  private ensureDirectory(): Promise<unknown> {
    this.ready ??= mkdir(this.directory, { recursive: true });
    return this.ready;
  }

  private serialise<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return next;
  }
}
