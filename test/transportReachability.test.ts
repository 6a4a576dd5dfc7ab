/**
 * Host-side agents read `offline` while their runtime's transport is disconnected (issue
 * #16), over the loopback transport's test hook (`hub.disconnect` / `hub.reconnect`), which
 * also keeps the NATS semantics of a lost connection: nothing is delivered to a cut-off
 * runtime, what it publishes waits for the reconnect. Frames travel in microtasks and the
 * clock is simulated: `settle()` lets them arrive, no test waits on real time.
 */
import type { Status } from '@nats-io/transport-node';
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { createActor, SimulatedClock, type AnyActorRef } from 'xstate';
import { agentMachine } from '../machines/agent.machine';
import { AgentHost, createNeuroFlux, LoopbackHub, silentLogger, ValidationError, type ConnectionStatusEvent, type Message, type NeuroFlux, type NeuroFluxOptions } from '../src';
import type { BusPort, Transport } from '../src/transport';
import { connectionStatusOf } from '../src/transport/transportStatus';
import { cleanupAfterEach } from './support/cleanup';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

function network() {
  const clock = new SimulatedClock();
  const hub = new LoopbackHub({ clock });
  cleanup.defer(() => hub.close());
  function runtime(identity: string, options: Omit<NeuroFluxOptions, 'transport' | 'clock'> = {}) {
    const transport = hub.transport({ identity });
    const statuses: ConnectionStatusEvent['kind'][] = [];
    transport.status$.subscribe((e) => statuses.push(e.kind));
    const nf = cleanup.add(createNeuroFlux({ logger: silentLogger, ...options, transport, clock }));
    return { nf, transport, statuses };
  }
  return { clock, hub, runtime };
}

function actorOf(nf: NeuroFlux, agentId: string): AnyActorRef {
  const actor = nf.bus.getAgent(agentId)?.actor;
  if (!actor) throw new Error(`no agent ${agentId}`);
  return actor;
}

/** `offline.idle`, `online.busy`...: the top state, and whether the link is down. */
function shown(nf: NeuroFlux, agentId: string): { state: string; linkDown: boolean } {
  const snapshot = actorOf(nf, agentId).getSnapshot() as { value: Record<string, string>; context: { linkDown: boolean } };
  const [top] = Object.keys(snapshot.value);
  return { state: top ?? '', linkDown: snapshot.context.linkDown };
}

describe('transport status: agents of a runtime whose transport is disconnected read offline', () => {
  test('a host-side agent goes offline on disconnect and back online on reconnect; the status stream says why', async () => {
    const { hub, runtime } = network();
    const host = runtime('host-1', { orchestrator: false });
    await host.nf.start();
    const agentHost = new AgentHost({ bus: host.nf.bus, hostId: 'host-1' });
    agentHost.addAgent('host-1-worker', { capabilities: ['compute'], execute: () => 1 });
    expect(shown(host.nf, 'host-1-worker')).toEqual({ state: 'online', linkDown: false });

    expect(hub.disconnect('host-1')).toBe(1);
    expect(host.statuses).toEqual(['error', 'reconnecting']);
    expect(shown(host.nf, 'host-1-worker')).toEqual({ state: 'offline', linkDown: true });

    expect(hub.reconnect('host-1')).toBe(1);
    expect(host.statuses).toEqual(['error', 'reconnecting', 'ready']);
    expect(shown(host.nf, 'host-1-worker')).toEqual({ state: 'online', linkDown: false });
    await agentHost.stop();
  });

  test('while cut off nothing reaches the runtime and what it publishes waits; on reconnect both flow again', async () => {
    const { hub, runtime } = network();
    const a = runtime('a');
    const b = runtime('b', { orchestrator: false });
    await Promise.all([a.nf.start(), b.nf.start()]);
    const atB: string[] = [];
    const atA: string[] = [];
    b.nf.bus.registerAgent('listener-b', { topics: ['news.*'], handler: (m: Message) => void atB.push(String(m.payload)) });
    a.nf.bus.registerAgent('listener-a', { topics: ['reply.*'], handler: (m: Message) => void atA.push(String(m.payload)) });
    await settle();

    hub.disconnect('b');
    a.nf.bus.publishEvent({ senderId: 'x', topic: 'news.lost', payload: 'lost' });
    b.nf.bus.publishEvent({ senderId: 'y', topic: 'reply.held', payload: 'held' });
    await settle();
    expect(atB).toEqual([]); // core traffic is at most once: lost for a cut-off runtime
    expect(atA).toEqual([]); // published while cut off: waits in B's client

    hub.reconnect('b');
    a.nf.bus.publishEvent({ senderId: 'x', topic: 'news.after', payload: 'after' });
    await settle();
    expect(atA).toEqual(['held']);
    expect(atB).toEqual(['after']);
    expect(b.transport.getStats().lostWhileCutOff).toBe(0);
  });

  test('a durable command for an agent of a cut-off runtime waits in the queue and is delivered once it is back', async () => {
    const { hub, runtime } = network();
    const a = runtime('a');
    const b = runtime('b', { orchestrator: false });
    await Promise.all([a.nf.start(), b.nf.start()]);
    const got: unknown[] = [];
    b.nf.bus.registerAgent('worker', { handler: (m: Message) => void got.push(m.payload) });
    await settle();
    hub.disconnect('b');
    a.nf.bus.sendMessage({ senderId: 'boss', recipientId: 'worker', messageType: 'command', topic: 'do', payload: 7 });
    await settle();
    expect(got).toEqual([]);
    expect(hub.pendingDurable).toBe(1);
    hub.reconnect('b');
    await settle();
    expect(got).toEqual([7]);
    expect(hub.pendingDurable).toBe(0);
  });

  test('disconnected before start: agents registered before and after start read offline until the reconnect', async () => {
    const { hub, runtime } = network();
    const b = runtime('b', { orchestrator: false });
    b.nf.bus.registerAgent('early', { handler: () => undefined });
    hub.disconnect('b');
    expect(shown(b.nf, 'early').state).toBe('offline');
    await b.nf.start();
    b.nf.bus.registerAgent('late', { handler: () => undefined });
    expect(shown(b.nf, 'late')).toEqual({ state: 'offline', linkDown: true });
    hub.reconnect('b');
    expect(shown(b.nf, 'early').state).toBe('online');
    expect(shown(b.nf, 'late').state).toBe('online');
  });

  test('repeated disconnects and reconnects report once each; an agent switched off stays offline after the reconnect', async () => {
    const { hub, runtime } = network();
    const b = runtime('b', { orchestrator: false });
    await b.nf.start();
    const handle = b.nf.bus.registerAgent('worker', { handler: () => undefined });
    expect(hub.disconnect('b')).toBe(1);
    expect(hub.disconnect('b')).toBe(0);
    handle.setOnline(false);
    expect(hub.reconnect('b')).toBe(1);
    expect(hub.reconnect('b')).toBe(0);
    expect(b.statuses).toEqual(['error', 'reconnecting', 'ready']);
    // Its owner's switch holds after the link is back.
    expect(shown(b.nf, 'worker')).toEqual({ state: 'offline', linkDown: false });
    handle.setOnline(true);
    expect(shown(b.nf, 'worker').state).toBe('online');
  });

  test('an agent paused by its orchestrator comes back paused; meanwhile the local orchestrator still runs tasks on its local agents', async () => {
    const { hub, runtime } = network();
    const a = runtime('a');
    await a.nf.start();
    a.nf.orchestrator.registerAgent('local-1', { capabilities: ['c'], execute: () => 'done' });
    a.nf.orchestrator.registerAgent('local-2', { capabilities: ['d'], execute: () => 'done' });
    a.nf.orchestrator.pauseAgent('local-2');
    hub.disconnect('a');
    expect(shown(a.nf, 'local-1')).toEqual({ state: 'offline', linkDown: true });
    expect(shown(a.nf, 'local-2')).toEqual({ state: 'offline', linkDown: true });
    // Offline to the cluster, not to this process: its tasks need no network.
    const { taskId } = a.nf.orchestrator.submitTask({ name: 't', requiredCapabilities: ['c'] });
    await expect(a.nf.orchestrator.waitForTask(taskId)).resolves.toMatchObject({ status: 'completed' });
    // An agent the orchestrator takes on during the outage is available to it too.
    a.nf.orchestrator.registerAgent('local-3', { capabilities: ['e'], execute: () => 'done' });
    expect(shown(a.nf, 'local-3').state).toBe('offline');
    const late = a.nf.orchestrator.submitTask({ name: 'u', requiredCapabilities: ['e'] });
    await expect(a.nf.orchestrator.waitForTask(late.taskId)).resolves.toMatchObject({ status: 'completed' });
    // A local message is still delivered to an agent offline only because of the link.
    const got: unknown[] = [];
    a.nf.bus.registerAgent('plain', { handler: (m: Message) => void got.push(m.payload) });
    a.nf.bus.sendMessage({ senderId: 'me', recipientId: 'plain', messageType: 'event', topic: 'x', payload: 1 });
    await settle();
    expect(got).toEqual([1]);
    hub.reconnect('a');
    expect(shown(a.nf, 'local-1').state).toBe('online');
    expect(shown(a.nf, 'local-2').state).toBe('paused');
    expect(shown(a.nf, 'plain').state).toBe('online');
  });

  test('a transport closed under a running runtime leaves its agents offline; after close the hub no longer finds it', async () => {
    const { hub, runtime } = network();
    const b = runtime('b', { orchestrator: false });
    await b.nf.start();
    b.nf.bus.registerAgent('worker', { handler: () => undefined });
    await b.transport.close();
    expect(shown(b.nf, 'worker')).toEqual({ state: 'offline', linkDown: true });
    expect(() => hub.disconnect('b')).toThrow(ValidationError);
    expect(() => hub.reconnect('b')).toThrow(ValidationError);
  });

  test('the runtime stopping closes its transport without reporting a lost link', async () => {
    const { runtime } = network();
    const b = runtime('b', { orchestrator: false });
    await b.nf.start();
    const actor = b.nf.bus.registerAgent('worker', { handler: () => undefined }).actor;
    const seen: string[] = [];
    const inspected = actor.subscribe((s: { value: unknown }) => void seen.push(JSON.stringify(s.value)));
    await b.nf.stop();
    inspected.unsubscribe();
    expect(seen.some((v) => v.includes('offline'))).toBe(false);
  });

  test('hostile identities are refused with a ValidationError naming the field', () => {
    const { hub, runtime } = network();
    runtime('b');
    for (const identity of ['nope', 'a.b', '', '>', 42 as unknown as string]) {
      try {
        hub.disconnect(identity);
        throw new Error(`accepted ${String(identity)}`);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).message).toMatch(/identity/);
      }
    }
  });

  test('a transport without status$ (written before it existed) still works; its agents stay online', async () => {
    class Minimal implements Transport {
      bus: BusPort | undefined;
      attach(bus: BusPort): void {
        this.bus = bus;
        bus.attachTransport({ forward: () => false, agentAdded: () => undefined, agentRemoved: () => undefined, subscribed: () => undefined, unsubscribed: () => undefined });
      }
      async start(): Promise<void> {}
      async close(): Promise<void> {}
    }
    const nf = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: new Minimal(), clock: new SimulatedClock() }));
    await nf.start();
    nf.bus.registerAgent('worker', { handler: () => undefined });
    expect(shown(nf, 'worker').state).toBe('online');
  });

  test('odd status streams: errors alone change nothing; a stream that fails leaves the agents offline', async () => {
    const status$ = new Subject<ConnectionStatusEvent>();
    const transport: Transport = {
      status$,
      attach: (bus) =>
        void bus.attachTransport({ forward: () => false, agentAdded: () => undefined, agentRemoved: () => undefined, subscribed: () => undefined, unsubscribed: () => undefined }),
      start: async () => undefined,
      close: async () => undefined,
    };
    const nf = cleanup.add(createNeuroFlux({ logger: silentLogger, transport, clock: new SimulatedClock() }));
    await nf.start();
    nf.bus.registerAgent('worker', { handler: () => undefined });
    status$.next({ kind: 'error', source: 'publish', error: 'refused', at: 0 });
    expect(shown(nf, 'worker').state).toBe('online');
    status$.next({ kind: 'ready', source: 'connection', at: 0 });
    expect(shown(nf, 'worker').state).toBe('online');
    status$.next({ kind: 'reconnecting', source: 'connection', at: 0 });
    status$.next({ kind: 'reconnecting', source: 'connection', at: 0 });
    expect(shown(nf, 'worker')).toEqual({ state: 'offline', linkDown: true });
    status$.next({ kind: 'ready', source: 'connection', at: 0 });
    expect(shown(nf, 'worker').state).toBe('online');
    status$.error(new Error('gone'));
    expect(shown(nf, 'worker').state).toBe('offline');
  });
});

describe('NATS connection changes as the runtime reads them', () => {
  test('a server entering lame duck mode is a warning (error), not a lost link; reconnecting and reconnect are', () => {
    expect(connectionStatusOf({ type: 'ldm', server: 'nats://a:4222' } as Status)).toEqual({ kind: 'error', error: 'server nats://a:4222 entering lame duck mode' });
    expect(connectionStatusOf({ type: 'reconnecting' } as Status)?.kind).toBe('reconnecting');
    expect(connectionStatusOf({ type: 'reconnect', server: 'nats://a:4222' } as Status)?.kind).toBe('ready');
  });
});

describe('agent chart: offline while switched off or while the link is down', () => {
  const event = fc.constantFrom(
    { type: 'WENT_OFFLINE' } as const,
    { type: 'CAME_ONLINE' } as const,
    { type: 'LINK_LOST' } as const,
    { type: 'LINK_RESTORED' } as const,
    { type: 'AGENT_PAUSED' } as const,
    { type: 'AGENT_RESUMED' } as const,
  );

  test('the top state follows switchedOff, linkDown and paused; agent.offline / agent.online only for the owner switch (and back from the link)', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        const actor = createActor(agentMachine, { input: { agentId: 'a', capacity: 1 } }).start();
        let switchedOff = false;
        let linkDown = false;
        let paused = false;
        let heardOnline = true;
        actor.on('agent.offline', () => (heardOnline = false));
        actor.on('agent.online', () => (heardOnline = true));
        for (const e of events) {
          actor.send(e);
          if (e.type === 'WENT_OFFLINE') switchedOff = true;
          else if (e.type === 'CAME_ONLINE') switchedOff = false;
          else if (e.type === 'LINK_LOST') linkDown = true;
          else if (e.type === 'LINK_RESTORED') linkDown = false;
          else paused = e.type === 'AGENT_PAUSED'; // recorded in every state
          const snapshot = actor.getSnapshot();
          const top = switchedOff || linkDown ? 'offline' : paused ? 'paused' : 'online';
          expect(Object.keys(snapshot.value as object)).toEqual([top]);
          expect(snapshot.context).toMatchObject({ switchedOff, linkDown });
          // What the orchestrator hears: available unless switched off (a lost link is not its business).
          expect(heardOnline).toBe(!switchedOff);
        }
        actor.stop();
      }),
      { numRuns: 200 },
    );
  });
});
