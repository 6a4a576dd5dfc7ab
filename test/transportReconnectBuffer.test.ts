/**
 * What a transport keeps while its connection is down is bounded in bytes, the same way on
 * NATS and on the loopback (review of issue #16: the loopback held 10 000 frames "as the NATS
 * client does", but the JavaScript NATS client buffers without limit, and the NATS transport
 * neither bounded nor counted anything). `reconnectBufferBytes` (default 8 MiB): frames past it
 * are dropped, counted in `getStats().lostWhileCutOff` and reported once per outage on
 * `status$`. Loopback hub, simulated clock.
 */
import { SimulatedClock } from 'xstate';
import { createNeuroFlux, LoopbackHub, nats, silentLogger, ValidationError, type ConnectionStatusEvent, type Message } from '../src';
import { DEFAULT_RECONNECT_BUFFER_BYTES, ReconnectBudget } from '../src/transport/reconnectBudget';
import { cleanupAfterEach } from './support/cleanup';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

async function pair(reconnectBufferBytes?: number) {
  const clock = new SimulatedClock();
  const hub = new LoopbackHub({ clock });
  cleanup.defer(() => hub.close());
  const senderTransport = hub.transport({ identity: 'b', ...(reconnectBufferBytes !== undefined && { reconnectBufferBytes }) });
  const events: ConnectionStatusEvent[] = [];
  senderTransport.status$.subscribe((e) => events.push(e));
  const sender = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: senderTransport, clock, orchestrator: false }));
  const receiver = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: hub.transport({ identity: 'a' }), clock, orchestrator: false }));
  await Promise.all([sender.start(), receiver.start()]);
  const received: unknown[] = [];
  receiver.bus.registerAgent('sink', { topics: ['t.*'], handler: (m: Message) => void received.push(m.payload) });
  await settle();
  const publish = (count: number, size: number) => {
    for (let i = 0; i < count; i++) sender.bus.publishEvent({ senderId: 'x', topic: 't.x', payload: 'p'.repeat(size) });
  };
  const bufferReports = () => events.filter((e) => e.source === 'reconnect buffer');
  return { hub, transport: senderTransport, received, publish, bufferReports };
}

describe('the reconnect buffer is bounded in bytes, on the loopback as on NATS', () => {
  test('10 005 small frames while cut off fit the default 8 MiB: none lost, all sent on reconnect', async () => {
    const { hub, transport, received, publish, bufferReports } = await pair();
    hub.disconnect('b');
    // The old loopback bound was 10 000 frames, whatever their size: 5 of these were lost.
    publish(10_005, 10);
    expect(transport.getStats().lostWhileCutOff).toBe(0);
    hub.reconnect('b');
    await settle();
    // All went to the hub (the receiving agent's mailbox keeps its own bound, 1 000 by default).
    expect(transport.getStats()).toMatchObject({ published: 10_005, lostWhileCutOff: 0 });
    expect(received.length).toBeGreaterThan(0);
    expect(bufferReports()).toEqual([]);
  });

  test('past the byte budget frames are dropped, counted, and reported once per outage', async () => {
    const { hub, transport, received, publish, bufferReports } = await pair(4096);
    hub.disconnect('b');
    publish(100, 200);
    const lost = transport.getStats().lostWhileCutOff;
    // Each frame is a few hundred bytes: a 4 KiB budget keeps some and drops most.
    expect(lost).toBeGreaterThan(50);
    expect(lost).toBeLessThan(100);
    expect(bufferReports()).toHaveLength(1);
    expect(bufferReports()[0]).toMatchObject({ kind: 'error', error: expect.stringContaining('reconnectBufferBytes') });

    hub.reconnect('b');
    await settle();
    expect(transport.getStats().published + lost).toBe(100);
    expect(received).toHaveLength(100 - lost);

    // Connected, nothing is bounded; a new outage has the whole budget again and reports again.
    publish(100, 200);
    await settle();
    expect(transport.getStats().lostWhileCutOff).toBe(lost);
    hub.disconnect('b');
    publish(100, 200);
    expect(transport.getStats().lostWhileCutOff).toBe(2 * lost);
    expect(bufferReports()).toHaveLength(2);
  });

  test('a budget of 0 keeps nothing while cut off', async () => {
    const { hub, transport, received, publish } = await pair(0);
    hub.disconnect('b');
    publish(3, 1);
    hub.reconnect('b');
    await settle();
    expect(transport.getStats()).toMatchObject({ published: 0, lostWhileCutOff: 3 });
    expect(received).toEqual([]);
  });

  test('the option is checked at the boundary, with the same default on both transports', () => {
    const hub = new LoopbackHub();
    cleanup.defer(() => hub.close());
    for (const bad of [-1, 1.5, 2 ** 31, 'big']) {
      expect(() => hub.transport({ reconnectBufferBytes: bad as number })).toThrow(ValidationError);
      expect(() => nats({ servers: 'nats://127.0.0.1:4222', reconnectBufferBytes: bad as number })).toThrow(/reconnectBufferBytes/);
    }
    expect(DEFAULT_RECONNECT_BUFFER_BYTES).toBe(8 * 1024 * 1024);
    expect(nats({ servers: 'nats://127.0.0.1:4222' }).getStats().lostWhileCutOff).toBe(0);
  });
});

describe('ReconnectBudget', () => {
  test('a batch counts each of its messages; whenUp waits for the link', async () => {
    const reports: string[] = [];
    const budget = new ReconnectBudget(100, (detail) => reports.push(detail));
    expect(budget.admit(1_000_000)).toBe(true);
    budget.linkDown();
    expect(budget.admit(60, 3)).toBe(true);
    expect(budget.admit(60, 4)).toBe(false);
    expect(budget.admit(40)).toBe(true);
    expect(budget.admit(1, 2)).toBe(false);
    expect(budget.lost).toBe(6);
    expect(reports).toHaveLength(1);
    let up = false;
    const waiting = budget.whenUp().then(() => (up = true));
    await settle();
    expect(up).toBe(false);
    budget.linkUp();
    await waiting;
    expect(up).toBe(true);
  });
});
