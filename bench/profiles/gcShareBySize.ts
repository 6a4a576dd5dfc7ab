/**
 * Where time(100k) / time(10k) goes: tasks/s and the time spent in GC (by kind: 1 scavenge,
 * 4 mark-compact, 8 incremental) for 10k and 100k independent tasks, one process:
 * `node --expose-gc -r @swc-node/register bench/profiles/gcShareBySize.ts`.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import type { TaskInput } from '../../src';
import { runInstantWorkflow } from '../workloads';
const independent = (n: number): TaskInput[] => Array.from({ length: n }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: ['work'] }));
let gcMs = 0;
const kinds: Record<number, number> = {};
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) {
    gcMs += e.duration;
    const k = (e as unknown as { detail: { kind: number } }).detail.kind;
    kinds[k] = (kinds[k] ?? 0) + e.duration;
  }
}).observe({ entryTypes: ['gc'] });
async function one(n: number) {
  gcMs = 0;
  for (const k in kinds) delete kinds[k];
  const s = await runInstantWorkflow(independent(n), 1000);
  await new Promise((r) => setTimeout(r, 50));
  console.log(
    `${n}: ${(n / s).toFixed(0)} tasks/s, ${(s * 1000).toFixed(0)} ms, gc ${gcMs.toFixed(0)} ms (${((100 * gcMs) / (s * 1000)).toFixed(0)}%)`,
    JSON.stringify(Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, Math.round(v)]))),
  );
}
async function main() {
  await one(2000);
  for (let i = 0; i < 3; i++) await one(10_000);
  await one(100_000);
  await one(10_000);
}
void main();
