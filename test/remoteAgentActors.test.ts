/**
 * Review RD of issue #16, M4: the runtime itself puts agents offline. The orchestrator's
 * process keeps a stand-in actor (`remoteAgent:<id>`) per agent a host announced: it shows
 * the tasks assigned there, reads `offline` when the host is lost, and is back online when
 * the host announces the agent again. The inspector (hub) shows it.
 */
import { SimulatedClock, type AnyActorRef } from 'xstate';
import { AgentHost, createNeuroFlux, LoopbackHub, silentLogger, type NeuroFlux } from '../src';
import { createInspectionHub, type ActorView, type InspectionHub } from '../src/observability';
import { valueText } from '../src/observability/inspector/page/stateText';
import type { LoopbackTransport } from '../src/transport';
import { cleanupAfterEach } from './support/cleanup';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

function deferred<T = unknown>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

async function setup() {
  const clock = new SimulatedClock();
  const hub = new LoopbackHub({ clock });
  const inspection = createInspectionHub();
  const orchestratorTransport = hub.transport({ identity: 'orch' });
  const orch = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: orchestratorTransport, clock, inspect: inspection.observer }));
  await orch.start();
  const hostTransport: LoopbackTransport = hub.transport({ identity: 'h1' });
  const hostRuntime = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: hostTransport, clock, orchestrator: false }));
  await hostRuntime.start();
  const gates: ReturnType<typeof deferred>[] = [];
  const host = cleanup.add(new AgentHost({ bus: hostRuntime.bus, hostId: 'h1' }));
  host.addAgent('hw', {
    capabilities: ['c'],
    maxConcurrentTasks: 2,
    execute: () => {
      const d = deferred();
      gates.push(d);
      return d.promise;
    },
  });
  host.start();
  await settle();
  return { clock, orch, hostRuntime, hostTransport, inspection, gates, host };
}

function standIn(inspection: InspectionHub): ActorView | undefined {
  return inspection.drain().actors.find((a: ActorView) => a.systemId === 'remoteAgent:hw');
}

function stateOf(nf: NeuroFlux, systemId: string) {
  const actor = nf.system.system.get(systemId) as AnyActorRef | undefined;
  const snapshot = actor?.getSnapshot() as { value: unknown; context: { load: number; taskLoad: number; capacity: number } } | undefined;
  return snapshot && { value: snapshot.value, load: snapshot.context.load, taskLoad: snapshot.context.taskLoad, capacity: snapshot.context.capacity };
}

test('a hosted agent has a stand-in in the orchestrator process: saturated 2/2 with two tasks, idle after', async () => {
  const { orch, inspection, gates } = await setup();
  expect(orch.bus.getAgent('hw')).toBeUndefined();
  expect(stateOf(orch, 'remoteAgent:hw')).toMatchObject({ value: { online: 'idle' }, load: 0, capacity: 2 });
  orch.orchestrator.submitWorkflow({
    tasks: [
      { taskId: 'a', requiredCapabilities: ['c'] },
      { taskId: 'b', requiredCapabilities: ['c'] },
    ],
  });
  for (let i = 0; i < 5 && gates.length < 2; i++) await settle();
  expect(stateOf(orch, 'remoteAgent:hw')).toMatchObject({ value: { online: 'saturated' }, taskLoad: 2 });
  expect(valueText(standIn(inspection)?.value)).toBe('online.saturated');
  for (const gate of gates) gate.resolve('ok');
  await orch.orchestrator.waitForWorkflow(['a', 'b']);
  await settle();
  expect(stateOf(orch, 'remoteAgent:hw')).toMatchObject({ value: { online: 'idle' }, load: 0 });
});

test('host lost (its transport gone, heartbeats missed): the stand-in reads offline, its tasks went back to the queue', async () => {
  const { clock, orch, hostTransport, inspection, gates } = await setup();
  orch.orchestrator.submitWorkflow({ tasks: [{ taskId: 'a', requiredCapabilities: ['c'], timeoutSeconds: 600 }] });
  for (let i = 0; i < 5 && gates.length < 1; i++) await settle();
  expect(stateOf(orch, 'remoteAgent:hw')).toMatchObject({ value: { online: 'busy' }, taskLoad: 1 });
  await hostTransport.close();
  for (let s = 0; s < 6; s++) {
    clock.increment(1000);
    await settle();
  }
  expect(orch.orchestrator.getStats().hosts).toMatchObject({ lost: 1 });
  expect(stateOf(orch, 'remoteAgent:hw')).toMatchObject({ value: { offline: 'idle' }, taskLoad: 0 });
  expect(valueText(standIn(inspection)?.value)).toBe('offline.idle');
});

test('host left (AgentHost stopped): offline; the host announcing the agent again brings the same stand-in back online', async () => {
  const { orch, hostRuntime, host } = await setup();
  const first = orch.system.system.get('remoteAgent:hw');
  await host.stop();
  for (let i = 0; i < 3; i++) await settle();
  expect(orch.orchestrator.getAgent('hw')).toBeUndefined();
  expect(stateOf(orch, 'remoteAgent:hw')?.value).toEqual({ offline: 'idle' });
  // The host process starts hosting the agent again.
  const again = cleanup.add(new AgentHost({ bus: hostRuntime.bus, hostId: 'h1' }));
  again.addAgent('hw', { capabilities: ['c'], maxConcurrentTasks: 2, execute: () => 'ok' });
  again.start();
  for (let i = 0; i < 3; i++) await settle();
  expect(orch.orchestrator.getAgent('hw')).toBeDefined();
  expect(orch.system.system.get('remoteAgent:hw')).toBe(first);
  expect(stateOf(orch, 'remoteAgent:hw')?.value).toEqual({ online: 'idle' });
  await expect(orch.orchestrator.waitForTask(orch.orchestrator.submitTask({ taskId: 'z', requiredCapabilities: ['c'] }).taskId)).resolves.toMatchObject({ status: 'completed' });
});
