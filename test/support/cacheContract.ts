/** The behaviour every DistributedCache implementation shares; run against memory and Redis. */
import type { DistributedCache } from '../../src/cache';
import { ValidationError } from '../../src/errors';

export interface CacheContractSetup {
  make(): DistributedCache | Promise<DistributedCache>;
  /** Lets `ms` of cache time pass (a simulated clock, or a real wait for Redis). */
  advance(ms: number): Promise<void>;
}

export function cacheContract(setup: CacheContractSetup): void {
  let cache: DistributedCache;
  beforeEach(async () => {
    cache = await setup.make();
  });
  afterEach(async () => {
    await cache.close();
  });

  test('get returns a copy of what set stored; absent keys are undefined', async () => {
    const value = { price: 45000, tags: ['btc'] };
    await cache.set('price:btc', value);
    const got = await cache.get<typeof value>('price:btc');
    expect(got).toEqual(value);
    expect(got).not.toBe(value);
    expect(await cache.get('price:eth')).toBeUndefined();
  });

  test('entries expire after their TTL', async () => {
    await cache.set('short', 1, 0.2);
    await cache.set('long', 2, 60);
    expect(await cache.get('short')).toBe(1);
    await setup.advance(350);
    expect(await cache.get('short')).toBeUndefined();
    expect(await cache.get('long')).toBe(2);
  });

  test('invalidatePattern removes exactly the keys a Redis glob matches', async () => {
    for (let i = 0; i < 1200; i++) await cache.set(`market:${i}:btc`, i);
    await cache.set('market:x:eth', 'keep');
    await cache.set('marketbtc', 'keep');
    await cache.set('a?c', 'literal');
    await cache.set('abc', 'any');
    expect(await cache.invalidatePattern('market:*:btc')).toBe(1200);
    expect(await cache.get('market:7:btc')).toBeUndefined();
    expect(await cache.get('market:x:eth')).toBe('keep');
    expect(await cache.get('marketbtc')).toBe('keep');
    expect(await cache.invalidatePattern('a\\?c')).toBe(1);
    expect(await cache.get('abc')).toBe('any');
    expect(await cache.invalidatePattern('[ab]b[^x]')).toBe(1);
    expect(await cache.get('abc')).toBeUndefined();
  });

  test('delete reports whether the key existed', async () => {
    await cache.set('k', 'v');
    expect(await cache.delete('k')).toBe(true);
    expect(await cache.delete('k')).toBe(false);
  });

  test('bad keys, TTLs and values are typed errors naming the argument', async () => {
    await expect(cache.set('', 1)).rejects.toMatchObject({ code: 'ERR_VALIDATION', field: 'key' });
    await expect(cache.set('k', 1, -5)).rejects.toMatchObject({ code: 'ERR_VALIDATION', field: 'ttlSeconds' });
    await expect(cache.set('k', undefined)).rejects.toBeInstanceOf(ValidationError);
    await expect(cache.invalidatePattern('')).rejects.toMatchObject({ field: 'pattern' });
  });
}
