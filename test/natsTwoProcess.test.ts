/**
 * Issue #8, "All bus and orchestrator behaviours over NATS across two processes": the test
 * process runs one NeuroFlux, a forked peer process (test/support/natsPeer.ts) runs another,
 * both on one private `nats-server -js`. The peer is driven over IPC and reports what its
 * agents really received, so every assertion is on data that crossed the process boundary.
 *
 * One server and one peer process for the file; each test opens a fresh runtime on both
 * sides in its own namespace (closed in afterEach).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  createNeuroFlux,
  DeliveryFailedError,
  RequestTimeoutError,
  type AgentHandle,
  type AnyDeadLetter,
  type DeadLetter,
  type Message,
  type MessageHandler,
  type NeuroFlux,
  type TaskEvent,
  type TaskInput,
  type TaskRecord,
} from '../src';
import type { AgentMessageInput } from '../src/bus/agentHandle';
import type { RequestArgs } from '../src/bus/communicationBus';
import type { MessagePriority } from '../src/bus/message';
import { nats, Subjects, type NatsTransport } from '../src/transport';
import type { PeerBehaviour, PeerCommand, PeerError, PeerEvent, PeerReply, PeerStartOptions, PeerStats, TaskStep, WorkResult, WorkSpec } from './support/natsPeer';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, NATS_SERVER_BIN, startNatsServer, waitFor, type TestServer } from './support/servers';

const ROOT = join(__dirname, '..');
const PEER_SCRIPT = join(__dirname, 'support', 'natsPeer.ts');
const SECRET = 'two-process-secret-0123456789';
const WRONG_SECRET = 'not-the-secret-9876543210';

/** Only to prove that something did NOT happen: short. */
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** An error thrown in the peer process, rebuilt on this side of IPC. */
class PeerCallError extends Error implements PeerError {
  readonly code?: string;
  readonly recipientId?: string;
  readonly reason?: string;
  constructor(readonly remote: PeerError) {
    super(`peer: ${remote.name}: ${remote.message}`);
    this.name = remote.name;
    if (remote.code !== undefined) this.code = remote.code;
    if (remote.recipientId !== undefined) this.recipientId = remote.recipientId;
    if (remote.reason !== undefined) this.reason = remote.reason;
  }
}

type TaskStepEvent = Extract<PeerEvent, { event: 'task' }>;

/** The peer OS process: IPC calls, and everything it pushed. */
class PeerProcess {
  readonly events: PeerEvent[] = [];
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 0;
  private output = '';
  pid = 0;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.on('message', (raw: PeerEvent | PeerReply) => {
      if ('event' in raw) {
        this.events.push(raw);
        return;
      }
      const call = this.calls.get(raw.id);
      if (!call) return;
      this.calls.delete(raw.id);
      clearTimeout(call.timer);
      if (raw.ok) call.resolve(raw.value);
      else call.reject(new PeerCallError(raw.error));
    });
    child.once('exit', (code, signal) => {
      for (const call of this.calls.values()) {
        clearTimeout(call.timer);
        call.reject(new Error(`peer exited (${code ?? signal}) during a call:\n${this.output}`));
      }
      this.calls.clear();
    });
  }

  static start(url: string): Promise<PeerProcess> {
    const child = fork(PEER_SCRIPT, [url], { cwd: ROOT, execArgv: ['-r', '@swc-node/register'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const peer = new PeerProcess(child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`peer did not start within 30 s:\n${peer.output}`));
      }, 30_000);
      const onMessage = (m: PeerEvent | PeerReply) => {
        if (!('event' in m) || m.event !== 'ready') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        peer.pid = m.pid;
        resolve(peer);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`peer exited with ${code} before it was ready:\n${peer.output}`));
      });
    });
  }

  call<T>(cmd: PeerCommand, timeoutMs = 10_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new Error(`peer did not answer ${cmd.op} within ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ id, cmd });
    });
  }

  /** Asks the peer to stop its runtimes and exit; SIGKILL if it does not within 5 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (child.connected) child.send({ id: -1, cmd: { op: 'exit' } satisfies PeerCommand });
      else child.kill('SIGKILL');
    });
  }
}

/** One runtime in the peer process (its own namespace, or a second one in the same). */
class PeerRuntime {
  constructor(
    private readonly peer: PeerProcess,
    readonly instance: string,
  ) {}

  get pid(): number {
    return this.peer.pid;
  }

  register(agentId: string, behaviour: PeerBehaviour, options: { topics?: string[]; concurrency?: number } = {}): Promise<boolean> {
    return this.peer.call({ op: 'register', instance: this.instance, agentId, behaviour, ...options });
  }
  send(from: string, message: AgentMessageInput): Promise<Message> {
    return this.peer.call({ op: 'send', instance: this.instance, from, message });
  }
  publish(from: string, args: { topic: string; payload?: unknown; priority?: MessagePriority }): Promise<Message> {
    return this.peer.call({ op: 'publish', instance: this.instance, from, args });
  }
  broadcast(from: string, args: { topic: string; payload?: unknown; priority?: MessagePriority }): Promise<Message> {
    return this.peer.call({ op: 'broadcast', instance: this.instance, from, args });
  }
  request(from: string, args: Omit<RequestArgs, 'senderId'>): Promise<Message> {
    return this.peer.call({ op: 'request', instance: this.instance, from, args });
  }
  release(agentId: string): Promise<boolean> {
    return this.peer.call({ op: 'release', instance: this.instance, agentId });
  }
  stats(): Promise<PeerStats> {
    return this.peer.call({ op: 'stats', instance: this.instance });
  }
  stop(): Promise<boolean> {
    return this.peer.call({ op: 'stop', instance: this.instance });
  }

  /** Messages the peer agent's handler was called with, in order. */
  received(agentId: string): Message[] {
    const out: Message[] = [];
    for (const e of this.peer.events) if (e.event === 'received' && e.instance === this.instance && e.agentId === agentId) out.push(e.message);
    return out;
  }
  topics(agentId: string): string[] {
    return this.received(agentId).map((m) => m.topic);
  }
  deadLetters(): AnyDeadLetter[] {
    const out: AnyDeadLetter[] = [];
    for (const e of this.peer.events) if (e.event === 'deadLetter' && e.instance === this.instance) out.push(e.letter);
    return out;
  }
  /** Task protocol steps of the peer's worker agents, in order. */
  steps(kind?: TaskStep['kind']): TaskStepEvent[] {
    const out: TaskStepEvent[] = [];
    for (const e of this.peer.events) if (e.event === 'task' && e.instance === this.instance && (kind === undefined || e.kind === kind)) out.push(e);
    return out;
  }
}

interface LocalAgent {
  topics?: string[];
  /** Runs after the message is recorded. */
  handler?: MessageHandler;
}

/** This process's runtime and the peer's, on one namespace. */
interface Pair {
  readonly namespace: string;
  readonly nf: NeuroFlux;
  readonly transport: NatsTransport;
  readonly peer: PeerRuntime;
  readonly deadLetters: AnyDeadLetter[];
  agent(agentId: string): AgentHandle;
  /** Messages a local agent was handed, in order. */
  got(agentId: string): Message[];
  /** Another runtime in the peer process on the same namespace. */
  openPeer(instance: string, options?: Omit<PeerStartOptions, 'instance' | 'namespace'>): Promise<PeerRuntime>;
}

describeWithServer(NATS_SERVER_BIN, 'NATS across two OS processes (own nats-server -js, forked peer)', () => {
  let server: TestServer;
  let peerProcess: PeerProcess | undefined;
  const cleanup = cleanupAfterEach();
  let namespaces = 0;

  beforeAll(async () => {
    server = await startNatsServer();
    peerProcess = await PeerProcess.start(server.url);
  }, 40_000);

  afterAll(async () => {
    await peerProcess?.stop();
    await server?.stop();
  }, 20_000);

  /**
   * Starts a runtime here (with `agents`, registered before start so their subscriptions
   * and consumers exist once it resolves) and one in the peer, on a fresh namespace.
   */
  async function pair(
    options: {
      agents?: Record<string, LocalAgent>;
      hmacSecret?: string;
      peer?: Omit<PeerStartOptions, 'instance' | 'namespace'>;
      configure?: (nf: NeuroFlux) => void;
    } = {},
  ): Promise<Pair> {
    const peerProc = peerProcess as PeerProcess;
    const namespace = `two-${++namespaces}`;
    const transport = nats({ servers: [server.url], namespace, name: 'test-process', ...(options.hmacSecret !== undefined && { hmacSecret: options.hmacSecret }) });
    const nf = createNeuroFlux({ transport });
    const deadLetters: AnyDeadLetter[] = [];
    nf.bus.deadLetters$.subscribe((d) => deadLetters.push(d));
    const received = new Map<string, Message[]>();
    for (const [agentId, agent] of Object.entries(options.agents ?? {})) {
      received.set(agentId, []);
      nf.bus.registerAgent(agentId, {
        ...(agent.topics && { topics: agent.topics }),
        handler: (message, handle) => {
          received.get(agentId)?.push(message);
          return agent.handler?.(message, handle);
        },
      });
    }
    options.configure?.(nf);
    cleanup.add(nf);
    await nf.start();
    const openPeer = async (instance: string, peerOptions: Omit<PeerStartOptions, 'instance' | 'namespace'> = {}) => {
      const name = `${namespace}/${instance}`;
      cleanup.defer(() => peerProc.call({ op: 'stop', instance: name }));
      await peerProc.call({ op: 'start', instance: name, namespace, ...peerOptions });
      return new PeerRuntime(peerProc, name);
    };
    const peer = await openPeer('main', options.peer);
    return {
      namespace,
      nf,
      transport,
      peer,
      deadLetters,
      agent: (agentId) => {
        const handle = nf.bus.getAgent(agentId);
        if (!handle) throw new Error(`no local agent ${agentId}`);
        return handle;
      },
      got: (agentId) => received.get(agentId) ?? [],
      openPeer,
    };
  }

  /** Messages of one namespace's JetStream streams: the dead-letter stream's entries and the work queue's depth. */
  async function streams(namespace: string): Promise<{ workQueue: number; dlq: { reason?: string; agent?: string; deliveries?: string; messageId: string }[] }> {
    const subjects = new Subjects(namespace);
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      const workQueue = (await jsm.streams.info(subjects.stream())).state.messages;
      const info = await jsm.streams.info(subjects.dlqStream());
      const dlq: { reason?: string; agent?: string; deliveries?: string; messageId: string }[] = [];
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(subjects.dlqStream(), { seq }).catch(() => null);
        if (!m) continue;
        dlq.push({
          reason: m.header.get('Nf-Dead-Reason') || undefined,
          agent: m.header.get('Nf-Dead-Agent') || undefined,
          deliveries: m.header.get('Nf-Dead-Deliveries') || undefined,
          messageId: (JSON.parse(m.string()) as { messageId: string }).messageId,
        });
      }
      return { workQueue, dlq };
    } finally {
      await nc.close();
    }
  }

  const essentials = (m: Message) => ({
    messageId: m.messageId,
    senderId: m.senderId,
    recipientId: m.recipientId,
    messageType: m.messageType,
    priority: m.priority,
    topic: m.topic,
    payload: m.payload,
  });

  // ------------------------------------------------------------------ bus

  describe('bus', () => {
    test('commands (JetStream) cross in both directions, intact and once', async () => {
      const ctx = await pair({ agents: { local: {} } });
      await ctx.peer.register('remote', 'record');
      const local = ctx.agent('local');
      const sent = [
        local.send({ recipientId: 'remote', messageType: 'command', topic: 'do.work', payload: { n: 1, list: [1, 2] }, priority: 'high' }),
        local.send({ recipientId: 'remote', messageType: 'notification', topic: 'fyi', payload: { n: 2 }, priority: 'low' }),
      ];
      await waitFor(() => ctx.peer.received('remote').length >= 2, 5000, 'both messages in the peer');

      const back = [
        await ctx.peer.send('remote', { recipientId: 'local', messageType: 'command', topic: 'done', payload: { ok: true }, priority: 'critical' }),
        await ctx.peer.send('remote', { recipientId: 'local', messageType: 'notification', topic: 'note', payload: 'text' }),
      ];
      await waitFor(() => ctx.got('local').length >= 2, 5000, 'both messages back here');
      await pause(100); // nothing more comes (no duplicates)

      const byTopic = (a: { topic: string }, b: { topic: string }) => a.topic.localeCompare(b.topic);
      expect(ctx.peer.received('remote').map(essentials).sort(byTopic)).toEqual(sent.map(essentials).sort(byTopic));
      expect(ctx.peer.received('remote')[0]).toMatchObject({ senderId: 'local', recipientId: 'remote' });
      expect(ctx.got('local').map(essentials).sort(byTopic)).toEqual(back.map(essentials).sort(byTopic));
      expect(back.map((m) => m.senderId)).toEqual(['remote', 'remote']);
      expect(ctx.got('local').find((m) => m.topic === 'done')).toMatchObject({ priority: 'critical', payload: { ok: true }, messageType: 'command' });
      await waitFor(async () => (await streams(ctx.namespace)).workQueue === 0, 5000, 'all acknowledged');
      expect(ctx.deadLetters).toEqual([]);
      expect(ctx.peer.deadLetters()).toEqual([]);
    });

    test('direct events (core, recipientId set) reach the agent in the other process, both directions', async () => {
      const ctx = await pair({ agents: { local: {} } });
      await ctx.peer.register('remote', 'record');
      const sent = ctx.agent('local').send({ recipientId: 'remote', messageType: 'event', topic: 'fyi', payload: { n: 2 }, priority: 'low' });
      const back = await ctx.peer.send('remote', { recipientId: 'local', messageType: 'event', topic: 'note', payload: 'text', priority: 'high' });
      await waitFor(() => ctx.peer.received('remote').length >= 1 && ctx.got('local').length >= 1, 1500, 'the direct events on both sides');
      expect(ctx.peer.received('remote').map(essentials)).toEqual([essentials(sent)]);
      expect(ctx.got('local').map(essentials)).toEqual([essentials(back)]);
    });

    test('request/response across processes, both directions; concurrent requests each get their own answer', async () => {
      const ctx = await pair({
        agents: {
          local: {},
          answerer: { handler: (m, agent) => void (m.messageType === 'request' && agent.respond(m, { doubled: (m.payload as { n: number }).n * 2, pid: process.pid })) },
        },
      });
      await ctx.peer.register('echo', 'echo');
      const local = ctx.agent('local');

      const reply = await local.request({ recipientId: 'echo', topic: 'ping', payload: { q: 1 }, timeoutMs: 5000 });
      expect(reply).toMatchObject({ messageType: 'response', senderId: 'echo', recipientId: 'local', payload: { echo: { q: 1 }, agentId: 'echo', pid: ctx.peer.pid } });
      expect(ctx.peer.pid).not.toBe(process.pid);
      expect(ctx.peer.received('echo')).toEqual([expect.objectContaining({ messageType: 'request', senderId: 'local', topic: 'ping', correlationId: reply.correlationId })]);

      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => local.request({ recipientId: 'echo', topic: 'ping', payload: { i }, timeoutMs: 5000 })));
      expect(replies.map((r) => (r.payload as { echo: { i: number } }).echo.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));

      // The other way: an agent in the peer asks an agent here.
      const back = await ctx.peer.request('echo', { recipientId: 'answerer', topic: 'double', payload: { n: 21 }, timeoutMs: 5000 });
      expect(back).toMatchObject({ messageType: 'response', senderId: 'answerer', recipientId: 'echo', payload: { doubled: 42, pid: process.pid } });
      expect(ctx.got('answerer')).toEqual([expect.objectContaining({ messageType: 'request', senderId: 'echo', payload: { n: 21 } })]);
      expect(ctx.nf.bus.getStats().pendingResponses).toBe(0);
      expect(ctx.deadLetters).toEqual([]);
      expect(ctx.peer.deadLetters()).toEqual([]);
    });

    test('a request to a peer agent that never answers rejects with RequestTimeoutError naming it (the peer did get it); a late answer is an orphan', async () => {
      const ctx = await pair({ agents: { local: {}, 'local-silent': {} } });
      await ctx.peer.register('silent', 'record');
      await ctx.peer.register('slow', 'echo');
      const started = Date.now();
      const error = await ctx
        .agent('local')
        .request({ recipientId: 'silent', topic: 'anyone', payload: { x: 1 }, timeoutMs: 300 })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(RequestTimeoutError);
      expect(error).toMatchObject({ code: 'ERR_REQUEST_TIMEOUT', recipientId: 'silent', topic: 'anyone', timeoutMs: 300 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(ctx.peer.received('silent')).toEqual([expect.objectContaining({ messageType: 'request', senderId: 'local', payload: { x: 1 } })]);
      expect(ctx.nf.bus.getStats().pendingResponses).toBe(0);

      // An answer that comes after the timeout resolves nothing: an orphan_response dead letter here.
      await expect(ctx.agent('local').request({ recipientId: 'slow', topic: 'late', payload: { delayMs: 400 }, timeoutMs: 200 })).rejects.toBeInstanceOf(RequestTimeoutError);
      await waitFor(() => ctx.deadLetters.length >= 1, 5000, 'the late answer');
      const request = ctx.peer.received('slow')[0] as Message;
      expect(ctx.deadLetters).toEqual([
        expect.objectContaining({
          reason: 'orphan_response',
          message: expect.objectContaining({ messageType: 'response', senderId: 'slow', correlationId: request.correlationId }),
        }),
      ]);
      expect(ctx.got('local')).toEqual([]);

      // The other way round: the peer's request to a silent agent here times out in the peer.
      await expect(ctx.peer.request('silent', { recipientId: 'local-silent', topic: 'q', payload: 7, timeoutMs: 300 })).rejects.toMatchObject({
        name: 'RequestTimeoutError',
        code: 'ERR_REQUEST_TIMEOUT',
        recipientId: 'local-silent',
      });
      expect(ctx.got('local-silent')).toEqual([expect.objectContaining({ messageType: 'request', senderId: 'silent', payload: 7 })]);
    });

    test('topic publish/subscribe across processes with * and > patterns: each subscriber once, nothing else', async () => {
      const ctx = await pair({ agents: { feed: {}, watcher: { topics: ['alerts.>'] } } });
      await ctx.peer.register('prices', 'record', { topics: ['market.*.price'] });
      await ctx.peer.register('all-market', 'record', { topics: ['market.>'] });
      await ctx.peer.register('both', 'record', { topics: ['market.*.price', 'market.>'] });
      await ctx.peer.register('news', 'record', { topics: ['news.*'] });
      const feed = ctx.agent('feed');
      for (const topic of [
        'market.btc.price', // prices, all-market, both
        'market.eth.volume.24h', // all-market, both
        'market', // nobody: > needs one more token
        'news.sports.football', // nobody: * is one token
        'news.sports', // news
        'marketing.btc.price', // nobody
        'market.end.price', // prices, all-market, both (last)
        'news.end', // news (last)
      ]) {
        feed.publish({ topic, payload: { topic } });
      }
      await waitFor(
        () => ['prices', 'all-market', 'both'].every((a) => ctx.peer.topics(a).includes('market.end.price')) && ctx.peer.topics('news').includes('news.end'),
        5000,
        'the last events in the peer',
      );
      await pause(100);
      expect(ctx.peer.topics('prices')).toEqual(['market.btc.price', 'market.end.price']);
      expect(ctx.peer.topics('all-market')).toEqual(['market.btc.price', 'market.eth.volume.24h', 'market.end.price']);
      expect(ctx.peer.topics('both')).toEqual(['market.btc.price', 'market.eth.volume.24h', 'market.end.price']);
      expect(ctx.peer.topics('news')).toEqual(['news.sports', 'news.end']);
      expect(ctx.peer.received('prices')[0]).toMatchObject({ messageType: 'event', senderId: 'feed', recipientId: null, payload: { topic: 'market.btc.price' } });

      // From the peer to a subscriber here.
      await ctx.peer.publish('prices', { topic: 'alerts.fire.kitchen', payload: { level: 3 }, priority: 'critical' });
      await ctx.peer.publish('prices', { topic: 'alerts', payload: {} }); // alerts.> does not match alerts
      await ctx.peer.publish('prices', { topic: 'alerts.end', payload: {} });
      await waitFor(() => ctx.got('watcher').some((m) => m.topic === 'alerts.end'), 5000, 'alerts here');
      expect(ctx.got('watcher').map((m) => [m.topic, m.senderId, m.priority])).toEqual([
        ['alerts.fire.kitchen', 'prices', 'critical'],
        ['alerts.end', 'prices', 'medium'],
      ]);

      // Subscribers on both sides: each gets it once (the publisher's process does not hear its own publish back).
      await ctx.peer.register('peer-alerts', 'record', { topics: ['alerts.*'] });
      const both = feed.publish({ topic: 'alerts.local', payload: { n: 9 } });
      await waitFor(() => ctx.peer.topics('peer-alerts').includes('alerts.local') && ctx.got('watcher').some((m) => m.topic === 'alerts.local'), 5000, 'both subscribers');
      await pause(100);
      expect(
        ctx
          .got('watcher')
          .filter((m) => m.topic === 'alerts.local')
          .map(essentials),
      ).toEqual([essentials(both)]);
      expect(ctx.peer.received('peer-alerts').map(essentials)).toEqual([essentials(both)]);
      expect(ctx.deadLetters).toEqual([]);
    });

    test("broadcast reaches every agent of the other process, and the sender's process's other agents, never the sender", async () => {
      const ctx = await pair({ agents: { local: {}, local2: {} } });
      await ctx.peer.register('b1', 'record');
      await ctx.peer.register('b2', 'record');
      const sent = ctx.agent('local').broadcast({ topic: 'emergency', payload: { action: 'halt_all_trading' }, priority: 'critical' });
      await waitFor(() => ctx.peer.received('b1').length >= 1 && ctx.peer.received('b2').length >= 1 && ctx.got('local2').length >= 1, 5000, 'the broadcast everywhere');

      const fromPeer = await ctx.peer.broadcast('b1', { topic: 'resume', payload: { at: 1 } });
      await waitFor(() => ctx.got('local').length >= 1 && ctx.got('local2').length >= 2 && ctx.peer.received('b2').length >= 2, 5000, "the peer's broadcast");
      await pause(100);
      for (const agentId of ['b1', 'b2']) {
        expect(ctx.peer.received(agentId)[0]).toEqual(expect.objectContaining({ ...essentials(sent), recipientId: null, messageType: 'broadcast', senderId: 'local' }));
      }
      expect(ctx.peer.topics('b1')).toEqual(['emergency']); // not its own broadcast
      expect(ctx.peer.topics('b2')).toEqual(['emergency', 'resume']);
      expect(ctx.got('local').map(essentials)).toEqual([essentials(fromPeer)]); // not its own
      expect(ctx.got('local2').map((m) => [m.topic, m.senderId])).toEqual([
        ['emergency', 'local'],
        ['resume', 'b1'],
      ]);
      expect(ctx.deadLetters).toEqual([]);
      expect(ctx.peer.deadLetters()).toEqual([]);
    });

    test('priority: a critical message overtakes a backlog of low ones queued for a busy agent in the other process', async () => {
      const ctx = await pair({ agents: { local: {} } });
      await ctx.peer.register('busy', 'gate');
      const local = ctx.agent('local');
      local.send({ recipientId: 'busy', messageType: 'command', topic: 'first', payload: { block: true }, priority: 'low' });
      await waitFor(() => ctx.peer.topics('busy').includes('first'), 5000, 'the peer agent busy with the first message');
      for (let i = 0; i < 5; i++) local.send({ recipientId: 'busy', messageType: 'command', topic: `low${i}`, payload: { i }, priority: 'low' });
      await waitFor(async () => (await ctx.peer.stats()).bus.queueDepth === 5, 5000, 'the low backlog in the peer mailbox');
      local.send({ recipientId: 'busy', messageType: 'command', topic: 'halt', payload: {}, priority: 'critical' });
      await waitFor(async () => (await ctx.peer.stats()).bus.queueDepth === 6, 5000, 'the critical message in the peer mailbox');
      expect(ctx.peer.topics('busy')).toEqual(['first']);
      await ctx.peer.release('busy');
      await waitFor(() => ctx.peer.received('busy').length >= 7, 5000, 'the backlog handled');
      expect(ctx.peer.topics('busy')).toEqual(['first', 'halt', 'low0', 'low1', 'low2', 'low3', 'low4']);
      // Each acknowledged once handled: the work queue is empty.
      await waitFor(async () => (await streams(ctx.namespace)).workQueue === 0, 5000, 'an empty work queue');
      expect(ctx.peer.deadLetters()).toEqual([]);
    });

    test('a durable command sent before the peer registers the agent waits in the stream and is delivered once it does', async () => {
      const ctx = await pair({ agents: { local: {} } });
      const local = ctx.agent('local');
      const command = local.send({ recipientId: 'late', messageType: 'command', topic: 'early-command', payload: { n: 1 }, priority: 'high' });
      await waitFor(async () => (await streams(ctx.namespace)).workQueue === 1, 5000, 'the command waiting in the stream');
      expect(ctx.deadLetters).toEqual([]); // handed to the transport, not dropped here

      await ctx.peer.register('late', 'record');
      await waitFor(() => ctx.peer.topics('late').includes('early-command'), 5000, 'the waiting command delivered');
      local.send({ recipientId: 'late', messageType: 'command', topic: 'after-command', payload: { n: 2 } });
      await waitFor(() => ctx.peer.topics('late').includes('after-command'), 5000, 'a later command');
      await pause(100);
      expect(ctx.peer.topics('late')).toEqual(['early-command', 'after-command']);
      expect(essentials(ctx.peer.received('late')[0] as Message)).toEqual(essentials(command));
      await waitFor(async () => (await streams(ctx.namespace)).workQueue === 0, 5000, 'the commands acknowledged');
      expect(ctx.peer.deadLetters()).toEqual([]);
    });

    test('a handler in the peer that throws is retried by redelivery, min(maxDeliver, maxRetries + 1) times, then dead-lettered max_retries', async () => {
      const ctx = await pair({ agents: { local: {} }, peer: { maxDeliver: 3, retryDelayMs: 20 } });
      await ctx.peer.register('flaky', 'throw');
      const local = ctx.agent('local');
      const twice = local.send({ recipientId: 'flaky', messageType: 'command', topic: 'explode-2', payload: { n: 1 }, maxRetries: 1 }); // 2 attempts
      const capped = local.send({ recipientId: 'flaky', messageType: 'command', topic: 'explode-3', payload: { n: 2 } }); // maxRetries 3, capped by maxDeliver 3
      const maxRetries = () => ctx.peer.deadLetters().filter((d): d is DeadLetter => d.reason === 'max_retries');
      await waitFor(() => maxRetries().length >= 2, 10_000, 'two max_retries dead letters in the peer');
      await waitFor(async () => (await streams(ctx.namespace)).dlq.length >= 2, 5000, 'two entries in the dead-letter stream');
      await pause(150); // no further attempt

      const attempts = (id: string) => ctx.peer.received('flaky').filter((m) => m.messageId === id);
      expect(attempts(twice.messageId).map((m) => m.retryCount)).toEqual([0, 0]); // redeliveries, no local retries on top
      expect(attempts(capped.messageId).map((m) => m.retryCount)).toEqual([0, 0, 0]);
      expect(ctx.peer.received('flaky')).toHaveLength(5);
      expect(
        maxRetries()
          .map((d) => ({ id: d.message.messageId, agentId: d.agentId, error: d.error }))
          .sort((a, b) => a.error!.localeCompare(b.error!)),
      ).toEqual([
        { id: twice.messageId, agentId: 'flaky', error: 'cannot handle explode-2' },
        { id: capped.messageId, agentId: 'flaky', error: 'cannot handle explode-3' },
      ]);
      expect(ctx.peer.deadLetters()).toHaveLength(2);
      const { bus, transport } = await ctx.peer.stats();
      expect(bus).toMatchObject({ messagesFailed: 5, messagesRetried: 3 });
      expect(transport).toMatchObject({ redelivered: 3, deadLettered: 2 });
      const { workQueue, dlq } = await streams(ctx.namespace);
      expect(workQueue).toBe(0);
      expect(dlq.sort((a, b) => (a.deliveries ?? '').localeCompare(b.deliveries ?? ''))).toEqual([
        { reason: 'max_retries', agent: 'flaky', deliveries: '2', messageId: twice.messageId },
        { reason: 'max_retries', agent: 'flaky', deliveries: '3', messageId: capped.messageId },
      ]);
      expect(ctx.deadLetters).toEqual([]); // the sender's process records nothing
    });

    test('a request whose handler in the peer keeps failing rejects with DeliveryFailedError once the peer dead-letters it, not at its timeout', async () => {
      const ctx = await pair({ agents: { local: {} } });
      await ctx.peer.register('flaky', 'throw');
      const error = await ctx
        .agent('local')
        .request({ recipientId: 'flaky', topic: 'explode', payload: {}, timeoutMs: 15_000 })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(DeliveryFailedError);
      expect(error).toMatchObject({ recipientId: 'flaky', topic: 'explode', reason: 'max_retries', detail: 'cannot handle explode' });
      expect(ctx.peer.deadLetters().map((d) => d.reason)).toEqual(['max_retries']);
      expect(ctx.deadLetters).toEqual([]);
    });

    test("TTL: a message that expires waiting in the stream, or in a busy agent's mailbox in the other process, is dead-lettered expired and never handled", async () => {
      const ctx = await pair({ agents: { local: {} } });
      await ctx.peer.register('busy', 'gate');
      const local = ctx.agent('local');
      local.send({ recipientId: 'busy', messageType: 'command', topic: 'block', payload: { block: true } });
      await waitFor(() => ctx.peer.topics('busy').includes('block'), 5000, 'the peer agent busy');
      const sentAt = Date.now();
      const short = local.send({ recipientId: 'busy', messageType: 'command', topic: 'short', payload: {}, ttl: 0.3 });
      const long = local.send({ recipientId: 'busy', messageType: 'command', topic: 'long', payload: {} });
      const stale = local.send({ recipientId: 'late-ttl', messageType: 'command', topic: 'stale', payload: {}, ttl: 0.3 });
      await waitFor(async () => (await ctx.peer.stats()).bus.queueDepth === 2, 5000, 'both messages in the busy mailbox');
      // Time must pass for a TTL to run out: wait until it has (not a fixed sleep).
      await waitFor(() => Date.now() - sentAt > 400, 2000, 'the short TTL to pass');
      await ctx.peer.register('late-ttl', 'record');
      await ctx.peer.release('busy');
      await waitFor(() => ctx.peer.deadLetters().filter((d) => d.reason === 'expired').length >= 2, 5000, 'two expired dead letters in the peer');
      await waitFor(() => ctx.peer.topics('busy').includes('long'), 5000, 'the long-lived message handled');
      await pause(100);
      expect(ctx.peer.topics('busy')).toEqual(['block', 'long']);
      expect(ctx.peer.received('late-ttl')).toEqual([]);
      const expired = ctx.peer.deadLetters().filter((d): d is DeadLetter => d.reason === 'expired');
      expect(expired.map((d) => d.message.messageId).sort()).toEqual([short.messageId, stale.messageId].sort());
      expect(expired.find((d) => d.message.messageId === short.messageId)).toMatchObject({ agentId: 'busy', message: { topic: 'short', ttl: 0.3 } });
      expect(long.messageId).not.toBe(short.messageId);
      // Given up for good: in the dead-letter stream, out of the work queue.
      await waitFor(async () => (await streams(ctx.namespace)).dlq.length === 2, 5000, 'the dead-letter stream');
      const { workQueue, dlq } = await streams(ctx.namespace);
      expect(dlq.map((d) => d.reason)).toEqual(['expired', 'expired']);
      expect(workQueue).toBe(0);
      expect(ctx.deadLetters).toEqual([]);
    });

    test('signed namespace: a peer with the wrong hmacSecret routes nothing and dead-letters every frame as unauthenticated; the right secret works', async () => {
      const ctx = await pair({ agents: { local: {} }, hmacSecret: SECRET, peer: { hmacSecret: WRONG_SECRET } });
      const wrong = ctx.peer;
      await wrong.register('target', 'echo', { topics: ['signed.>'] });
      const right = await ctx.openPeer('right', { hmacSecret: SECRET });
      await right.register('friend', 'echo');
      const local = ctx.agent('local');

      const sent = [
        local.send({ recipientId: 'target', messageType: 'command', topic: 'cmd', payload: { n: 1 } }),
        local.publish({ topic: 'signed.news', payload: { n: 3 } }),
        local.broadcast({ topic: 'everyone', payload: { n: 4 } }),
      ];
      await expect(local.request({ recipientId: 'target', topic: 'req', payload: { n: 5 }, timeoutMs: 300 })).rejects.toBeInstanceOf(RequestTimeoutError);
      // The same traffic is fine for the peer runtime that has the secret.
      const reply = await local.request({ recipientId: 'friend', topic: 'req', payload: { n: 6 }, timeoutMs: 5000 });
      expect(reply.payload).toMatchObject({ echo: { n: 6 }, agentId: 'friend' });
      await waitFor(() => right.topics('friend').includes('everyone'), 5000, 'the broadcast in the signed peer runtime');

      const unauthenticated = () => wrong.deadLetters().filter((d): d is DeadLetter => d.reason === 'unauthenticated');
      await waitFor(() => unauthenticated().length >= 4, 5000, 'four unauthenticated dead letters in the wrong-secret runtime');
      await pause(100);
      expect(wrong.received('target')).toEqual([]);
      const letters = unauthenticated();
      expect(letters).toHaveLength(4);
      expect(letters.map((d) => d.message.topic).sort()).toEqual(['cmd', 'everyone', 'req', 'signed.news']);
      for (const m of sent) expect(letters.find((d) => d.message.messageId === m.messageId)).toBeDefined();
      for (const d of letters) {
        expect(d.message.senderId).toBe('local');
        expect(d.error).toMatch(new RegExp(`bad signature on nf\\.${ctx.namespace}\\.`));
      }
      expect(wrong.deadLetters()).toHaveLength(4);
      expect((await wrong.stats()).transport.rejected.unauthenticated).toBe(4);

      // The other way: the wrong-secret runtime's frames are refused here.
      const forged = await wrong.send('target', { recipientId: 'local', messageType: 'command', topic: 'forged', payload: {} });
      await waitFor(() => ctx.deadLetters.some((d) => d.reason === 'unauthenticated'), 5000, 'an unauthenticated dead letter here');
      await pause(100);
      expect(ctx.got('local')).toEqual([]);
      expect(ctx.deadLetters).toEqual([
        expect.objectContaining({ reason: 'unauthenticated', message: expect.objectContaining({ messageId: forged.messageId, senderId: 'target' }) }),
      ]);
      expect(ctx.nf.bus.getStats().deadLetters.unauthenticated).toBe(1);
      expect(right.deadLetters()).toEqual([]);
    });
  });

  // ------------------------------------------------------------------ orchestrator

  describe('orchestrator with remote agents in the peer', () => {
    const work = (spec: WorkSpec) => spec;
    const resultOf = (record: TaskRecord | undefined) => record?.result as WorkResult | undefined;
    /**
     * The peer reports its protocol steps over IPC, the results travel over NATS: the
     * orchestrator may see a result before this process has the peer's report of it.
     */
    const stepsArrived = (peer: PeerRuntime, kind: TaskStep['kind'], count: number) =>
      waitFor(() => peer.steps(kind).length >= count, 5000, `${count} '${kind}' steps reported by the peer`);

    /** A pair whose local orchestrator knows the peer's workers by capabilities only (no `execute`). */
    async function orchestration(workers: Record<string, number>): Promise<Pair> {
      const ctx = await pair({
        configure: (nf) => {
          for (const [agentId, max] of Object.entries(workers)) nf.orchestrator.registerAgent(agentId, { capabilities: ['compute'], maxConcurrentTasks: max });
        },
      });
      for (const agentId of Object.keys(workers)) await ctx.peer.register(agentId, 'worker');
      // The remote agents are not on this bus: no local agent was made for them.
      for (const agentId of Object.keys(workers)) expect(ctx.nf.bus.getAgent(agentId)).toBeUndefined();
      return ctx;
    }

    test('tasks run on remote agents in the peer and complete with their results (both remote agents work)', async () => {
      const ctx = await orchestration({ 'worker-1': 1, 'worker-2': 1 });
      const transitions: string[] = [];
      ctx.nf.orchestrator.events$.subscribe((e: TaskEvent) => e.type === 'task_transition' && e.taskId === 't1' && transitions.push(e.state));
      const tasks: TaskInput[] = [1, 2, 3, 4].map((n) => ({ taskId: `t${n}`, requiredCapabilities: ['compute'], payload: work({ value: n * 10, workMs: 20 }) }));
      ctx.nf.orchestrator.submitWorkflow({ tasks });
      const records = await ctx.nf.orchestrator.waitForWorkflow(['t1', 't2', 't3', 't4']);
      for (const [i, record] of records.entries()) {
        expect(record).toMatchObject({ status: 'completed', retryCount: 0, error: null });
        expect(resultOf(record)).toEqual({ value: (i + 1) * 10, taskId: `t${i + 1}`, attempt: 0, agentId: record.assignedAgent, pid: ctx.peer.pid });
      }
      expect(new Set(records.map((r) => r.assignedAgent))).toEqual(new Set(['worker-1', 'worker-2']));
      // task_started came back before task_result: the task went through running.
      expect(transitions).toEqual(['queued', 'assigned', 'running', 'completed']);
      // The peer's own log: each task assigned and completed once, by the agent the orchestrator recorded.
      await stepsArrived(ctx.peer, 'completed', 4);
      const assigned = ctx.peer.steps('assigned');
      expect(assigned.map((s) => s.taskId).sort()).toEqual(['t1', 't2', 't3', 't4']);
      for (const record of records) expect(assigned.find((s) => s.taskId === record.taskId)?.agentId).toBe(record.assignedAgent);
      expect(ctx.peer.steps('completed')).toHaveLength(4);
      expect(ctx.nf.orchestrator.getStats()).toMatchObject({ tasksCompleted: 4, lateResults: 0, invalidResults: 0, retries: 0 });
      expect(ctx.deadLetters).toEqual([]);
      expect(ctx.peer.deadLetters()).toEqual([]);
    });

    test("a dependency's result reaches the dependent task in the other process", async () => {
      const ctx = await orchestration({ 'worker-1': 2 });
      ctx.nf.orchestrator.submitWorkflow({
        tasks: [
          { taskId: 'a', requiredCapabilities: ['compute'], payload: work({ value: 2 }) },
          { taskId: 'b', requiredCapabilities: ['compute'], payload: work({ value: 3, workMs: 30 }) },
          { taskId: 'c', dependencies: ['a', 'b'], requiredCapabilities: ['compute'], payload: work({ value: 10 }) },
        ],
      });
      const [a, b, c] = await ctx.nf.orchestrator.waitForWorkflow(['a', 'b', 'c']);
      expect(resultOf(c)?.value).toBe(15);
      await stepsArrived(ctx.peer, 'completed', 3);
      const assignedC = ctx.peer.steps('assigned').find((s) => s.taskId === 'c');
      expect(assignedC?.kind === 'assigned' && assignedC.dependencyResults).toEqual({ a: resultOf(a), b: resultOf(b) });
      expect(resultOf(a)).toMatchObject({ value: 2, pid: ctx.peer.pid });
      // c was assigned only after both dependencies completed.
      const completedAt = ctx.peer
        .steps('completed')
        .filter((s) => s.taskId !== 'c')
        .map((s) => s.at);
      expect(assignedC?.at).toBeGreaterThanOrEqual(Math.max(...completedAt));
    });

    test('a failing remote task is retried per its retry policy (with its backoff), then fails; one that fails once then completes', async () => {
      const ctx = await orchestration({ 'worker-1': 2 });
      ctx.nf.orchestrator.submitWorkflow({
        tasks: [
          { taskId: 'doomed', requiredCapabilities: ['compute'], payload: work({ failAttempts: 99 }), retryPolicy: { maxRetries: 2, initialDelay: 0.1, backoffFactor: 2 } },
          { taskId: 'flaky', requiredCapabilities: ['compute'], payload: work({ value: 7, failAttempts: 1 }), retryPolicy: { maxRetries: 3, initialDelay: 0.05 } },
        ],
      });
      const [doomed, flaky] = await ctx.nf.orchestrator.waitForWorkflow(['doomed', 'flaky']);
      expect(doomed).toMatchObject({ status: 'failed', state: 'failed', retryCount: 2, error: 'boom on attempt 2' });
      expect(flaky).toMatchObject({ status: 'completed', retryCount: 1 });
      expect(resultOf(flaky)).toMatchObject({ value: 7, attempt: 1 });
      await stepsArrived(ctx.peer, 'failed', 4);
      await stepsArrived(ctx.peer, 'completed', 1);
      const doomedSteps = ctx.peer.steps().filter((s) => s.taskId === 'doomed');
      expect(doomedSteps.map((s) => `${s.kind}#${s.attempt}`)).toEqual(['assigned#0', 'failed#0', 'assigned#1', 'failed#1', 'assigned#2', 'failed#2']);
      // Backoff: 0.1 s, then 0.2 s, between a failure and the next assignment.
      const at = (kind: string, attempt: number) => doomedSteps.find((s) => s.kind === kind && s.attempt === attempt)?.at ?? NaN;
      expect(at('assigned', 1) - at('failed', 0)).toBeGreaterThanOrEqual(90);
      expect(at('assigned', 2) - at('failed', 1)).toBeGreaterThanOrEqual(190);
      expect(
        ctx.peer
          .steps()
          .filter((s) => s.taskId === 'flaky')
          .map((s) => `${s.kind}#${s.attempt}`),
      ).toEqual(['assigned#0', 'failed#0', 'assigned#1', 'completed#1']);
      expect(ctx.nf.orchestrator.getStats()).toMatchObject({ tasksFailed: 1, tasksCompleted: 1, retries: 3, lateResults: 0 });
    });

    test('a task the peer never finishes times out: task_cancel aborts the remote attempt, it is retried, finally timeout', async () => {
      const ctx = await orchestration({ 'worker-1': 2 });
      ctx.nf.orchestrator.submitWorkflow({
        tasks: [
          { taskId: 'stuck', requiredCapabilities: ['compute'], payload: work({ hangAttempts: 99 }), timeoutSeconds: 0.3, retryPolicy: { maxRetries: 1, initialDelay: 0.05 } },
          {
            taskId: 'slow-once',
            requiredCapabilities: ['compute'],
            payload: work({ value: 5, hangAttempts: 1 }),
            timeoutSeconds: 0.3,
            retryPolicy: { maxRetries: 1, initialDelay: 0.05 },
          },
        ],
      });
      const [stuck, slowOnce] = await ctx.nf.orchestrator.waitForWorkflow(['stuck', 'slow-once']);
      expect(stuck).toMatchObject({ status: 'timeout', state: 'timedOut', retryCount: 1, reason: 'timed_out' });
      expect(slowOnce).toMatchObject({ status: 'completed', retryCount: 1 });
      expect(resultOf(slowOnce)).toMatchObject({ value: 5, attempt: 1, pid: ctx.peer.pid });
      // The peer heard of each timeout and aborted that attempt's work.
      await stepsArrived(ctx.peer, 'aborted', 3);
      await stepsArrived(ctx.peer, 'completed', 1);
      const seen = (taskId: string, kind: TaskStep['kind']) =>
        ctx.peer
          .steps(kind)
          .filter((s) => s.taskId === taskId)
          .map((s) => s.attempt);
      expect(seen('stuck', 'assigned')).toEqual([0, 1]);
      expect(seen('stuck', 'cancel').sort()).toEqual([0, 1]);
      expect(seen('stuck', 'aborted').sort()).toEqual([0, 1]);
      expect(seen('slow-once', 'cancel')).toEqual([0]);
      expect(seen('slow-once', 'aborted')).toEqual([0]);
      expect(seen('slow-once', 'completed')).toEqual([1]);
      expect(ctx.nf.orchestrator.getStats()).toMatchObject({ tasksTimedOut: 1, tasksCompleted: 1, lateResults: 0 });
    });

    test('cancelTask reaches the peer as task_cancel and aborts its running work; the slot is free again', async () => {
      const ctx = await orchestration({ 'worker-1': 1 });
      const { taskId } = ctx.nf.orchestrator.submitTask({ taskId: 'long', requiredCapabilities: ['compute'], payload: work({ hangAttempts: 99 }), timeoutSeconds: 60 });
      await waitFor(() => ctx.nf.orchestrator.getTaskStatus(taskId) === 'running', 5000, 'the task running in the peer');
      // The peer's log comes over IPC, task_started over NATS: either may arrive first (it
      // failed once in a loaded full run when read at once).
      await stepsArrived(ctx.peer, 'assigned', 1);
      expect(ctx.peer.steps('assigned').map((s) => s.taskId)).toEqual(['long']);
      expect(ctx.nf.orchestrator.cancelTask(taskId)).toBe(true);
      expect(await ctx.nf.orchestrator.waitForTask(taskId)).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
      await stepsArrived(ctx.peer, 'aborted', 1);
      expect(ctx.peer.steps('cancel')).toEqual([expect.objectContaining({ taskId: 'long', attempt: 0, reason: 'aborted', agentId: 'worker-1' })]);
      expect(ctx.peer.steps('aborted')).toEqual([expect.objectContaining({ taskId: 'long', attempt: 0 })]);
      // The only slot was released: another task runs on the same remote agent.
      const next = ctx.nf.orchestrator.submitTask({ taskId: 'next', requiredCapabilities: ['compute'], payload: work({ value: 1 }) });
      expect(await ctx.nf.orchestrator.waitForTask(next.taskId)).toMatchObject({ status: 'completed', assignedAgent: 'worker-1' });
      await stepsArrived(ctx.peer, 'completed', 1);
      expect(ctx.peer.steps('completed').map((s) => s.taskId)).toEqual(['next']);
      expect(ctx.nf.orchestrator.getStats()).toMatchObject({ tasksCancelled: 1, lateResults: 0 });
    });

    test('a workflow on one remote slot runs in priority order; assignments carry the priority; results flow to the final task', async () => {
      const ctx = await orchestration({ 'worker-1': 1 });
      const tasks: TaskInput[] = (
        [
          { taskId: 'low-1', priority: 'low', payload: work({ value: 1 }) },
          { taskId: 'medium-1', priority: 'medium', payload: work({ value: 2 }) },
          { taskId: 'critical-1', priority: 'critical', payload: work({ value: 4 }) },
          { taskId: 'low-2', priority: 'low', payload: work({ value: 8 }) },
          { taskId: 'high-1', priority: 'high', payload: work({ value: 16 }) },
          { taskId: 'critical-2', priority: 'critical', payload: work({ value: 32 }) },
          { taskId: 'sum', priority: 'high', dependencies: ['low-1', 'medium-1', 'critical-1', 'low-2', 'high-1', 'critical-2'], payload: work({ value: 0 }) },
        ] satisfies TaskInput[]
      ).map((t) => ({ ...t, requiredCapabilities: ['compute'] }));
      const submissions = ctx.nf.orchestrator.submitWorkflow({ tasks });
      const records = await ctx.nf.orchestrator.waitForWorkflow(submissions.map((s) => s.taskId));
      expect(records.every((r) => r.status === 'completed')).toBe(true);
      expect(resultOf(records.find((r) => r.taskId === 'sum'))?.value).toBe(63);
      await stepsArrived(ctx.peer, 'completed', 7);
      const assigned = ctx.peer.steps('assigned');
      expect(assigned.map((s) => s.taskId)).toEqual(['critical-1', 'critical-2', 'high-1', 'medium-1', 'low-1', 'low-2', 'sum']);
      for (const s of assigned) expect(s.kind === 'assigned' && s.priority).toBe(tasks.find((t) => t.taskId === s.taskId)?.priority);
    });
  });
});
