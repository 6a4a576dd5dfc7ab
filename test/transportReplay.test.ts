/**
 * Signed frames are bound to their subject, reply subject and send time, and accepted once
 * (own nats-server -js on a free port): a frame captured off the wire and published again
 * is refused, on its own subject as on another, with another reply subject, or once stale.
 */
import { createHash } from 'node:crypto';
import { headers as natsHeaders, connect, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { createNeuroFlux, nats, type Message, type NeuroFlux } from '../src';
import { createMessage } from '../src/bus/message';
import { Subjects, type NatsTransport, type TransportRejection } from '../src/transport';
import { signFrame } from '../src/transport/envelope';
import { ReplayGuard } from '../src/transport/replayGuard';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, NATS_SERVER_BIN, natsServerForSuite, waitFor } from './support/servers';

const HMAC = 'replay-secret-0123456789';

interface Captured {
  readonly subject: string;
  readonly reply: string;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
}

describeWithServer(NATS_SERVER_BIN, 'NatsTransport replay protection (hmacSecret)', () => {
  const server = natsServerForSuite();
  const cleanup = cleanupAfterEach();

  async function setup(namespace: string) {
    const wire: NatsConnection = cleanup.add(await connect({ servers: server().url }));
    const captured: Captured[] = [];
    wire.subscribe(`nf.${namespace}.>`, {
      callback: (_err, m: Msg) => void captured.push({ subject: m.subject, reply: m.reply ?? '', headers: m.headers, data: m.data }),
    });
    await wire.flush();
    const start = async (): Promise<{ nf: NeuroFlux; transport: NatsTransport }> => {
      const transport = nats({ servers: server().url, namespace, hmacSecret: HMAC });
      const nf = cleanup.add(createNeuroFlux({ transport, orchestrator: false }));
      await nf.start();
      return { nf, transport };
    };
    const receiver = await start();
    const received: Message[] = [];
    receiver.nf.bus.registerAgent('local', {
      topics: ['tick'],
      handler: (m, agent) => {
        received.push(m);
        if (m.messageType === 'request') agent.respond(m, { ok: true });
      },
    });
    const rejected: TransportRejection[] = [];
    receiver.transport.rejected$.subscribe((r) => rejected.push(r));
    const sender = await start();
    const feed = sender.nf.bus.registerAgent('feed');
    // The agent's consumers and subscriptions are in place once a first command reached it.
    feed.send({ recipientId: 'local', messageType: 'command', topic: 'warm-up' });
    await waitFor(() => received.length === 1, 10_000, 'the warm-up command');
    received.length = 0;
    const republish = (frame: Captured, subject = frame.subject, reply = frame.reply) =>
      wire.publish(subject, frame.data, { ...(frame.headers && { headers: frame.headers }), ...(reply !== '' && { reply }) });
    return { wire, captured, receiver, received, rejected, feed, republish, subjects: new Subjects(namespace) };
  }

  test('a captured event frame published again on its subject is refused as replayed; the message arrived once', async () => {
    const t = await setup('replay-same');
    t.feed.publish({ topic: 'tick', payload: { n: 1 } });
    await waitFor(() => t.received.length === 1, 10_000, 'the event');
    // The wire listener is another connection: it may see the frame after the receiver did.
    await waitFor(() => t.captured.some((c) => c.subject === t.subjects.topic('tick')), 10_000, 'the frame seen on the wire');
    const frame = t.captured.find((c) => c.subject === t.subjects.topic('tick'));
    expect(frame).toBeDefined();
    t.republish(frame as Captured);
    await waitFor(() => t.rejected.length === 1, 10_000, 'the replay refused');
    expect(t.rejected[0]).toMatchObject({ reason: 'replayed', subject: t.subjects.topic('tick') });
    expect(t.receiver.transport.getStats().rejected).toMatchObject({ replayed: 1, unauthenticated: 0 });
    expect(t.received).toHaveLength(1);
  }, 30_000);

  test('the same signed body on another subject, or with another reply subject, is refused as unauthenticated', async () => {
    const t = await setup('replay-moved');
    t.feed.publish({ topic: 'tick', payload: { n: 1 } });
    const answer = await t.feed.request({ recipientId: 'local', topic: 'ask', payload: {}, timeoutMs: 10_000 });
    expect(answer.payload).toEqual({ ok: true });
    // The wire listener is another connection: what it sees may come after the answer did.
    const capturedOn = (subject: string) => t.captured.find((c) => c.subject === subject);
    await waitFor(
      () => capturedOn(t.subjects.topic('tick')) !== undefined && capturedOn(t.subjects.agent('local', 'medium')) !== undefined,
      10_000,
      'both frames seen on the wire',
    );
    const event = capturedOn(t.subjects.topic('tick')) as Captured;
    const request = capturedOn(t.subjects.agent('local', 'medium')) as Captured;
    expect(request.reply).toMatch(/^nf\.replay-moved\.inbox\.[0-9a-f]+$/);
    // The event moved to the agent's own subject; the request with the attacker's inbox as reply subject.
    t.republish(event, t.subjects.agent('local', 'medium'));
    t.republish(request, request.subject, 'nf.replay-moved.inbox.attacker');
    await waitFor(() => t.rejected.length === 2, 10_000, 'both refused');
    expect(t.rejected.map((r) => [r.reason, r.detail])).toEqual([
      ['unauthenticated', 'bad signature'],
      ['unauthenticated', 'bad signature'],
    ]);
    expect(t.received.map((m) => m.topic)).toEqual(['tick', 'ask']);
  }, 30_000);

  test('a frame signed long ago is refused as stale, one dated ahead of the clock as future, even with a valid signature', async () => {
    const t = await setup('replay-stale');
    const subject = t.subjects.topic('tick');
    const body = Buffer.from(JSON.stringify(createMessage({ senderId: 'feed', recipientId: null, messageType: 'event', topic: 'tick', payload: { old: true } }, Date.now())));
    const signedAt = (sentAt: number) => {
      const h = natsHeaders();
      h.set('Nf-Signature', signFrame(HMAC, { subject, reply: '', sentAt }, body));
      h.set('Nf-Sent', String(sentAt));
      return h;
    };
    // Far outside the window (120 s) plus the skew allowed (30 s) either way.
    t.wire.publish(subject, body, { headers: signedAt(Date.now() - 3_600_000) });
    t.wire.publish(subject, body, { headers: signedAt(Date.now() + 3_600_000) });
    await waitFor(() => t.rejected.length === 2, 10_000, 'both refused');
    expect(t.rejected.map((r) => r.reason)).toEqual(['stale', 'future']);
    expect(t.receiver.transport.getStats().rejected).toMatchObject({ stale: 1, future: 1 });
    expect(t.received).toEqual([]);
  }, 30_000);

  test('a captured durable command stored again in the stream (another message id) is refused as replayed; the handler ran once', async () => {
    const t = await setup('replay-durable');
    t.feed.send({ recipientId: 'local', messageType: 'command', topic: 'pay', payload: { amount: 10 } });
    await waitFor(() => t.received.length === 1, 10_000, 'the command');
    const isCommand = (c: Captured) => c.subject === t.subjects.durable('local', 'medium') && c.data.length > 0 && Buffer.from(c.data).includes('pay');
    await waitFor(() => t.captured.some(isCommand), 10_000, 'the command seen on the wire');
    const frame = t.captured.find(isCommand) as Captured;
    expect(frame).toBeDefined();
    const h = natsHeaders();
    for (const key of frame.headers?.keys() ?? []) if (key !== 'Nats-Msg-Id') h.set(key, frame.headers?.get(key) ?? '');
    await jetstream(t.wire).publish(frame.subject, frame.data, { headers: h, msgID: 'attacker-chosen-id' });
    await waitFor(() => t.rejected.length === 1, 10_000, 'the replay refused');
    expect(t.rejected[0]).toMatchObject({ reason: 'replayed' });
    expect(t.received.map((m) => m.topic)).toEqual(['pay']);
  }, 30_000);
});

describe('ReplayGuard (no server)', () => {
  test('remembers a signature only for the window plus skew: memory is bounded by the frames of one window', () => {
    const guard = new ReplayGuard(120_000, 30_000);
    const sig = (i: number) => createHash('sha256').update(String(i)).digest('hex');
    for (let i = 0; i < 1000; i++) expect(guard.admit(sig(i), 1_000_000 + i, 1_000_000 + i, 1_000_000 + i)).toBeUndefined();
    expect(guard.admit(sig(5), 1_000_005, 1_000_999, 1_000_999)).toBe('replayed');
    expect(guard.size).toBe(1000);
    // Past sentAt + window + 2 × skew everything is forgotten, and such frames are stale anyway.
    const later = 1_000_999 + 120_000 + 60_000 + 1;
    expect(guard.admit(sig(5), 1_000_005, later, later)).toBe('stale');
    expect(guard.size).toBe(0);
    expect(guard.admit(sig(2000), later + 30_001, later, later)).toBe('future');
    expect(guard.admit(sig(2000), later + 30_000, later, later)).toBeUndefined();
  });

  test('a JetStream redelivery (same stream sequence) passes; another sequence with the same signature is a replay', () => {
    const guard = new ReplayGuard(120_000, 30_000);
    const signature = 'ab'.repeat(32);
    expect(guard.admit(signature, 1000, 1000, 5000, 7)).toBeUndefined();
    expect(guard.admit(signature, 1000, 1000, 9000, 7)).toBeUndefined();
    expect(guard.admit(signature, 1000, 2000, 9000, 8)).toBe('replayed');
    // Stored much later than signed (waiting for its agent is fine, but not published late).
    expect(guard.admit('cd'.repeat(32), 1000, 1000 + 150_001, 1000 + 150_001, 9)).toBe('stale');
  });
});
