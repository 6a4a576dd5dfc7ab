import { SimulatedClock, createMachine, assign, setup } from 'xstate';
import {
  CommunicationBus,
  QueueFullError,
  RequestTimeoutError,
  UnknownAgentError,
  ValidationError,
  NotRunningError,
  DuplicateAgentError,
  createNeuroFlux,
  messageOrigin,
  ORIGIN_HEADER,
  type AnyDeadLetter,
  type Message,
  type AgentBehaviourInput,
  type AgentMessageEvent,
} from '../src';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function collectDeadLetters(bus: CommunicationBus): AnyDeadLetter[] {
  const letters: AnyDeadLetter[] = [];
  bus.deadLetters$.subscribe((d) => letters.push(d));
  return letters;
}

describe('CommunicationBus: direct delivery and priorities', () => {
  test('delivers critical first, then high, medium, low; FIFO within a priority', async () => {
    const bus = new CommunicationBus();
    const order: string[] = [];
    bus.registerAgent('b', { handler: (m) => void order.push(m.topic) });
    const a = bus.registerAgent('a');
    // Queued before start: a backlog the mailbox must order.
    a.send({ recipientId: 'b', messageType: 'command', topic: 'low1', priority: 'low' });
    a.send({ recipientId: 'b', messageType: 'command', topic: 'med1', priority: 'medium' });
    a.send({ recipientId: 'b', messageType: 'command', topic: 'low2', priority: 'low' });
    a.send({ recipientId: 'b', messageType: 'command', topic: 'crit1', priority: 'critical' });
    a.send({ recipientId: 'b', messageType: 'command', topic: 'high1', priority: 'high' });
    a.send({ recipientId: 'b', messageType: 'command', topic: 'med2', priority: 'medium' });
    a.send({ recipientId: 'b', messageType: 'command', topic: 'crit2', priority: 'critical' });
    await bus.start();
    await bus.whenIdle();
    expect(order).toEqual(['crit1', 'crit2', 'high1', 'med1', 'med2', 'low1', 'low2']);
    await bus.stop();
  });

  test('a critical message overtakes lower ones queued behind a busy agent', async () => {
    const bus = new CommunicationBus();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    bus.registerAgent('worker', {
      handler: async (m) => {
        order.push(m.topic);
        if (m.topic === 'first') await gate;
      },
    });
    await bus.start();
    bus.sendMessage({ senderId: 'x', recipientId: 'worker', messageType: 'command', topic: 'first', priority: 'low' });
    await settle();
    for (let i = 0; i < 5; i++) {
      bus.sendMessage({ senderId: 'x', recipientId: 'worker', messageType: 'command', topic: `low${i}`, priority: 'low' });
    }
    bus.sendMessage({ senderId: 'x', recipientId: 'worker', messageType: 'command', topic: 'halt', priority: 'critical' });
    await settle();
    expect(order).toEqual(['first']);
    release();
    await bus.whenIdle();
    expect(order).toEqual(['first', 'halt', 'low0', 'low1', 'low2', 'low3', 'low4']);
    await bus.stop();
  });

  test('critical messages are never starved by a flood of lower ones', async () => {
    const bus = new CommunicationBus({ batchSize: 1, maxQueueSize: 10_000 });
    const seen: string[] = [];
    bus.registerAgent('w', { handler: (m) => void seen.push(m.priority) });
    await bus.start();
    for (let i = 0; i < 2000; i++) {
      bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'event', topic: 't', priority: 'low' });
      if (i % 500 === 0) {
        bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'event', topic: 't', priority: 'critical' });
      }
    }
    await bus.whenIdle();
    expect(seen.slice(0, 4)).toEqual(['critical', 'critical', 'critical', 'critical']);
    expect(seen).toHaveLength(2004);
    await bus.stop();
  });

  test('concurrency bounds the async handlers running at once', async () => {
    const bus = new CommunicationBus();
    let running = 0;
    let peak = 0;
    const resolvers: (() => void)[] = [];
    bus.registerAgent('w', {
      concurrency: 3,
      handler: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => resolvers.push(resolve));
        running--;
      },
    });
    await bus.start();
    for (let i = 0; i < 10; i++) bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't' });
    while (bus.getStats().messagesProcessed < 10) {
      await settle();
      resolvers.splice(0).forEach((r) => r());
    }
    expect(peak).toBe(3);
    await bus.whenIdle();
    await bus.stop();
  });

  test('a plain function that returns promises is bounded by concurrency too, and loses nothing', async () => {
    const bus = new CommunicationBus();
    let running = 0;
    let peak = 0;
    const done: string[] = [];
    bus.registerAgent('w', {
      concurrency: 2,
      handler: (m) => {
        running++;
        peak = Math.max(peak, running);
        return new Promise<void>((resolve) =>
          setImmediate(() => {
            running--;
            done.push(m.topic);
            resolve();
          }),
        );
      },
    });
    await bus.start();
    for (let i = 0; i < 25; i++) bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: `t${i}` });
    await bus.whenIdle();
    expect(peak).toBe(2);
    expect(done).toHaveLength(25);
    expect(bus.getStats()).toMatchObject({ messagesDelivered: 25, messagesProcessed: 25 });
    expect(bus.getAgent('w')?.actor.getSnapshot().context.inFlight).toBe(0);
    await bus.stop();
  });

  test('an unknown recipient is a dead letter with reason no_route', async () => {
    const bus = new CommunicationBus();
    const letters = collectDeadLetters(bus);
    await bus.start();
    const sent = bus.sendMessage({ senderId: 'a', recipientId: 'ghost', messageType: 'command', topic: 't' });
    expect(letters).toEqual([expect.objectContaining({ reason: 'no_route', message: sent })]);
    await bus.stop();
  });

  test('agent actors live in the runtime system and report idle/offline', async () => {
    const nf = createNeuroFlux();
    const handle = nf.bus.registerAgent('w', { handler: () => undefined });
    await nf.start();
    expect(nf.system.system.get('agent:w')).toBe(handle.actor);
    expect(handle.actor.getSnapshot().value).toEqual({ online: 'idle' });
    handle.setOnline(false);
    expect(handle.actor.getSnapshot().value).toEqual({ offline: 'idle' });
    handle.setOnline(true);
    expect(handle.actor.getSnapshot().value).toEqual({ online: 'idle' });
    await nf.stop();
  });
});

describe('CommunicationBus: TTL and timeouts on a simulated clock', () => {
  test('a message that outlives its TTL in the mailbox is dead-lettered as expired, never delivered', async () => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    const letters = collectDeadLetters(bus);
    const delivered: Message[] = [];
    const agent = bus.registerAgent('w', { handler: (m) => void delivered.push(m) });
    await bus.start();
    agent.setOnline(false);
    bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 'short', ttl: 5 });
    bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 'long', ttl: 60 });
    clock.increment(5000);
    expect(letters).toHaveLength(0); // exactly at the TTL: not yet expired (now - timestamp > ttl)
    clock.increment(1001);
    expect(letters).toEqual([expect.objectContaining({ reason: 'expired', agentId: 'w' })]);
    agent.setOnline(true);
    await bus.whenIdle();
    expect(delivered.map((m) => m.topic)).toEqual(['long']);
    await bus.stop();
  });

  test('an already expired message is refused at send time as a dead letter', async () => {
    const clock = new SimulatedClock();
    clock.set(10_000);
    const bus = new CommunicationBus({ clock });
    const letters = collectDeadLetters(bus);
    bus.registerAgent('w', { handler: () => undefined });
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't', ttl: 1, timestamp: 0 });
    expect(letters.map((l) => l.reason)).toEqual(['expired']);
    await bus.stop();
  });

  test('pull agents: expired messages are dropped on read and by the sweep', async () => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    const letters = collectDeadLetters(bus);
    const puller = bus.registerAgent('p');
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 'a', ttl: 1 });
    bus.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 'b', ttl: 100 });
    clock.increment(2000);
    expect(letters.map((l) => l.reason)).toEqual(['expired']);
    expect(puller.receive().map((m) => m.topic)).toEqual(['b']);
    expect(puller.receive()).toEqual([]);
    expect(bus.getAgentMessages('nobody')).toEqual([]);
    await bus.stop();
  });

  test('a request with no answer rejects with RequestTimeoutError naming the recipient', async () => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    bus.registerAgent('silent', { handler: () => undefined });
    await bus.start();
    const pending = bus.sendRequest({ senderId: 'a', recipientId: 'silent', topic: 'q', timeoutMs: 2000 });
    let error: unknown;
    pending.catch((e: unknown) => (error = e));
    await settle();
    clock.increment(1999);
    await settle();
    expect(error).toBeUndefined();
    expect(bus.getStats().pendingResponses).toBe(1);
    clock.increment(1);
    await settle();
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as RequestTimeoutError).recipientId).toBe('silent');
    expect((error as RequestTimeoutError).code).toBe('ERR_REQUEST_TIMEOUT');
    expect(bus.getStats().pendingResponses).toBe(0);
    await bus.stop();
  });

  test('the default request timeout is 30 s', async () => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    bus.registerAgent('silent', { handler: () => undefined });
    await bus.start();
    const pending = bus.sendRequest({ senderId: 'a', recipientId: 'silent', topic: 'q' });
    const outcome = pending.then(
      () => 'resolved',
      (e: Error) => e.constructor.name,
    );
    clock.increment(29_999);
    clock.increment(1);
    await expect(outcome).resolves.toBe('RequestTimeoutError');
    await bus.stop();
  });
});

describe('CommunicationBus: request/response', () => {
  test('sendRequest resolves with the response: type response, priority high, topic response, same correlation id', async () => {
    const bus = new CommunicationBus();
    bus.registerAgent('risk', {
      handler: (m, agent) => {
        agent.respond(m, { approved: true, max: (m.payload as { amount: number }).amount * 0.8 });
      },
    });
    const trader = bus.registerAgent('trader');
    await bus.start();
    const response = await trader.request({ recipientId: 'risk', topic: 'risk_check', payload: { amount: 1000 } });
    expect(response).toMatchObject({
      senderId: 'risk',
      recipientId: 'trader',
      messageType: 'response',
      priority: 'high',
      topic: 'response',
      payload: { approved: true, max: 800 },
    });
    expect(response.correlationId).toEqual(expect.any(String));
    await bus.stop();
  });

  test('a response nobody waits for is a dead letter with reason orphan_response', async () => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    const letters = collectDeadLetters(bus);
    let held: Message | undefined;
    bus.registerAgent('slow', { handler: (m) => void (held = m) });
    await bus.start();
    bus.sendRequest({ senderId: 'a', recipientId: 'slow', topic: 'q', timeoutMs: 10 }).catch(() => undefined);
    await settle();
    clock.increment(10);
    await settle();
    bus.sendResponse(held as Message, 'too late', 'slow');
    expect(letters.map((l) => l.reason)).toEqual(['orphan_response']);
    bus.sendMessage({ senderId: 'x', recipientId: 'a', messageType: 'response', topic: 'response', correlationId: 'never-asked' });
    expect(letters.map((l) => l.reason)).toEqual(['orphan_response', 'orphan_response']);
    await bus.stop();
  });

  test("the guide's manual pattern: a plain request message's response reaches the requester's mailbox", async () => {
    const bus = new CommunicationBus();
    const trader = bus.registerAgent('trading_agent_1');
    bus.registerAgent('risk_agent_1');
    await bus.start();
    trader.send({ recipientId: 'risk_agent_1', messageType: 'request', topic: 'risk_check', correlationId: 'trade_123' });
    const [request] = bus.getAgentMessages('risk_agent_1');
    expect(request?.correlationId).toBe('trade_123');
    bus.sendMessage({
      senderId: 'risk_agent_1',
      recipientId: 'trading_agent_1',
      messageType: 'response',
      topic: 'risk_check',
      payload: { approved: true },
      correlationId: 'trade_123',
    });
    expect(trader.receive().map((m) => m.payload)).toEqual([{ approved: true }]);
    await bus.stop();
  });

  test('a request to an unknown or unregistered agent rejects at once with UnknownAgentError', async () => {
    const bus = new CommunicationBus();
    bus.registerAgent('w', { handler: () => new Promise<void>(() => undefined) });
    await bus.start();
    await expect(bus.sendRequest({ senderId: 'a', recipientId: 'ghost', topic: 'q' })).rejects.toBeInstanceOf(UnknownAgentError);
    const pending = bus.sendRequest({ senderId: 'a', recipientId: 'w', topic: 'q' });
    await settle();
    bus.unregisterAgent('w');
    await expect(pending).rejects.toBeInstanceOf(UnknownAgentError);
    await bus.stop();
  });
});

describe('CommunicationBus: publish/subscribe and broadcast', () => {
  test('broadcast reaches every registered agent except the sender', async () => {
    const bus = new CommunicationBus();
    const got: string[] = [];
    for (const id of ['risk', 'trader', 'analyst']) bus.registerAgent(id, { handler: () => void got.push(id) });
    await bus.start();
    bus.getAgent('risk')?.broadcast({ topic: 'emergency', payload: { action: 'halt_all_trading' }, priority: 'critical' });
    await bus.whenIdle();
    expect(got.sort()).toEqual(['analyst', 'trader']);
    await bus.stop();
  });

  test('events go to subscribers (sender included when subscribed), with * and > wildcards', async () => {
    const bus = new CommunicationBus();
    const got: Record<string, string[]> = { exact: [], star: [], tail: [], feed: [], none: [] };
    bus.registerAgent('exact', { topics: ['market.btc.price'], handler: (m) => void got.exact?.push(m.topic) });
    bus.registerAgent('star', { topics: ['market.*.price'], handler: (m) => void got.star?.push(m.topic) });
    bus.registerAgent('tail', { topics: ['market.>'], handler: (m) => void got.tail?.push(m.topic) });
    bus.registerAgent('feed', { topics: ['market.>'], handler: (m) => void got.feed?.push(m.topic) });
    bus.registerAgent('none', { handler: (m) => void got.none?.push(m.topic) });
    await bus.start();
    const feed = bus.getAgent('feed');
    feed?.publish({ topic: 'market.btc.price', payload: { price: 45_000 } });
    feed?.publish({ topic: 'market.eth.volume', payload: {} });
    feed?.publish({ topic: 'market', payload: {} }); // `>` needs at least one more token
    await bus.whenIdle();
    expect(got).toEqual({
      exact: ['market.btc.price'],
      star: ['market.btc.price'],
      tail: ['market.btc.price', 'market.eth.volume'],
      feed: ['market.btc.price', 'market.eth.volume'],
      none: [],
    });
    expect(bus.getStats().activeSubscriptions).toBe(4);
    bus.unsubscribe('tail', 'market.>');
    feed?.publish({ topic: 'market.sol.price' });
    await bus.whenIdle();
    expect(got.tail).toHaveLength(2);
    expect(got.star).toContain('market.sol.price');
    await bus.stop();
  });

  test('one published message reaches every subscriber as it was sent: a handler cannot change it for the others (it is frozen)', async () => {
    const bus = new CommunicationBus();
    const refused: string[] = [];
    const seen: { topic: string; priority: string; payload: unknown }[] = [];
    const tamper = (m: Message) => {
      for (const change of [
        () => ((m as { topic: string }).topic = 'forged'),
        () => ((m as { priority: string }).priority = 'low'),
        () => ((m as { payload: unknown }).payload = 'forged'),
      ]) {
        try {
          change();
        } catch (error) {
          refused.push((error as Error).constructor.name);
        }
      }
    };
    bus.registerAgent('first', { topics: ['t'], handler: tamper });
    bus.registerAgent('second', { topics: ['t'], handler: (m) => void seen.push({ topic: m.topic, priority: m.priority, payload: m.payload }) });
    await bus.start();
    bus.getAgent('first')?.publish({ topic: 't', payload: { n: 1 }, priority: 'high' });
    await bus.whenIdle();
    expect(refused).toEqual(['TypeError', 'TypeError', 'TypeError']);
    expect(seen).toEqual([{ topic: 't', priority: 'high', payload: { n: 1 } }]);
    await bus.stop();
  });

  test('an event nobody subscribes to is dead-lettered as no_route', async () => {
    const bus = new CommunicationBus();
    const letters = collectDeadLetters(bus);
    await bus.start();
    bus.publishEvent({ senderId: 'feed', topic: 'nobody.listens' });
    expect(letters.map((l) => l.reason)).toEqual(['no_route']);
    await bus.stop();
  });
});

describe('CommunicationBus: failures, retries and capacity', () => {
  test('a throwing handler is retried maxRetries times, then the message is dead-lettered; the agent goes on', async () => {
    const bus = new CommunicationBus();
    const letters = collectDeadLetters(bus);
    const attempts: number[] = [];
    bus.registerAgent('flaky', {
      handler: (m) => {
        if (m.topic === 'bad') {
          attempts.push(m.retryCount);
          throw new Error('boom');
        }
      },
    });
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'flaky', messageType: 'command', topic: 'bad' });
    bus.sendMessage({ senderId: 's', recipientId: 'flaky', messageType: 'command', topic: 'good' });
    await bus.whenIdle();
    expect(attempts).toEqual([0, 1, 2, 3]);
    expect(letters).toEqual([expect.objectContaining({ reason: 'max_retries', agentId: 'flaky', error: 'boom' })]);
    const stats = bus.getStats();
    expect(stats.messagesFailed).toBe(4);
    expect(stats.messagesRetried).toBe(3);
    expect(stats.messagesProcessed).toBe(1);
    await bus.stop();
  });

  test('a rejecting async handler follows the same retry path', async () => {
    const bus = new CommunicationBus();
    const letters = collectDeadLetters(bus);
    bus.registerAgent('w', { handler: async () => Promise.reject(new Error('nope')) });
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't', maxRetries: 1 });
    await bus.whenIdle();
    expect(letters.map((l) => l.reason)).toEqual(['max_retries']);
    expect(bus.getStats().messagesRetried).toBe(1);
    await bus.stop();
  });

  test('reject policy: a direct send to a full mailbox throws QueueFullError; fan-out copies are dead-lettered', async () => {
    const bus = new CommunicationBus({ maxQueueSize: 2 });
    const letters = collectDeadLetters(bus);
    bus.registerAgent('p', { topics: ['t'] });
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 't' });
    bus.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 't' });
    expect(() => bus.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 't' })).toThrow(QueueFullError);
    bus.publishEvent({ senderId: 's', topic: 't' });
    expect(letters.map((l) => l.reason)).toEqual(['queue_full']);
    expect(bus.getStats().queueDepth).toBe(2);
    expect(bus.getStats().messagesRejected).toBe(1);
    await bus.stop();
  });

  test('drop_lowest policy: the oldest least urgent message makes room, or the incoming one is dropped', async () => {
    const bus = new CommunicationBus({ maxQueueSize: 3, overflowPolicy: 'drop_lowest' });
    const letters = collectDeadLetters(bus);
    bus.registerAgent('p');
    await bus.start();
    const send = (topic: string, priority: 'low' | 'medium' | 'high' | 'critical') => bus.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic, priority });
    send('low-old', 'low');
    send('low-new', 'low');
    send('high', 'high');
    send('critical', 'critical'); // evicts low-old
    send('low-incoming', 'low'); // evicts low-new (same lane, older)
    expect(letters.map((l) => (l.reason === 'invalid' ? '' : l.message.topic))).toEqual(['low-old', 'low-new']);
    send('high2', 'high'); // evicts low-incoming
    expect(bus.getAgentMessages('p').map((m) => m.topic)).toEqual(['critical', 'high', 'high2']);
    const full = new CommunicationBus({ maxQueueSize: 1, overflowPolicy: 'drop_lowest' });
    const fullLetters = collectDeadLetters(full);
    full.registerAgent('p');
    full.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 'keep', priority: 'high' });
    full.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 'drop', priority: 'low' });
    expect(fullLetters.map((l) => (l.reason === 'invalid' ? '' : l.message.topic))).toEqual(['drop']);
    await bus.stop();
    await full.stop();
  });
});

describe('CommunicationBus: identity and validation', () => {
  test('an agent cannot send as another: the handle stamps its own id', async () => {
    const bus = new CommunicationBus();
    const got: Message[] = [];
    bus.registerAgent('victim', { handler: (m) => void got.push(m) });
    const mallory = bus.registerAgent('mallory');
    await bus.start();
    const forged = { recipientId: 'victim', messageType: 'command', topic: 'transfer', senderId: 'bank' } as never;
    mallory.send(forged);
    mallory.publish({ topic: 'x', senderId: 'bank' } as never);
    await bus.whenIdle();
    expect(got.map((m) => m.senderId)).toEqual(['mallory']);
    await bus.stop();
  });

  test('a local sender cannot claim to come from another process: its nf-origin header is dropped', async () => {
    const bus = new CommunicationBus();
    const got: Message[] = [];
    bus.registerAgent('victim', { handler: (m) => void got.push(m) });
    const mallory = bus.registerAgent('mallory');
    await bus.start();
    const headers = { [ORIGIN_HEADER]: 'orchestrator-host', trace: 't1' };
    mallory.send({ recipientId: 'victim', messageType: 'command', topic: 'x', headers });
    await bus.whenIdle();
    expect(got.map((m) => [messageOrigin(m).kind, m.headers])).toEqual([['local', { trace: 't1' }]]);
    // The sender's own object is left as it was.
    expect(headers).toEqual({ [ORIGIN_HEADER]: 'orchestrator-host', trace: 't1' });
    await bus.stop();
  });

  test('bad input is rejected with a ValidationError naming the field, and never reaches a mailbox', async () => {
    const bus = new CommunicationBus();
    bus.registerAgent('p');
    await bus.start();
    const cases: [unknown, string][] = [
      [{ senderId: '', recipientId: 'p', messageType: 'command', topic: 't' }, 'senderId'],
      [{ senderId: 's', recipientId: 'p', messageType: 'shout', topic: 't' }, 'messageType'],
      [{ senderId: 's', recipientId: 'p', messageType: 'command', topic: 't', priority: 'urgent' }, 'priority'],
      [{ senderId: 's', recipientId: 'p', messageType: 'command', topic: 't', ttl: -1 }, 'ttl'],
      [{ senderId: 's', recipientId: 'p', messageType: 'command' }, 'topic'],
      [{ senderId: 's', recipientId: 'p', messageType: 'command', topic: 't', headers: { a: 1 } }, 'headers.a'],
      [null, ''],
      ['hello', ''],
    ];
    for (const [input, field] of cases) {
      let error: unknown;
      try {
        bus.sendMessage(input);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
      expect((error as ValidationError).code).toBe('ERR_VALIDATION');
    }
    expect(bus.getAgentMessages('p')).toEqual([]);
    expect(() => bus.registerAgent('')).toThrow(ValidationError);
    expect(() => bus.registerAgent('x', { concurrency: 0 })).toThrow(ValidationError);
    expect(() => bus.registerAgent('p')).toThrow(DuplicateAgentError);
    expect(() => bus.subscribe('ghost', 't')).toThrow(UnknownAgentError);
    await expect(bus.sendRequest({ senderId: 's', recipientId: 'p', topic: 't', timeoutMs: -5 } as never)).rejects.toBeInstanceOf(ValidationError);
    await bus.stop();
    expect(() => bus.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 't' })).toThrow(NotRunningError);
  });

  test('frames from a transport never throw: invalid ones become dead letters with reason invalid', async () => {
    const bus = new CommunicationBus();
    const letters = collectDeadLetters(bus);
    bus.registerAgent('p');
    await bus.start();
    expect(bus.acceptFrame({ nonsense: true })).toBeUndefined();
    expect(bus.acceptFrame({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 't' })?.messageId).toEqual(expect.any(String));
    expect(letters.map((l) => l.reason)).toEqual(['invalid']);
    expect(bus.getStats().deadLetters.invalid).toBe(1);
    await bus.stop();
  });

  test('messageId and timestamp are filled in when absent, kept when given', async () => {
    const clock = new SimulatedClock();
    clock.set(1234);
    const bus = new CommunicationBus({ clock });
    bus.registerAgent('p');
    const filled = bus.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 't' });
    expect(filled.messageId).toMatch(/^[0-9a-f-]{36}-[0-9a-z]+$/);
    expect(filled).toMatchObject({ timestamp: 1234, ttl: 300, retryCount: 0, maxRetries: 3, priority: 'medium' });
    const kept = bus.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 't', messageId: 'm1', timestamp: 1000 });
    expect(kept).toMatchObject({ messageId: 'm1', timestamp: 1000 });
    await bus.stop();
  });
});

describe('CommunicationBus: user machines as agent behaviour', () => {
  const counter = setup({
    types: {
      context: {} as { count: number; agent: AgentBehaviourInput['agent'] },
      input: {} as AgentBehaviourInput,
      events: {} as AgentMessageEvent,
    },
  }).createMachine({
    context: ({ input }) => ({ count: 0, agent: input.agent }),
    initial: 'counting',
    states: {
      counting: {
        on: {
          increment: { actions: assign({ count: ({ context }) => context.count + 1 }) },
          report: {
            actions: ({ context, event }) => void context.agent.respond(event.message, { count: context.count }),
          },
          crash: {
            actions: () => {
              throw new Error('behaviour crashed');
            },
          },
        },
      },
    },
  });

  test('messages arrive as events typed by topic; the machine answers through its handle', async () => {
    const bus = new CommunicationBus();
    const agent = bus.registerAgent('counter', { machine: counter });
    await bus.start();
    for (let i = 0; i < 3; i++) bus.sendMessage({ senderId: 's', recipientId: 'counter', messageType: 'command', topic: 'increment' });
    const reply = await bus.sendRequest({ senderId: 's', recipientId: 'counter', topic: 'report' });
    expect(reply.payload).toEqual({ count: 3 });
    expect(reply.senderId).toBe('counter');
    expect(agent.actor.getSnapshot().children['behaviour']).toBeDefined();
    await bus.stop();
  });

  test('a crashing behaviour is restarted; the crashing message is retried then dead-lettered; later messages are not lost', async () => {
    const bus = new CommunicationBus();
    const letters = collectDeadLetters(bus);
    bus.registerAgent('counter', { machine: counter });
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'counter', messageType: 'command', topic: 'increment' });
    bus.sendMessage({ senderId: 's', recipientId: 'counter', messageType: 'command', topic: 'crash', maxRetries: 1 });
    bus.sendMessage({ senderId: 's', recipientId: 'counter', messageType: 'command', topic: 'increment' });
    bus.sendMessage({ senderId: 's', recipientId: 'counter', messageType: 'command', topic: 'increment' });
    await bus.whenIdle();
    const reply = await bus.sendRequest({ senderId: 's', recipientId: 'counter', topic: 'report' });
    // The restart reset the count; both increments after the crash were delivered to the new behaviour.
    expect(reply.payload).toEqual({ count: 2 });
    expect(letters.map((l) => l.reason)).toEqual(['max_retries']);
    expect(bus.getStats().messagesFailed).toBe(2);
    await bus.stop();
  });

  test('a plain machine without input handling works too', async () => {
    const seen: string[] = [];
    const logger = createMachine({ on: { '*': { actions: ({ event }) => void seen.push(event.type) } } });
    const bus = new CommunicationBus();
    bus.registerAgent('logger', { machine: logger, topics: ['log.>'] });
    await bus.start();
    bus.publishEvent({ senderId: 's', topic: 'log.info' });
    await bus.whenIdle();
    expect(seen).toEqual(['log.info']);
    await bus.stop();
  });
});

describe('CommunicationBus: lifecycle and stats', () => {
  test('unregistering dead-letters the mailbox and frees the id', async () => {
    const bus = new CommunicationBus();
    const letters = collectDeadLetters(bus);
    bus.registerAgent('p', { topics: ['t'] });
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 't' });
    expect(bus.unregisterAgent('p')).toBe(true);
    expect(bus.unregisterAgent('p')).toBe(false);
    expect(letters.map((l) => l.reason)).toEqual(['no_route']);
    expect(bus.getStats()).toMatchObject({ registeredAgents: 0, activeSubscriptions: 0 });
    bus.registerAgent('p');
    await bus.stop();
  });

  test('stats count sent, delivered, processed, priorities and dead letters by reason', async () => {
    const bus = new CommunicationBus();
    bus.registerAgent('w', { handler: () => undefined });
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't', priority: 'critical' });
    bus.sendMessage({ senderId: 's', recipientId: 'ghost', messageType: 'command', topic: 't' });
    await bus.whenIdle();
    const stats = bus.getStats();
    expect(stats).toMatchObject({
      messagesSent: 2,
      messagesDelivered: 1,
      messagesProcessed: 1,
      registeredAgents: 1,
      messagesByPriority: { critical: 1, high: 0, medium: 1, low: 0 },
    });
    expect(stats.deadLetters).toMatchObject({ no_route: 1, total: 1 });
    expect(stats.avgProcessingTime).toBeGreaterThanOrEqual(0);
    await bus.stop();
  });

  test('getDeadLetters gives a copy: what the caller does to it is not the log', async () => {
    const bus = new CommunicationBus({ deadLetterBufferSize: 2 });
    await bus.start();
    for (const recipientId of ['g1', 'g2', 'g3']) bus.sendMessage({ senderId: 's', recipientId, messageType: 'command', topic: 't' });
    const letters = bus.getDeadLetters() as AnyDeadLetter[];
    letters.length = 0;
    letters.push(...Array.from({ length: 5 }, () => ({ reason: 'no_route' }) as AnyDeadLetter));
    expect(bus.getDeadLetters().map((l) => (l as { message: Message }).message.recipientId)).toEqual(['g2', 'g3']);
    await bus.stop();
  });

  test('stop() rejects waiting requests with NotRunningError', async () => {
    const bus = new CommunicationBus();
    bus.registerAgent('w', { handler: () => undefined });
    await bus.start();
    const pending = bus.sendRequest({ senderId: 's', recipientId: 'w', topic: 'q' });
    await bus.stop();
    await expect(pending).rejects.toBeInstanceOf(NotRunningError);
  });
});
