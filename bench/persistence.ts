/**
 * A durable orchestrator over time: 20 000 tasks in 40 waves of 500 (100 agents whose
 * results arrive on the next turn of the event loop), each wave submitted once the previous one finished, so that every write
 * happens with more finished tasks behind it. Prints the throughput early, after 4 000 and
 * after 18 000 finished tasks, and the size of the last stored value, for:
 *   - no store (baseline: the same orchestrator, nothing persisted);
 *   - finished tasks archived in write-once segments (the default, 256 a segment), on the
 *     memory store and on the file store (fsync + rename per write);
 *   - no archive (every finished task rewritten with every change: how it was before;
 *     quadratic, so 12 waves only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createNeuroFlux, FileSnapshotStore, MemorySnapshotStore, type SnapshotStore } from '../src';
import { fmt, forceGc } from './measure';

const WAVES = 40;
const PER_WAVE = 500;
/** Windows of four waves: [first wave, label]; wave 0 warms the JIT. */
const WINDOWS: readonly (readonly [number, string])[] = [
  [1, '0.5–2.5k'],
  [8, '4–6k'],
  [36, '18–20k'],
];

/** Results arrive as I/O does, on a later turn of the event loop: writes to a file get their turn. */
const settleOnNextTurn = () => new Promise<{ ok: true }>((resolve) => setImmediate(() => resolve({ ok: true })));

interface Result {
  /** Seconds per wave. */
  readonly waves: readonly number[];
  readonly saves: number;
  readonly storedBytes: number;
}

async function run(waves: number, store: SnapshotStore | undefined, archiveSegmentSize?: number): Promise<Result> {
  const nf = createNeuroFlux({
    bus: { maxQueueSize: 100_000 },
    ...(store && { orchestrator: { store, ...(archiveSegmentSize !== undefined && { archiveSegmentSize }) } }),
  });
  for (let i = 0; i < 100; i++) nf.orchestrator.registerAgent(`a${i}`, { capabilities: ['work'], maxConcurrentTasks: 5, execute: settleOnNextTurn });
  await nf.start();
  forceGc();
  const times: number[] = [];
  for (let w = 0; w < waves; w++) {
    const start = performance.now();
    const submitted = nf.orchestrator.submitWorkflow({
      tasks: Array.from({ length: PER_WAVE }, (_, i) => ({ taskId: `w${w}-${i}`, requiredCapabilities: ['work'] })),
    });
    await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
    times.push((performance.now() - start) / 1000);
  }
  await nf.stop();
  const stored = store && (await store.load('orchestrator'));
  return { waves: times, saves: nf.orchestrator.getStats().persistence?.saves ?? 0, storedBytes: stored ? JSON.stringify(stored.value).length : 0 };
}

/** Tasks/s over the four waves from `first`, or undefined when the run was shorter. */
function rate(r: Result, first: number): number | undefined {
  const window = r.waves.slice(first, first + 4);
  return window.length === 4 ? (4 * PER_WAVE) / window.reduce((a, b) => a + b, 0) : undefined;
}

function line(label: string, r: Result, baseline: Result): void {
  const cells = WINDOWS.map(([first]) => {
    const value = rate(r, first);
    const base = rate(baseline, first);
    return value === undefined || base === undefined ? '—'.padStart(22) : `${fmt(value).padStart(7)} (${(value / base).toFixed(2)}×)`.padStart(22);
  });
  const size = r.storedBytes > 0 ? `  ${fmt(r.storedBytes / 1024)} KiB last value, ${fmt(r.saves)} writes` : '';
  console.log(`${label.padEnd(44)}${cells.join('')}${size}`);
}

async function main(): Promise<void> {
  console.log(`${WAVES} waves of ${PER_WAVE} tasks; tasks/s (× baseline) over four waves, by tasks finished before them`);
  console.log(`${''.padEnd(44)}${WINDOWS.map(([, label]) => label.padStart(22)).join('')}`);
  const baseline = await run(WAVES, undefined);
  line('no store (baseline)', baseline, baseline);
  line('memory store, archive (segments of 256)', await run(WAVES, new MemorySnapshotStore()), baseline);
  line('memory store, archive (segments of 64)', await run(WAVES, new MemorySnapshotStore(), 64), baseline);
  const directory = mkdtempSync(join(tmpdir(), 'nf-bench-persist-'));
  try {
    line('file store, archive (segments of 256)', await run(WAVES, new FileSnapshotStore({ directory })), baseline);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  // One segment larger than the run: every finished task stays in the rewritten value, as
  // before the archive. Quadratic, so only the first 12 waves.
  line('memory store, no archive (whole state)', await run(12, new MemorySnapshotStore(), 1_000_000_000), baseline);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
