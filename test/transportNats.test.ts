import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { connect, headers } from '@nats-io/transport-node';
import type { Message } from '../src/bus/message';
import type { AnyDeadLetter } from '../src/bus/deadLetter';
import { createNeuroFlux, type NeuroFlux } from '../src/kernel/createNeuroFlux';
import { nats, NatsTransport, Subjects, subjectToken, decodeEnvelope, encodeEnvelope, type TransportRejection } from '../src/transport';
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
