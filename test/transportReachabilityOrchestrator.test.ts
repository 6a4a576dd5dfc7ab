/**
 * An orchestrator whose own transport link is down cannot hear heartbeats, so it must not
 * presume hosts dead for missing them (review of issue #16: cut off for longer than
 * `missedHeartbeats × interval`, it unregistered every healthy host and ran their running
 * tasks a second time after the reconnect). Loopback hub and simulated clock: no real time.
 */
import { createActor, SimulatedClock, type AnyActorRef } from 'xstate';
import { hostLivenessMachine } from '../machines/hostLiveness.machine';
import { AgentHost, createNeuroFlux, LoopbackHub, silentLogger, type NeuroFlux } from '../src';
import { cleanupAfterEach } from './support/cleanup';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

interface Gate {
  readonly promise: Promise<string>;
  open(value: string): void;
}
function gate(): Gate {
  let open!: (value: string) => void;
  const promise = new Promise<string>((resolve) => (open = resolve));
  return { promise, open };
}

/** One orchestrator and hosts h1, h2 (one agent each, `c`, heartbeat 1 s, presumed dead after 3 s). */
async function cluster() {
  const clock = new SimulatedClock();
  const hub = new LoopbackHub({ clock });
  cleanup.defer(() => hub.close());
  const orch = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: hub.transport({ identity: 'orch' }), clock }));
  await orch.start();
  const runs: string[] = [];
  const gates: Gate[] = [];
  const hosts: Record<string, { nf: NeuroFlux; host: AgentHost }> = {};
  for (const hostId of ['h1', 'h2']) {
    const nf = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: hub.transport({ identity: hostId }), clock, orchestrator: false }));
    await nf.start();
    const host = cleanup.add(new AgentHost({ bus: nf.bus, hostId }));
    host.addAgent(`${hostId}-w`, {
      capabilities: ['c'],
      maxConcurrentTasks: 2,
      execute: (task) => {
        runs.push(`${hostId}:${task.taskId}`);
        const g = gate();
        gates.push(g);
        return g.promise;
      },
    });
    host.start();
    hosts[hostId] = { nf, host };
  }
  await settle();
  return { clock, hub, orch, hosts, runs, gates };
}

/** `ms` of simulated time in 1 s steps, letting frames travel after each. */
async function advance(clock: SimulatedClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1000) {
    clock.increment(Math.min(1000, ms - t));
    await settle();
  }
}

function standIn(nf: NeuroFlux, agentId: string): string {
  const actor = nf.system.system.get(`remoteAgent:${agentId}`) as AnyActorRef | undefined;
  const value = actor?.getSnapshot().value as Record<string, string> | undefined;
  return value ? (Object.keys(value)[0] ?? '') : 'none';
}

describe('host liveness while the orchestrator itself is cut off', () => {
  test('no host is presumed dead during its own outage, and the running task runs once', async () => {
    const { clock, hub, orch, hosts, runs, gates } = await cluster();
    expect(orch.orchestrator.getStats().hosts).toMatchObject({ alive: 2, lost: 0 });
    orch.orchestrator.submitTask({ taskId: 'a', requiredCapabilities: ['c'], timeoutSeconds: 600 });
    await settle();
    expect(runs).toHaveLength(1);

    hub.disconnect('orch');
    // Twice the 3 s window: on the old code both hosts were lost here.
    await advance(clock, 6000);
    expect(orch.orchestrator.getStats().hosts).toMatchObject({ alive: 2, lost: 0 });
    expect([standIn(orch, 'h1-w'), standIn(orch, 'h2-w')]).toEqual(['online', 'online']);

    hub.reconnect('orch');
    await settle();
    await advance(clock, 3000);
    expect(orch.orchestrator.getStats().hosts).toMatchObject({ alive: 2, lost: 0 });
    expect(runs).toHaveLength(1);

    for (const g of gates) g.open('done');
    await settle();
    expect(orch.orchestrator.getTask('a')).toMatchObject({ status: 'completed', result: 'done' });
    expect(runs).toHaveLength(1);
    expect(hosts['h1']!.host.getStats().aborted + hosts['h2']!.host.getStats().aborted).toBe(0);
  });

  test('back online, a host that died meanwhile gets a full window from the reconnect, then is lost', async () => {
    const { clock, hub, orch, hosts } = await cluster();
    hub.disconnect('orch');
    await advance(clock, 2000);
    // h2 dies while the orchestrator cannot hear anyone.
    await hosts['h2']!.nf.stop();
    await advance(clock, 10_000);
    expect(orch.orchestrator.getStats().hosts).toMatchObject({ alive: 2, lost: 0 });

    hub.reconnect('orch');
    await settle();
    // 2 s after the reconnect: within the fresh 3 s window (its old deadline passed long ago).
    await advance(clock, 2000);
    expect(orch.orchestrator.getStats().hosts).toMatchObject({ alive: 2, lost: 0 });
    await advance(clock, 2000);
    expect(orch.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 1 });
    expect(orch.orchestrator.getAgent('h2-w')).toBeUndefined();
    expect(orch.orchestrator.getAgent('h1-w')).toBeDefined();
  });

  test('a link that flaps within the window changes nothing; a host cut off alone is still lost', async () => {
    const { clock, hub, orch } = await cluster();
    hub.disconnect('orch');
    hub.reconnect('orch');
    await settle();
    hub.disconnect('h2');
    await advance(clock, 4000);
    expect(orch.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 1 });
    expect(orch.orchestrator.getAgent('h1-w')).toBeDefined();
  });
});

describe('hostLiveness machine: LINK_LOST / LINK_RESTORED', () => {
  function start() {
    const clock = new SimulatedClock();
    const lost: string[] = [];
    const actor = createActor(
      hostLivenessMachine.provide({
        actions: { reportHostLost: (_, params) => void lost.push(params.reason) },
        delays: { hostTimeout: ({ context }) => Math.max(0, context.expiresAt - clock.now()) },
      }),
      { input: { hostId: 'h', at: 0, timeoutMs: 3000 }, clock },
    ).start();
    return { clock, lost, actor };
  }

  test('no deadline while unheard; a full timeout from the restore', () => {
    const { clock, lost, actor } = start();
    clock.increment(1000);
    actor.send({ type: 'LINK_LOST' });
    expect(actor.getSnapshot().value).toBe('unheard');
    clock.increment(60_000);
    expect(lost).toEqual([]);
    actor.send({ type: 'LINK_RESTORED', at: clock.now() });
    expect(actor.getSnapshot().value).toBe('alive');
    expect(actor.getSnapshot().context.expiresAt).toBe(61_000 + 3000);
    clock.increment(2999);
    expect(lost).toEqual([]);
    clock.increment(1);
    expect(lost).toEqual(['heartbeat_timeout']);
  });

  test('a heartbeat while unheard is recorded; a goodbye is final', () => {
    const { actor, lost } = start();
    actor.send({ type: 'LINK_LOST' });
    actor.send({ type: 'HEARTBEAT_RECEIVED', at: 10, timeoutMs: 3000 });
    expect(actor.getSnapshot().context.heartbeats).toBe(2);
    expect(actor.getSnapshot().value).toBe('unheard');
    actor.send({ type: 'HOST_LEFT' });
    expect(lost).toEqual(['left']);
  });
});
