/**
 * Request/reply through two NatsTransports on bare buses (the transport level of bench/nats.ts),
 * without and with `hmacSecret`, taking turns; prints p10/p50/p90 of each. For finding where a
 * round trip spends its time (wrap transport methods around it, or `node --cpu-prof`):
 * `node -r @swc-node/register bench/profiles/natsRoundTripProfile.ts`.
 */
import { nats } from '../../src';
import { CommunicationBus } from '../../src/bus/communicationBus';
import type { Message } from '../../src/bus/message';
import { startNatsServer } from '../../test/support/servers';

const PAYLOAD = (i: number) => ({ i, symbol: 'BTC/USD', price: 45_000 + (i % 100) });
const ROUNDS = 6;
const PER_ROUND = 800;

function percentile(samples: readonly number[], p: number): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length * p)] ?? 0;
}

/** Bus A's pull agent `feed` requests, bus B's pull agent `echo` answers as soon as a request arrives. */
async function pair(url: string, namespace: string, hmacSecret: string | undefined): Promise<(i: number) => Promise<Message>> {
  const a = new CommunicationBus({});
  const b = new CommunicationBus({});
  const ta = nats({ servers: url, namespace, hmacSecret });
  const tb = nats({ servers: url, namespace, hmacSecret });
  ta.attach(a);
  tb.attach(b);
  const feed = a.registerAgent('feed');
  const echo = b.registerAgent('echo');
  b.messages$.subscribe((m: Message) => {
    if (m.messageType === 'request') queueMicrotask(() => echo.receive().forEach((r) => echo.respond(r, r.payload)));
  });
  await Promise.all([ta.start(), tb.start()]);
  await Promise.all([a.start(), b.start()]);
  return (i) => feed.request({ recipientId: 'echo', topic: 'echo', payload: PAYLOAD(i), timeoutMs: 5000 });
}

async function main(): Promise<void> {
  const server = await startNatsServer();
  try {
    const contenders = { plain: await pair(server.url, 'p', undefined), signed: await pair(server.url, 's', 'bench-hmac-secret-0123456789') };
    const latencies: Record<string, number[]> = { plain: [], signed: [] };
    // Round 0 warms up (JIT, subscriptions); the contenders take turns so that other load hits both.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, request] of Object.entries(contenders)) {
        for (let i = 0; i < PER_ROUND; i++) {
          const t = process.hrtime.bigint();
          await request(i);
          if (round > 0) latencies[name]?.push(Number(process.hrtime.bigint() - t) / 1000);
        }
      }
    }
    for (const [name, s] of Object.entries(latencies)) {
      console.log(`${name.padEnd(8)} p10 ${percentile(s, 0.1).toFixed(0)} µs  p50 ${percentile(s, 0.5).toFixed(0)} µs  p90 ${percentile(s, 0.9).toFixed(0)} µs`);
    }
  } finally {
    await server.stop();
  }
  // The transports are left open: the process ends here (their connections would keep it alive).
  process.exit(0);
}

void main();
