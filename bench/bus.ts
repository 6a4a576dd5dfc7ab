/**
 * Communication bus throughput against raw XState, measured in the same run.
 * Targets (issue 2): direct ≥ 0.5× baseline, batched ≥ 2× baseline, ≤ 8 KiB per idle agent.
 */
import { assign, createActor, createMachine, sendTo, setup } from 'xstate';
import { CommunicationBus } from '../src';
import { bestOf, bytesPerItem, fmt, ratio } from './measure';

const N = 100_000;
const CHUNK = 1000;

function rawXStateBaseline(): () => void {
  const receiver = createActor(createMachine({ context: { n: 0 }, on: { PING: { actions: assign({ n: ({ context }) => context.n + 1 }) } } })).start();
  const sender = createActor(setup({}).createMachine({ on: { PING: { actions: sendTo(receiver, { type: 'PING' }) } } })).start();
  return () => {
    for (let i = 0; i < N; i++) sender.send({ type: 'PING' });
  };
}

async function busDelivery(batchSize: number): Promise<() => Promise<void>> {
  const bus = new CommunicationBus({ batchSize, maxQueueSize: CHUNK * 2 });
  let received = 0;
  bus.registerAgent('sink', { handler: () => void received++ });
  await bus.start();
  const sender = bus.registerAgent('source');
  return async () => {
    for (let i = 0; i < N; i += CHUNK) {
      for (let j = 0; j < CHUNK; j++) sender.send({ recipientId: 'sink', messageType: 'command', topic: 'tick', payload: j });
      await bus.whenIdle();
    }
  };
}

async function requestResponse(count: number): Promise<{ perSecond: number; p50us: number }> {
  const bus = new CommunicationBus();
  bus.registerAgent('echo', { handler: (m, agent) => void agent.respond(m, m.payload) });
  const client = bus.registerAgent('client');
  await bus.start();
  const latencies: number[] = [];
  const run = async () => {
    for (let i = 0; i < count; i++) {
      const t = process.hrtime.bigint();
      await client.request({ recipientId: 'echo', topic: 'ping', payload: i });
      latencies.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  };
  const perSecond = await bestOf(2, count, run);
  latencies.sort((a, b) => a - b);
  await bus.stop();
  return { perSecond, p50us: latencies[Math.floor(latencies.length / 2)] ?? 0 };
}

async function fanOut(events: number, subscribers: number): Promise<number> {
  const bus = new CommunicationBus({ maxQueueSize: 10_000 });
  let deliveries = 0;
  for (let i = 0; i < subscribers; i++) bus.registerAgent(`sub${i}`, { topics: ['market.btc'], handler: () => void deliveries++ });
  const feed = bus.registerAgent('feed');
  await bus.start();
  const perSecond = await bestOf(2, events * subscribers, async () => {
    for (let i = 0; i < events; i += 100) {
      for (let j = 0; j < 100; j++) feed.publish({ topic: 'market.btc', payload: { price: 45_000 + j } });
      await bus.whenIdle();
    }
  });
  await bus.stop();
  return perSecond;
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${N.toLocaleString()} messages per run, best of 3 after warm-up\n`);
  const baseline = await bestOf(3, N, rawXStateBaseline());
  console.log(`raw XState sendTo (baseline)          ${fmt(baseline).padStart(12)} msg/s`);
  const direct = await bestOf(3, N, await busDelivery(1));
  console.log(`bus direct, batchSize 1               ${fmt(direct).padStart(12)} msg/s   ${ratio(direct, baseline)} baseline (target ≥ 0.50×)`);
  const batched = await bestOf(3, N, await busDelivery(10));
  console.log(`bus batched, batchSize 10             ${fmt(batched).padStart(12)} msg/s   ${ratio(batched, baseline)} baseline (target ≥ 2.00×)`);
  const batched32 = await bestOf(3, N, await busDelivery(32));
  console.log(`bus batched, batchSize 32             ${fmt(batched32).padStart(12)} msg/s   ${ratio(batched32, baseline)} baseline`);
  const rr = await requestResponse(20_000);
  console.log(`request/response round trips          ${fmt(rr.perSecond).padStart(12)} /s      p50 ${rr.p50us.toFixed(1)} µs`);
  const fan = await fanOut(2000, 100);
  console.log(`pub/sub fan-out to 100 subscribers    ${fmt(fan).padStart(12)} deliveries/s`);

  const agents = 10_000;
  const bus = new CommunicationBus();
  await bus.start();
  const { bytes } = await bytesPerItem(agents, (n) => {
    for (let i = 0; i < n; i++) bus.registerAgent(`idle${i}`, { handler: () => undefined });
    return bus;
  });
  console.log(`memory per idle registered agent      ${fmt(bytes).padStart(12)} bytes  (target ≤ 8192; ${agents.toLocaleString()} agents)`);
  await bus.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
