/** Regression tests for bus failure paths found in review. */
import { SimulatedClock, createMachine, fromCallback, setup } from 'xstate';
import { CommunicationBus, DeliveryFailedError, type AnyDeadLetter, type Message } from '../src';

describe('bus robustness', () => {
  test('a behaviour machine that reaches its final state is replaced; later messages are not lost', async () => {
    const bus = new CommunicationBus();
    const seen: number[] = [];
    const oneShot = createMachine({
      initial: 'open',
      states: {
        open: { on: { '*': { target: 'done', actions: ({ event }) => void seen.push((event as unknown as { message: Message }).message.payload as number) } } },
        done: { type: 'final' },
      },
    });
    bus.registerAgent('w', { machine: oneShot });
    await bus.start();
    for (let i = 0; i < 5; i++) bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't', payload: i });
    await bus.whenIdle();
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(bus.getStats()).toMatchObject({ messagesProcessed: 5, queueDepth: 0 });
    await bus.stop();
  });

  test('a behaviour that crashes between messages is restarted, and the next message is not blamed', async () => {
    const bus = new CommunicationBus();
    const letters: AnyDeadLetter[] = [];
    bus.deadLetters$.subscribe((d) => letters.push(d));
    const seen: string[] = [];
    const fragile = setup({ actors: { ticking: fromCallback(() => undefined) } }).createMachine({
      invoke: { src: 'ticking', id: 'ticking' },
      on: { 'after-crash': { actions: ({ event }) => void seen.push(event.type) } },
    });
    const agent = bus.registerAgent('w', { machine: fragile });
    await bus.start();
    // Its invoked actor fails outside any delivery: an unhandled child error crashes the behaviour.
    agent.actor.getSnapshot().children['behaviour']?.send({ type: 'xstate.error.actor.ticking', error: new Error('boom') } as never);
    expect(agent.actor.getSnapshot().children['behaviour']?.getSnapshot().status).toBe('error');
    bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 'after-crash', maxRetries: 0 });
    await bus.whenIdle();
    expect(seen).toContain('after-crash');
    expect(letters).toEqual([]);
    await bus.stop();
  });

  test('a failed message is retried even when new arrivals filled the mailbox meanwhile', async () => {
    const bus = new CommunicationBus({ maxQueueSize: 2 });
    const handled: number[] = [];
    let failOnce = true;
    let release!: () => void;
    bus.registerAgent('w', {
      handler: async (m) => {
        if (m.payload === 1 && failOnce) {
          failOnce = false;
          await new Promise<void>((resolve) => (release = resolve));
          throw new Error('transient');
        }
        handled.push(m.payload as number);
      },
    });
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't', payload: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't', payload: 2 });
    bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't', payload: 3 });
    release();
    await bus.whenIdle();
    expect(handled.sort()).toEqual([1, 2, 3]);
    expect(bus.getStats().deadLetters.total).toBe(0);
    await bus.stop();
  });

  test("the guide's manual request without a correlation id still gets its response", async () => {
    const bus = new CommunicationBus();
    const requester = bus.registerAgent('a');
    bus.registerAgent('b', { handler: (m, agent) => void agent.respond(m, 'pong') });
    await bus.start();
    requester.send({ recipientId: 'b', messageType: 'request', topic: 'ping' });
    await bus.whenIdle();
    expect(requester.receive().map((m) => m.payload)).toEqual(['pong']);
    await bus.stop();
  });

  test('agents answering each other synchronously forever do not starve timers', async () => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    let exchanges = 0;
    let stop = false;
    for (const [me, other] of [
      ['ping', 'pong'],
      ['pong', 'ping'],
    ] as const) {
      bus.registerAgent(me, {
        handler: (_m, agent) => {
          exchanges++;
          if (!stop) agent.send({ recipientId: other, messageType: 'command', topic: 'ball' });
        },
      });
    }
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'ping', messageType: 'command', topic: 'ball' });
    // A macrotask gets its turn while the rally goes on.
    await new Promise((resolve) => setImmediate(resolve));
    stop = true;
    expect(exchanges).toBeGreaterThan(0);
    await bus.whenIdle();
    await bus.stop();
  });

  test('a request whose handler fails on every attempt rejects once its redeliveries are spent, not at its timeout', async () => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    bus.registerAgent('broken', {
      handler: () => {
        throw new Error('down');
      },
    });
    await bus.start();
    const outcome = bus.sendRequest({ senderId: 's', recipientId: 'broken', topic: 'q', timeoutMs: 60_000 });
    // Its later redeliveries back off (50, then 100 ms by default): far short of the timeout.
    for (let i = 0; i < 2; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      clock.increment(100);
    }
    await expect(outcome).rejects.toBeInstanceOf(DeliveryFailedError);
    await expect(outcome).rejects.toMatchObject({ reason: 'max_retries', code: 'ERR_DELIVERY_FAILED' });
    expect(bus.getStats().pendingResponses).toBe(0);
    await bus.stop();
  });

  test('messages queued before start for an offline agent still expire', async () => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    const letters: AnyDeadLetter[] = [];
    bus.deadLetters$.subscribe((d) => letters.push(d));
    bus.registerAgent('pull');
    bus.sendMessage({ senderId: 's', recipientId: 'pull', messageType: 'command', topic: 't', ttl: 1 });
    await bus.start();
    clock.increment(2000);
    expect(letters.map((l) => l.reason)).toEqual(['expired']);
    await bus.stop();
  });
});
