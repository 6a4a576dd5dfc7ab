/**
 * `neuroflux/cache`: caches shared by agents — in memory or on Redis (ioredis loads when
 * the first `RedisCache` is made) — and resource pools.
 *
 * @example
 * ```ts
 * import { RedisCache } from 'neuroflux/cache';
 * const cache = new RedisCache({ url: 'redis://127.0.0.1:6379', keyPrefix: 'nf:' });
 * ```
 * @module neuroflux/cache
 * @packageDocumentation
 */
export { DEFAULT_CACHE_TTL_SECONDS, MemoryCache, globToRegExp, type DistributedCache, type MemoryCacheOptions } from '../cache/index';
export { RedisCache, type RedisCacheOptions } from '../cache/index';
export {
  ForeignResourceError,
  PoolClosedError,
  PoolErrorCode,
  PoolTimeoutError,
  ResourcePool,
  ResourcePoolManager,
  UnknownPoolError,
  type ResourcePoolOptions,
  type ResourcePoolStats,
} from '../cache/index';
