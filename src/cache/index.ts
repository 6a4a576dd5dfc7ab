export { DEFAULT_CACHE_TTL_SECONDS, MemoryCache, globToRegExp, type DistributedCache, type MemoryCacheOptions } from './distributedCache';
export { RedisCache, type RedisCacheOptions } from './redisCache';
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
} from './resourcePool';
