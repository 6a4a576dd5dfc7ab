import { SimulatedClock } from 'xstate';
import { MemoryCache, PoolClosedError, PoolTimeoutError, ResourcePool, ResourcePoolManager, UnknownPoolError, globToRegExp } from '../src/cache';
import { cacheContract } from './support/cacheContract';

describe('MemoryCache', () => {
  let clock: SimulatedClock;
  cacheContract({
    make: () => {
      clock = new SimulatedClock();
      return new MemoryCache({ clock });
    },
    advance: async (ms) => clock.increment(ms),
  });

  test('default TTL is 300 s', async () => {
    const c = new SimulatedClock();
    const cache = new MemoryCache({ clock: c });
    await cache.set('k', 1);
    c.increment(299_999);
    expect(await cache.get('k')).toBe(1);
    c.increment(2);
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('globToRegExp', () => {
  test.each([
    ['h?llo', 'hello', true],
    ['h*llo', 'heeeello', true],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['a.b', 'axb', false],
    ['a\\*', 'a*', true],
    ['a\\*', 'ab', false],
    ['(x)+', '(x)+', true],
  ])('%s vs %s → %s', (pattern, key, matches) => {
    expect(globToRegExp(pattern).test(key)).toBe(matches);
  });
});

describe('ResourcePool', () => {
  const counterPool = (maxSize: number, clock = new SimulatedClock(), acquireTimeoutMs = 1000) => {
    let n = 0;
    const destroyed: string[] = [];
    const pool = new ResourcePool<string>({
      name: 'db',
      maxSize,
      acquireTimeoutMs,
      clock,
      create: async () => `conn${n++}`,
      destroy: (r) => void destroyed.push(r),
    });
    return { pool, destroyed, clock };
  };

  test('an agent gets back the resource it used last (affinity)', async () => {
    const { pool } = counterPool(3);
    const a = await pool.acquire('alice');
    const b = await pool.acquire('bob');
    pool.release(a, 'alice');
    pool.release(b, 'bob');
    expect(await pool.acquire('bob')).toBe(b);
    expect(await pool.acquire('alice')).toBe(a);
    expect(pool.stats()).toMatchObject({ size: 2, inUse: 2, affinityHits: 2, created: 2 });
  });

  test("a new agent gets a new resource while the pool can grow, and another agent's idle one once it cannot", async () => {
    const { pool } = counterPool(2);
    const a = await pool.acquire('alice');
    pool.release(a, 'alice');
    const c = await pool.acquire('carol');
    expect(c).not.toBe(a); // alice keeps her affinity while the pool can grow
    pool.release(c, 'carol');
    const d = await pool.acquire('dave');
    expect([a, c]).toContain(d); // full: an idle resource is reused rather than waiting
    expect(pool.stats()).toMatchObject({ created: 2, size: 2 });
  });

  test('never grows past maxSize: a waiter gets the next released resource, FIFO', async () => {
    const { pool } = counterPool(1);
    const a = await pool.acquire('alice');
    const order: string[] = [];
    const bob = pool.acquire('bob').then((r) => order.push(`bob:${r}`));
    const carol = pool.acquire('carol').then((r) => order.push(`carol:${r}`));
    expect(pool.stats()).toMatchObject({ size: 1, waiting: 2 });
    pool.release(a, 'alice');
    await bob;
    pool.release(a, 'bob');
    await carol;
    expect(order).toEqual(['bob:conn0', 'carol:conn0']);
  });

  test('an acquire that waits too long rejects with PoolTimeoutError', async () => {
    const { pool, clock } = counterPool(1);
    await pool.acquire('alice');
    const waiting = pool.acquire('bob');
    clock.increment(1001);
    await expect(waiting).rejects.toBeInstanceOf(PoolTimeoutError);
    expect(pool.stats().waiting).toBe(0);
  });

  test('close rejects waiters and destroys every resource; release of a foreign resource throws', async () => {
    const { pool, destroyed } = counterPool(1);
    const a = await pool.acquire('alice');
    expect(() => pool.release('not-mine', 'alice')).toThrow(/not on loan/);
    const waiting = pool.acquire('bob');
    await pool.close();
    await expect(waiting).rejects.toBeInstanceOf(PoolClosedError);
    await expect(pool.acquire('bob')).rejects.toBeInstanceOf(PoolClosedError);
    expect(destroyed).toEqual([a]);
  });

  test('bad options are validation errors naming the field', () => {
    expect(() => new ResourcePool({ name: 'x', maxSize: 0, create: () => 1 })).toThrow(expect.objectContaining({ field: 'maxSize' }));
  });
});

describe('ResourcePoolManager', () => {
  test('routes by resource type, with affinity, and knows no other types', async () => {
    const pools = new ResourcePoolManager();
    let n = 0;
    pools.addPool(new ResourcePool({ name: 'api_clients', maxSize: 50, create: () => ({ id: n++ }) }));
    const c1 = await pools.getResource<{ id: number }>('api_clients', 'trader');
    pools.returnResource('api_clients', c1, 'trader');
    const other = await pools.getResource<{ id: number }>('api_clients', 'risk');
    const again = await pools.getResource<{ id: number }>('api_clients', 'trader');
    expect(other).not.toBe(c1); // trader keeps its affinity while the pool can grow
    expect(again).toBe(c1);
    expect(() => pools.getPool('database_connections')).toThrow(UnknownPoolError);
    expect(() => pools.addPool(new ResourcePool({ name: 'api_clients', maxSize: 1, create: () => 0 }))).toThrow(/already exists/);
    await pools.close();
  });
});
