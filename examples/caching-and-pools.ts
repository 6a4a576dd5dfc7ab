/** Guide: resource pooling and caching. A cache with TTL and pattern invalidation, and a pool with agent affinity. */
import { MemoryCache, ResourcePool, ResourcePoolManager } from '../src';

export async function runCachingAndPools(): Promise<{ cached: unknown; afterInvalidate: unknown; sameConnection: boolean }> {
  // MemoryCache and RedisCache (ioredis) share one interface: swap in Redis across processes.
  const cache = new MemoryCache();
  await cache.set('market:BTC/USD:price', { price: 45000 }); // TTL 300 s by default
  const cached = await cache.get('market:BTC/USD:price');
  await cache.invalidatePattern('market:*');
  const afterInvalidate = await cache.get('market:BTC/USD:price');
  await cache.close();

  let created = 0;
  const pools = new ResourcePoolManager();
  pools.addPool(new ResourcePool({ name: 'exchange_connection', maxSize: 2, create: async () => ({ id: ++created }) }));
  const first = await pools.getResource('exchange_connection', 'trading_agent_1');
  pools.returnResource('exchange_connection', first, 'trading_agent_1');
  const again = await pools.getResource('exchange_connection', 'trading_agent_1'); // affinity: its own connection back
  pools.returnResource('exchange_connection', again, 'trading_agent_1');
  await pools.close();
  return { cached, afterInvalidate, sameConnection: first === again };
}

if (require.main === module) void runCachingAndPools().then((r) => console.log(r));
