import { RedisCache } from '../src/cache';
import type { ConnectionStatusEvent } from '../src';
import { cacheContract } from './support/cacheContract';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, REDIS_SERVER_BIN, startRedisServer, waitFor, type TestServer } from './support/servers';

describeWithServer(REDIS_SERVER_BIN, 'RedisCache (own redis-server)', () => {
  const cleanup = cleanupAfterEach();
  let server: TestServer;
  let n = 0;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('contract', () => {
    cacheContract({
      // A fresh prefix per test keeps tests apart on one server.
      make: () => new RedisCache({ url: server.url, keyPrefix: `t${n++}[*]:` }),
      advance: (ms) => new Promise((r) => setTimeout(r, ms)),
    });
  });

  test('invalidatePattern uses SCAN, never KEYS, and stays inside the prefix', async () => {
    const a = cleanup.add(new RedisCache({ url: server.url, keyPrefix: 'a:' }));
    const b = cleanup.add(new RedisCache({ url: server.url, keyPrefix: 'b:' }));
    const commands: string[] = [];
    const spare = a.redis.duplicate();
    cleanup.defer(() => spare.disconnect());
    const monitor = await spare.monitor();
    cleanup.defer(() => monitor.disconnect());
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(String(args[0]).toLowerCase()));
    await a.set('x:1', 1);
    await b.set('x:1', 1);
    expect(await a.invalidatePattern('x:*')).toBe(1);
    expect(await b.get('x:1')).toBe(1);
    await a.get('x:1'); // a marker that monitoring has caught up
    expect(commands).toContain('scan');
    expect(commands).not.toContain('keys');
  });

  test('the default TTL is 300 s', async () => {
    const cache = cleanup.add(new RedisCache({ url: server.url, keyPrefix: 'ttl:' }));
    await cache.set('k', 1);
    const pttl = await cache.redis.pttl('ttl:k');
    expect(pttl).toBeGreaterThan(299_000);
    expect(pttl).toBeLessThanOrEqual(300_000);
  });

  test('a lost server is reported on status$ and in stats(), never as an unhandled error event; its return as ready', async () => {
    const own = await startRedisServer();
    cleanup.defer(() => own.stop());
    const printed: unknown[][] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args));
    cleanup.defer(() => spy.mockRestore());
    const cache = cleanup.add(new RedisCache({ url: own.url, redis: { retryStrategy: () => 50 } }));
    const events: ConnectionStatusEvent[] = [];
    cache.status$.subscribe((event) => events.push(event));
    await cache.set('k', 1);
    await waitFor(() => cache.stats().readies === 1, 10_000, 'the first ready');

    await own.kill();
    await waitFor(() => events.some((e) => e.kind === 'error'), 10_000, 'an error event');
    const error = events.find((e) => e.kind === 'error');
    expect(error).toMatchObject({ source: 'redis', error: expect.any(String), at: expect.any(Number) });
    expect(events.some((e) => e.kind === 'reconnecting')).toBe(true);
    expect(cache.stats()).toMatchObject({ errors: expect.any(Number), lastError: { kind: 'error', source: 'redis' } });
    expect(cache.stats().errors).toBeGreaterThan(0);

    await own.restart();
    await waitFor(() => cache.stats().readies === 2, 10_000, 'ready again');
    expect(events.at(-1)).toMatchObject({ kind: 'ready', source: 'redis' });
    expect(await cache.get('k')).toBeUndefined(); // no persistence: the server came back empty
    expect(printed.filter((args) => String(args[0]).includes('Unhandled error event'))).toEqual([]);
  }, 30_000);
});
