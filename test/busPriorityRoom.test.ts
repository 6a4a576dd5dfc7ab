/** Under the default `reject` policy a more urgent message always finds room in a full mailbox. */
import fc from 'fast-check';
import { CommunicationBus, QueueFullError, createNeuroFlux, type AnyDeadLetter, type DeadLetter, type MessagePriority } from '../src';
import { cleanupAfterEach } from './support/cleanup';

const cleanup = cleanupAfterEach();
const URGENCY: Record<MessagePriority, number> = { critical: 0, high: 1, medium: 2, low: 3 };

function deadLetters(bus: CommunicationBus): DeadLetter[] {
  const letters: DeadLetter[] = [];
  bus.deadLetters$.subscribe((d: AnyDeadLetter) => void (d.reason !== 'invalid' && letters.push(d)));
  return letters;
}

describe('bus priority room (reject policy)', () => {
  test("the README's critical halt reaches an agent flooded with low traffic; the evicted messages are dead-lettered, nothing is lost", async () => {
    const nf = cleanup.add(createNeuroFlux({ bus: { maxQueueSize: 5 } }));
    const letters = deadLetters(nf.bus);
    const received: string[] = [];
    const trader = nf.bus.registerAgent('trading_agent_1', { topics: ['market.>'], handler: (m) => void received.push(m.topic) });
    const risk = nf.bus.registerAgent('risk_agent_1');
    const feed = nf.bus.registerAgent('feed');
    await nf.start();
    trader.setOnline(false);
    let attempted = 0;
    let refused = 0;
    const attempt = (send: () => unknown) => {
      attempted++;
      try {
        send();
      } catch (error) {
        expect(error).toBeInstanceOf(QueueFullError);
        refused++;
      }
    };
    for (let i = 0; i < 6; i++) attempt(() => feed.send({ recipientId: 'trading_agent_1', messageType: 'command', topic: `low${i}`, priority: 'low' }));
    // Full of low traffic: one more low message is refused as before (a throw for a direct send,
    // a dead letter for a fan-out copy).
    expect(refused).toBe(1);
    feed.publish({ topic: 'market.btc', payload: { price: 45_000 }, priority: 'low' });
    // A critical direct send and the critical broadcast each take the place of the newest low message.
    attempt(() => risk.send({ recipientId: 'trading_agent_1', messageType: 'command', topic: 'halt', priority: 'critical' }));
    risk.broadcast({ topic: 'emergency', payload: { action: 'halt_all_trading' }, priority: 'critical' });
    expect(refused).toBe(1);
    const traderLetters = letters.filter((l) => l.agentId === 'trading_agent_1');
    expect(traderLetters.map((l) => [l.message.topic, l.reason, l.error])).toEqual([
      ['market.btc', 'queue_full', undefined],
      ['low4', 'queue_full', 'evicted for a critical message (mailbox full)'],
      ['low3', 'queue_full', 'evicted for a critical message (mailbox full)'],
    ]);
    trader.setOnline(true);
    await nf.bus.whenIdle();
    expect(received).toEqual(['halt', 'emergency', 'low0', 'low1', 'low2']);
    // Every send is accounted for: accepted or refused; every accepted copy for the trader handled or dead-lettered.
    const stats = nf.bus.getStats();
    expect(stats.messagesSent + refused).toBe(attempted + 2);
    expect(stats.messagesEvicted).toBe(2);
    expect(received.length + traderLetters.length).toBe(attempted - refused + 2);
  });

  test('a critical request to a flooded agent is answered instead of refused', async () => {
    const bus = cleanup.add(new CommunicationBus({ maxQueueSize: 3 }));
    const letters = deadLetters(bus);
    const risk = bus.registerAgent('risk', { handler: (m, agent) => void (m.messageType === 'request' && agent.respond(m, { approved: true })) });
    await bus.start();
    risk.setOnline(false);
    for (let i = 0; i < 3; i++) bus.sendMessage({ senderId: 'feed', recipientId: 'risk', messageType: 'command', topic: 'noise', priority: 'medium' });
    expect(() => bus.sendMessage({ senderId: 'feed', recipientId: 'risk', messageType: 'command', topic: 'noise', priority: 'medium' })).toThrow(QueueFullError);
    const reply = bus.sendRequest({ senderId: 'trader', recipientId: 'risk', topic: 'risk_check', priority: 'high' });
    risk.setOnline(true);
    await expect(reply).resolves.toMatchObject({ payload: { approved: true } });
    expect(letters.map((l) => [l.reason, l.message.priority])).toEqual([['queue_full', 'medium']]);
    expect(bus.getStats().messagesRejected).toBe(1);
  });

  test('property: no message is refused while a strictly less urgent one is queued; accepted = queued + evicted', () => {
    const priorities = fc.constantFrom<MessagePriority>('critical', 'high', 'medium', 'low');
    const send = fc.record({ priority: priorities, kind: fc.constantFrom('direct', 'event', 'broadcast') });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(send, { maxLength: 40 }), (capacity, sends) => {
        const bus = new CommunicationBus({ maxQueueSize: capacity });
        const letters = deadLetters(bus);
        bus.registerAgent('p', { topics: ['t'] });
        /** What the model says the mailbox holds, by message id. */
        const queued = new Map<string, MessagePriority>();
        let accepted = 0;
        let evicted = 0;
        for (const [i, { priority, kind }] of sends.entries()) {
          const lessUrgentQueued = [...queued.values()].some((p) => URGENCY[p] > URGENCY[priority]);
          const lettersBefore = letters.length;
          let messageId: string | undefined;
          try {
            const m =
              kind === 'direct'
                ? bus.sendMessage({ senderId: 's', recipientId: 'p', messageType: 'command', topic: 't', priority, payload: i })
                : kind === 'event'
                  ? bus.publishEvent({ senderId: 's', topic: 't', priority, payload: i })
                  : bus.broadcastMessage({ senderId: 's', topic: 't', priority, payload: i });
            messageId = m.messageId;
          } catch (error) {
            expect(error).toBeInstanceOf(QueueFullError);
          }
          const fresh = letters.slice(lettersBefore);
          const refusedCopy = fresh.some((l) => l.message.messageId === messageId);
          if (messageId === undefined || refusedCopy) {
            expect(lessUrgentQueued).toBe(false);
            expect(queued.size).toBe(capacity);
          } else {
            accepted++;
            queued.set(messageId, priority);
          }
          for (const l of fresh) {
            if (l.message.messageId === messageId) continue;
            // An eviction: the least urgent, newest queued message, strictly less urgent than the newcomer.
            expect(l).toMatchObject({ reason: 'queue_full', agentId: 'p', error: expect.stringMatching(/^evicted/) });
            const lanes = [...queued.values()].map((p) => URGENCY[p]);
            expect(URGENCY[l.message.priority]).toBe(Math.max(...lanes));
            expect(URGENCY[l.message.priority]).toBeGreaterThan(URGENCY[priority]);
            const sameLane = [...queued.entries()].filter(([, p]) => p === l.message.priority).map(([id]) => id);
            expect(sameLane[sameLane.length - 1]).toBe(l.message.messageId);
            queued.delete(l.message.messageId);
            evicted++;
          }
          expect(queued.size).toBeLessThanOrEqual(capacity);
        }
        const inMailbox = bus.getAgentMessages('p');
        expect(new Set(inMailbox.map((m) => m.messageId))).toEqual(new Set(queued.keys()));
        expect(accepted).toBe(queued.size + evicted);
        void bus.stop();
      }),
      { numRuns: 300 },
    );
  });
});
