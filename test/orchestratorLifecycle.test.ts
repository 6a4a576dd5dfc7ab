/**
 * The orchestrator's lifecycle is its chart (standby → activating → active → stopping →
 * stopped): what the facade answers follows the chart's state, with no flag beside it.
 */
import { SimulatedClock } from 'xstate';
import { MemorySnapshotStore, NotRunningError, StandbyError, TaskOrchestrator, createNeuroFlux, type SnapshotStore } from '../src';
import { settle } from './support/settle';

/** A store whose loads wait until released (the takeover stays in `activating` meanwhile). */
function gatedStore(): { store: SnapshotStore; open: () => void; fail: (error: Error) => void } {
  const inner = new MemorySnapshotStore();
  let gate: { resolve: () => void; reject: (error: Error) => void } | undefined;
  let opened = false;
  const store: SnapshotStore = Object.assign(Object.create(inner) as SnapshotStore, {
    load: async <T>(key: string) => {
      if (!opened) await new Promise<void>((resolve, reject) => (gate = { resolve, reject }));
      return inner.load<T>(key);
    },
  });
  return {
    store,
    open: () => {
      opened = true;
      gate?.resolve();
    },
    fail: (error) => gate?.reject(error),
  };
}

const stateOf = (orchestrator: TaskOrchestrator): unknown => orchestrator.actor.getSnapshot().value;

describe('orchestrator lifecycle chart', () => {
  test('a standby goes activating → active on activate(), and refuses work until then', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    await nf.start();
    const { store, open } = gatedStore();
    const standby = new TaskOrchestrator({ bus: nf.bus, store, role: 'standby', orchestratorId: 'candidate' });
    expect(stateOf(standby)).toBe('standby');
    expect(standby.getStats().active).toBe(false);
    expect(() => standby.submitTask({ requiredCapabilities: [] })).toThrow(StandbyError);

    const activation = standby.activate();
    const second = standby.activate(); // the same takeover, not a second one
    expect(stateOf(standby)).toBe('activating');
    // Still refused while the stored state is taken over.
    expect(() => standby.submitTask({ requiredCapabilities: [] })).toThrow(StandbyError);
    expect(standby.getStats().active).toBe(false);

    open();
    await expect(activation).resolves.toBe(0);
    await expect(second).resolves.toBe(0);
    expect(stateOf(standby)).toBe('active');
    expect(standby.getStats().active).toBe(true);
    await expect(standby.activate()).resolves.toBe(0);

    const stopping = standby.stop();
    expect(stateOf(standby)).toBe('stopping');
    expect(() => standby.submitTask({ requiredCapabilities: [] })).toThrow(NotRunningError);
    await stopping;
    expect(stateOf(standby)).toBe('stopped');
    expect(standby.actor.getSnapshot().status).toBe('done');
    await expect(standby.activate()).rejects.toBeInstanceOf(NotRunningError);
    await nf.stop();
  });

  test('a takeover that fails goes back to standby with the error; activate() rejects with it and may be tried again', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    await nf.start();
    const { store, open, fail } = gatedStore();
    const standby = new TaskOrchestrator({ bus: nf.bus, store, role: 'standby', orchestratorId: 'candidate' });
    const first = standby.activate();
    await settle();
    fail(new Error('store unreachable'));
    await expect(first).rejects.toThrow('store unreachable');
    expect(stateOf(standby)).toBe('standby');
    const again = standby.activate();
    expect(stateOf(standby)).toBe('activating');
    open();
    await expect(again).resolves.toBe(0);
    expect(stateOf(standby)).toBe('active');
    await standby.stop();
    await nf.stop();
  });

  test('stop() during the takeover ends it: activate() rejects with NotRunningError, nothing goes live', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    await nf.start();
    const { store, open } = gatedStore();
    const standby = new TaskOrchestrator({ bus: nf.bus, store, role: 'standby', orchestratorId: 'candidate' });
    const activation = standby.activate();
    const stopped = standby.stop();
    await expect(activation).rejects.toBeInstanceOf(NotRunningError);
    open();
    await stopped;
    await settle();
    expect(stateOf(standby)).toBe('stopped');
    expect(standby.getStats().active).toBe(false);
    expect(nf.bus.getAgent('candidate')).toBeUndefined();
    await nf.stop();
  });

  test('a disabled orchestrator never activates; an active one starts live; stop() is idempotent', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    await nf.start();
    const disabled = new TaskOrchestrator({ bus: nf.bus, role: 'disabled', orchestratorId: 'host-only' });
    await expect(disabled.activate()).rejects.toBeInstanceOf(StandbyError);
    expect(stateOf(disabled)).toBe('standby');
    expect(() => disabled.submitTask({ requiredCapabilities: [] })).toThrow(/disabled/);
    await Promise.all([disabled.stop(), disabled.stop()]);
    expect(stateOf(disabled)).toBe('stopped');

    expect(stateOf(nf.orchestrator)).toBe('active');
    expect(nf.orchestrator.getStats().active).toBe(true);
    await nf.stop();
    expect(nf.orchestrator.actor.getSnapshot().status).not.toBe('active');
    // Stopped with the runtime: still a clean answer.
    await expect(nf.orchestrator.stop()).resolves.toBeUndefined();
    expect(() => nf.orchestrator.submitTask({ requiredCapabilities: [] })).toThrow(NotRunningError);
  });

  test('waiters get an answer when the orchestrator stops mid-task', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.orchestrator.registerAgent('slow', {
      capabilities: ['x'],
      execute: (_task, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });
    await nf.start();
    const { taskId } = nf.orchestrator.submitTask({ requiredCapabilities: ['x'] });
    await settle();
    const waiting = nf.orchestrator.waitForTask(taskId);
    const agents = nf.orchestrator.waitForAgents(['never']);
    await nf.orchestrator.stop();
    await expect(agents).rejects.toBeInstanceOf(NotRunningError);
    expect((await waiting).status).toBe('running');
    await nf.stop();
  });
});
