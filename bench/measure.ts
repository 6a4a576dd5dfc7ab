/** Small timing and memory helpers shared by the benchmarks. */
import { performance } from 'node:perf_hooks';

/** Runs `fn` (which performs `count` operations) and returns operations per second. */
export async function opsPerSecond(count: number, fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  const seconds = (performance.now() - start) / 1000;
  return count / seconds;
}

/** Best of `rounds` runs, after one warm-up run (JIT), in operations per second. */
export async function bestOf(rounds: number, count: number, fn: () => unknown): Promise<number> {
  await opsPerSecond(count, fn);
  let best = 0;
  for (let i = 0; i < rounds; i++) best = Math.max(best, await opsPerSecond(count, fn));
  return best;
}

export function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (npm run bench does)');
  gc();
  gc();
}

/** Heap bytes retained per item made by `make(n)`, after GC. */
export async function bytesPerItem<T>(n: number, make: (n: number) => T | Promise<T>): Promise<{ bytes: number; keep: T }> {
  forceGc();
  const before = process.memoryUsage().heapUsed;
  const keep = await make(n);
  forceGc();
  const after = process.memoryUsage().heapUsed;
  return { bytes: (after - before) / n, keep };
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}
