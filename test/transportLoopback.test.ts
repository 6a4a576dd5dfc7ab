/**
 * Several runtimes of one process over the loopback transport (src/transport/loopbackHub.ts):
 * the multi-process semantics of the NATS transport with no server. Time is a SimulatedClock
 * shared by the hub and the runtimes; frames travel in microtasks, so `settle()` lets them
 * arrive and no test waits on real time.
 */
import { SimulatedClock } from 'xstate';
import {
  AgentHost,
  createNeuroFlux,
  DeliveryFailedError,
  encodeEnvelope,
  LoopbackHub,
  ORIGIN_HEADER,
  RequestTimeoutError,
  silentLogger,
  ValidationError,
  type AnyDeadLetter,
  type Message,
  type NeuroFlux,
  type NeuroFluxOptions,
} from '../src';
import { createMessage } from '../src/bus/message';
import type { LoopbackTransport } from '../src/transport';
import { workflow } from '../examples/multi-process/run';
import { cleanupAfterEach } from './support/cleanup';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

/** A hub and a way to start runtimes on it, all on one simulated clock. */
function network(hubOptions: { maxDeliver?: number } = {}) {
  const clock = new SimulatedClock();
  const hub = new LoopbackHub({ clock, ...hubOptions });
  async function runtime(identity: string | undefined, options: Omit<NeuroFluxOptions, 'transport' | 'clock'> = {}, secret?: string): Promise<NeuroFlux> {
    const transport = hub.transport({ ...(identity !== undefined && { identity }), ...(secret !== undefined && { hmacSecret: secret }) });
    const nf = cleanup.add(createNeuroFlux({ logger: silentLogger, ...options, transport, clock }));
    transports.set(nf, transport);
    await nf.start();
    return nf;
  }
  return { clock, hub, runtime };
}

const transports = new WeakMap<NeuroFlux, LoopbackTransport>();

/** Closes a runtime's transport only, as a process that vanished from the network. */
async function closeTransportOf(nf: NeuroFlux): Promise<void> {
  await transports.get(nf)?.close();
}

function deadLettersOf(nf: NeuroFlux): AnyDeadLetter[] {
  const letters: AnyDeadLetter[] = [];
  nf.bus.deadLetters$.subscribe((l) => letters.push(l));
  return letters;
}

describe('loopback transport: runtimes of one process, NATS semantics', () => {
  test('a task submitted on runtime A runs on an agent hosted by runtime B, and its result comes back to A', async () => {
    const { runtime } = network();
    const a = await runtime('orch');
    const b = await runtime('host-1', { orchestrator: false });
    const host = cleanup.add(new AgentHost({ bus: b.bus, hostId: 'host-1' }));
    const ran: string[] = [];
    host.addAgent('host-1-worker', { capabilities: ['compute'], execute: (task) => (ran.push(task.taskId), { doubled: (task.payload as { n: number }).n * 2 }) });
    host.start();
    await settle();
    expect(a.orchestrator.getAgent('host-1-worker')).toBeDefined();
    // The agent lives in B only: A knows it through the presence, not through its own bus.
    expect(a.bus.getAgent('host-1-worker')).toBeUndefined();

    const { taskId } = a.orchestrator.submitTask({ requiredCapabilities: ['compute'], payload: { n: 21 } });
    const record = await a.orchestrator.waitForTask(taskId);
    expect(record).toMatchObject({ status: 'completed', result: { doubled: 42 }, assignedAgent: 'host-1-worker' });
    expect(ran).toEqual([taskId]);
  });

  test('three runtimes: tasks spread over the agents of two hosts, each result reaches the orchestrator', async () => {
    const { runtime } = network();
    const a = await runtime('orch');
    const hosts = [await runtime('host-1', { orchestrator: false }), await runtime('host-2', { orchestrator: false })];
    const ranOn = new Map<string, string>();
    hosts.forEach((nf, i) => {
      const host = cleanup.add(new AgentHost({ bus: nf.bus, hostId: `host-${i + 1}` }));
      host.addAgent(`host-${i + 1}-worker`, { capabilities: ['compute'], maxConcurrentTasks: 1, execute: (task) => void ranOn.set(task.taskId, `host-${i + 1}`) });
      host.start();
    });
    await settle();
    const ids = Array.from({ length: 6 }, () => a.orchestrator.submitTask({ requiredCapabilities: ['compute'] }).taskId);
    const records = await Promise.all(ids.map((id) => a.orchestrator.waitForTask(id)));
    expect(records.every((r) => r.status === 'completed')).toBe(true);
    expect(new Set(ranOn.values())).toEqual(new Set(['host-1', 'host-2']));
    expect(ranOn.size).toBe(6);
  });

  test('request/reply across runtimes, both directions; the receiver sees who published it (origin from the subject)', async () => {
    const { runtime } = network();
    const a = await runtime('proc-a');
    const b = await runtime('proc-b');
    const origins: string[] = [];
    b.bus.registerAgent('echo-b', { handler: (m, agent) => (origins.push(m.headers?.[ORIGIN_HEADER] ?? 'local'), agent.respond(m, { echoed: m.payload })) });
    a.bus.registerAgent('echo-a', { handler: (m, agent) => agent.respond(m, { echoed: m.payload }) });
    await settle();
    const fromA = a.bus.registerAgent('client-a').request({ recipientId: 'echo-b', topic: 'ping', payload: 1 });
    const fromB = b.bus.registerAgent('client-b').request({ recipientId: 'echo-a', topic: 'ping', payload: 2 });
    expect((await fromA).payload).toEqual({ echoed: 1 });
    expect((await fromB).payload).toEqual({ echoed: 2 });
    expect(origins).toEqual(['proc-a']);
  });

  test('topic events and broadcasts cross runtimes once per runtime, never echoed to the sender', async () => {
    const { runtime } = network();
    const a = await runtime('a');
    const b = await runtime('b');
    const got: string[] = [];
    b.bus.registerAgent('wide', { topics: ['market.>', 'market.*'], handler: (m) => void got.push(`wide:${m.topic}`) });
    b.bus.registerAgent('other', { handler: (m) => void got.push(`other:${m.topic}`) });
    const sender = a.bus.registerAgent('sender', { handler: (m) => void got.push(`sender:${m.topic}`) });
    await settle();
    sender.publish({ topic: 'market.btc', payload: 1 });
    sender.broadcast({ topic: 'halt' });
    await settle();
    expect(got.sort()).toEqual(['other:halt', 'wide:halt', 'wide:market.btc']);
  });

  test('forged and odd frames are refused and counted; nothing crashes, and the runtime goes on working', async () => {
    const { hub, runtime } = network();
    const a = await runtime('orch');
    const letters = deadLettersOf(a);
    const worker: Message[] = [];
    a.bus.registerAgent('worker', { handler: (m) => void worker.push(m) });
    await settle();
    const before = a.bus.getStats().messagesRejected;
    // Not JSON; JSON that is not a message; a `__proto__` hostId in a presence; huge numbers; an array batch lie.
    hub.inject('nf.default.from.evil.broadcast', '{"not json');
    hub.inject('nf.default.from.evil.broadcast', '{"nonsense":true}');
    const frame = (fields: Record<string, unknown>) =>
      JSON.stringify({ messageId: `m-${Math.random()}`, senderId: 'evil', recipientId: null, messageType: 'event', priority: 'medium', timestamp: 1, ...fields });
    hub.inject('nf.default.from.evil.topic.agent_presence', `{"__proto__":{"polluted":true},"senderId":"x","messageType":"event","topic":"agent_presence"}`);
    const presence = { hostId: '__proto__', status: 'alive', heartbeatIntervalMs: 1000, agents: [{ agentId: 'planted', capabilities: ['x'] }] };
    hub.inject('nf.default.from.__proto__.topic.agent_presence', frame({ senderId: '__proto__', topic: 'agent_presence', payload: presence }));
    hub.inject('nf.default.from.evil.topic.agent_presence', frame({ senderId: '__proto__', topic: 'agent_presence', payload: presence }));
    hub.inject('nf.default.from.evil.agent.worker.medium', frame({ recipientId: 'worker', topic: 'x', ttl: 1e308, maxRetries: 2 ** 60 }));
    hub.inject('nf.default.from.evil.broadcast', '[1,2]', { headers: { 'Nf-Batch': '5' } });
    hub.inject('nf.default.from.evil.broadcast', Buffer.alloc(2 * 1024 * 1024, 32));
    hub.inject('nf.default.from.evil.broadcast', 'not gzip', { headers: { 'Nf-Encoding': 'gzip' } });
    await settle();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(worker).toEqual([]);
    expect(a.orchestrator.getAgent('planted')).toBeUndefined();
    expect(a.orchestrator.getStats().hosts.alive).toBe(0);
    // Not JSON, not a message, the huge numbers: invalid (the presences are messages; the orchestrator refuses them).
    expect(letters.filter((l) => l.reason === 'invalid')).toHaveLength(3);
    expect(a.bus.getStats().messagesRejected).toBe(before + 3);
    expect(a.orchestrator.getStats().hosts).toMatchObject({ alive: 0, invalidAnnouncements: 3 });

    // Wrong identity: a result in a host's name from another runtime is refused by the orchestrator.
    const b = await runtime('host-1', { orchestrator: false });
    const host = cleanup.add(new AgentHost({ bus: b.bus, hostId: 'host-1' }));
    let release: (v: unknown) => void = () => undefined;
    host.addAgent('host-1-worker', { capabilities: ['x'], execute: () => new Promise((resolve) => (release = resolve)) });
    host.start();
    await settle();
    const { taskId } = a.orchestrator.submitTask({ requiredCapabilities: ['x'] });
    await settle();
    expect(a.orchestrator.getTask(taskId)?.status).toBe('running');
    const attacker = await runtime('host-3', { orchestrator: false });
    attacker.bus.sendMessage({
      senderId: 'host-1-worker',
      recipientId: 'orchestrator',
      messageType: 'notification',
      topic: 'task_result',
      headers: { [ORIGIN_HEADER]: 'host-1' },
      payload: { taskId, attempt: 0, status: 'completed', result: 'forged' },
    });
    await settle();
    expect(a.orchestrator.getStats().refusedResults.noToken + a.orchestrator.getStats().refusedResults.wrongHost).toBe(1);
    expect(a.orchestrator.getTask(taskId)?.status).toBe('running');
    release('real');
    expect(await a.orchestrator.waitForTask(taskId)).toMatchObject({ status: 'completed', result: 'real' });
  });

  test('transport stats count the refusals by reason, as the NATS transport does', async () => {
    const { hub } = network();
    const transport = hub.transport({ identity: 'solo', maxFrameBytes: 1000 });
    const nf = cleanup.add(createNeuroFlux({ logger: silentLogger, transport, orchestrator: false }));
    await nf.start();
    hub.inject('nf.default.from.evil.broadcast', Buffer.alloc(5000, 32));
    hub.inject('nf.default.from.evil.broadcast', '[1]', { headers: { 'Nf-Batch': '2' } });
    hub.inject('nf.default.from.evil.broadcast', 'x', { headers: { 'Nf-Encoding': 'gzip' } });
    await settle();
    expect(transport.getStats().rejected).toMatchObject({ oversized: 1, undecodable: 2 });
    expect(transport.lastRejections.map((r) => r.reason)).toEqual(['oversized', 'undecodable', 'undecodable']);
  });

  test('signed namespace: a runtime with the wrong secret routes nothing (dead-lettered unauthenticated); a replayed frame is refused', async () => {
    const { hub, clock, runtime } = network();
    const secret = 'loopback-secret-0123456789';
    const a = await runtime('a', {}, secret);
    const letters = deadLettersOf(a);
    const got: string[] = [];
    a.bus.registerAgent('worker', { handler: (m) => void got.push(String(m.payload)) });
    await settle();
    const wrong = await runtime('w', {}, 'the-wrong-secret-9876543210');
    wrong.bus.sendMessage({ senderId: 'x', recipientId: 'worker', messageType: 'event', topic: 't', payload: 'wrong' });
    const right = await runtime('r', {}, secret);
    right.bus.sendMessage({ senderId: 'x', recipientId: 'worker', messageType: 'event', topic: 't', payload: 'right' });
    await settle();
    expect(got).toEqual(['right']);
    expect(letters.filter((l) => l.reason === 'unauthenticated')).toHaveLength(1);
    // The same signed frame twice: the second is a replay.
    const subject = 'nf.default.from.r.agent.worker.medium';
    const message = createMessage({ senderId: 'x', recipientId: 'worker', messageType: 'event', topic: 't', payload: 'once' }, clock.now());
    const { body, headers } = encodeEnvelope(message, { hmacSecret: secret, subject, sentAt: clock.now() });
    hub.inject(subject, body, { headers: { ...headers } });
    hub.inject(subject, body, { headers: { ...headers } });
    await settle();
    expect(got).toEqual(['right', 'once']);
  });

  test('durable command: a handler failure is redelivered (after the delay, on the clock), then handled once', async () => {
    const { clock, hub } = network();
    const receiverTransport = hub.transport({ identity: 'b', retryDelayMs: 100 });
    const b = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: receiverTransport, clock, orchestrator: false }));
    const a = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: hub.transport({ identity: 'a' }), clock, orchestrator: false }));
    await Promise.all([a.start(), b.start()]);
    let attempts = 0;
    const handled: unknown[] = [];
    b.bus.registerAgent('worker', {
      handler: (m) => {
        if (++attempts < 3) throw new Error(`attempt ${attempts} fails`);
        handled.push(m.payload);
      },
    });
    await settle();
    a.bus.registerAgent('client').send({ recipientId: 'worker', messageType: 'command', topic: 'do', payload: 'job' });
    await settle();
    expect(attempts).toBe(1);
    clock.increment(99);
    await settle();
    expect(attempts).toBe(1);
    clock.increment(1); // first redelivery: 100 ms
    await settle();
    expect(attempts).toBe(2);
    clock.increment(200); // second: 200 ms
    await settle();
    expect(handled).toEqual(['job']);
    expect(receiverTransport.getStats()).toMatchObject({ redelivered: 2, deadLettered: 0 });
    expect(hub.pendingDurable).toBe(0);
  });

  test('signed namespace: a redelivered durable command is not taken for a replay (same stream sequence)', async () => {
    const { runtime } = network();
    const secret = 'loopback-secret-0123456789';
    const b = await runtime('b', { orchestrator: false }, secret);
    let attempts = 0;
    const handled: unknown[] = [];
    b.bus.registerAgent('worker', {
      handler: (m) => {
        if (++attempts === 1) throw new Error('first attempt fails');
        handled.push(m.payload);
      },
    });
    const a = await runtime('a', { orchestrator: false }, secret);
    await settle();
    a.bus.registerAgent('client').send({ recipientId: 'worker', messageType: 'command', topic: 'do', payload: 'signed job' });
    await settle();
    expect(handled).toEqual(['signed job']);
    expect(attempts).toBe(2);
  });

  test('durable command: a handler that keeps failing gets min(maxDeliver, maxRetries + 1) attempts, then is dead-lettered max_retries (bus and hub)', async () => {
    const { runtime, hub } = network({ maxDeliver: 4 });
    const b = await runtime('b', { orchestrator: false });
    const letters = deadLettersOf(b);
    let attempts = 0;
    b.bus.registerAgent('worker', {
      handler: () => {
        attempts++;
        throw new Error('always');
      },
    });
    const a = await runtime('a', { orchestrator: false });
    await settle();
    a.bus.registerAgent('client').send({ recipientId: 'worker', messageType: 'command', topic: 'do', maxRetries: 10 });
    await settle(30);
    expect(attempts).toBe(4);
    expect(letters.map((l) => l.reason)).toEqual(['max_retries']);
    expect(hub.deadLetters).toHaveLength(1);
    expect(hub.deadLetters[0]).toMatchObject({ reason: 'max_retries', agentId: 'worker', deliveries: 4 });
    expect(hub.pendingDurable).toBe(0);
  });

  test('a durable command sent before any runtime hosts its agent waits in the hub and is delivered once one does', async () => {
    const { runtime, hub } = network();
    const a = await runtime('a', { orchestrator: false });
    a.bus.registerAgent('client').send({ recipientId: 'late', messageType: 'command', topic: 'do', payload: 7 });
    await settle();
    expect(hub.pendingDurable).toBe(1);
    const b = await runtime('b', { orchestrator: false });
    const got: unknown[] = [];
    b.bus.registerAgent('late', { handler: (m) => void got.push(m.payload) });
    await settle();
    expect(got).toEqual([7]);
    expect(hub.pendingDurable).toBe(0);
  });

  test('a runtime closing mid-flight: the durable message it held goes to another runtime hosting the agent; the request to it fails, not hangs', async () => {
    const { runtime, hub, clock } = network();
    const b1 = await runtime('b1', { orchestrator: false });
    const b2 = await runtime('b2', { orchestrator: false });
    const ranOn: string[] = [];
    let releaseB1: () => void = () => undefined;
    b1.bus.registerAgent('worker', { concurrency: 1, handler: () => new Promise<void>((resolve) => ((releaseB1 = resolve), ranOn.push('b1'))) });
    b2.bus.registerAgent('worker', { handler: () => void ranOn.push('b2') });
    const a = await runtime('a', { orchestrator: false });
    await settle();
    const client = a.bus.registerAgent('client');
    // Round robin between the two consumers: send until b1 holds one.
    for (let i = 0; i < 4 && !ranOn.includes('b1'); i++) {
      client.send({ recipientId: 'worker', messageType: 'command', topic: 'do' });
      await settle();
    }
    expect(ranOn).toContain('b1');
    const b2Before = ranOn.filter((r) => r === 'b2').length;
    await b1.stop();
    await settle();
    releaseB1();
    // The message b1 was running is delivered again, to b2 (at least once).
    expect(ranOn.filter((r) => r === 'b2').length).toBe(b2Before + 1);
    expect(hub.pendingDurable).toBe(0);
    // A request (core, at most once) to an agent whose every runtime stopped: nobody receives it,
    // and it rejects at its timeout on the clock, as over NATS.
    await b2.stop();
    a.bus.registerAgent('asker');
    const asked = a.bus.sendRequest({ senderId: 'asker', recipientId: 'worker', topic: 'q', timeoutMs: 1000 });
    await settle();
    clock.increment(1000);
    await expect(asked).rejects.toBeInstanceOf(RequestTimeoutError);
  });

  test('a request whose handler in the other runtime fails for good rejects with DeliveryFailedError, not at its timeout', async () => {
    const { runtime } = network();
    const b = await runtime('b', { bus: { maxRetries: 1, retryDelayMs: 0 } });
    b.bus.registerAgent('broken', {
      handler: () => {
        throw new Error('nope');
      },
    });
    const a = await runtime('a');
    await settle();
    a.bus.registerAgent('asker');
    await expect(a.bus.sendRequest({ senderId: 'asker', recipientId: 'broken', topic: 'q', timeoutMs: 60_000 })).rejects.toBeInstanceOf(DeliveryFailedError);
  });

  test('options are validated with a typed error naming the field', () => {
    const hub = new LoopbackHub();
    expect(() => hub.transport({ identity: 'a.b' })).toThrow(ValidationError);
    expect(() => hub.transport({ identity: 'a.b' })).toThrow(/identity/);
    expect(() => new LoopbackHub({ maxDeliver: 0 })).toThrow(/maxDeliver/);
    const transport = hub.transport();
    const nf = createNeuroFlux({ logger: silentLogger, transport, orchestrator: false });
    expect(() => transport.attach(nf.bus)).toThrow(/already attached/);
  });
});

describe('distributed scenarios over the loopback transport (the NATS suites, no server)', () => {
  /** An agent host runtime like examples/multi-process/host.ts, its executor controlled by the test. */
  async function startHost(net: ReturnType<typeof network>, hostId: string, execute: (task: { taskId: string; payload?: unknown }, deps: Record<string, unknown>) => unknown) {
    const nf = await net.runtime(hostId, { orchestrator: false });
    const host = cleanup.add(new AgentHost({ bus: nf.bus, hostId }));
    host.addAgent(`${hostId}-worker`, { capabilities: ['compute'], maxConcurrentTasks: 2, execute: (task, { dependencyResults }) => execute(task, dependencyResults) });
    host.start();
    return nf;
  }

  test('examples/multi-process: the 20-task workflow completes, each task once, on both hosts, dependency results crossing runtimes', async () => {
    const net = network();
    const orchestrator = await net.runtime('orch');
    const executions = new Map<string, number>();
    const ranOn = new Map<string, string>();
    for (const hostId of ['host-1', 'host-2']) {
      await startHost(net, hostId, (task, deps) => {
        executions.set(task.taskId, (executions.get(task.taskId) ?? 0) + 1);
        ranOn.set(task.taskId, hostId);
        const inputs = Object.values(deps).reduce<number>((sum, r) => sum + ((r as { value?: number }).value ?? 0), 0);
        return { value: (task.payload as { n: number }).n + inputs };
      });
    }
    await settle();
    const tasks = workflow();
    orchestrator.orchestrator.submitWorkflow({ tasks });
    const records = await orchestrator.orchestrator.waitForWorkflow(tasks.map((t) => t.taskId as string));
    expect(records.every((r) => r.status === 'completed')).toBe(true);
    expect(executions.size).toBe(20);
    expect([...executions.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(ranOn.values())).toEqual(new Set(['host-1', 'host-2']));
    // 0 + 1 + ... + 11: every map value reached its combine, every combine the reduce, in another runtime or not.
    expect(orchestrator.orchestrator.getTask('report')?.result).toEqual({ value: 66 });
  });

  test('an agent host dies (its runtime disconnects without leaving): after the missed heartbeats its running tasks move to the other host', async () => {
    const net = network();
    const orchestrator = await net.runtime('orch');
    const dying = await startHost(net, 'host-1', () => new Promise(() => undefined)); // never finishes
    await settle();
    const ids = Array.from({ length: 2 }, (_, i) => orchestrator.orchestrator.submitTask({ taskId: `t${i}`, requiredCapabilities: ['compute'], timeoutSeconds: 600 }).taskId);
    await settle();
    expect(ids.map((id) => orchestrator.orchestrator.getTask(id)?.assignedAgent)).toEqual(['host-1-worker', 'host-1-worker']);
    const executed: string[] = [];
    await startHost(net, 'host-2', (task) => void executed.push(task.taskId));
    await settle();
    // The crash: host-1's transport goes away (no `leaving` announcement); its heartbeats reach nobody.
    await closeTransportOf(dying);
    for (let s = 0; s < 4; s++) {
      net.clock.increment(1000); // host-2 keeps beating; host-1 is silent
      await settle();
    }
    const records = await orchestrator.orchestrator.waitForWorkflow(ids);
    expect(records.every((r) => r.status === 'completed')).toBe(true);
    expect(executed.sort()).toEqual(['t0', 't1']);
    for (const id of ids) expect(orchestrator.orchestrator.getTask(id)).toMatchObject({ assignedAgent: 'host-2-worker', retryCount: 0 });
    expect(orchestrator.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 1 });
  });
});
