import fc from 'fast-check';
import { CommunicationBus, NeuroFluxError, type AnyDeadLetter } from '../src';

const AGENTS = ['alpha', 'beta', 'gamma', 'puller'] as const;
const TOPICS = ['market.btc', 'market.eth', 'risk', 'other'];

/** A random send: mostly well-formed, some malformed in every field. */
const arbitrarySend = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      senderId: fc.constantFrom(...AGENTS, 'outsider'),
      recipientId: fc.constantFrom<string | null>(...AGENTS, 'ghost', null),
      messageType: fc.constantFrom('request', 'event', 'broadcast', 'command', 'notification'),
      priority: fc.constantFrom('low', 'medium', 'high', 'critical'),
      topic: fc.constantFrom(...TOPICS),
      payload: fc.record({ fail: fc.boolean(), n: fc.integer() }),
      maxRetries: fc.integer({ min: 0, max: 2 }),
    }),
  },
  { weight: 2, arbitrary: fc.anything() },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        senderId: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        recipientId: fc.oneof(fc.string(), fc.constant(null), fc.boolean()),
        messageType: fc.oneof(fc.constantFrom('request', 'event'), fc.string()),
        priority: fc.oneof(fc.constantFrom('low', 'critical'), fc.string()),
        topic: fc.oneof(fc.string(), fc.integer()),
        ttl: fc.oneof(fc.double(), fc.constant(-1)),
        retryCount: fc.oneof(fc.integer(), fc.double()),
        headers: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
      },
      { requiredKeys: [] },
    ),
  },
);

describe('CommunicationBus properties', () => {
  test('every send is delivered exactly once per recipient, dead-lettered, or rejected with a typed error; the bus keeps working', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbitrarySend, { minLength: 1, maxLength: 250 }), async (sends) => {
        const bus = new CommunicationBus({ maxQueueSize: 100, overflowPolicy: 'reject' });
        const processed = new Map<string, number>();
        const bump = (key: string) => processed.set(key, (processed.get(key) ?? 0) + 1);
        const letters: AnyDeadLetter[] = [];
        bus.deadLetters$.subscribe((d) => letters.push(d));
        for (const id of ['alpha', 'beta', 'gamma']) {
          bus.registerAgent(id, {
            topics: id === 'gamma' ? ['market.>'] : id === 'beta' ? ['risk', 'market.*'] : [],
            concurrency: 2,
            handler: async (m) => {
              if ((m.payload as { fail?: boolean } | undefined)?.fail) throw new Error('fail');
              bump(`${m.messageId}@${id}`);
            },
          });
        }
        bus.registerAgent('puller', { topics: ['other'] });
        await bus.start();

        const accepted: { messageId: string; targets: string[] }[] = [];
        let rejected = 0;
        for (const send of sends) {
          let message;
          try {
            message = bus.sendMessage(send);
          } catch (error) {
            expect(error).toBeInstanceOf(NeuroFluxError);
            rejected++;
            continue;
          }
          let targets: string[];
          if (message.recipientId !== null) targets = [message.recipientId];
          else if (message.messageType === 'broadcast') targets = AGENTS.filter((a) => a !== message.senderId);
          else
            targets =
              {
                'market.btc': ['beta', 'gamma'],
                'market.eth': ['beta', 'gamma'],
                risk: ['beta'],
                other: ['puller'],
              }[message.topic] ?? [];
          accepted.push({ messageId: message.messageId, targets });
        }
        await bus.whenIdle();
        for (const m of bus.getAgentMessages('puller')) bump(`${m.messageId}@puller`);

        for (const { messageId, targets } of accepted) {
          const dead = letters.filter((l) => l.reason !== 'invalid' && l.message.messageId === messageId);
          // No such agent ('ghost', or any random id the generator came up with): no route.
          if (targets.length === 0 || (targets.length === 1 && !(AGENTS as readonly string[]).includes(targets[0] as string))) {
            expect(dead.map((d) => d.reason)).toEqual(['no_route']);
            continue;
          }
          for (const target of targets) {
            const deliveries = processed.get(`${messageId}@${target}`) ?? 0;
            const deadHere = dead.filter((d) => d.reason !== 'invalid' && d.agentId === target).length;
            expect(deliveries + deadHere).toBe(1);
          }
        }
        const stats = bus.getStats();
        expect(stats.messagesSent).toBe(accepted.length);
        expect(stats.messagesRejected).toBe(rejected);
        expect(stats.queueDepth).toBe(0);

        // Still alive: a request/response round trip after the storm.
        bus.registerAgent('echo', { handler: (m, agent) => void agent.respond(m, m.payload) });
        const reply = await bus.sendRequest({ senderId: 'alpha', recipientId: 'echo', topic: 'ping', payload: 42 });
        expect(reply.payload).toBe(42);
        await bus.stop();
      }),
      { numRuns: 40 },
    );
  });
});
