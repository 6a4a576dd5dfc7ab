/**
 * A durable orchestrator over time: 20 000 tasks in 40 waves of 500 (100 agents whose
 * results arrive on the next turn of the event loop), each wave submitted once the previous one finished, so that every write
 * happens with more finished tasks behind it. Prints the throughput early, after 4 000 and
 * after 18 000 finished tasks, and the size of the last stored head, for:
 *   - no store (baseline: the same orchestrator, nothing persisted);
 *   - finished tasks archived in write-once segments (the default, 256 a segment), open
 *     tasks under a key each, on the memory store, the file store (fsync + rename per write)
 *     and NATS KV (a private `nats-server -js` on a free loopback port; skipped, saying
 *     why, when the binary is missing);
 *   - no archive (every finished task rewritten with every change: how it was before the
 *     archive; quadratic, so 12 waves only).
 * Each ratio is given twice: by wall-clock time (what a user sees; noisy on a shared
 * machine) and by the process's CPU time (`process.cpuUsage()`, what the store costs this
 * process; the NATS server's own CPU is not in it). Targets (issue #20): memory store ≥ 0.8×
 * and NATS KV ≥ 0.5× the baseline.
 *
 * Then 50 000 open tasks (a capability no agent has): what the write after one change
 * carries (keys and bytes), next to the size of a head that held every open task.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createNeuroFlux, FileSnapshotStore, MemorySnapshotStore, NatsKvSnapshotStore, type SnapshotStore, type StoredSnapshot } from '../src';
import { NATS_SERVER_BIN, startNatsServer, type TestServer } from '../test/support/servers';
import { fmt, forceGc } from './measure';

const WAVES = 40;
const PER_WAVE = 500;
const OPEN_TASKS = 50_000;
/** Windows of four waves: [first wave, label]; wave 0 warms the JIT. */
const WINDOWS: readonly (readonly [number, string])[] = [
  [1, '0.5–2.5k'],
  [8, '4–6k'],
  [36, '18–20k'],
];
/** The targets of issue #20, judged over the last window (the most finished tasks behind each write). */
const TARGETS = { memory: 0.8, nats: 0.5 } as const;

/** Results arrive as I/O does, on a later turn of the event loop: writes to a file get their turn. */
const settleOnNextTurn = () => new Promise<{ ok: true }>((resolve) => setImmediate(() => resolve({ ok: true })));

interface Result {
  /** Wall-clock seconds per wave. */
  readonly waves: readonly number[];
  /** CPU seconds of this process per wave. */
  readonly cpu: readonly number[];
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
  const cpu: number[] = [];
  for (let w = 0; w < waves; w++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const submitted = nf.orchestrator.submitWorkflow({
      tasks: Array.from({ length: PER_WAVE }, (_, i) => ({ taskId: `w${w}-${i}`, requiredCapabilities: ['work'] })),
    });
    await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
    times.push((performance.now() - start) / 1000);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1e6);
  }
  await nf.stop();
  const stored = store && (await store.load('orchestrator'));
  return { waves: times, cpu, saves: nf.orchestrator.getStats().persistence?.saves ?? 0, storedBytes: stored ? JSON.stringify(stored.value).length : 0 };
}

/** Tasks per second (wall, or per CPU second) over the four waves from `first`; undefined when the run was shorter. */
function rate(seconds: readonly number[], first: number): number | undefined {
  const window = seconds.slice(first, first + 4);
  return window.length === 4 ? (4 * PER_WAVE) / window.reduce((a, b) => a + b, 0) : undefined;
}

/** Ratios to the baseline over the last window: by wall-clock and by CPU time. */
function lastRatios(r: Result, baseline: Result): { wall: number; cpu: number } | undefined {
  const [first] = WINDOWS[WINDOWS.length - 1] as readonly [number, string];
  const [wall, wallBase, cpu, cpuBase] = [rate(r.waves, first), rate(baseline.waves, first), rate(r.cpu, first), rate(baseline.cpu, first)];
  return wall && wallBase && cpu && cpuBase ? { wall: wall / wallBase, cpu: cpu / cpuBase } : undefined;
}

function line(label: string, r: Result, baseline: Result): void {
  const cells = WINDOWS.map(([first]) => {
    const [value, base, cpu, cpuBase] = [rate(r.waves, first), rate(baseline.waves, first), rate(r.cpu, first), rate(baseline.cpu, first)];
    return value === undefined || base === undefined || cpu === undefined || cpuBase === undefined
      ? '—'.padStart(28)
      : `${fmt(value).padStart(7)} (${(value / base).toFixed(2)}×, CPU ${(cpu / cpuBase).toFixed(2)}×)`.padStart(28);
  });
  const size = r.storedBytes > 0 ? `  ${fmt(r.storedBytes / 1024)} KiB last head, ${fmt(r.saves)} writes` : '';
  console.log(`${label.padEnd(44)}${cells.join('')}${size}`);
}

function target(label: string, r: Result, baseline: Result, goal: number): void {
  const ratios = lastRatios(r, baseline);
  if (!ratios) return;
  const verdict = (x: number) => (x >= goal ? 'met' : 'NOT met');
  console.log(`target ${label} ≥ ${goal}× no store: ${ratios.wall.toFixed(2)}× wall-clock (${verdict(ratios.wall)}), ${ratios.cpu.toFixed(2)}× CPU (${verdict(ratios.cpu)})`);
}

/** A memory store that counts what each write puts in it (keys and JSON bytes). */
class CountingStore implements SnapshotStore {
  private readonly inner = new MemorySnapshotStore();
  keysWritten = 0;
  bytesWritten = 0;
  headBytes = 0;
  deletes = 0;
  load<T>(key: string): Promise<StoredSnapshot<T> | undefined> {
    return this.inner.load<T>(key);
  }
  async save(key: string, value: unknown, expectedRevision?: number): Promise<number> {
    const revision = await this.inner.save(key, value, expectedRevision);
    const bytes = JSON.stringify(value).length;
    this.keysWritten++;
    this.bytesWritten += bytes;
    if (key === 'orchestrator') this.headBytes = bytes;
    return revision;
  }
  async delete(key: string): Promise<void> {
    this.deletes++;
    await this.inner.delete(key);
  }
  keys(): Promise<string[]> {
    return this.inner.keys();
  }
  async close(): Promise<void> {}
  reset(): void {
    this.keysWritten = this.bytesWritten = this.headBytes = this.deletes = 0;
  }
}

/** Turns of the event loop until one passes without a write (the actors of a large workflow spawn over many turns). */
async function quiet(store: CountingStore): Promise<void> {
  for (let before = -1; store.keysWritten !== before;) {
    before = store.keysWritten;
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

async function openTasks(): Promise<void> {
  const store = new CountingStore();
  const nf = createNeuroFlux({ bus: { maxQueueSize: 100_000 }, orchestrator: { store } });
  await nf.start();
  const start = performance.now();
  const ids = Array.from({ length: OPEN_TASKS }, (_, i) => `open-${i}`);
  nf.orchestrator.submitWorkflow({ tasks: ids.map((taskId) => ({ taskId, requiredCapabilities: ['nobody'] })) }, { requireCapableAgents: false });
  await quiet(store);
  const submitted = (performance.now() - start) / 1000;
  const allOpen = JSON.stringify(ids.map((id) => ({ record: nf.orchestrator.getTask(id), balancer: 'default' }))).length;
  const describe = () => `${store.keysWritten} key(s) written, ${fmt(store.bytesWritten)} B (head ${fmt(store.headBytes)} B), ${store.deletes} deleted`;
  store.reset();
  nf.orchestrator.cancelTask('open-25000');
  await quiet(store);
  const afterCancel = describe();
  store.reset();
  nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'one-more', requiredCapabilities: ['nobody'] }] }, { requireCapableAgents: false });
  await quiet(store);
  const afterSubmit = describe();
  await nf.stop();
  console.log(`\n${fmt(OPEN_TASKS)} open tasks (stored in ${submitted.toFixed(1)} s); a head holding every open task would be ${fmt(allOpen / 1024)} KiB`);
  console.log(`  write after cancelling one: ${afterCancel}`);
  console.log(`  write after submitting one: ${afterSubmit}`);
}

/** NATS KV on a private server: the result, or why there is none. */
async function natsRun(waves: number): Promise<Result | string> {
  if (!existsSync(NATS_SERVER_BIN)) return `skipped: ${NATS_SERVER_BIN} is not installed (apt-get install nats-server)`;
  let server: TestServer | undefined;
  let nc: NatsConnection | undefined;
  try {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    return await run(waves, await NatsKvSnapshotStore.open(nc, { bucket: 'bench-persistence' }));
  } finally {
    await nc?.close();
    await server?.stop();
  }
}

async function main(): Promise<void> {
  console.log(`${WAVES} waves of ${PER_WAVE} tasks; tasks/s (× baseline by wall-clock, and by this process's CPU time) over four waves, by tasks finished before them`);
  console.log(`${''.padEnd(44)}${WINDOWS.map(([, label]) => label.padStart(28)).join('')}`);
  const baseline = await run(WAVES, undefined);
  line('no store (baseline)', baseline, baseline);
  const memory = await run(WAVES, new MemorySnapshotStore());
  line('memory store (segments of 256)', memory, baseline);
  line('memory store (segments of 64)', await run(WAVES, new MemorySnapshotStore(), 64), baseline);
  const directory = mkdtempSync(join(tmpdir(), 'nf-bench-persist-'));
  try {
    line('file store (segments of 256)', await run(WAVES, new FileSnapshotStore({ directory })), baseline);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const nats = await natsRun(WAVES);
  if (typeof nats === 'string') console.log(`${'NATS KV (own nats-server -js)'.padEnd(44)}${nats}`);
  else line('NATS KV (own nats-server -js)', nats, baseline);
  // One segment larger than the run: every finished task stays in the rewritten value, as
  // before the archive. Quadratic, so only the first 12 waves.
  line('memory store, no archive (whole state)', await run(12, new MemorySnapshotStore(), 1_000_000_000), baseline);
  console.log();
  target('memory store', memory, baseline, TARGETS.memory);
  if (typeof nats !== 'string') target('NATS KV', nats, baseline, TARGETS.nats);
  await openTasks();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
