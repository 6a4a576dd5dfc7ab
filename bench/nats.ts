/**
 * NATS transport against the raw NATS client, and durable commands against BullMQ, all
 * measured in one run against servers this script starts (its own `nats-server -js` and
 * `redis-server` on free loopback ports).
 * Targets (issue 8): pub/sub ≥ 0.8× raw NATS msgs/s; request/reply p50 < 300 µs.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createNeuroFlux, nats, type NeuroFlux } from '../src';
import { NATS_SERVER_BIN, REDIS_SERVER_BIN, startNatsServer, startRedisServer, type TestServer } from '../test/support/servers';
import { fmt } from './measure';

const PUBSUB_N = 50_000;
const RR_N = 5_000;
const DURABLE_N = 5_000;
const CHUNK = 1_000;
const PAYLOAD = (i: number) => ({ i, symbol: 'BTC/USD', price: 45_000 + (i % 100) });

const tick = () => new Promise<void>((r) => setImmediate(r));

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function p50(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Publishes `n` messages in chunks (yielding between chunks) and waits until `received()` reaches n; msgs/s. */
async function pubSubRate(n: number, publish: (i: number) => void, received: () => number): Promise<number> {
  const start = performance.now();
  const base = received();
  for (let i = 0; i < n; i += CHUNK) {
    for (let j = i; j < Math.min(n, i + CHUNK); j++) publish(j);
    await tick();
  }
  await until(() => received() - base >= n, 30_000, 'pub/sub deliveries');
  return n / ((performance.now() - start) / 1000);
}

async function roundTrips(n: number, once: (i: number) => Promise<unknown>): Promise<{ perSecond: number; p50us: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await once(i);
    latencies.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return { perSecond: n / ((performance.now() - start) / 1000), p50us: p50(latencies) };
}

async function rawNats(url: string): Promise<{ pubsub: number; rr: { perSecond: number; p50us: number } }> {
  const pub = await connect({ servers: url });
  const sub = await connect({ servers: url });
  const codec = { encode: (v: unknown) => Buffer.from(JSON.stringify(v)), decode: (b: Uint8Array) => JSON.parse(Buffer.from(b).toString()) as unknown };
  let received = 0;
  sub.subscribe('bench.tick', { callback: (_err, m) => void (codec.decode(m.data), received++) });
  sub.subscribe('bench.echo', { callback: (_err, m) => void m.respond(m.data) });
  await sub.flush();
  const publish = (i: number) => pub.publish('bench.tick', codec.encode(PAYLOAD(i)));
  await pubSubRate(PUBSUB_N / 5, publish, () => received); // warm-up
  const pubsub = Math.max(await pubSubRate(PUBSUB_N, publish, () => received), await pubSubRate(PUBSUB_N, publish, () => received));
  await roundTrips(500, (i) => pub.request('bench.echo', codec.encode(PAYLOAD(i)), { timeout: 5000 }));
  const rr = await roundTrips(RR_N, (i) => pub.request('bench.echo', codec.encode(PAYLOAD(i)), { timeout: 5000 }));
  await pub.close();
  await sub.close();
  return { pubsub, rr };
}

/** Two runtimes, each with its own NatsTransport (own connection), agents on different buses. */
async function pairOfRuntimes(url: string, namespace: string): Promise<{ a: NeuroFlux; b: NeuroFlux }> {
  // Mailboxes sized for a network burst: the receiving side gets whole socket reads at once.
  const bus = { maxQueueSize: 200_000 };
  const a = createNeuroFlux({ transport: nats({ servers: url, namespace }), bus, orchestrator: { orchestratorId: 'orch-a' } });
  const b = createNeuroFlux({ transport: nats({ servers: url, namespace }), bus, orchestrator: { orchestratorId: 'orch-b' } });
  return { a, b };
}

async function neuroflux(url: string): Promise<{ pubsub: number; rr: { perSecond: number; p50us: number }; durable: number; deadLetters: number }> {
  const { a, b } = await pairOfRuntimes(url, 'bench');
  let received = 0;
  let handled = 0;
  b.bus.registerAgent('sub', { topics: ['bench.tick'], handler: () => void received++ });
  b.bus.registerAgent('echo', { handler: (m, agent) => void agent.respond(m, m.payload) });
  b.bus.registerAgent('worker', { handler: () => void handled++ });
  const feed = a.bus.registerAgent('feed');
  let deadLetters = 0;
  a.bus.deadLetters$.subscribe(() => deadLetters++);
  b.bus.deadLetters$.subscribe(() => deadLetters++);
  await b.start();
  await a.start();
  const publish = (i: number) => feed.publish({ topic: 'bench.tick', payload: PAYLOAD(i) });
  await pubSubRate(PUBSUB_N / 5, publish, () => received); // warm-up
  const pubsub = Math.max(await pubSubRate(PUBSUB_N, publish, () => received), await pubSubRate(PUBSUB_N, publish, () => received));
  await roundTrips(500, (i) => feed.request({ recipientId: 'echo', topic: 'echo', payload: PAYLOAD(i), timeoutMs: 5000 }));
  const rr = await roundTrips(RR_N, (i) => feed.request({ recipientId: 'echo', topic: 'echo', payload: PAYLOAD(i), timeoutMs: 5000 }));
  // Durable: commands through JetStream, each acknowledged once the worker's handler finished.
  const durableRun = async (n: number) => {
    const base = handled;
    const start = performance.now();
    for (let i = 0; i < n; i += CHUNK) {
      for (let j = i; j < Math.min(n, i + CHUNK); j++) feed.send({ recipientId: 'worker', messageType: 'command', topic: 'task', payload: PAYLOAD(j) });
      await tick();
    }
    await until(() => handled - base >= n, 60_000, 'durable commands');
    return n / ((performance.now() - start) / 1000);
  };
  await durableRun(500); // warm-up (consumers, JIT)
  const durable = await durableRun(DURABLE_N);
  await a.stop();
  await b.stop();
  return { pubsub, rr, durable, deadLetters };
}

async function bullmq(redis: TestServer, concurrency: number): Promise<number> {
  const { Queue, Worker, QueueEvents: _QueueEvents } = await import('bullmq');
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const name = `bench-${concurrency}`;
  const queue = new Queue(name, { connection });
  let completed = 0;
  const worker = new Worker(name, async () => undefined, { connection, concurrency });
  worker.on('completed', () => void completed++);
  await worker.waitUntilReady();
  const run = async (n: number) => {
    const base = completed;
    const start = performance.now();
    for (let i = 0; i < n; i += CHUNK) {
      await queue.addBulk(Array.from({ length: Math.min(CHUNK, n - i) }, (_, k) => ({ name: 'task', data: PAYLOAD(i + k), opts: { removeOnComplete: true } })));
    }
    await until(() => completed - base >= n, 60_000, 'BullMQ jobs');
    return n / ((performance.now() - start) / 1000);
  };
  await run(500);
  const rate = await run(DURABLE_N);
  await worker.close();
  await queue.close();
  return rate;
}

async function main(): Promise<void> {
  if (!existsSync(NATS_SERVER_BIN)) {
    console.log(`skipped: ${NATS_SERVER_BIN} is not installed (apt-get install nats-server)`);
    return;
  }
  const started = performance.now();
  const server = await startNatsServer();
  const redis = existsSync(REDIS_SERVER_BIN) ? await startRedisServer() : undefined;
  try {
    console.log(`node ${process.version}, own nats-server -js on ${server.url}${redis ? ` and redis-server on ${redis.url}` : ''}`);
    console.log(`pub/sub ${fmt(PUBSUB_N)} messages (best of 2 after warm-up), ${fmt(RR_N)} sequential round trips, ${fmt(DURABLE_N)} durable tasks\n`);
    const raw = await rawNats(server.url);
    const nf = await neuroflux(server.url);
    const ratio = nf.pubsub / raw.pubsub;
    console.log(`raw NATS pub/sub (JSON payload)              ${fmt(raw.pubsub).padStart(10)} msg/s`);
    console.log(`NeuroFlux pub/sub, bus A → subscriber on B   ${fmt(nf.pubsub).padStart(10)} msg/s   ${ratio.toFixed(2)}× raw (target ≥ 0.80×) ${ratio >= 0.8 ? 'met' : 'NOT met'}`);
    console.log(`raw NATS request/reply                       ${fmt(raw.rr.perSecond).padStart(10)} /s      p50 ${raw.rr.p50us.toFixed(0)} µs`);
    console.log(
      `NeuroFlux request/reply, agent on bus B      ${fmt(nf.rr.perSecond).padStart(10)} /s      p50 ${nf.rr.p50us.toFixed(0)} µs (target < 300 µs) ${nf.rr.p50us < 300 ? 'met' : 'NOT met'}; ${(nf.rr.perSecond / raw.rr.perSecond).toFixed(2)}× raw`,
    );
    console.log(`NeuroFlux durable commands (JetStream)       ${fmt(nf.durable).padStart(10)} tasks/s (published, handled, acknowledged)`);
    if (redis) {
      for (const concurrency of [1, 100]) {
        const rate = await bullmq(redis, concurrency);
        console.log(`BullMQ ${fmt(DURABLE_N)} jobs, addBulk, concurrency ${String(concurrency).padEnd(3)}    ${fmt(rate).padStart(10)} jobs/s   NeuroFlux ${(nf.durable / rate).toFixed(2)}×`);
      }
    } else {
      console.log(`BullMQ: skipped, ${REDIS_SERVER_BIN} is not installed`);
    }
    console.log(`\nbus dead letters during the run: ${nf.deadLetters}; total time ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await redis?.stop();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
