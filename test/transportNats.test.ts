import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { connect, headers } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { gunzipSync } from 'node:zlib';
import { CommunicationBus } from '../src/bus/communicationBus';
import { DeliveryFailedError } from '../src/errors';
import { createMessage, parseFrame, parseMessage, type Message } from '../src/bus/message';
import type { AnyDeadLetter } from '../src/bus/deadLetter';
import { createNeuroFlux, type NeuroFlux } from '../src/runtime/createNeuroFlux';
import { nats, NatsTransport, Subjects, subjectToken, decodeEnvelope, encodeEnvelope, type TransportRejection } from '../src/transport';
import { subjectsOverlap } from '../src/transport/subjects';
import { batchElementJson, expandBatchElement } from '../src/transport/batchElement';
import { batchElements, signEncoded, signFrame, type EncodedFrame } from '../src/transport/envelope';
import { batchCapacity, FrameBatcher } from '../src/transport/frameBatcher';
import { topicMatches } from '../src/bus/topicPattern';
import { startReadyScript, stopChild } from './support/childProcesses';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, NATS_SERVER_BIN, startNatsServer, waitFor, type TestServer } from './support/servers';

const HMAC = 'test-secret-0123456789';

function startHost(url: string, namespace: string, secret?: string): Promise<ChildProcess> {
  return startReadyScript(join(__dirname, 'support', 'natsAgentHost.ts'), [url, namespace, ...(secret ? [secret] : [])], 'agent host', 20_000);
}

describe('envelope and subjects (no server)', () => {
  const message: Message = {
    messageId: 'm1',
    senderId: 'a',
    recipientId: 'b',
    messageType: 'command',
    priority: 'high',
    topic: 't',
    payload: { text: 'x'.repeat(5000) },
    timestamp: 1,
    ttl: 300,
    retryCount: 0,
    maxRetries: 3,
  };
  const opts = { hmacSecret: HMAC, maxFrameBytes: 1024 * 1024, subject: 'nf.p.from.a.durable.agent.b.high' };

  test('payloads over 1 KiB are gzip-compressed and flagged; a signed frame round-trips', () => {
    const env = encodeEnvelope(message, { hmacSecret: HMAC, subject: opts.subject });
    expect(env.headers['Nf-Encoding']).toBe('gzip');
    expect(env.body.byteLength).toBeLessThan(1000);
    expect(decodeEnvelope(env.body, (h) => env.headers[h], opts)).toEqual({ ok: true, frame: message });
    const small = encodeEnvelope({ ...message, payload: 1 }, {});
    expect(small.headers['Nf-Encoding']).toBeUndefined();
  });

  test('unsigned, tampered, oversized and zip-bomb frames are refused with a reason', () => {
    const env = encodeEnvelope(message, { hmacSecret: HMAC, subject: opts.subject });
    expect(decodeEnvelope(env.body, (h) => (h === 'Nf-Signature' ? undefined : env.headers[h]), opts)).toMatchObject({ ok: false, reason: 'unauthenticated' });
    const tampered = Uint8Array.from(env.body);
    tampered[20] = (tampered[20] as number) ^ 1;
    expect(decodeEnvelope(tampered, (h) => env.headers[h], opts)).toMatchObject({ ok: false, reason: 'unauthenticated' });
    expect(decodeEnvelope(env.body, (h) => env.headers[h], { ...opts, maxFrameBytes: 10 })).toMatchObject({ ok: false, reason: 'oversized' });
    const bomb = encodeEnvelope({ ...message, payload: 'y'.repeat(3_000_000) }, {});
    expect(bomb.body.byteLength).toBeLessThan(1024 * 1024);
    expect(decodeEnvelope(bomb.body, (h) => bomb.headers[h], { maxFrameBytes: 1024 * 1024 })).toMatchObject({ ok: false, reason: 'oversized' });
  });

  test('ids and topics become subject tokens; wildcards stay wildcards', () => {
    const s = new Subjects('prod');
    expect(s.agent('risk_agent', 'critical')).toBe('nf.prod.from.~.agent.risk_agent.critical');
    expect(subjectToken('a.b *')).toMatch(/^~[A-Za-z0-9_-]+$/);
    expect(s.topicPattern('market.*.btc')).toBe('nf.prod.from.*.topic.market.*.btc');
    expect(s.topicPattern('market.>')).toBe('nf.prod.from.*.topic.market.>');
    // A process publishes under its own identity; receivers read it back from the subject.
    const host = new Subjects('prod', 'host-1');
    expect(host.topic('market.btc')).toBe('nf.prod.from.host-1.topic.market.btc');
    expect(host.durable('a.b', 'high')).toBe(`nf.prod.from.host-1.durable.agent.${subjectToken('a.b')}.high`);
    expect(s.origin(host.durable('x', 'low'))).toBe('host-1');
    expect(s.origin(s.broadcast())).toBeUndefined();
    expect(s.origin('nf.other.from.host-1.broadcast')).toBeUndefined();
    expect(host.response(s.inbox('abc123'))).toBe('nf.prod.from.host-1.inbox.abc123');
    expect(host.response('$JS.API.STREAM.DELETE.NF_prod')).toBeUndefined();
    expect(host.response('nf.prod.inbox.a.b')).toBeUndefined();
  });

  test('a frame is validated exactly as the message schema does, on the fast path as on the schema path', () => {
    // Frames come from JSON.parse: only JSON values, including a `__proto__` own key.
    const values: unknown[] = [
      undefined,
      null,
      '',
      'x',
      0,
      -0,
      -1,
      1.5,
      3,
      300,
      2 ** 53,
      true,
      [],
      {},
      ['a'],
      { a: 'b' },
      { a: 1 },
      JSON.parse('{"__proto__":"p","k":"v"}'),
      JSON.parse('{"__proto__":{"polluted":"yes"},"k":"v"}'),
      'event',
      'request',
      'medium',
      'critical',
      'bogus',
    ];
    const fields = [
      'messageId',
      'senderId',
      'recipientId',
      'messageType',
      'priority',
      'topic',
      'payload',
      'timestamp',
      'correlationId',
      'ttl',
      'retryCount',
      'maxRetries',
      'headers',
      'metadata',
      'extra',
    ];
    const base = {
      messageId: 'm1',
      senderId: 'a',
      recipientId: 'b',
      messageType: 'request',
      priority: 'high',
      topic: 't',
      payload: { n: 1 },
      timestamp: 5,
      correlationId: 'c',
      ttl: 30,
      retryCount: 1,
      maxRetries: 2,
      headers: { h: 'v' },
      metadata: { k: 1 },
    };
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    const outcome = (parse: (frame: unknown, now: number) => Message, frame: unknown) => {
      try {
        const { messageId, ...rest } = parse(frame, 99);
        // toEqual compares own properties only: a `__proto__` key must not become a prototype either.
        const plain = [rest.headers, rest.metadata].map((o) => o === undefined || Object.getPrototypeOf(o) === Object.prototype);
        return { ok: true, rest, plain, generatedId: (frame as { messageId?: unknown }).messageId === undefined ? typeof messageId : messageId };
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
    };
    const mutated = (changes: [string, unknown][]) => {
      const frame: Record<string, unknown> = JSON.parse(JSON.stringify(base));
      for (const [field, value] of changes) {
        if (value === undefined) delete frame[field];
        else frame[field] = value;
      }
      return frame;
    };
    // Every value in every field, then random combinations of up to four changes.
    const frames = fields.flatMap((field) => values.map((value) => mutated([[field, value]])));
    for (let i = 0; i < 3000; i++) {
      frames.push(mutated(Array.from({ length: 1 + random(4) }, () => [fields[random(fields.length)] as string, values[random(values.length)]])));
    }
    let fast = 0;
    for (const frame of frames) {
      const before = JSON.stringify(frame);
      const expected = outcome(parseMessage, frame);
      expect(outcome(parseFrame, frame)).toEqual(expected);
      expect(JSON.stringify(frame)).toBe(before);
      if (expected.ok) fast++;
    }
    expect(fast).toBeGreaterThan(500);
    expect(outcome(parseFrame, 'not json')).toEqual(outcome(parseMessage, 'not json'));
    expect(outcome(parseFrame, [base])).toEqual(outcome(parseMessage, [base]));
  });

  test('two subjects overlap exactly when some subject matches both', () => {
    const tokens = ['a', 'b', '*', '>'];
    const patterns: string[] = [];
    const grow = (prefix: string[]) => {
      for (const t of tokens) {
        const p = [...prefix, t];
        patterns.push(p.join('.'));
        if (t !== '>' && p.length < 3) grow(p);
      }
    };
    grow([]);
    const subjects: string[] = [];
    const words = (prefix: string[]) => {
      for (const t of ['a', 'b', 'c']) {
        subjects.push([...prefix, t].join('.'));
        if (prefix.length < 3) words([...prefix, t]);
      }
    };
    words([]);
    for (const p of patterns) {
      for (const q of patterns) {
        const witness = subjects.some((subject) => topicMatches(p, subject) && topicMatches(q, subject));
        expect([p, q, subjectsOverlap(p, q)]).toEqual([p, q, witness]);
      }
    }
  });

  test('options are validated, naming the field', () => {
    expect(() => nats({ servers: [] })).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION', field: 'servers' }));
    expect(() => nats({ servers: 'x', hmacSecret: 'short' })).toThrow(expect.objectContaining({ field: 'hmacSecret' }));
    expect(() => nats({ servers: 'x', namespace: 'a.b' })).toThrow(expect.objectContaining({ field: 'namespace' }));
  });
});

describeWithServer(NATS_SERVER_BIN, 'NatsTransport across two processes (own nats-server -js)', () => {
  const cleanup = cleanupAfterEach();
  let server: TestServer;
  let host: ChildProcess | undefined;
  let nf: NeuroFlux;
  let transport: NatsTransport;
  const namespace = 'xproc';
  const received: Message[] = [];
  const deadLetters: AnyDeadLetter[] = [];
  const rejections: TransportRejection[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
    transport = nats({ servers: server.url, namespace, hmacSecret: HMAC, maxFrameBytes: 512 * 1024 });
    nf = createNeuroFlux({ transport });
    nf.bus.registerAgent('local', { handler: (m) => void received.push(m) });
    nf.bus.deadLetters$.subscribe((d) => deadLetters.push(d));
    transport.rejected$.subscribe((r) => rejections.push(r));
    await nf.start();
  }, 30_000);

  afterAll(async () => {
    await stopChild(host, 'SIGKILL');
    await nf?.stop();
    await server?.stop();
  });

  test('a durable command sent before the other process exists is delivered once it registers, and acknowledged back', async () => {
    nf.bus.sendMessage({ senderId: 'local', recipientId: 'host', messageType: 'command', topic: 'ping', payload: { n: 1 }, priority: 'critical' });
    host = await startHost(server.url, namespace, HMAC);
    await waitFor(() => received.some((m) => m.topic === 'ack'), 15_000, 'ack from the other process');
    const ack = received.find((m) => m.topic === 'ack');
    expect(ack).toMatchObject({ senderId: 'host', recipientId: 'local', messageType: 'notification', payload: { n: 1 }, priority: 'critical' });
    expect(deadLetters).toEqual([]);
  }, 30_000);

  test('request/reply across processes', async () => {
    const reply = await nf.bus.sendRequest({ senderId: 'local', recipientId: 'host', topic: 'echo', payload: 'hi', timeoutMs: 5000 });
    expect(reply.payload).toEqual({ echo: 'hi', pid: host?.pid });
  });

  test('topic publish with NATS wildcards and broadcast reach the other process; large payloads travel compressed', async () => {
    received.length = 0;
    nf.bus.publishEvent({ senderId: 'local', topic: 'market.btc.price', payload: { big: 'z'.repeat(4000) } });
    nf.bus.publishEvent({ senderId: 'local', topic: 'weather.today', payload: {} }); // nobody subscribes in the other process
    nf.bus.broadcastMessage({ senderId: 'local', topic: 'halt', payload: {} });
    await waitFor(() => received.filter((m) => m.topic.startsWith('seen.')).length >= 2, 10_000, 'event and broadcast echoes');
    const seen = received.filter((m) => m.topic.startsWith('seen.'));
    expect(seen.map((m) => m.topic).sort()).toEqual(['seen.broadcast', 'seen.event']);
    expect(seen.find((m) => m.topic === 'seen.event')?.payload).toEqual({ topic: 'market.btc.price', size: 4010 });
    expect(transport.getStats().compressed).toBeGreaterThan(0);
  });

  test('unsigned, tampered, oversized and malformed frames are refused and counted; nothing crashes', async () => {
    const raw = cleanup.add(await connect({ servers: server.url }));
    const subjects = new Subjects(namespace);
    const good = encodeEnvelope(
      {
        messageId: 'x1',
        senderId: 'evil',
        recipientId: 'local',
        messageType: 'event',
        priority: 'medium',
        topic: 't',
        payload: {},
        timestamp: Date.now(),
        ttl: 300,
        retryCount: 0,
        maxRetries: 3,
      },
      { hmacSecret: 'wrong-secret-0123456789', subject: subjects.agent('local', 'medium') },
    );
    const h = headers();
    h.set('Nf-Signature', good.headers['Nf-Signature'] as string);
    h.set('Nf-Sent', good.headers['Nf-Sent'] as string);
    raw.publish(subjects.agent('local', 'medium'), good.body, { headers: h }); // wrong key
    raw.publish(subjects.agent('local', 'medium'), good.body); // unsigned
    raw.publish(subjects.agent('local', 'medium'), new Uint8Array(600 * 1024)); // oversized (over maxFrameBytes)
    const junk = Buffer.from('{"not":"a message"}');
    const hj = headers();
    const sentAt = Date.now();
    hj.set('Nf-Signature', signFrame(HMAC, { subject: subjects.agent('local', 'medium'), reply: '', sentAt }, junk));
    hj.set('Nf-Sent', String(sentAt));
    raw.publish(subjects.agent('local', 'medium'), junk, { headers: hj }); // signed but invalid
    await raw.flush();
    await waitFor(() => rejections.length >= 3 && deadLetters.some((d) => d.reason === 'invalid'), 5000, 'rejections');
    expect(transport.getStats().rejected).toMatchObject({ unauthenticated: 2, oversized: 1 });
    expect(nf.bus.getStats().deadLetters.invalid).toBe(1);
    // Unsigned and tampered frames are also dead letters of the bus, with what they claimed.
    await waitFor(() => deadLetters.filter((d) => d.reason === 'unauthenticated').length === 2, 5000, 'unauthenticated dead letters');
    expect(nf.bus.getStats().deadLetters.unauthenticated).toBe(2);
    for (const d of deadLetters.filter((l) => l.reason === 'unauthenticated')) {
      expect(d).toMatchObject({
        message: { senderId: 'evil', messageId: 'x1' },
        error: expect.stringMatching(/(unsigned frame|bad signature) on nf\.xproc\.from\.~\.agent\.local\.medium/),
      });
    }
    expect(received.some((m) => m.senderId === 'evil')).toBe(false);
    // The bus still works.
    const reply = await nf.bus.sendRequest({ senderId: 'local', recipientId: 'host', topic: 'echo', payload: 2, timeoutMs: 5000 });
    expect(reply.payload).toMatchObject({ echo: 2 });
  });

  test('durable commands survive a NATS server restart: nothing lost, none duplicated', async () => {
    received.length = 0;
    const N = 50;
    for (let i = 0; i < N / 2; i++) nf.bus.sendMessage({ senderId: 'local', recipientId: 'host', messageType: 'command', topic: 'ping', payload: { i } });
    await waitFor(() => received.length >= 5, 10_000, 'first acks');
    await server.restart();
    for (let i = N / 2; i < N; i++) nf.bus.sendMessage({ senderId: 'local', recipientId: 'host', messageType: 'command', topic: 'ping', payload: { i } });
    await waitFor(() => new Set(received.map((m) => (m.payload as { i: number }).i)).size === N, 40_000, 'all acks after restart');
    const ids = received.map((m) => (m.payload as { i: number }).i);
    expect(new Set(ids).size).toBe(N);
    expect(ids.length).toBe(N); // no duplicate effects: JetStream de-duplicates by message id
  }, 60_000);
});

describeWithServer(NATS_SERVER_BIN, 'NatsTransport dead letters: delivery cap and dead-letter stream (own nats-server -js)', () => {
  const cleanup = cleanupAfterEach();
  let server: TestServer;
  let a: NeuroFlux;
  let b: NeuroFlux;
  let ta: NatsTransport;
  let tb: NatsTransport;
  const namespace = 'dlq';
  const subjects = new Subjects(namespace);
  const lettersA: AnyDeadLetter[] = [];
  const lettersB: AnyDeadLetter[] = [];
  const attempts: number[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
    ta = nats({ servers: server.url, namespace, hmacSecret: HMAC, maxDeliver: 3, retryDelayMs: 20 });
    tb = nats({ servers: server.url, namespace, hmacSecret: HMAC, maxDeliver: 3, retryDelayMs: 20 });
    a = createNeuroFlux({ transport: ta, orchestrator: { orchestratorId: 'orch-a' } });
    b = createNeuroFlux({ transport: tb, orchestrator: { orchestratorId: 'orch-b' } });
    a.bus.registerAgent('sender');
    b.bus.registerAgent('flaky', {
      handler: (m) => {
        attempts.push(m.retryCount);
        throw new Error(`cannot do ${m.topic}`);
      },
    });
    a.bus.deadLetters$.subscribe((d) => lettersA.push(d));
    b.bus.deadLetters$.subscribe((d) => lettersB.push(d));
    await a.start();
    await b.start();
  }, 30_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await server?.stop();
  });

  async function dlqMessages(): Promise<{ reason: string | undefined; deliveries: string | undefined; agent: string | undefined; body: string }[]> {
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(subjects.dlqStream());
      const out: { reason: string | undefined; deliveries: string | undefined; agent: string | undefined; body: string }[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await jsm.streams.getMessage(subjects.dlqStream(), { seq }).catch(() => null);
        if (!m) continue;
        out.push({ reason: m.header.get('Nf-Dead-Reason'), deliveries: m.header.get('Nf-Dead-Deliveries'), agent: m.header.get('Nf-Dead-Agent'), body: m.string() });
      }
      return out;
    } finally {
      await nc.close();
    }
  }

  test('a durable command whose handler always throws is redelivered up to maxDeliver, then dead-lettered (bus max_retries + nf.<ns>.dlq)', async () => {
    const sent = a.bus.sendMessage({ senderId: 'sender', recipientId: 'flaky', messageType: 'command', topic: 'explode', payload: { n: 1 } });
    await waitFor(() => lettersB.some((d) => d.reason === 'max_retries'), 10_000, 'max_retries dead letter');
    await waitFor(async () => (await dlqMessages()).length === 1, 5000, 'message in the dead-letter stream');
    // Three deliveries by JetStream (maxDeliver 3), each one attempt: no local retries on top.
    expect(attempts).toEqual([0, 0, 0]);
    expect(lettersB.filter((d) => d.reason === 'max_retries')).toEqual([
      expect.objectContaining({ reason: 'max_retries', agentId: 'flaky', error: 'cannot do explode', message: expect.objectContaining({ messageId: sent.messageId }) }),
    ]);
    expect(b.bus.getStats()).toMatchObject({ messagesFailed: 3, messagesRetried: 2 });
    expect(tb.getStats()).toMatchObject({ redelivered: 2, deadLettered: 1 });
    const [dead] = await dlqMessages();
    expect(dead).toMatchObject({ reason: 'max_retries', deliveries: '3', agent: 'flaky' });
    expect(JSON.parse(dead?.body ?? '{}')).toMatchObject({ messageId: sent.messageId, topic: 'explode' });
    // Acknowledged: nothing left in the work queue, no further attempt.
    await new Promise((r) => setTimeout(r, 300));
    expect(attempts).toHaveLength(3);
    const nc = cleanup.add(await connect({ servers: server.url }));
    expect((await (await jetstreamManager(nc)).streams.info(subjects.stream())).state.messages).toBe(0);
    expect(lettersA).toEqual([]);
  }, 20_000);

  test('a durable message that reaches the delivery cap unacknowledged (its consumer died) is moved to nf.<ns>.dlq and dead-lettered once', async () => {
    // A consumer that takes deliveries and never acknowledges them: a process that keeps crashing.
    const nc = cleanup.add(await connect({ servers: server.url }));
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(subjects.stream(), {
      durable_name: 'crashing',
      filter_subject: subjects.durable('ghost', 'medium'),
      ack_policy: AckPolicy.Explicit,
      max_deliver: 2,
      ack_wait: 200_000_000, // 200 ms
    });
    const sent = a.bus.sendMessage({ senderId: 'sender', recipientId: 'ghost', messageType: 'command', topic: 'lost', payload: {} });
    const consumer = await jetstream(nc).consumers.get(subjects.stream(), 'crashing');
    const messages = cleanup.add(await consumer.consume());
    let deliveries = 0;
    void (async () => {
      for await (const _m of messages) deliveries++;
    })();
    const letters = () => [...lettersA, ...lettersB].filter((d) => d.reason === 'max_retries' && d.message.messageId === sent.messageId);
    await waitFor(() => letters().length === 1, 10_000, 'dead letter after the delivery cap');
    expect(deliveries).toBe(2);
    expect(letters()[0]).toMatchObject({ error: expect.stringContaining('delivery cap reached (2 deliveries') });
    await waitFor(async () => (await dlqMessages()).some((d) => d.body.includes(sent.messageId)), 5000, 'dead-letter stream');
    expect((await jsm.streams.info(subjects.stream())).state.messages).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(letters()).toHaveLength(1); // both processes saw the advisory; one recorded it
  }, 20_000);
});

describeWithServer(NATS_SERVER_BIN, 'NatsTransport topic subscriptions (own nats-server -js)', () => {
  let server: TestServer;
  let a: NeuroFlux;
  let b: NeuroFlux;
  let tb: NatsTransport;

  beforeAll(async () => {
    server = await startNatsServer();
    tb = nats({ servers: server.url, namespace: 'topics' });
    a = createNeuroFlux({ transport: nats({ servers: server.url, namespace: 'topics' }), orchestrator: { orchestratorId: 'orch-a' } });
    b = createNeuroFlux({ transport: tb, orchestrator: { orchestratorId: 'orch-b' } });
  }, 30_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await server?.stop();
  });

  test('an event matching two overlapping patterns of one process reaches each subscriber once, also after one of them leaves', async () => {
    const got: Record<string, string[]> = { wide: [], narrow: [] };
    b.bus.registerAgent('wide', { topics: ['market.>'], handler: (m) => void got.wide?.push(String(m.payload)) });
    b.bus.registerAgent('narrow', { topics: ['market.btc'], handler: (m) => void got.narrow?.push(String(m.payload)) });
    const sender = a.bus.registerAgent('sender');
    await b.start();
    await a.start();
    sender.publish({ topic: 'market.btc', payload: 'one' });
    sender.publish({ topic: 'market.eth', payload: 'two' });
    await waitFor(() => got.wide?.length === 2 && got.narrow?.length === 1, 5000, 'both events');
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual({ wide: ['one', 'two'], narrow: ['one'] });
    expect(tb.getStats().duplicates).toBe(1); // NATS delivered 'one' on both subscriptions

    b.bus.unregisterAgent('narrow');
    sender.publish({ topic: 'market.btc', payload: 'three' });
    await waitFor(() => got.wide?.length === 3, 5000, 'the event after the unsubscription');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.wide).toEqual(['one', 'two', 'three']);
  });
});

describe('frame batching (no server)', () => {
  const event = (i: number, payload: unknown = { i }): Message => createMessage({ senderId: 'feed', recipientId: null, messageType: 'event', topic: 'tick', payload }, 1_000 + i);
  /** A batcher whose publishes are recorded, with each frame's messages decoded the way a receiver does. */
  function recorder(capacity = 64) {
    const sent: { subject: string; frame: EncodedFrame; reply: string | undefined; messages: Message[] }[] = [];
    const lost: number[] = [];
    const batcher = new FrameBatcher(
      (subject, frame, reply) => {
        const json = JSON.parse(Buffer.from(frame.gzip ? gunzipSync(frame.body) : frame.body).toString('utf8')) as unknown;
        const frames = frame.batch === undefined ? [json] : (batchElements(json, String(frame.batch)) ?? []);
        sent.push({ subject, frame, reply, messages: frames.map((f) => parseFrame(f, 0)) });
      },
      capacity,
      (messages) => void lost.push(messages),
    );
    return { batcher, sent, lost };
  }
  const payloads = (messages: Message[]) => messages.map((m) => (m.payload as { i: number }).i);

  test('frames for one subject in one tick become one batch at the end of the tick, in order; subjects keep their own order', async () => {
    const { batcher, sent } = recorder();
    const messages = [0, 1, 2, 3, 4].map((i) => event(i));
    batcher.add('s.a', messages[0] as Message, undefined);
    batcher.add('s.b', messages[1] as Message, 'inbox');
    batcher.add('s.a', messages[2] as Message, undefined);
    batcher.add('s.b', messages[3] as Message, undefined);
    batcher.add('s.a', messages[4] as Message, undefined);
    expect(sent).toEqual([]);
    await Promise.resolve();
    expect(sent.map((f) => [f.subject, f.frame.batch, f.reply, payloads(f.messages)])).toEqual([
      ['s.a', 3, undefined, [0, 2, 4]],
      ['s.b', 2, 'inbox', [1, 3]],
    ]);
    // Each element is the message itself once validated.
    expect(sent[0]?.messages).toEqual([messages[0], messages[2], messages[4]]);
  });

  test('a lone frame goes out as before batching: the message as JSON, no batch flag', async () => {
    const { batcher, sent } = recorder();
    const message = event(7);
    batcher.add('s.a', message, undefined);
    await Promise.resolve();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.frame).toMatchObject({ gzip: false, signature: undefined });
    expect(sent[0]?.frame.batch).toBeUndefined();
    expect(Buffer.from(sent[0]?.frame.body ?? []).toString('utf8')).toBe(JSON.stringify(message));
  });

  test('a full batch goes out at once; a message over 1 KiB goes alone and compressed, after what was queued for its subject', async () => {
    const { batcher, sent } = recorder(2);
    batcher.add('s.a', event(0), undefined);
    batcher.add('s.a', event(1), undefined);
    batcher.add('s.a', event(2), undefined);
    expect(sent.map((f) => payloads(f.messages))).toEqual([[0, 1]]);
    batcher.add('s.a', event(3, { i: 3, text: 'x'.repeat(2000) }), undefined);
    expect(sent.map((f) => [payloads(f.messages), f.frame.gzip, f.frame.batch])).toEqual([
      [[0, 1], false, 2],
      [[2], false, undefined],
      [[3], true, undefined],
    ]);
    await Promise.resolve();
    expect(sent).toHaveLength(3);
  });

  test('a batch is signed once over its body, subject, reply subject and send time (by the transport, which knows them)', async () => {
    const { batcher, sent } = recorder(64);
    for (let i = 0; i < 3; i++) batcher.add('s.a', event(i), undefined);
    await Promise.resolve();
    const frame = sent[0]?.frame as EncodedFrame;
    expect(frame).toMatchObject({ batch: 3, signature: undefined });
    const signedFrame = signEncoded(frame, HMAC, 's.a', undefined, 5);
    expect(signedFrame.signature).toBe(signFrame(HMAC, { subject: 's.a', reply: '', sentAt: 5 }, frame.body));
    expect(signFrame(HMAC, { subject: 's.b', reply: '', sentAt: 5 }, frame.body)).not.toBe(signedFrame.signature);
  });

  test('capacity follows the smaller of maxFrameBytes and the server max_payload; 1 publishes every frame at once', () => {
    expect(batchCapacity(1024 * 1024)).toBe(64);
    expect(batchCapacity(32 * 1024)).toBe(31);
    expect(batchCapacity(1000)).toBe(1);
    const { batcher, sent } = recorder(1);
    batcher.add('s.a', event(0), undefined);
    batcher.add('s.a', event(1), undefined);
    expect(sent.map((f) => [payloads(f.messages), f.frame.batch])).toEqual([
      [[0], undefined],
      [[1], undefined],
    ]);
  });

  test('a deferred publish that fails is counted as lost, never thrown', async () => {
    const lost: number[] = [];
    const batcher = new FrameBatcher(
      () => {
        throw new Error('connection closed');
      },
      64,
      (n) => void lost.push(n),
    );
    batcher.add('s.a', event(0), undefined);
    batcher.add('s.a', event(1), undefined);
    batcher.add('s.b', event(2), undefined);
    await Promise.resolve();
    expect(lost).toEqual([2, 1]);
  });

  test('a full batch that cannot be published is counted as lost; the message that filled it is queued, not failed', async () => {
    const lost: number[] = [];
    const published: string[] = [];
    let failing = true;
    const batcher = new FrameBatcher(
      (subject) => {
        if (failing) throw new Error('connection closed');
        published.push(subject);
      },
      2,
      (n) => void lost.push(n),
    );
    batcher.add('s.a', event(0), undefined);
    batcher.add('s.a', event(1), undefined);
    expect(() => batcher.add('s.a', event(2), undefined)).not.toThrow();
    expect(lost).toEqual([2]);
    failing = false;
    await Promise.resolve();
    expect(published).toEqual(['s.a']);
    // A message that goes alone still reports its own failure to its sender.
    failing = true;
    expect(() => batcher.add('s.b', event(3, { i: 3, text: 'x'.repeat(2000) }), undefined)).toThrow('connection closed');
  });

  test('a batch element leaves out fields at the schema defaults and validates back to the same message', () => {
    const plain = event(1);
    const full: Message = {
      ...createMessage(
        {
          senderId: 'a',
          recipientId: 'b',
          messageType: 'request',
          topic: 't',
          priority: 'critical',
          correlationId: 'c1',
          ttl: 5,
          maxRetries: 0,
          headers: { h: 'v' },
          metadata: { k: 1 },
        },
        9,
      ),
      retryCount: 2,
    };
    // A small event's element is about half its plain JSON.
    expect(batchElementJson(plain).length).toBeLessThan(JSON.stringify(plain).length * 0.6);
    expect(JSON.parse(batchElementJson(plain))).toHaveLength(7);
    for (const message of [plain, full, { ...plain, payload: null }, { ...plain, recipientId: 'b', priority: 'low' as const }]) {
      expect(parseFrame(expandBatchElement(JSON.parse(batchElementJson(message))), 0)).toEqual(message);
    }
    // Every field of a message with none at its default travels, and comes back as it was sent.
    expect(JSON.parse(JSON.stringify(expandBatchElement(JSON.parse(batchElementJson(full)))))).toEqual(JSON.parse(JSON.stringify(full)));
  });
});

describeWithServer(NATS_SERVER_BIN, 'NatsTransport batching (own nats-server -js)', () => {
  interface WireFrame {
    subject: string;
    reply: string | undefined;
    batch: string | undefined;
    sent?: string | undefined;
    encoding: string | undefined;
    signature: string | undefined;
    data: Uint8Array;
  }
  let server: TestServer;
  let wire: Awaited<ReturnType<typeof connect>>;
  const frames: WireFrame[] = [];
  const stops: (() => Promise<void>)[] = [];

  /** Two bare buses, each with its own transport: `feed` on A, `sub` (topic `tick`) and `other` on B, pull agents. */
  async function pair(namespace: string, options: { hmacSecret?: string; maxFrameBytes?: number } = {}, otherQueueSize?: number) {
    const busA = new CommunicationBus();
    const busB = new CommunicationBus();
    const ta = nats({ servers: server.url, namespace, ...options });
    const tb = nats({ servers: server.url, namespace, ...options });
    ta.attach(busA);
    tb.attach(busB);
    const feed = busA.registerAgent('feed');
    const sub = busB.registerAgent('sub', { topics: ['tick'] });
    const other = busB.registerAgent('other', otherQueueSize === undefined ? {} : { maxQueueSize: otherQueueSize });
    const echo = busB.registerAgent('echo', { handler: (m, agent) => void agent.respond(m, m.payload) });
    const lettersB: AnyDeadLetter[] = [];
    const rejectedB: TransportRejection[] = [];
    busB.deadLetters$.subscribe((d) => lettersB.push(d));
    tb.rejected$.subscribe((r) => rejectedB.push(r));
    await Promise.all([ta.start(), tb.start()]);
    await Promise.all([busA.start(), busB.start()]);
    stops.push(async () => {
      await Promise.all([ta.close(), tb.close()]);
      await Promise.all([busA.stop(), busB.stop()]);
    });
    const got: Message[] = [];
    const take = () => (got.push(...sub.receive()), got);
    return { busA, busB, ta, tb, feed, sub, other, echo, lettersB, rejectedB, got, take, subjects: new Subjects(namespace) };
  }
  /** The frames seen on `subject`, once at least `count` arrived (the snooping connection may lag behind the receiver). */
  async function wireOn(subject: string, count: number): Promise<WireFrame[]> {
    const on = () => frames.filter((f) => f.subject === subject);
    await waitFor(() => on().length >= count, 5000, `${count} frames on ${subject}`);
    return on();
  }
  const ids = (messages: Message[]) => messages.map((m) => (m.payload as { i: number }).i);
  const signed = (subject: string, sent: string | undefined, body: Uint8Array, secret = HMAC) => signFrame(secret, { subject, reply: '', sentAt: Number(sent) }, body);
  function batchHeaders(count: number, signature?: string, sent?: string) {
    const h = headers();
    h.set('Nf-Batch', String(count));
    if (signature !== undefined) h.set('Nf-Signature', signature);
    if (sent !== undefined) h.set('Nf-Sent', sent);
    return h;
  }

  beforeAll(async () => {
    server = await startNatsServer();
    wire = await connect({ servers: server.url });
    wire.subscribe('nf.>', {
      callback: (_err, m) => {
        const h = m.headers;
        frames.push({
          subject: m.subject,
          reply: m.reply || undefined,
          batch: h?.get('Nf-Batch') || undefined,
          encoding: h?.get('Nf-Encoding') || undefined,
          signature: h?.get('Nf-Signature') || undefined,
          sent: h?.get('Nf-Sent') || undefined,
          data: m.data,
        });
      },
    });
    await wire.flush();
  }, 30_000);

  afterAll(async () => {
    for (const stop of stops) await stop();
    await wire?.close();
    await server?.stop();
  });

  test('events and broadcasts of one tick travel batched per subject (at most 64 a frame) and arrive in order', async () => {
    const p = await pair('batch-order');
    for (let i = 0; i < 150; i++) {
      p.feed.publish({ topic: 'tick', payload: { i } });
      if (i % 50 === 0) p.feed.broadcast({ topic: 'halt', payload: { i } });
    }
    await waitFor(() => p.take().length === 150 + 3, 5000, 'events and broadcasts');
    expect(ids(p.got.filter((m) => m.messageType === 'event'))).toEqual(Array.from({ length: 150 }, (_, i) => i));
    expect(ids(p.got.filter((m) => m.messageType === 'broadcast'))).toEqual([0, 50, 100]);
    expect(ids(p.other.receive())).toEqual([0, 50, 100]);
    expect((await wireOn(p.subjects.topic('tick'), 3)).map((f) => f.batch)).toEqual(['64', '64', '22']);
    expect((await wireOn(p.subjects.broadcast(), 1)).map((f) => f.batch)).toEqual(['3']);
    expect(p.ta.getStats()).toMatchObject({ published: 153, batchesPublished: 4 });
    expect(p.tb.getStats()).toMatchObject({ received: 153, batchesReceived: 4 });
    expect(p.lettersB).toEqual([]);
  });

  test('requests of one tick travel as one batch carrying the reply subject; every one is answered', async () => {
    const p = await pair('batch-rr');
    const replies = await Promise.all([0, 1, 2, 3, 4].map((i) => p.feed.request({ recipientId: 'echo', topic: 'echo', payload: { i }, timeoutMs: 5000 })));
    expect(replies.map((r) => r.payload)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    const requests = await wireOn(p.subjects.agent('echo', 'medium'), 1);
    expect(requests.map((f) => [f.batch, f.reply])).toEqual([['5', p.subjects.inbox(p.ta.instanceId)]]);
  });

  test('a request refused on arrival in the other process fails at once, also for a requester not registered as an agent', async () => {
    const p = await pair('refused-rr', {}, 1);
    const first = p.busA.sendRequest({ senderId: 'outsider', recipientId: 'other', topic: 'fill', payload: 1, timeoutMs: 20_000 });
    first.catch(() => undefined);
    await waitFor(() => p.busB.getStats().queueDepth === 1, 5000, 'the first request in the mailbox of `other`');
    const started = Date.now();
    const error = await p.busA.sendRequest({ senderId: 'outsider', recipientId: 'other', topic: 'overflow', payload: 2, timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error).toMatchObject({ reason: 'queue_full' });
    expect(Date.now() - started).toBeLessThan(10_000); // not at its timeout
    expect(p.lettersB.map((d) => d.reason)).toEqual(['queue_full']);
  });

  test('a lone message goes out unchanged (no headers), and single frames from an older sender are accepted', async () => {
    const p = await pair('batch-single');
    const sent = p.feed.publish({ topic: 'tick', payload: { i: 1 } });
    await waitFor(() => p.take().length === 1, 5000, 'the lone event');
    const [lone] = await wireOn(p.subjects.topic('tick'), 1);
    expect(lone).toMatchObject({ batch: undefined, encoding: undefined, signature: undefined });
    expect(Buffer.from(lone?.data ?? []).toString('utf8')).toBe(JSON.stringify(sent));
    // An older sender: one NATS message per bus message, published back to back.
    for (const i of [2, 3, 4]) {
      const old = encodeEnvelope(createMessage({ senderId: 'old', recipientId: null, messageType: 'event', topic: 'tick', payload: { i } }, Date.now()), {});
      wire.publish(p.subjects.topic('tick'), old.body);
    }
    await wire.flush();
    await waitFor(() => p.take().length === 4, 5000, "the older sender's events");
    expect(ids(p.got)).toEqual([1, 2, 3, 4]);
    expect(p.tb.getStats().batchesReceived).toBe(0);
  });

  test('a message over 1 KiB is not batched: compressed and sent alone, between the batches before and after it', async () => {
    const p = await pair('batch-large');
    const before = p.ta.getStats().compressed;
    for (const i of [0, 1]) p.feed.publish({ topic: 'tick', payload: { i } });
    p.feed.publish({ topic: 'tick', payload: { i: 2, text: 'x'.repeat(3000) } });
    for (const i of [3, 4]) p.feed.publish({ topic: 'tick', payload: { i } });
    await waitFor(() => p.take().length === 5, 5000, 'five events');
    expect(ids(p.got)).toEqual([0, 1, 2, 3, 4]);
    expect((await wireOn(p.subjects.topic('tick'), 3)).map((f) => [f.batch, f.encoding])).toEqual([
      ['2', undefined],
      [undefined, 'gzip'],
      ['2', undefined],
    ]);
    expect(p.ta.getStats().compressed).toBe(before + 1);
  });

  test('a batch with invalid elements delivers the valid ones and dead-letters each invalid one; a malformed batch is refused whole', async () => {
    const p = await pair('batch-mixed');
    const valid = (i: number) => createMessage({ senderId: 'x', recipientId: null, messageType: 'event', topic: 'tick', payload: { i } }, Date.now());
    const body = Buffer.from(JSON.stringify([valid(0), { senderId: '', topic: 'tick', messageType: 'event' }, 'junk', valid(3), [valid(4)]]));
    wire.publish(p.subjects.topic('tick'), body, { headers: batchHeaders(5) });
    // The header and the body disagree, the body is no array, or over 64 frames: nothing of it is delivered.
    wire.publish(p.subjects.topic('tick'), Buffer.from(JSON.stringify([valid(5), valid(6)])), { headers: batchHeaders(3) });
    wire.publish(p.subjects.topic('tick'), Buffer.from(JSON.stringify(valid(7))), { headers: batchHeaders(1) });
    wire.publish(p.subjects.topic('tick'), Buffer.from('[not json'), { headers: batchHeaders(1) });
    wire.publish(p.subjects.topic('tick'), Buffer.from(JSON.stringify(Array.from({ length: 65 }, (_, i) => valid(10 + i)))), { headers: batchHeaders(65) });
    await wire.flush();
    await waitFor(() => p.lettersB.length === 3 && p.rejectedB.length === 4, 5000, 'dead letters and rejections');
    expect(ids(p.take())).toEqual([0, 3]);
    expect(p.lettersB.map((d) => d.reason)).toEqual(['invalid', 'invalid', 'invalid']);
    expect(p.busB.getStats().deadLetters.invalid).toBe(3);
    expect(p.rejectedB.map((r) => [r.reason, r.subject])).toEqual(Array.from({ length: 4 }, () => ['undecodable', p.subjects.topic('tick')]));
    expect(p.tb.getStats()).toMatchObject({ batchesReceived: 1, rejected: { undecodable: 4, unauthenticated: 0, oversized: 0 } });
  });

  test('compact elements and object elements (earlier senders) travel in one batch; a malformed compact element is dead-lettered alone', async () => {
    const p = await pair('batch-compact');
    const valid = (i: number) => createMessage({ senderId: 'x', recipientId: null, messageType: 'event', topic: 'tick', payload: { i } }, Date.now());
    const compact = (i: number) => JSON.parse(batchElementJson(valid(i))) as unknown[];
    const elements = [
      compact(0),
      valid(1),
      // What `rest` says of positional fields is not read: the element is message 2 from 'x'.
      [...compact(2), JSON.parse('{"messageId":"forged","senderId":"forged","__proto__":{"priority":"critical"},"priority":"high"}')],
      [...compact(3), []],
      [...compact(4), null, 'extra'],
      compact(5),
    ];
    wire.publish(p.subjects.topic('tick'), Buffer.from(JSON.stringify(elements)), { headers: batchHeaders(elements.length) });
    await wire.flush();
    await waitFor(() => p.take().length === 4 && p.lettersB.length === 2, 5000, 'four delivered, two dead-lettered');
    // Message 2 is of high priority: its mailbox hands it out first.
    expect(ids(p.got)).toEqual([2, 0, 1, 5]);
    expect(p.got[0]).toMatchObject({ senderId: 'x', priority: 'high' });
    expect(p.got[0]?.messageId).not.toBe('forged');
    expect(p.lettersB.map((d) => d.reason)).toEqual(['invalid', 'invalid']);
  });

  test('a batch over maxFrameBytes is refused as oversized, whole', async () => {
    const p = await pair('batch-big', { maxFrameBytes: 16 * 1024 });
    const elements = Array.from({ length: 30 }, (_, i) =>
      createMessage({ senderId: 'x', recipientId: null, messageType: 'event', topic: 'tick', payload: { i, pad: 'p'.repeat(700) } }, Date.now()),
    );
    wire.publish(p.subjects.topic('tick'), Buffer.from(JSON.stringify(elements)), { headers: batchHeaders(30) });
    await wire.flush();
    await waitFor(() => p.rejectedB.length === 1, 5000, 'the rejection');
    expect(p.rejectedB[0]).toMatchObject({ reason: 'oversized' });
    expect(p.take()).toEqual([]);
    expect(p.lettersB).toEqual([]);
    // The sender keeps its own batches under its maxFrameBytes: 15 messages of up to 1 KiB.
    for (let i = 0; i < 30; i++) p.feed.publish({ topic: 'tick', payload: { i } });
    await waitFor(() => p.take().length === 30, 5000, 'events in small batches');
    expect((await wireOn(p.subjects.topic('tick'), 3)).slice(1).map((f) => f.batch)).toEqual(['15', '15']);
  });

  test('a signed batch is verified once; a tampered or unsigned one is refused as unauthenticated, each message it claims dead-lettered', async () => {
    const p = await pair('batch-signed', { hmacSecret: HMAC });
    for (let i = 0; i < 10; i++) p.feed.publish({ topic: 'tick', payload: { i } });
    await waitFor(() => p.take().length === 10, 5000, 'signed batch');
    expect(ids(p.got)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    const [batch] = await wireOn(p.subjects.topic('tick'), 1);
    expect(batch).toMatchObject({ batch: '10', signature: signed(p.subjects.topic('tick'), batch?.sent, batch?.data ?? new Uint8Array()) });

    const tampered = Buffer.from(
      Buffer.from(batch?.data ?? [])
        .toString('utf8')
        .replace('"i":3', '"i":9'),
    );
    wire.publish(p.subjects.topic('tick'), tampered, { headers: batchHeaders(10, batch?.signature, batch?.sent) });
    wire.publish(p.subjects.topic('tick'), batch?.data ?? new Uint8Array(), { headers: batchHeaders(10) });
    await wire.flush();
    await waitFor(() => p.lettersB.length === 20, 5000, 'unauthenticated dead letters');
    expect(p.tb.getStats().rejected).toMatchObject({ unauthenticated: 2 });
    expect(p.busB.getStats().deadLetters.unauthenticated).toBe(20);
    expect(p.lettersB.every((d) => d.reason === 'unauthenticated')).toBe(true);
    expect(p.lettersB[0]).toMatchObject({ message: { senderId: 'feed' }, error: expect.stringMatching(/bad signature on nf\.batch-signed\.from\.~\.topic\.tick/) });
    expect(p.take()).toHaveLength(10);
  });

  test('a batch on a durable subject is refused (JetStream traffic is never batched)', async () => {
    const p = await pair('batch-durable');
    const command = createMessage({ senderId: 'x', recipientId: 'other', messageType: 'command', topic: 'do' }, Date.now());
    await jetstream(wire).publish(p.subjects.durable('other', 'medium'), Buffer.from(JSON.stringify([command])), { headers: batchHeaders(1) });
    await waitFor(() => p.rejectedB.length === 1, 5000, 'the rejection');
    expect(p.rejectedB[0]).toMatchObject({ reason: 'undecodable', detail: expect.stringContaining('durable') });
    expect(p.other.receive()).toEqual([]);
  });
});
