/**
 * Per-record keys on NATS KV, whose key rules are the strictest of the stores: ids that are
 * user input are stored, loaded and deleted, and a deposed writer is fenced (own
 * `nats-server -js`).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { NatsKvSnapshotStore, SnapshotWriter, type SnapshotStore } from '../src/store';
import { describeWithServer, NATS_SERVER_BIN, startNatsServer, type TestServer } from './support/servers';

const ItemSchema = z.object({ id: z.string(), value: z.number() });
type Item = z.output<typeof ItemSchema>;

function recordWriter(store: SnapshotStore, items: Map<string, Item>, onFenced?: () => void) {
  return new SnapshotWriter<{ n: number }, never, Item>({
    store,
    key: 'orchestrator',
    schema: z.object({ n: z.number() }),
    snapshot: () => ({ n: items.size }),
    records: { itemSchema: ItemSchema, current: (id) => items.get(id) },
    ...(onFenced && { onFenced }),
  });
}

describeWithServer(NATS_SERVER_BIN, 'SnapshotWriter records on NATS KV (own nats-server -js)', () => {
  let server: TestServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  test('ids that are user input are stored, loaded and deleted', async () => {
    const store = await NatsKvSnapshotStore.open(nc, { bucket: 'records-hostile' });
    const ids = ['__proto__', 'a/b', '.', '..', 'x.y', '>', '*', 'a b', '任务🚀', 'x'.repeat(10_000)];
    const items = new Map(ids.map((id, i) => [id, { id, value: i }]));
    const writer = recordWriter(store, items);
    for (const id of ids) writer.recordChanged(id);
    await writer.flush();
    expect(writer.stats()).toMatchObject({ saveErrors: 0, records: { keys: ids.length, keptInHead: 0 } });
    const reader = recordWriter(store, new Map());
    await reader.load();
    expect(
      reader
        .takeRecords()
        .map((r) => r.id)
        .sort(),
    ).toEqual([...ids].sort());
    for (const id of ids) {
      items.delete(id);
      writer.recordChanged(id);
    }
    await writer.flush();
    expect((await store.keys()).filter((key) => key.startsWith('orchestrator.records.'))).toEqual([]);
  });

  test("a deposed writer's next write is refused and writes no record", async () => {
    const store = await NatsKvSnapshotStore.open(nc, { bucket: 'records-fencing' });
    const items = new Map([['x', { id: 'x', value: 1 }]]);
    let fenced = false;
    const old = recordWriter(store, items, () => (fenced = true));
    await old.takeOver();
    old.recordChanged('x');
    await old.flush();
    const next = recordWriter(store, new Map());
    await next.takeOver();
    expect(next.takeRecords()).toEqual([{ id: 'x', value: 1 }]);
    items.set('x', { id: 'x', value: 2 });
    old.recordChanged('x');
    await old.flush();
    expect(fenced).toBe(true);
    const reader = recordWriter(store, new Map());
    await reader.load();
    expect(reader.takeRecords()).toEqual([{ id: 'x', value: 1 }]);
  });

  test("a deposed writer's late create of a record key, after the new writer finished the record, is fenced by its tombstone", async () => {
    const store = await NatsKvSnapshotStore.open(nc, { bucket: 'records-late-create' });
    // The deposed writer's view: its record writes are held until released.
    const held: (() => void)[] = [];
    let holding = true;
    const viewOld: SnapshotStore = {
      load: (key) => store.load(key),
      save: async (key, value, revision) => {
        if (holding && key.startsWith('orchestrator.records.')) await new Promise<void>((resolve) => held.push(resolve));
        return store.save(key, value, revision);
      },
      delete: (key) => store.delete(key),
      keys: () => store.keys(),
      close: async () => {},
    };
    const items = new Map<string, Item>();
    let fenced = false;
    const old = recordWriter(viewOld, items, () => (fenced = true));
    await old.takeOver();
    items.set('x', { id: 'x', value: 1 });
    old.recordChanged('x');
    const oldWrite = old.flush();
    while (held.length === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const nextItems = new Map<string, Item>();
    const next = recordWriter(store, nextItems);
    await next.takeOver();
    expect(next.takeRecords()).toEqual([{ id: 'x', value: 1 }]);
    next.recordChanged('x'); // x finished at the new writer
    await next.flush();
    holding = false;
    for (const go of held.splice(0)) go();
    await oldWrite;
    expect(fenced).toBe(true);
    const reader = recordWriter(store, new Map());
    await reader.load();
    expect(reader.takeRecords()).toEqual([]);
  });
});
