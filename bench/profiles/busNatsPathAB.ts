/**
 * Paired A/B of the bus's share of bench/nats.ts's end-to-end case, two source trees in one
 * process (the figures in docs/benchmarks.md, NATS, issue #20 round come from this):
 *
 *   git archive <commit> src machines | tar -x -C /tmp/before
 *   ln -s "$PWD/node_modules" /tmp/before/node_modules
 *   node --expose-gc -r @swc-node/register bench/profiles/busNatsPathAB.ts /tmp/before pubsub|rr [rounds]
 *
 * NATS is replaced by an in-process link that does what a transport does to a message (JSON
 * out, JSON in, `acceptFrame` in a microtask queued at the first message of a tick), so only
 * the buses differ: an agent on bus A publishes through its handle to a synchronous handler
 * agent on bus B (`pubsub`, 20 000 messages a round), or requests and a handler agent on B
 * answers (`rr`, 3 000 sequential round trips). Each round runs before, after and before
 * again (the A/A control) in alternating order; CPU time from `process.cpuUsage()`, a GC
 * before each. Prints the median CPU per message or round trip, the median and range of
 * before/after, and the median A/A ratio. Not a top-level bench: bench/run.ts runs every
 * top-level bench/*.ts, and this one needs a second tree.
 */
import { resolve } from 'node:path';

interface Handle {
  publish(args: unknown): unknown;
  request(args: unknown): Promise<unknown>;
  respond(message: unknown, payload: unknown): unknown;
}
interface Bus {
  start(): Promise<void>;
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

/** What a transport does to a message on its way: JSON out, JSON in, handed over at the end of the tick. */
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

async function pair(Bus: BusClass) {
  const a = new Bus({ maxQueueSize: 200_000 });
  const b = new Bus({ maxQueueSize: 200_000 });
  a.attachTransport(link(() => b));
  b.attachTransport(link(() => a));
  let received = 0;
  b.registerAgent('sub', { topics: ['bench.tick'], handler: () => void received++ });
  b.registerAgent('echo', { handler: (m: { payload: unknown }, agent: Handle) => void agent.respond(m, m.payload) });
  const feed = a.registerAgent('feed');
  await a.start();
  await b.start();
  return {
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
  const [beforeRoot, which = 'pubsub', roundsArg = '11'] = process.argv.slice(2);
  if (beforeRoot === undefined || (which !== 'pubsub' && which !== 'rr')) throw new Error('usage: busNatsPathAB.ts <before tree> pubsub|rr [rounds]');
  const rounds = Number(roundsArg);
  const n = which === 'pubsub' ? 20_000 : 3_000;
  const sides = { before: await pair(load(beforeRoot)), after: await pair(load(resolve(__dirname, '../..'))), before2: await pair(load(beforeRoot)) };
  const run = async (side: keyof typeof sides) => {
    global.gc?.();
    const start = cpuMs();
    await sides[side][which](n);
    return ((cpuMs() - start) * 1000) / n;
  };
  for (const side of ['before', 'after', 'before2'] as const) await run(side);
  const us: Record<keyof typeof sides, number[]> = { before: [], after: [], before2: [] };
  const ratios: number[] = [];
  const control: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (['before', 'after', 'before2'] as const) : (['after', 'before2', 'before'] as const);
    const t = { before: 0, after: 0, before2: 0 };
    for (const side of order) us[side].push((t[side] = await run(side)));
    ratios.push(t.before / t.after);
    control.push(t.before / t.before2);
  }
  console.log(
    `${which}: CPU µs per ${which === 'pubsub' ? 'message' : 'round trip'}, median: before ${median(us.before).toFixed(2)}, after ${median(us.after).toFixed(2)}; ` +
      `before/after median ${median(ratios).toFixed(3)} (range ${Math.min(...ratios).toFixed(2)} – ${Math.max(...ratios).toFixed(2)}), A/A before/before ${median(control).toFixed(3)}`,
  );
  process.exit(0);
}

void main();
