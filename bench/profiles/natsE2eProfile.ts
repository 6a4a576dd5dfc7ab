/**
 * The end-to-end case of bench/nats.ts alone (agent on runtime A publishing through its handle
 * → handler agent on runtime B; then sequential requests), for `node --cpu-prof`:
 * `node --cpu-prof --cpu-prof-dir=/tmp/prof -r @swc-node/register bench/profiles/natsE2eProfile.ts [pubsub|rr]`.
 */
import { performance } from 'node:perf_hooks';
import { createNeuroFlux, nats, silentLogger } from '../../src';
import { startNatsServer } from '../../test/support/servers';

const N = 200_000;
const CHUNK = 1_000;
const RR = 5_000;
const PAYLOAD = (i: number) => ({ i, symbol: 'BTC/USD', price: 45_000 + (i % 100) });
const part = process.argv[2] ?? 'pubsub';
const tick = () => new Promise<void>((r) => setImmediate(r));

async function main(): Promise<void> {
  const server = await startNatsServer();
  try {
    // NF_BATCH: the bus batchSize of both runtimes (default 10), to see what the agent actor costs per batch.
    const bus = { maxQueueSize: 200_000, ...(process.env['NF_BATCH'] !== undefined && { batchSize: Number(process.env['NF_BATCH']) }) };
    const a = createNeuroFlux({ logger: silentLogger, transport: nats({ servers: server.url, namespace: 'p' }), bus, orchestrator: { orchestratorId: 'orch-a' } });
    const b = createNeuroFlux({ logger: silentLogger, transport: nats({ servers: server.url, namespace: 'p' }), bus, orchestrator: { orchestratorId: 'orch-b' } });
    let received = 0;
    b.bus.registerAgent('sub', { topics: ['bench.tick'], handler: () => void received++ });
    b.bus.registerAgent('echo', { handler: (m, agent) => void agent.respond(m, m.payload) });
    const feed = a.bus.registerAgent('feed');
    await b.start();
    await a.start();
    const start = performance.now();
    const cpu = process.cpuUsage();
    if (part === 'pubsub') {
      for (let i = 0; i < N; i += CHUNK) {
        for (let j = i; j < i + CHUNK; j++) feed.publish({ topic: 'bench.tick', payload: PAYLOAD(j) });
        await tick();
      }
      while (received < N) await new Promise((r) => setTimeout(r, 1));
      const used = process.cpuUsage(cpu);
      // This process's CPU time (both runtimes; not the server's): what a noisy machine inflates least.
      console.log(`pub/sub ${Math.round(N / ((performance.now() - start) / 1000))} msg/s, ${((used.user + used.system) / N).toFixed(2)} µs CPU a message`);
    } else {
      for (let i = 0; i < RR; i++) await feed.request({ recipientId: 'echo', topic: 'echo', payload: PAYLOAD(i), timeoutMs: 5000 });
      console.log(`request/reply ${Math.round(RR / ((performance.now() - start) / 1000))} /s`);
    }
    await a.stop();
    await b.stop();
  } finally {
    await server.stop();
  }
}

void main();
