/**
 * What the memory store costs the orchestrator, by a paired A/B in one process: rounds of
 * (no store, memory store) on the waves of bench/persistence.ts (500 tasks a wave, 100
 * agents answering on the next turn), CPU time of this process per wave after the first two,
 * ratio = no-store CPU / store CPU (a throughput ratio); the median over the rounds. `aa` runs
 * no store against no store: the control that shows the noise.
 *
 * Usage: node --expose-gc -r @swc-node/register bench/persistencePaired.ts [ab|aa] [waves=12] [rounds=11]
 */
import { createNeuroFlux, MemorySnapshotStore, type SnapshotStore } from '../src';

const settleOnNextTurn = () => new Promise<{ ok: true }>((resolve) => setImmediate(() => resolve({ ok: true })));

/** CPU milliseconds per wave, the first two waves left out. */
async function cpuPerWave(store: SnapshotStore | undefined, waves: number): Promise<number> {
  const nf = createNeuroFlux({ bus: { maxQueueSize: 100_000 }, ...(store && { orchestrator: { store } }) });
  for (let i = 0; i < 100; i++) nf.orchestrator.registerAgent(`a${i}`, { capabilities: ['work'], maxConcurrentTasks: 5, execute: settleOnNextTurn });
  await nf.start();
  let cpu = 0;
  for (let w = 0; w < waves; w++) {
    const start = process.cpuUsage();
    const submitted = nf.orchestrator.submitWorkflow({ tasks: Array.from({ length: 500 }, (_, i) => ({ taskId: `w${w}-${i}`, requiredCapabilities: ['work'] })) });
    await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
    const used = process.cpuUsage(start);
    if (w >= 2) cpu += used.user + used.system;
  }
  await nf.stop();
  return cpu / 1000 / (waves - 2);
}

async function main(): Promise<void> {
  const mode = process.argv[2] === 'aa' ? 'aa' : 'ab';
  const waves = Math.max(3, Number(process.argv[3] ?? 12));
  const rounds = Math.max(1, Number(process.argv[4] ?? 11));
  await cpuPerWave(undefined, 4); // warm-up: the JIT, for both sides
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const base = await cpuPerWave(undefined, waves);
    const other = await cpuPerWave(mode === 'aa' ? undefined : new MemorySnapshotStore(), waves);
    ratios.push(base / other);
    console.log(
      `round ${r}: no store ${base.toFixed(0)} ms CPU/wave, ${mode === 'aa' ? 'no store again' : 'memory store'} ${other.toFixed(0)} ms CPU/wave, ratio ${(base / other).toFixed(2)}`,
    );
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  console.log(
    `${mode}: median ${(sorted[Math.floor(sorted.length / 2)] as number).toFixed(2)} over ${rounds} rounds (${(sorted[0] as number).toFixed(2)}–${(sorted[sorted.length - 1] as number).toFixed(2)})`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
