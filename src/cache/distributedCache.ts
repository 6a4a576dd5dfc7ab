import { z } from 'zod';
import { ValidationError } from '../errors';
import { systemClock, type NeuroFluxClock } from '../kernel/clock';

/** Default time to live of a cache entry, in seconds (guide: 5 minutes). */
export const DEFAULT_CACHE_TTL_SECONDS = 300;

/**
 * A cache shared by agents, possibly across processes: JSON values with a TTL and
 * invalidation by Redis glob pattern (`*`, `?`, `[abc]`, `\` escapes).
 * {@link MemoryCache} is the in-process implementation, {@link RedisCache} the shared one.
 */
export interface DistributedCache {
  /** The value stored under `key`, or `undefined` when absent or expired. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Stores a JSON-serialisable value for `ttlSeconds` (default 300). */
  set(key: string, value: unknown, ttlSeconds?: number): Promise<void>;
  /** Removes one key; true when it existed. */
  delete(key: string): Promise<boolean>;
  /** Removes every key matching a Redis glob pattern; returns how many were removed. */
  invalidatePattern(pattern: string): Promise<number>;
  /** Releases the connection (idempotent). */
  close(): Promise<void>;
}

/** @internal */
export const CacheKeySchema = z.string().min(1, 'must be a non-empty string');
/** @internal */
export const CacheTtlSchema = z.number().positive('must be a positive number of seconds').finite().optional();

/** @internal validates one argument, throwing a ValidationError naming it. */
export function checkArg<T>(schema: z.ZodType<T>, what: string, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ValidationError(what, [{ path: what, message: parsed.error.issues[0]?.message ?? 'invalid' }]);
  }
  return parsed.data;
}

/** @internal copies a value through JSON, as a shared cache would store it. */
export function jsonCopy(key: string, value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new ValidationError('cache value', [{ path: 'value', message: `value for '${key}' is not JSON-serialisable` }]);
  return text;
}

/**
 * Compiles a Redis glob pattern (`*`, `?`, `[...]`, `[^...]`, `\x`) to a RegExp, so the
 * memory cache invalidates exactly what Redis would.
 *
 * @example
 * ```ts
 * globToRegExp('market:*:btc').test('market:1m:btc'); // true
 * ```
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      source += escapeRegExp(pattern[++i] as string);
    } else if (c === '*') {
      source += '[\\s\\S]*';
    } else if (c === '?') {
      source += '[\\s\\S]';
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else {
      source += escapeRegExp(c);
    }
  }
  return new RegExp(`${source}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Options of a {@link MemoryCache}. */
export interface MemoryCacheOptions {
  /** Default TTL in seconds (300). */
  defaultTtlSeconds?: number;
  /** Time source for expiry (use XState's `SimulatedClock` in tests). */
  clock?: NeuroFluxClock;
}

/**
 * The in-process {@link DistributedCache}: values are stored as JSON text (so callers
 * get copies, as from Redis) and expire lazily on the injected clock.
 *
 * @example
 * ```ts
 * const cache = new MemoryCache();
 * await cache.set('price:btc', { usd: 45000 }, 60);
 * await cache.get<{ usd: number }>('price:btc'); // { usd: 45000 }
 * ```
 */
export class MemoryCache implements DistributedCache {
  private readonly entries = new Map<string, { text: string; expiresAt: number }>();
  private readonly clock: NeuroFluxClock;
  private readonly defaultTtl: number;

  constructor(options: MemoryCacheOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.defaultTtl = checkArg(CacheTtlSchema, 'defaultTtlSeconds', options.defaultTtlSeconds) ?? DEFAULT_CACHE_TTL_SECONDS;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    checkArg(CacheKeySchema, 'key', key);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return JSON.parse(entry.text) as T;
  }

  async set(key: string, value: unknown, ttlSeconds?: number): Promise<void> {
    checkArg(CacheKeySchema, 'key', key);
    const ttl = checkArg(CacheTtlSchema, 'ttlSeconds', ttlSeconds) ?? this.defaultTtl;
    this.entries.set(key, { text: jsonCopy(key, value), expiresAt: this.clock.now() + ttl * 1000 });
  }

  async delete(key: string): Promise<boolean> {
    return this.entries.delete(checkArg(CacheKeySchema, 'key', key));
  }

  async invalidatePattern(pattern: string): Promise<number> {
    const re = globToRegExp(checkArg(CacheKeySchema, 'pattern', pattern));
    const now = this.clock.now();
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (!re.test(key)) continue;
      this.entries.delete(key);
      if (entry.expiresAt > now) removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
