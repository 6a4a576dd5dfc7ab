/**
 * A synchronous handler is handed its batches directly and its agent actor hears of its drains
 * in one `MESSAGES_PROCESSED` event, later than the microtasks the handlers queued (a
 * transport's flush of their responses), at once for whoever waits for idle: issue #20, NATS
 * end to end. The actor's figures stay
 * exact once the bus is idle; a handler that turns async mid-drain is counted in flight at once;
 * hostile counts in the event never break the chart's invariants.
 */
import fc from 'fast-check';
import { createActor, SimulatedClock, type AnyActorRef } from 'xstate';
import { agentMachine, MAX_AGENT_COUNT } from '../machines/agent.machine';
import { CommunicationBus } from '../src/bus/communicationBus';
import type { NeuroFluxClock } from '../src/kernel/clock';
import type { Message } from '../src/bus/message';
import type { TransportLink } from '../src/bus/transportLink';

interface Figures {
  value: unknown;
  inFlight: number;
  load: number;
  delivered: number;
  handled: number;
  failed: number;
}

function figures(actor: AnyActorRef): Figures {
  const { value, context } = actor.getSnapshot() as { value: unknown; context: Figures };
  return { value, inFlight: context.inFlight, load: context.load, delivered: context.delivered, handled: context.handled, failed: context.failed };
}

const buses: CommunicationBus[] = [];
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.stop();
});
function bus(): CommunicationBus {
  const b = new CommunicationBus({ batchSize: 10, maxQueueSize: 1000 });
  buses.push(b);
  return b;
}

describe('a synchronous handler: one actor event per drain', () => {
  test('25 messages in one burst (batch size 10): the actor takes one event, and reads the exact figures once idle', async () => {
    const b = bus();
    const seen: string[] = [];
    const agent = b.registerAgent('w', { topics: ['t'], handler: (m) => void seen.push(String((m.payload as { i: number }).i)) });
    await b.start();
    let snapshots = 0;
    const subscription = agent.actor.subscribe(() => snapshots++);
    for (let i = 0; i < 25; i++) b.publishEvent({ senderId: 'feed', topic: 't', payload: { i } });
    await b.whenIdle();
    subscription.unsubscribe();
    expect(seen).toHaveLength(25);
    // Before: MESSAGES_DELIVERED per batch of 10 and a MESSAGES_SETTLED, four macrosteps.
    expect(snapshots).toBe(1);
    expect(figures(agent.actor)).toEqual({ value: { online: 'idle' }, inFlight: 0, load: 0, delivered: 25, handled: 25, failed: 0 });
  });

  test('throws count as failed in the same event; priority order is kept across batches', async () => {
    const b = bus();
    const order: string[] = [];
    const agent = b.registerAgent('w', {
      topics: ['t'],
      handler: (m) => {
        order.push(m.priority);
        if (m.priority === 'low') throw new Error('refused');
      },
    });
    const priorities = ['low', 'medium', 'critical', 'high'] as const;
    for (let i = 0; i < 12; i++) b.publishEvent({ senderId: 'feed', topic: 't', priority: priorities[i % 4], payload: { i } });
    await b.start();
    await b.whenIdle();
    expect(order.slice(0, 12)).toEqual([...Array(3).fill('critical'), ...Array(3).fill('high'), ...Array(3).fill('medium'), ...Array(3).fill('low')]);
    const f = figures(agent.actor);
    expect(f.inFlight).toBe(0);
    expect(f.failed).toBeGreaterThanOrEqual(3);
    expect(f.delivered).toBe(f.handled + f.failed);
  });

  test("a response's transport flush (queued while the handler ran) runs before the actor hears of the drain", async () => {
    const b = bus();
    const actorDeliveredAtFlush: number[] = [];
    const echo = b.registerAgent('echo', { handler: (m, agent) => void agent.respond(m, m.payload) }).actor;
    const pending: Message[] = [];
    // A transport that flushes in a microtask queued at the first forward of a tick, as the NATS transport's frame batcher does.
    const link: TransportLink = {
      forward: (message) => {
        if (message.messageType !== 'response') return false;
        pending.push(message);
        if (pending.length === 1) {
          queueMicrotask(() => {
            actorDeliveredAtFlush.push((echo.getSnapshot() as { context: Figures }).context.delivered);
            pending.length = 0;
          });
        }
        return true;
      },
      agentAdded: () => {},
      agentRemoved: () => {},
      subscribed: () => {},
      unsubscribed: () => {},
    };
    b.attachTransport(link);
    await b.start();
    // A request from another process: its requester is not local, so the response is forwarded.
    b.acceptFrame({ messageId: 'r1', senderId: 'remote', recipientId: 'echo', messageType: 'request', topic: 'echo', payload: 1, correlationId: 'c1' });
    // A turn of the event loop (nobody waiting for idle meanwhile): the drain and the link's flush have run.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(actorDeliveredAtFlush).toEqual([0]);
    // Whoever waits for idle reads exact figures.
    await b.whenIdle();
    expect(figures(echo)).toMatchObject({ delivered: 1, handled: 1, inFlight: 0 });
  });

  test('a handler that returns a promise mid-drain: the actor counts it in flight as soon as the drain is over', async () => {
    const b = bus();
    let release!: () => void;
    const agent = b.registerAgent('w', {
      topics: ['t'],
      concurrency: 1,
      handler: (m) => ((m.payload as { i: number }).i === 1 ? new Promise<void>((resolve) => (release = resolve)) : undefined),
    });
    await b.start();
    for (let i = 0; i < 3; i++) b.publishEvent({ senderId: 'feed', topic: 't', payload: { i } });
    // One turn: the drain has run (message 0 sync, message 1 async, message 2 back in the mailbox).
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(figures(agent.actor)).toMatchObject({ value: { online: 'saturated' }, inFlight: 1, delivered: 3, handled: 1 });
    release();
    await b.whenIdle();
    expect(figures(agent.actor)).toMatchObject({ value: { online: 'idle' }, inFlight: 0, handled: 3 });
  });
});

describe('MESSAGES_PROCESSED from anybody (the actor is public)', () => {
  const hostile = fc.oneof(fc.integer({ min: -5, max: 12 }), fc.constantFrom(NaN, Infinity, -Infinity, 0.5, 1e308, 2 ** 53 + 1, -0, undefined, '5', null));
  test('counts stay safe non-negative integers and the load state matches them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ type: fc.constant('MESSAGES_PROCESSED'), delivered: hostile, handled: hostile, failed: hostile, returned: hostile }), { maxLength: 60 }),
        (events) => {
          const actor = createActor(agentMachine, { input: { agentId: 'a', capacity: 3 } }).start();
          for (const event of events) {
            actor.send(event as never);
            const { context, value } = actor.getSnapshot();
            for (const n of [context.inFlight, context.load, context.delivered, context.handled, context.failed]) {
              expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
            }
            expect(context.inFlight).toBeLessThanOrEqual(MAX_AGENT_COUNT);
            const expected = context.load <= 0 ? 'idle' : context.inFlight >= 3 ? 'saturated' : 'busy';
            expect(value).toEqual({ online: expected });
          }
          actor.stop();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the report of synchronous drains is timed by the bus’s clock', () => {
  /** A SimulatedClock that knows which of its timers are still armed. */
  function trackedClock(): { clock: NeuroFluxClock; simulated: SimulatedClock; armed: Set<unknown> } {
    const simulated = new SimulatedClock();
    const armed = new Set<unknown>();
    const clock: NeuroFluxClock = {
      now: () => simulated.now(),
      setTimeout: (fn, ms) => {
        const id: unknown = simulated.setTimeout(() => {
          armed.delete(id);
          fn();
        }, ms);
        armed.add(id);
        return id;
      },
      clearTimeout: (id) => {
        armed.delete(id);
        simulated.clearTimeout(id as number);
      },
    };
    return { clock, simulated, armed };
  }
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

  test('the actor hears of the drains when the injected clock reaches 5 ms, not before (a SimulatedClock drives it)', async () => {
    const { clock, simulated } = trackedClock();
    const b = new CommunicationBus({ clock, batchSize: 10 });
    buses.push(b);
    const agent = b.registerAgent('w', { topics: ['t'], handler: () => undefined });
    await b.start();
    for (let i = 0; i < 3; i++) b.publishEvent({ senderId: 'feed', topic: 't', payload: { i } });
    // The drains run in microtasks: after a turn the handler has had every message.
    await turn();
    expect(figures(agent.actor).handled).toBe(0);
    simulated.increment(4);
    expect(figures(agent.actor).handled).toBe(0);
    simulated.increment(1);
    expect(figures(agent.actor)).toMatchObject({ delivered: 3, handled: 3, inFlight: 0 });
  });

  test('stop() reports at once and leaves no report timer armed', async () => {
    const { clock, armed } = trackedClock();
    const b = new CommunicationBus({ clock, batchSize: 10 });
    const agent = b.registerAgent('w', { topics: ['t'], handler: () => undefined });
    await b.start();
    b.publishEvent({ senderId: 'feed', topic: 't' });
    await turn();
    expect(armed.size).toBe(1);
    await b.stop();
    expect(armed.size).toBe(0);
    expect(figures(agent.actor).handled).toBe(1);
  });
});
