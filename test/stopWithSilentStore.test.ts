/**
 * `stop()` with a store that stops answering (a partition, a hung server): the final flushes
 * and the lease's release are waited for a bounded time, then let go with a warning, so a
 * shutdown never hangs. Simulated clock: the bounds are `after` delays and clock timers.
 */
import { SimulatedClock } from 'xstate';
import { MemorySnapshotStore, createNeuroFlux, type NeuroFluxLogger, type SnapshotStore, type StoredSnapshot } from '../src';
import { signalConflict } from './support/conflictFixtures';
import { settle } from './support/settle';

/** A memory store whose saves and deletes never answer once `silence()` was called. */
function silentStore(): { store: SnapshotStore; silence: () => void } {
  const inner = new MemorySnapshotStore();
  let silent = false;
  const never = <T>() => new Promise<T>(() => undefined);
  const store: SnapshotStore = {
    load: <T>(key: string): Promise<StoredSnapshot<T> | undefined> => inner.load<T>(key),
    save: (key, value, revision) => (silent ? never<number>() : inner.save(key, value, revision)),
    delete: (key) => (silent ? never<undefined>() : inner.delete(key)),
    keys: () => inner.keys(),
    close: () => inner.close(),
  };
  return { store, silence: () => (silent = true) };
}

/** A logger that keeps the warnings' messages. */
function warningsLogger(): { logger: NeuroFluxLogger; warnings: string[] } {
  const warnings: string[] = [];
  const logger: NeuroFluxLogger = {
    error: () => undefined,
    warn: (objOrMsg: object | string, msg?: string) => void warnings.push(typeof objOrMsg === 'string' ? objOrMsg : (msg ?? '')),
    info: () => undefined,
    debug: () => undefined,
    child: () => logger,
  };
  return { logger, warnings };
}

async function advance(clock: SimulatedClock, ms: number, step = 500): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.increment(Math.min(step, ms - t));
    await settle(4);
  }
}

describe('stop() with a store that stopped answering', () => {
  test('the orchestrator and the conflict engine each wait storeFlushTimeoutMs for their flush, then stop with a warning', async () => {
    const clock = new SimulatedClock();
    const { store, silence } = silentStore();
    const { logger, warnings } = warningsLogger();
    const nf = createNeuroFlux({ clock, logger, orchestrator: { store, storeFlushTimeoutMs: 5000 }, conflicts: { store, storeFlushTimeoutMs: 7000 } });
    nf.orchestrator.registerAgent('w', { capabilities: ['x'], execute: () => 'done' });
    await nf.start();
    silence();
    // Both have something unwritten: a finished task, an open conflict.
    const [submitted] = nf.orchestrator.submitWorkflow({ tasks: [{ requiredCapabilities: ['x'] }] });
    await nf.orchestrator.waitForTask(submitted!.taskId);
    nf.conflicts.reportConflict(signalConflict());
    let stopped = false;
    const stopping = nf.stop().then(() => (stopped = true));
    await advance(clock, 4500);
    expect(stopped).toBe(false);
    expect(warnings).toEqual([]);
    await advance(clock, 1000); // past the orchestrator's 5 s
    expect(stopped).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/did not take the final flush in time/)]);
    await advance(clock, 7000); // past the conflict engine's 7 s
    await stopping;
    expect(warnings).toHaveLength(2);
  });

  test('a leader whose store went silent steps down and lets the lease release go after a lease period', async () => {
    const clock = new SimulatedClock();
    const { store, silence } = silentStore();
    const { logger, warnings } = warningsLogger();
    const nf = createNeuroFlux({ clock, logger, orchestrator: { store, storeFlushTimeoutMs: 2000, leaderElection: { holder: 'a', ttlMs: 3000 } } });
    nf.orchestrator.registerAgent('w', { capabilities: ['x'], execute: () => 'done' });
    await nf.start();
    await advance(clock, 1000, 100);
    expect(nf.leadership?.state).toBe('leader');
    silence();
    const [submitted] = nf.orchestrator.submitWorkflow({ tasks: [{ requiredCapabilities: ['x'] }] });
    await nf.orchestrator.waitForTask(submitted!.taskId);
    let stopped = false;
    const stopping = nf.stop().then(() => (stopped = true));
    await advance(clock, 1500, 100);
    expect(stopped).toBe(false);
    // 2 s for the flush, at most a lease period (3 s) for the release, and one more for the
    // renewal that was in flight (given back if it lands): 8 s in all.
    await advance(clock, 7000, 100);
    await stopping;
    expect(nf.leadership?.state).toBe('stopped');
    expect(warnings.some((w) => /did not take the final flush in time/.test(w))).toBe(true);
  });

  test('an answering store is flushed in full: no warning, no wait for the bound', async () => {
    const clock = new SimulatedClock();
    const { store } = silentStore();
    const { logger, warnings } = warningsLogger();
    const nf = createNeuroFlux({ clock, logger, orchestrator: { store }, conflicts: { store } });
    nf.orchestrator.registerAgent('w', { capabilities: ['x'], execute: () => 'done' });
    await nf.start();
    const [submitted] = nf.orchestrator.submitWorkflow({ tasks: [{ requiredCapabilities: ['x'] }] });
    await nf.orchestrator.waitForTask(submitted!.taskId);
    await nf.stop();
    expect(warnings).toEqual([]);
    const stored = await store.keys();
    expect(stored.some((key) => key.startsWith('orchestrator'))).toBe(true);
  });
});
