import { connect, type NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { Lease, NatsKvSnapshotStore, SnapshotWriter } from '../src/store';
import { snapshotStoreContract } from './support/storeContract';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, NATS_SERVER_BIN, startNatsServer, type TestServer } from './support/servers';

describeWithServer(NATS_SERVER_BIN, 'NatsKvSnapshotStore (own nats-server -js)', () => {
  const cleanup = cleanupAfterEach();
  let server: TestServer;
  let nc: NatsConnection;
  let n = 0;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  describe('contract', () => {
    snapshotStoreContract(() => NatsKvSnapshotStore.open(nc, { bucket: `b${n++}` }));
  });

  test('a state larger than a NATS message (3 MB of task records) is stored compressed and loads back equal', async () => {
    const store = await NatsKvSnapshotStore.open(nc, { bucket: 'large' });
    const tasks = Array.from({ length: 5000 }, (_, i) => ({
      taskId: `task-${i}`,
      state: 'completed',
      requiredCapabilities: ['technical_analysis'],
      result: { symbol: 'BTC/USD', n: i },
      padding: 'x'.repeat(500),
    }));
    const value = { version: 1, tasks };
    expect(JSON.stringify(value).length).toBeGreaterThan(nc.info?.max_payload ?? 1024 * 1024);
    const revision = await store.save('orchestrator', value, 0);
    expect(await store.load('orchestrator')).toEqual({ value, revision });
    const raw = await store.kv.get('orchestrator');
    expect(raw?.value.length).toBeLessThan(JSON.stringify(value).length / 10);
    // Small values stay plain JSON (readable with `nats kv get`).
    await store.save('small', { a: 1 });
    expect((await store.kv.get('small'))?.string()).toBe('{"a":1}');
  });

  test('state survives a NATS server restart (JetStream file storage)', async () => {
    const store = await NatsKvSnapshotStore.open(nc, { bucket: 'restart' });
    const revision = await store.save('orchestrator.main', { tasks: ['t1'] });
    await server.restart();
    const other = cleanup.add(await connect({ servers: server.url }));
    const reopened = await NatsKvSnapshotStore.open(other, { bucket: 'restart' });
    expect(await reopened.load('orchestrator.main')).toEqual({ value: { tasks: ['t1'] }, revision });
  });

  test('a lease contended from two connections has one holder', async () => {
    // Fresh connections: a test above restarts the server.
    const first = cleanup.add(await connect({ servers: server.url }));
    const other = cleanup.add(await connect({ servers: server.url }));
    const storeA = await NatsKvSnapshotStore.open(first, { bucket: 'leases' });
    const storeB = await NatsKvSnapshotStore.open(other, { bucket: 'leases' });
    const a = new Lease({ store: storeA, key: 'leader.orchestrator', holder: 'a', ttlMs: 60_000 });
    const b = new Lease({ store: storeB, key: 'leader.orchestrator', holder: 'b', ttlMs: 60_000 });
    const won = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await storeB.load('leader.orchestrator')).toMatchObject({ value: { holder: won[0] ? 'a' : 'b' } });
  });

  test('a writer archive on KV: segment keys are valid KV keys and load back in order', async () => {
    // A fresh connection: a test above restarts the server.
    const store = await NatsKvSnapshotStore.open(cleanup.add(await connect({ servers: server.url })), { bucket: 'archive' });
    const options = { store, key: 'orchestrator', schema: z.object({ open: z.number() }), archive: { itemSchema: z.number(), segmentSize: 3 } };
    const writer = new SnapshotWriter({ ...options, snapshot: () => ({ open: 1 }) });
    for (let i = 0; i < 10; i++) writer.archive(i);
    await writer.flush();
    expect(writer.stats()).toMatchObject({ saves: 1, saveErrors: 0, archive: { segments: 3, pending: 1 } });
    const reader = new SnapshotWriter({ ...options, snapshot: () => ({ open: 0 }) });
    expect(await reader.load()).toEqual({ open: 1 });
    expect(reader.archived()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
