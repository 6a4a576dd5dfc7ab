/**
 * Paired A/B of the bus's read-once argument checks and the clock-timed drain report (review
 * of issue #20's hand checks, F1–F3 and the injected-clock report), three source trees in one
 * process, each its own module instance: the old tree, a copy of it (the A/A control) and the
 * new one.
 *
 *   git archive <old commit> | tar -x -C /tmp/old; cp -r /tmp/old /tmp/old-copy
 *   git archive HEAD | tar -x -C /tmp/new          (node_modules symlinked into each)
 *   node --expose-gc -r @swc-node/register bench/profiles/busReadOnceAB.ts /tmp/old /tmp/old-copy /tmp/new send|pubsub|rr [rounds]
 *
 * `send`: 20 000 local `sendMessage` calls to a synchronous handler (batch 10), `whenIdle()`
 * per 1 000 (the hand check of plainMessage.ts). `pubsub` / `rr`: bench/profiles/busNatsPathAB.ts's
 * two buses joined by an in-process JSON link (handle.publish to a synchronous handler;
 * sequential handle.request answered by handle.respond). Each round runs the three trees in
 * a rotated order (GC before each); CPU time from `process.cpuUsage()`. Prints the medians of
 * old/new and old/copy per-round ratios. Not a top-level bench (it needs other trees).
 */
import { resolve } from 'node:path';

interface Handle {
  send(args: unknown): unknown;
  publish(args: unknown): unknown;
  request(args: unknown): Promise<unknown>;
  respond(message: unknown, payload: unknown): unknown;
}
interface Bus {
  start(): Promise<void>;
  whenIdle(): Promise<void>;
  registerAgent(id: string, registration?: unknown): Handle;
  attachTransport(link: unknown): () => void;
  acceptFrame(frame: unknown): unknown;
}
type BusClass = new (options: object) => Bus;

const PAYLOAD = (i: number) => ({ i, symbol: 'BTC/USD', price: 45_000 + (i % 100) });
const tick = () => new Promise<void>((r) => setImmediate(r));

function load(root: string): BusClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a tree chosen at run time
  return (require(resolve(root, 'src/bus/communicationBus')) as { CommunicationBus: BusClass }).CommunicationBus;
}

function link(to: () => Bus) {
  const out: unknown[] = [];
  const deliver = () => {
    for (const frame of out.splice(0)) to().acceptFrame(frame);
  };
  return {
    forward: (message: unknown) => {
      out.push(JSON.parse(JSON.stringify(message)));
      if (out.length === 1) queueMicrotask(deliver);
      return true;
    },
    agentAdded: () => {},
    agentRemoved: () => {},
    subscribed: () => {},
    unsubscribed: () => {},
  };
}

async function workloads(Bus: BusClass) {
  const a = new Bus({ maxQueueSize: 200_000 });
  const b = new Bus({ maxQueueSize: 200_000 });
  a.attachTransport(link(() => b));
  b.attachTransport(link(() => a));
  let received = 0;
  b.registerAgent('sub', { topics: ['bench.tick'], handler: () => void received++ });
  b.registerAgent('echo', { handler: (m: { payload: unknown }, agent: Handle) => void agent.respond(m, m.payload) });
  const feed = a.registerAgent('feed');
  const local = new Bus({ batchSize: 10, maxQueueSize: 2_000 });
  let sunk = 0;
  local.registerAgent('sink', { handler: () => void sunk++ });
  const source = local.registerAgent('source');
  await a.start();
  await b.start();
  await local.start();
  return {
    async send(n: number) {
      sunk = 0;
      for (let i = 0; i < n; i += 1000) {
        for (let j = i; j < i + 1000; j++) source.send({ recipientId: 'sink', messageType: 'command', topic: 'tick', payload: j });
        await local.whenIdle();
      }
      if (sunk !== n) throw new Error(`send: ${sunk} of ${n} arrived`);
    },
    async pubsub(n: number) {
      received = 0;
      for (let i = 0; i < n; i += 1000) {
        for (let j = i; j < i + 1000; j++) feed.publish({ topic: 'bench.tick', payload: PAYLOAD(j) });
        await tick();
      }
      while (received < n) await tick();
    },
    async rr(n: number) {
      for (let i = 0; i < n; i++) await feed.request({ recipientId: 'echo', topic: 'echo', payload: PAYLOAD(i), timeoutMs: 5000 });
    },
  };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (x: readonly number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const [oldRoot, copyRoot, newRoot, which = 'send', roundsArg = '21'] = process.argv.slice(2);
  if (oldRoot === undefined || copyRoot === undefined || newRoot === undefined || (which !== 'send' && which !== 'pubsub' && which !== 'rr')) {
    throw new Error('usage: busReadOnceAB.ts <old tree> <copy of old> <new tree> send|pubsub|rr [rounds]');
  }
  const rounds = Number(roundsArg);
  const n = which === 'rr' ? 3_000 : 20_000;
  const sides = { old: await workloads(load(oldRoot)), copy: await workloads(load(copyRoot)), new: await workloads(load(newRoot)) };
  const names = ['old', 'copy', 'new'] as const;
  const run = async (side: (typeof names)[number]) => {
    global.gc?.();
    const start = cpuMs();
    await sides[side][which](n);
    return ((cpuMs() - start) * 1000) / n;
  };
  for (const side of names) await run(side);
  const us = { old: [] as number[], copy: [] as number[], new: [] as number[] };
  const ratios: number[] = [];
  const control: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = { old: 0, copy: 0, new: 0 };
    for (let k = 0; k < 3; k++) {
      const side = names[(r + k) % 3] as (typeof names)[number];
      us[side].push((t[side] = await run(side)));
    }
    ratios.push(t.old / t.new);
    control.push(t.old / t.copy);
  }
  console.log(
    `${which}: CPU µs per ${which === 'rr' ? 'round trip' : 'message'}, median: old ${median(us.old).toFixed(2)}, copy ${median(us.copy).toFixed(2)}, new ${median(us.new).toFixed(2)}; ` +
      `old/new median ${median(ratios).toFixed(3)} (range ${Math.min(...ratios).toFixed(2)} – ${Math.max(...ratios).toFixed(2)}), A/A old/copy ${median(control).toFixed(3)} (range ${Math.min(...control).toFixed(2)} – ${Math.max(...control).toFixed(2)})`,
  );
  process.exit(0);
}

void main();
