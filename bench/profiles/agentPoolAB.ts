/**
 * The agent pool's heap alone, two trees in one process: 1 000 agents scored by load, 100 000
 * updates (take the top agent, or release a random busy one, as a flat run does). Prints µs
 * per update, medians of 10 rounds after 2 warm-ups:
 *
 *   git archive <before> | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/node_modules
 *   node -r @swc-node/register bench/profiles/agentPoolAB.ts /tmp/before
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

interface FakeAgent {
  readonly agentId: string;
  readonly registrationOrder: number;
  readonly pools: Set<unknown>;
  load: number;
  readonly max: number;
  readonly available: boolean;
}
interface Pool {
  add(agent: FakeAgent): void;
  update(agent: FakeAgent): void;
  top(): FakeAgent | undefined;
}
type PoolClass = new (key: string, balancer: { name: string; score: (agent: FakeAgent) => number }, traits: object) => Pool;

function poolAt(root: string): PoolClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(resolve(root, 'src/orchestration/agentPool')) as { AgentPool: PoolClass }).AgentPool;
}
const Old = poolAt(process.argv[2] ?? resolve(__dirname, '../..'));
const New = poolAt(resolve(__dirname, '../..'));
function run(Pool: PoolClass): number {
  const balancer = { name: 'least', score: (a: FakeAgent) => -a.load / a.max };
  const pool = new Pool('k', balancer, { taskType: 't', priority: 'medium', requiredCapabilities: [] });
  const agents: FakeAgent[] = Array.from({ length: 1000 }, (_, i) => ({
    agentId: `a${i}`,
    registrationOrder: i,
    pools: new Set(),
    load: 0,
    max: 5,
    get available() {
      return this.load < this.max;
    },
  }));
  for (const a of agents) pool.add(a);
  const t = performance.now();
  // 10 000 tasks: take the top agent (load+1), and release a random busy one (load-1), as a flat run does.
  let seed = 1;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const busy: FakeAgent[] = [];
  for (let i = 0; i < 100_000; i++) {
    const top = pool.top();
    if (top && busy.length < 4000) {
      top.load++;
      pool.update(top);
      busy.push(top);
    } else {
      const k = Math.floor(rnd() * busy.length);
      const a = busy[k] as FakeAgent;
      busy[k] = busy[busy.length - 1] as FakeAgent;
      busy.pop();
      a.load--;
      pool.update(a);
    }
  }
  return ((performance.now() - t) * 1000) / 100_000;
}
const before: number[] = [];
const after: number[] = [];
for (let r = 0; r < 12; r++) {
  before.push(run(Old));
  after.push(run(New));
}
const median = (v: number[]) => [...v.slice(2)].sort((a, b) => a - b)[5] as number;
console.log(`µs per update: before ${median(before).toFixed(2)}, after ${median(after).toFixed(2)}, after/before ${(median(after) / median(before)).toFixed(2)}`);
