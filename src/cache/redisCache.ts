import type { Redis, RedisOptions } from 'ioredis';
import type { Observable } from 'rxjs';
import { z } from 'zod';
import { ValidationError } from '../errors';
import { loadOptional } from '../optionalDependency';
import { ConnectionStatus, type ConnectionStatusEvent, type ConnectionStatusStats } from '../kernel/connectionStatus';
import { CacheKeySchema, CacheTtlSchema, checkArg, DEFAULT_CACHE_TTL_SECONDS, jsonCopy, type DistributedCache } from './distributedCache';

const RedisCacheOptionsSchema = z.object({
  /** `redis://host:port/db` (default `redis://127.0.0.1:6379`). */
  url: z.string().min(1).default('redis://127.0.0.1:6379'),
  /** Prefix prepended to every key, so several systems can share one Redis. */
  keyPrefix: z.string().default(''),
  defaultTtlSeconds: z.number().positive().finite().default(DEFAULT_CACHE_TTL_SECONDS),
  /** Keys asked per SCAN step of `invalidatePattern`. */
  scanCount: z.number().int().positive().default(500),
});

/** Options of a {@link RedisCache}. */
export type RedisCacheOptions = z.input<typeof RedisCacheOptionsSchema> & {
  /** Extra ioredis options (auth, TLS...), passed through. */
  redis?: RedisOptions;
};

/**
 * {@link DistributedCache} on Redis through ioredis: `SET key value EX ttl`, and pattern
 * invalidation by `SCAN MATCH` (never `KEYS`, which blocks the server) with `UNLINK`.
 *
 * @example
 * ```ts
 * const cache = new RedisCache({ url: 'redis://127.0.0.1:6379', keyPrefix: 'nf:' });
 * await cache.set('analysis:btc', { trend: 'up' });
 * await cache.invalidatePattern('analysis:*');
 * cache.status$.subscribe((s) => s.kind === 'error' && log.warn(`redis: ${s.error}`));
 * await cache.close();
 * ```
 */
export class RedisCache implements DistributedCache {
  /** The ioredis client (for callers that need more than the cache interface). */
  readonly redis: Redis;
  private readonly options: z.output<typeof RedisCacheOptionsSchema>;
  /**
   * Connection errors, reconnect attempts and reconnections (source `redis`). ioredis
   * reconnects by itself; its errors are reported here instead of being printed as
   * "Unhandled error event". Completes on `close()`.
   */
  readonly status$: Observable<ConnectionStatusEvent>;
  private readonly status = new ConnectionStatus();
  private closed = false;

  constructor(options: RedisCacheOptions = {}) {
    const { redis, ...rest } = options;
    const parsed = RedisCacheOptionsSchema.safeParse(rest);
    if (!parsed.success) throw ValidationError.fromZod('redis cache options', parsed.error);
    this.options = parsed.data;
    this.status$ = this.status.status$;
    // ioredis (~60 modules with its dependencies) is loaded by the first Redis cache, not by `require('neuroflux')` (issue #16).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Redis } = loadOptional('ioredis', 'RedisCache', () => require('ioredis') as typeof import('ioredis'));
    this.redis = new Redis(this.options.url, { lazyConnect: false, maxRetriesPerRequest: 2, ...redis });
    // Listening to `error` is what keeps ioredis from printing every failed reconnect.
    this.redis.on('error', (error: unknown) => this.status.report('error', 'redis', error));
    this.redis.on('reconnecting', () => this.status.report('reconnecting', 'redis'));
    this.redis.on('ready', () => this.status.report('ready', 'redis'));
  }

  /**
   * Counts of the events on `status$` so far, and the last error.
   *
   * @example
   * ```ts
   * if (cache.stats().errors > 0) console.warn(cache.stats().lastError);
   * ```
   */
  stats(): ConnectionStatusStats {
    return this.status.stats();
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const text = await this.redis.get(this.options.keyPrefix + checkArg(CacheKeySchema, 'key', key));
    return text === null ? undefined : (JSON.parse(text) as T);
  }

  async set(key: string, value: unknown, ttlSeconds?: number): Promise<void> {
    checkArg(CacheKeySchema, 'key', key);
    const ttl = checkArg(CacheTtlSchema, 'ttlSeconds', ttlSeconds) ?? this.options.defaultTtlSeconds;
    // PX keeps sub-second TTLs exact.
    await this.redis.set(this.options.keyPrefix + key, jsonCopy(key, value), 'PX', Math.max(1, Math.round(ttl * 1000)));
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.del(this.options.keyPrefix + checkArg(CacheKeySchema, 'key', key))) > 0;
  }

  async invalidatePattern(pattern: string): Promise<number> {
    // The prefix is literal text: its glob characters are escaped.
    const match = this.options.keyPrefix.replace(/[*?[\]\\]/g, '\\$&') + checkArg(CacheKeySchema, 'pattern', pattern);
    let cursor = '0';
    let removed = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', this.options.scanCount);
      cursor = next;
      if (keys.length > 0) removed += await this.redis.unlink(...keys);
    } while (cursor !== '0');
    return removed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.redis.quit().catch(() => this.redis.disconnect());
    this.status.complete();
  }
}
