/** Redelivery of failed messages is capped, backs off on the runtime's clock, and never holds the thread. */
import { SimulatedClock } from 'xstate';
import { CommunicationBus, ValidationError, type AnyDeadLetter } from '../src';
import { cleanupAfterEach } from './support/cleanup';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();
const HUGE = 2 ** 53 - 1;

/** A frame as another process would send it, asking for endless redeliveries. */
const greedyFrame = (n: number, recipientId = 'broken') => ({
  messageId: `greedy-${n}`,
  senderId: 'remote',
  recipientId,
  messageType: 'command',
  topic: 'explode',
  payload: { n },
  maxRetries: HUGE,
});

function brokenAgent(bus: CommunicationBus, attempts: { retryCount: number; at: number }[]): void {
  bus.registerAgent('broken', {
    handler: (m) => {
      attempts.push({ retryCount: m.retryCount, at: bus.clock.now() });
      throw new Error('always');
    },
  });
}

function deadLetters(bus: CommunicationBus): AnyDeadLetter[] {
  const letters: AnyDeadLetter[] = [];
  bus.deadLetters$.subscribe((d) => letters.push(d));
  return letters;
}

describe('bus redelivery: cap', () => {
  test('a send asking for more redeliveries than the bus allows is refused, naming maxRetries', async () => {
    const bus = cleanup.add(new CommunicationBus({ maxRetries: 4 }));
    bus.registerAgent('a');
    await bus.start();
    const send = (maxRetries: number) => bus.sendMessage({ senderId: 's', recipientId: 'a', messageType: 'command', topic: 't', maxRetries });
    expect(() => send(HUGE)).toThrow(ValidationError);
    expect(() => send(5)).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION', field: 'maxRetries' }));
    expect(send(4).maxRetries).toBe(4);
    expect(bus.getStats()).toMatchObject({ messagesRejected: 2, messagesSent: 1 });
    // The default cap is 10.
    const byDefault = cleanup.add(new CommunicationBus());
    byDefault.registerAgent('a');
    expect(() => byDefault.sendMessage({ senderId: 's', recipientId: 'a', messageType: 'command', topic: 't', maxRetries: 11 })).toThrow(ValidationError);
    expect(() => new CommunicationBus({ maxRetries: HUGE })).toThrow(ValidationError);
  });

  test('a bus capped below the default of 3 still takes sends that name no maxRetries (the default is clamped)', async () => {
    const bus = cleanup.add(new CommunicationBus({ maxRetries: 1 }));
    bus.registerAgent('a');
    await bus.start();
    expect(bus.sendMessage({ senderId: 's', recipientId: 'a', messageType: 'command', topic: 't' }).maxRetries).toBe(1);
    expect(() => bus.sendMessage({ senderId: 's', recipientId: 'a', messageType: 'command', topic: 't', maxRetries: 3 })).toThrow(ValidationError);
  });

  test("a frame from the network is clamped to the receiving bus's own cap, not refused", async () => {
    const bus = cleanup.add(new CommunicationBus({ maxRetries: 3 }));
    bus.registerAgent('a');
    await bus.start();
    // Fast path (a plain frame) and schema path (a field the schema strips).
    expect(bus.acceptFrame(greedyFrame(1, 'a'))?.maxRetries).toBe(3);
    expect(bus.acceptFrame({ ...greedyFrame(2, 'a'), extra: true })?.maxRetries).toBe(3);
    expect(bus.acceptFrame({ ...greedyFrame(3, 'a'), maxRetries: 1 })?.maxRetries).toBe(1);
    // Not a count the schema takes (beyond 2^53): invalid, as before.
    expect(bus.acceptFrame({ ...greedyFrame(4, 'a'), maxRetries: 2 ** 60 })).toBeUndefined();
    expect(bus.getAgentMessages('a').map((m) => m.maxRetries)).toEqual([3, 3, 1]);
    const byDefault = cleanup.add(new CommunicationBus());
    byDefault.registerAgent('a');
    expect(byDefault.acceptFrame(greedyFrame(5, 'a'))?.maxRetries).toBe(10);
  });
});

describe('bus redelivery: backoff on the clock', () => {
  test('a frame asking for 2^53-1 retries into an always-throwing handler: attempts bounded by the cap, backing off, then max_retries', async () => {
    const clock = new SimulatedClock();
    const bus = cleanup.add(new CommunicationBus({ clock, maxRetries: 6, retryDelayMs: 10, maxRetryDelayMs: 50 }));
    const letters = deadLetters(bus);
    const attempts: { retryCount: number; at: number }[] = [];
    brokenAgent(bus, attempts);
    await bus.start();
    bus.acceptFrame(greedyFrame(1));
    await settle(1);
    // The first redelivery is immediate; then the thread is free.
    expect(attempts).toEqual([
      { retryCount: 0, at: 0 },
      { retryCount: 1, at: 0 },
    ]);
    // Each later one waits twice as long as the one before, at most maxRetryDelayMs.
    for (const delay of [10, 20, 40, 50, 50]) {
      const before = attempts.length;
      clock.increment(delay - 1);
      await settle(1);
      expect(attempts).toHaveLength(before);
      clock.increment(1);
      await settle(1);
      expect(attempts).toHaveLength(before + 1);
    }
    expect(attempts.map((a) => a.at)).toEqual([0, 0, 10, 30, 70, 120, 170]);
    expect(attempts.map((a) => a.retryCount)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(letters).toEqual([expect.objectContaining({ reason: 'max_retries', agentId: 'broken', error: 'always' })]);
    clock.increment(60_000);
    await settle(1);
    expect(attempts).toHaveLength(7);
    expect(bus.getStats()).toMatchObject({ messagesFailed: 7, messagesRetried: 6, queueDepth: 0 });
    await bus.whenIdle();
  });

  test('whenIdle waits for a backed-off redelivery; stop() puts it back in the mailbox; unregistering dead-letters it', async () => {
    const clock = new SimulatedClock();
    const bus = cleanup.add(new CommunicationBus({ clock, retryDelayMs: 100 }));
    const letters = deadLetters(bus);
    let failures = 0;
    bus.registerAgent('flaky', {
      handler: () => {
        failures++;
        throw new Error('not yet');
      },
    });
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'flaky', messageType: 'command', topic: 'kept', maxRetries: 5 });
    let idle = false;
    void bus.whenIdle().then(() => (idle = true));
    await settle();
    expect(failures).toBe(2);
    expect(idle).toBe(false);
    await bus.stop();
    expect(idle).toBe(true);
    expect(bus.getAgentMessages('flaky').map((m) => [m.topic, m.retryCount])).toEqual([['kept', 2]]);

    const other = cleanup.add(new CommunicationBus({ clock, retryDelayMs: 100 }));
    const otherLetters = deadLetters(other);
    other.registerAgent('flaky', { handler: async () => Promise.reject(new Error('no')) });
    await other.start();
    other.sendMessage({ senderId: 's', recipientId: 'flaky', messageType: 'command', topic: 'gone' });
    await settle();
    other.unregisterAgent('flaky');
    expect(otherLetters).toEqual([expect.objectContaining({ reason: 'no_route', agentId: 'flaky' })]);
    clock.increment(10_000);
    await settle();
    expect(otherLetters).toHaveLength(1);
    expect(letters).toEqual([]);
  });
});

describe('bus redelivery: a retry storm does not hold the thread', () => {
  test("while greedy frames fail, other agents' messages, the event loop and the clock's timers get through", async () => {
    const clock = new SimulatedClock();
    const bus = cleanup.add(new CommunicationBus({ clock }));
    const letters = deadLetters(bus);
    const attempts: { retryCount: number; at: number }[] = [];
    brokenAgent(bus, attempts);
    const calm: number[] = [];
    bus.registerAgent('calm', { handler: (m) => void calm.push(m.payload as number) });
    await bus.start();
    let timerFired = false;
    clock.setTimeout(() => (timerFired = true), 1);
    const storm = 20;
    for (let n = 0; n < storm; n++) {
      bus.acceptFrame(greedyFrame(n));
      bus.sendMessage({ senderId: 's', recipientId: 'calm', messageType: 'command', topic: 'work', payload: n });
    }
    // One macrotask: before the fix it ran only after some 65 000 redeliveries.
    await new Promise((resolve) => setImmediate(resolve));
    expect(attempts).toHaveLength(2 * storm);
    expect(calm).toEqual(Array.from({ length: storm }, (_, n) => n));
    clock.increment(1);
    expect(timerFired).toBe(true);
    // Driven to the end: each greedy frame had the default cap of 10 redeliveries.
    for (let i = 0; i < 12; i++) {
      clock.increment(5000);
      await settle(1);
    }
    expect(attempts).toHaveLength(storm * 11);
    expect(letters.map((l) => l.reason)).toEqual(Array.from({ length: storm }, () => 'max_retries'));
    expect(bus.getStats()).toMatchObject({ messagesFailed: storm * 11, messagesRetried: storm * 10, messagesProcessed: storm });
  });

  test('immediate redeliveries (retryDelayMs 0) count against the per-turn delivery budget', async () => {
    const bus = cleanup.add(new CommunicationBus({ maxRetries: 1000, retryDelayMs: 0 }));
    const attempts: { retryCount: number; at: number }[] = [];
    brokenAgent(bus, attempts);
    await bus.start();
    const messages = 10;
    const total = messages * 1001;
    for (let n = 0; n < messages; n++) bus.sendMessage({ senderId: 's', recipientId: 'broken', messageType: 'command', topic: 'x', maxRetries: 1000 });
    let seenByMacrotask = -1;
    setImmediate(() => (seenByMacrotask = attempts.length));
    await bus.whenIdle();
    expect(attempts).toHaveLength(total);
    // The macrotask ran while the storm went on, after at most a turn's budget (4096) plus one drain (1024).
    expect(seenByMacrotask).toBeGreaterThan(0);
    expect(seenByMacrotask).toBeLessThanOrEqual(4096 + 2 * 1024);
    expect(bus.getStats().deadLetters.max_retries).toBe(messages);
  });
});

describe('bus redelivery: what the handler is given', () => {
  test('a redelivered message is frozen like the first delivery', async () => {
    const bus = cleanup.add(new CommunicationBus({ maxRetries: 2, retryDelayMs: 0 }));
    const refused: string[] = [];
    bus.registerAgent('flaky', {
      handler: (m) => {
        try {
          (m as { topic: string }).topic = 'forged';
          refused.push(`changed on delivery ${m.retryCount}`);
        } catch (error) {
          refused.push(`${(error as Error).constructor.name} on delivery ${m.retryCount}`);
        }
        if (m.retryCount === 0) throw new Error('first time fails');
      },
    });
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'flaky', messageType: 'command', topic: 't' });
    await bus.whenIdle();
    expect(refused).toEqual(['TypeError on delivery 0', 'TypeError on delivery 1']);
  });
});
