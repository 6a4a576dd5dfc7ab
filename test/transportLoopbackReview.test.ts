/**
 * Review RD findings on the loopback transport (issue #16): a throwing runtime never wedges
 * the hub (M5), durable messages are de-duplicated as on NATS (M6), replay window, clock skew
 * and the redelivery cap come from the same options as the NATS transport's (M7), refusals
 * are emitted on `rejected$`, and the hub closes (m4). SimulatedClock only, no real waits.
 */
import { SimulatedClock } from 'xstate';
import { createNeuroFlux, LoopbackHub, silentLogger, ValidationError, type Message, type NeuroFlux, type TransportRejection } from '../src';
import { createMessage } from '../src/bus/message';
import { encodeFrame, EnvelopeHeader, signEncoded } from '../src/transport/envelope';
import type { LoopbackTransport, LoopbackTransportOptions } from '../src/transport';
import { cleanupAfterEach } from './support/cleanup';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

function network(hubOptions: ConstructorParameters<typeof LoopbackHub>[0] = {}) {
  const clock = new SimulatedClock();
  const hub = new LoopbackHub({ clock, ...hubOptions });
  async function runtime(identity: string, options: Partial<LoopbackTransportOptions> = {}): Promise<{ nf: NeuroFlux; transport: LoopbackTransport }> {
    const transport = hub.transport({ identity, ...options });
    const nf = cleanup.add(createNeuroFlux({ logger: silentLogger, transport, clock, orchestrator: false }));
    await nf.start();
    return { nf, transport };
  }
  return { clock, hub, runtime };
}

/** The body of a durable command to `recipientId` (payload: its id), as a publisher would encode it at time 0. */
function commandBody(messageId: string, recipientId: string): string {
  return JSON.stringify({ ...createMessage({ senderId: 'x', recipientId, messageType: 'command', topic: 't', payload: messageId }, 0), messageId });
}

describe('loopback hub: one throwing runtime is its own problem (review M5)', () => {
  test("a runtime's hook that throws while receiving: the error is reported, the other runtimes still get every frame", async () => {
    const errors: unknown[] = [];
    const { runtime } = network({ onDeliveryError: (error) => errors.push(error) });
    const { nf: a } = await runtime('a');
    const { nf: b } = await runtime('b');
    const { nf: c } = await runtime('c');
    const atB: string[] = [];
    const atC: string[] = [];
    b.bus.registerAgent('bw', { handler: (m: Message) => void atB.push(m.topic) });
    c.bus.registerAgent('cw', { handler: (m: Message) => void atC.push(m.topic) });
    let once = true;
    b.bus.instrument({
      onAccepted() {
        if (once) {
          once = false;
          throw new Error('tracing hook bug');
        }
      },
    });
    await settle();
    a.bus.broadcastMessage({ senderId: 'x', topic: 'first', payload: {} });
    await settle();
    a.bus.broadcastMessage({ senderId: 'x', topic: 'second', payload: {} });
    await settle();
    expect(atC).toEqual(['first', 'second']);
    expect(atB).toContain('second');
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('tracing hook bug');
  });

  test('a core handler of another connection that throws on every frame: the hub goes on delivering to the runtime after it', async () => {
    const errors: string[] = [];
    const { hub, runtime } = network({ onDeliveryError: (_error, subject) => errors.push(subject) });
    const owner = {};
    hub.subscribe(owner, 'nf.default.from.*.broadcast', () => {
      throw new Error('core handler bug');
    });
    const { nf: b } = await runtime('b');
    const got: unknown[] = [];
    b.bus.registerAgent('w', { handler: (m: Message) => void got.push(m.payload) });
    await settle();
    hub.inject('nf.default.from.x.broadcast', JSON.stringify(createMessage({ senderId: 'x', recipientId: null, messageType: 'broadcast', topic: 't', payload: 'b1' }, 0)));
    hub.inject('nf.default.from.x.broadcast', JSON.stringify(createMessage({ senderId: 'x', recipientId: null, messageType: 'broadcast', topic: 't', payload: 'b2' }, 0)));
    await settle();
    expect(got).toEqual(['b1', 'b2']);
    expect(errors).toEqual(['nf.default.from.x.broadcast', 'nf.default.from.x.broadcast']);
  });

  test('a runtime that throws while taking a durable delivery: reported with its subject; the next durable message is delivered', async () => {
    const errors: string[] = [];
    const { hub, runtime } = network({ onDeliveryError: (_error, subject) => errors.push(subject) });
    const { nf: b } = await runtime('b');
    const got: unknown[] = [];
    b.bus.registerAgent('w', { handler: (m: Message) => void got.push(m.payload) });
    let once = true;
    b.bus.instrument({
      onAccepted() {
        if (once) {
          once = false;
          throw new Error('hook bug');
        }
      },
    });
    await settle();
    hub.inject('nf.default.from.x.durable.agent.w.medium', commandBody('first', 'w'));
    await settle();
    hub.inject('nf.default.from.x.durable.agent.w.medium', commandBody('second', 'w'));
    await settle();
    expect(errors).toEqual(['nf.default.from.x.durable.agent.w.medium']);
    expect(got).toContain('second');
  });

  test('by default the error is thrown again later (uncaught, as a NATS callback bug would be), after the delivery pass', async () => {
    const { hub } = network();
    const seen: string[] = [];
    hub.subscribe({}, 'nf.default.x', () => {
      throw new Error('bug');
    });
    hub.subscribe({}, 'nf.default.x', () => void seen.push('second connection'));
    const thrown = new Promise<unknown>((resolve) => {
      const original = globalThis.queueMicrotask;
      // The hub's own queueMicrotask calls: the first is the flush, the next the rethrow.
      const spy = jest.spyOn(globalThis, 'queueMicrotask').mockImplementation((fn) =>
        original(() => {
          try {
            fn();
          } catch (error) {
            spy.mockRestore();
            resolve(error);
          }
        }),
      );
    });
    hub.inject('nf.default.x', '{}');
    expect(((await thrown) as Error).message).toBe('bug');
    expect(seen).toEqual(['second connection']);
  });
});

describe('loopback durable de-duplication as on NATS (review M6)', () => {
  test('the same durable frame stored twice (same messageId, no msgID): the receiver handles it once and counts a duplicate', async () => {
    const { hub, runtime } = network();
    const { nf: b, transport } = await runtime('b');
    const got: unknown[] = [];
    b.bus.registerAgent('w', { handler: (m: Message) => void got.push(m.payload) });
    await settle();
    const body = commandBody('dup-1', 'w');
    hub.inject('nf.default.from.x.durable.agent.w.medium', body);
    await settle();
    hub.inject('nf.default.from.x.durable.agent.w.medium', body);
    await settle();
    expect(got).toEqual(['dup-1']);
    expect(transport.getStats().duplicates).toBe(1);
    expect(hub.pendingDurable).toBe(0);
  });

  test('a second publish with the same msgID within the duplicate window is not stored; after the window it is, and the receiver still drops it', async () => {
    const { clock, hub, runtime } = network({ duplicateWindowMs: 1000 });
    const body = commandBody('dup-2', 'w');
    const headers = { [EnvelopeHeader.MESSAGE_ID]: 'dup-2' };
    hub.inject('nf.default.from.x.durable.agent.w.medium', body, { headers });
    hub.inject('nf.default.from.x.durable.agent.w.medium', body, { headers });
    expect(hub.pendingDurable).toBe(1);
    const { nf: b, transport } = await runtime('b');
    const got: unknown[] = [];
    b.bus.registerAgent('w', { handler: (m: Message) => void got.push(m.payload) });
    await settle();
    expect(got).toEqual(['dup-2']);
    clock.increment(1000);
    hub.inject('nf.default.from.x.durable.agent.w.medium', body, { headers });
    await settle();
    expect(got).toEqual(['dup-2']);
    expect(transport.getStats().duplicates).toBe(1);
  });

  test("runtimes' durable sends carry their message id: one message stored once however often the same message is forwarded", async () => {
    const { hub, runtime } = network();
    const { nf: a } = await runtime('a');
    const message = createMessage({ senderId: 'x', recipientId: 'nobody', messageType: 'command', topic: 't' }, 0);
    a.bus.sendMessage(message);
    a.bus.sendMessage(message);
    await settle();
    expect(hub.pendingDurable).toBe(1);
  });
});

describe('loopback options and checks shared with the NATS transport (review M7)', () => {
  const secret = 'loopback-secret-0123456789';

  /** A signed broadcast frame as runtime `x` would have published it at `sentAt`. */
  function signedBroadcast(sentAt: number) {
    const subject = 'nf.default.from.x.broadcast';
    const frame = signEncoded(
      encodeFrame(createMessage({ senderId: 'x', recipientId: null, messageType: 'broadcast', topic: 't', payload: sentAt }, sentAt)),
      secret,
      subject,
      undefined,
      sentAt,
    );
    const headers = { [EnvelopeHeader.SIGNATURE]: frame.signature as string, [EnvelopeHeader.SENT]: String(sentAt) };
    return { subject, body: frame.body, headers };
  }

  test('replayWindowMs and maxClockSkewMs are taken from the options: a frame signed 10 s ago is stale with a 5 s window, fresh with the default', async () => {
    const { clock, hub, runtime } = network();
    clock.set(1_000_000);
    const { nf: strict, transport: strictTransport } = await runtime('strict', { hmacSecret: secret, replayWindowMs: 5000, maxClockSkewMs: 0 });
    const { nf: lenient } = await runtime('lenient', { hmacSecret: secret });
    const rejected: TransportRejection[] = [];
    strictTransport.rejected$.subscribe((r) => rejected.push(r));
    const atStrict: unknown[] = [];
    const atLenient: unknown[] = [];
    strict.bus.registerAgent('s', { handler: (m: Message) => void atStrict.push(m.payload) });
    lenient.bus.registerAgent('l', { handler: (m: Message) => void atLenient.push(m.payload) });
    await settle();
    const { subject, body, headers } = signedBroadcast(clock.now() - 10_000);
    hub.inject(subject, body, { headers });
    await settle();
    expect(atLenient).toEqual([990_000]);
    expect(atStrict).toEqual([]);
    expect(strictTransport.getStats().rejected.stale).toBe(1);
    expect(rejected).toEqual([expect.objectContaining({ reason: 'stale', subject, at: 1_000_000 })]);
    expect(strictTransport.lastRejections).toEqual(rejected);
  });

  test('a redelivery delay doubling past ackWaitMs is capped at it (as on NATS)', async () => {
    const { clock, runtime } = network();
    const { nf: b } = await runtime('b', { retryDelayMs: 3_600_000, ackWaitMs: 1000 });
    const { nf: a } = await runtime('a');
    let attempts = 0;
    b.bus.registerAgent('w', {
      handler: () => {
        if (++attempts === 1) throw new Error('first attempt fails');
      },
    });
    await settle();
    a.bus.registerAgent('client').send({ recipientId: 'w', messageType: 'command', topic: 'do' });
    await settle();
    expect(attempts).toBe(1);
    clock.increment(999);
    await settle();
    expect(attempts).toBe(1);
    clock.increment(1);
    await settle();
    expect(attempts).toBe(2);
  });

  test('the shared options are validated with a typed error naming the field', () => {
    const hub = new LoopbackHub({ clock: new SimulatedClock() });
    for (const [options, field] of [
      [{ replayWindowMs: 10 }, 'replayWindowMs'],
      [{ maxClockSkewMs: -1 }, 'maxClockSkewMs'],
      [{ ackWaitMs: 0 }, 'ackWaitMs'],
      [{ namespace: 'a.b' }, 'namespace'],
    ] as const) {
      expect(() => hub.transport(options as LoopbackTransportOptions)).toThrow(ValidationError);
      expect(() => hub.transport(options as LoopbackTransportOptions)).toThrow(field);
    }
    expect(() => new LoopbackHub({ duplicateWindowMs: -5 })).toThrow('duplicateWindowMs');
    expect(() => new LoopbackHub({ maxDeadLetters: 0 })).toThrow('maxDeadLetters');
    expect(() => new LoopbackHub({ onDeliveryError: 'log' as unknown as () => void })).toThrow('onDeliveryError');
  });
});

describe('loopback hub lifecycle (review m4)', () => {
  test('close() cancels pending redeliveries and drops what the hub stores; later publishes are ignored', async () => {
    const { clock, hub, runtime } = network();
    const { nf: b } = await runtime('b', { retryDelayMs: 5000 });
    let attempts = 0;
    b.bus.registerAgent('w', {
      handler: () => {
        attempts++;
        throw new Error('fails');
      },
    });
    await settle();
    hub.inject('nf.default.from.x.durable.agent.w.medium', commandBody('c-1', 'w'));
    hub.inject('nf.default.from.x.durable.agent.nobody.medium', commandBody('c-2', 'nobody'));
    await settle();
    expect(attempts).toBe(1);
    expect(hub.pendingDurable).toBe(2);
    hub.close();
    expect(hub.isClosed).toBe(true);
    expect(hub.pendingDurable).toBe(0);
    clock.increment(60_000);
    await settle();
    expect(attempts).toBe(1);
    hub.inject('nf.default.from.x.durable.agent.w.medium', commandBody('c-3', 'w'));
    await settle();
    expect(attempts).toBe(1);
    expect(hub.pendingDurable).toBe(0);
  });

  test('dead letters are bounded by maxDeadLetters, oldest dropped first', async () => {
    const { hub, runtime } = network({ maxDeliver: 1, maxDeadLetters: 2 });
    const { nf: b } = await runtime('b');
    b.bus.registerAgent('w', {
      handler: () => {
        throw new Error('always');
      },
    });
    await settle();
    for (const id of ['d-1', 'd-2', 'd-3']) hub.inject('nf.default.from.x.durable.agent.w.medium', commandBody(id, 'w'));
    await settle(30);
    expect(hub.deadLetters).toHaveLength(2);
    expect(hub.deadLetters.map((l) => JSON.parse(Buffer.from(l.frame.body).toString('utf8')).messageId)).toEqual(['d-2', 'd-3']);
  });
});
