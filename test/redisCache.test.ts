import { RedisCache } from '../src/cache';
import { cacheContract } from './support/cacheContract';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, REDIS_SERVER_BIN, startRedisServer, type TestServer } from './support/servers';

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
});
