import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { connect, headers } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { parseFrame, parseMessage, type Message } from '../src/bus/message';
import type { AnyDeadLetter } from '../src/bus/deadLetter';
import { createNeuroFlux, type NeuroFlux } from '../src/kernel/createNeuroFlux';
import { nats, NatsTransport, Subjects, subjectToken, decodeEnvelope, encodeEnvelope, type TransportRejection } from '../src/transport';
import { subjectsOverlap } from '../src/transport/subjects';
import { topicMatches } from '../src/bus/topicPattern';
import { describeWithServer, NATS_SERVER_BIN, startNatsServer, waitFor, type TestServer } from './support/servers';

const HMAC = 'test-secret-0123456789';

function startHost(url: string, namespace: string, secret?: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'support', 'natsAgentHost.ts'), url, namespace, ...(secret ? [secret] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: join(__dirname, '..'),
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent host did not start: ${err}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent host exited with ${code}: ${err}`));
    });
  });
}

function stopHost(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

describe('envelope and subjects (no server)', () => {
  const message: Message = {
    messageId: 'm1', senderId: 'a', recipientId: 'b', messageType: 'command', priority: 'high', topic: 't',
    payload: { text: 'x'.repeat(5000) }, timestamp: 1, ttl: 300, retryCount: 0, maxRetries: 3,
  };
  const opts = { hmacSecret: HMAC, maxFrameBytes: 1024 * 1024 };

  test('payloads over 1 KiB are gzip-compressed and flagged; a signed frame round-trips', () => {
    const env = encodeEnvelope(message, { hmacSecret: HMAC });
    expect(env.headers['Nf-Encoding']).toBe('gzip');
    expect(env.body.byteLength).toBeLessThan(1000);
    expect(decodeEnvelope(env.body, (h) => env.headers[h], opts)).toEqual({ ok: true, frame: message });
    const small = encodeEnvelope({ ...message, payload: 1 }, {});
    expect(small.headers['Nf-Encoding']).toBeUndefined();
  });

  test('unsigned, tampered, oversized and zip-bomb frames are refused with a reason', () => {
    const env = encodeEnvelope(message, { hmacSecret: HMAC });
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
    expect(s.agent('risk_agent', 'critical')).toBe('nf.prod.agent.risk_agent.critical');
    expect(subjectToken('a.b *')).toMatch(/^~[A-Za-z0-9_-]+$/);
    expect(s.topic('market.*.btc')).toBe('nf.prod.topic.market.*.btc');
    expect(s.topic('market.>')).toBe('nf.prod.topic.market.>');
  });

  test('a frame is validated exactly as the message schema does, on the fast path as on the schema path', () => {
    // Frames come from JSON.parse: only JSON values, including a `__proto__` own key.
    const values: unknown[] = [
      undefined, null, '', 'x', 0, -0, -1, 1.5, 3, 300, 2 ** 53, true, [], {}, ['a'], { a: 'b' }, { a: 1 },
      JSON.parse('{"__proto__":"p","k":"v"}'), JSON.parse('{"__proto__":{"polluted":"yes"},"k":"v"}'), 'event', 'request', 'medium', 'critical', 'bogus',
    ];
    const fields = ['messageId', 'senderId', 'recipientId', 'messageType', 'priority', 'topic', 'payload', 'timestamp', 'correlationId', 'ttl', 'retryCount', 'maxRetries', 'headers', 'metadata', 'extra'];
    const base = { messageId: 'm1', senderId: 'a', recipientId: 'b', messageType: 'request', priority: 'high', topic: 't', payload: { n: 1 }, timestamp: 5, correlationId: 'c', ttl: 30, retryCount: 1, maxRetries: 2, headers: { h: 'v' }, metadata: { k: 1 } };
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
    await stopHost(host, 'SIGKILL');
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
    const raw = await connect({ servers: server.url });
    const subjects = new Subjects(namespace);
    const good = encodeEnvelope(
      { messageId: 'x1', senderId: 'evil', recipientId: 'local', messageType: 'event', priority: 'medium', topic: 't', payload: {}, timestamp: Date.now(), ttl: 300, retryCount: 0, maxRetries: 3 },
      { hmacSecret: 'wrong-secret-0123456789' },
    );
    const h = headers();
    h.set('Nf-Signature', good.headers['Nf-Signature'] as string);
    raw.publish(subjects.agent('local', 'medium'), good.body, { headers: h }); // wrong key
    raw.publish(subjects.agent('local', 'medium'), good.body); // unsigned
    raw.publish(subjects.agent('local', 'medium'), new Uint8Array(600 * 1024)); // oversized (over maxFrameBytes)
    const junk = Buffer.from('{"not":"a message"}');
    const hj = headers();
    hj.set('Nf-Signature', require('node:crypto').createHmac('sha256', HMAC).update(junk).digest('hex'));
    raw.publish(subjects.agent('local', 'medium'), junk, { headers: hj }); // signed but invalid
    await raw.flush();
    await waitFor(() => rejections.length >= 3 && deadLetters.some((d) => d.reason === 'invalid'), 5000, 'rejections');
    expect(transport.getStats().rejected).toMatchObject({ unauthenticated: 2, oversized: 1 });
    expect(nf.bus.getStats().deadLetters.invalid).toBe(1);
    // Unsigned and tampered frames are also dead letters of the bus, with what they claimed.
    await waitFor(() => deadLetters.filter((d) => d.reason === 'unauthenticated').length === 2, 5000, 'unauthenticated dead letters');
    expect(nf.bus.getStats().deadLetters.unauthenticated).toBe(2);
    for (const d of deadLetters.filter((l) => l.reason === 'unauthenticated')) {
      expect(d).toMatchObject({ message: { senderId: 'evil', messageId: 'x1' }, error: expect.stringMatching(/(unsigned frame|bad signature) on nf\.xproc\.agent\.local\.medium/) });
    }
    expect(received.some((m) => m.senderId === 'evil')).toBe(false);
    // The bus still works.
    const reply = await nf.bus.sendRequest({ senderId: 'local', recipientId: 'host', topic: 'echo', payload: 2, timeoutMs: 5000 });
    expect(reply.payload).toMatchObject({ echo: 2 });
    await raw.close();
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
    const nc = await connect({ servers: server.url });
    expect((await (await jetstreamManager(nc)).streams.info(subjects.stream())).state.messages).toBe(0);
    await nc.close();
    expect(lettersA).toEqual([]);
  }, 20_000);

  test('a durable message that reaches the delivery cap unacknowledged (its consumer died) is moved to nf.<ns>.dlq and dead-lettered once', async () => {
    // A consumer that takes deliveries and never acknowledges them: a process that keeps crashing.
    const nc = await connect({ servers: server.url });
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
    const messages = await consumer.consume();
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
    await messages.close();
    await nc.close();
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
