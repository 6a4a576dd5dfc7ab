/**
 * stop() while start() is still under way: what answers late (a store's load, a transport's
 * connect) must not bring up anything stop() already took down. In particular the stopped
 * runtime must not claim the store key, or it fences the runtime that runs now.
 */
import { SimulatedClock } from 'xstate';
import { LoopbackHub, MemorySnapshotStore, NotRunningError, createNeuroFlux, type SnapshotStore, type StoredSnapshot } from '../src';
import { settle } from './support/settle';

test('a load that answers after stop() claims nothing: the successor on the same store keeps its key and its intake', async () => {
  const inner = new MemorySnapshotStore();
  const earlier = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store: inner } });
  await earlier.start();
  earlier.orchestrator.submitTask({ taskId: 'earlier', requiredCapabilities: ['x'] });
  await earlier.stop();

  // A's loads are sent at once (the answer is what the store held then); only the replies wait.
  const replies: (() => void)[] = [];
  const slowLoads: SnapshotStore = {
    load: <T>(key: string): Promise<StoredSnapshot<T> | undefined> => {
      const answer = inner.load<T>(key);
      return new Promise((resolve) => replies.push(() => void answer.then(resolve)));
    },
    save: (key, value, revision) => inner.save(key, value, revision),
    delete: (key) => inner.delete(key),
    keys: () => inner.keys(),
    close: async () => undefined,
  };
  const a = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store: slowLoads } });
  const aStarted = a.start().then(
    () => 'started',
    (error: unknown) => error,
  );
  await settle();
  await a.stop();

  const b = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store: inner } });
  b.orchestrator.registerAgent('w', { capabilities: ['x'], execute: () => new Promise(() => undefined) });
  await b.start();
  b.orchestrator.submitTask({ taskId: 'job', requiredCapabilities: ['x'] });
  await settle();

  for (let i = 0; i < 5 && replies.length > 0; i++) {
    replies.splice(0).forEach((reply) => reply());
    await settle();
  }
  expect(await aStarted).toBeInstanceOf(NotRunningError);
  b.orchestrator.submitTask({ taskId: 'job2', requiredCapabilities: ['x'] });
  await settle(20);
  expect(b.orchestrator.getStats().persistence).toMatchObject({ fenced: false });
  expect(() => b.orchestrator.submitTask({ taskId: 'job3', requiredCapabilities: ['x'] })).not.toThrow();
  await b.stop();
});

test('a transport that connects after stop(): start() rejects with NotRunningError and the bus is not started', async () => {
  const clock = new SimulatedClock();
  const transport = new LoopbackHub({ clock }).transport({ identity: 'late' });
  let connect: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (connect = resolve));
  const start = transport.start.bind(transport);
  transport.start = async () => {
    await connected;
    await start();
  };
  const nf = createNeuroFlux({ clock, transport });
  const started = nf.start().then(
    () => 'started',
    (error: unknown) => error,
  );
  await settle();
  await nf.stop();
  connect();
  const outcome = await started;
  expect(outcome).toBeInstanceOf(NotRunningError);
  expect((outcome as Error).message).toMatch(/stop\(\) was called/);
  expect(nf.bus.running).toBe(false);
  await expect(nf.start()).resolves.toBeUndefined(); // started once already: nothing more happens
});

test('start() after stop() rejects at once', async () => {
  const nf = createNeuroFlux({ clock: new SimulatedClock() });
  await nf.stop();
  await expect(nf.start()).rejects.toThrow(NotRunningError);
});
