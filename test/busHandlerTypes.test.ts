/**
 * A handler's return value: whatever a one-line arrow returns type-checks and is ignored,
 * a promise (any thenable) is awaited, and a thenable that breaks counts as a failed delivery.
 */
import { firstValueFrom } from 'rxjs';
import { CommunicationBus, type AnyDeadLetter, type MessageHandler } from '../src';

// Type-level: the one-liners the docs show compile as they stand.
const respondOneLiner: MessageHandler = (m, a) => a.respond(m, { approved: true });
const conditionalOneLiner: MessageHandler = (m, a) => m.topic === 'conflict_vote' && a.respond(m, { decision: 'BUY' });
const asyncOneLiner: MessageHandler = async (m, a) => a.respond(m, { ok: true });
// @ts-expect-error a handler takes the message first: a string is not a Message
const wrongParameter: MessageHandler = (m: string) => m.length;
void wrongParameter;

describe('bus handlers: what they return', () => {
  test.each([
    ['a one-line arrow returning the reply message', respondOneLiner],
    ['a condition && respond (false for other topics)', conditionalOneLiner],
    ['an async one-liner', asyncOneLiner],
  ])('%s answers the request', async (_name, handler) => {
    const bus = new CommunicationBus();
    bus.registerAgent('risk', { handler });
    const client = bus.registerAgent('client');
    await bus.start();
    const reply = await client.request({ recipientId: 'risk', topic: 'conflict_vote', payload: {} });
    expect(reply.messageType).toBe('response');
    await bus.stop();
  });

  test.each<[string, unknown]>([
    ['null', null],
    ['a number', 42],
    ['a BigInt', 10n],
    ['an object without then', { then: 'not a function' }],
  ])('returning %s is a handled delivery', async (_name, value) => {
    const bus = new CommunicationBus();
    const letters: AnyDeadLetter[] = [];
    bus.deadLetters$.subscribe((d) => letters.push(d));
    const seen: string[] = [];
    bus.registerAgent('b', { handler: (m) => (seen.push(m.topic), value) });
    const a = bus.registerAgent('a');
    await bus.start();
    a.send({ recipientId: 'b', messageType: 'command', topic: 'once' });
    await bus.whenIdle();
    expect({ seen, letters: letters.length }).toEqual({ seen: ['once'], letters: 0 });
    await bus.stop();
  });

  test.each<[string, () => unknown]>([
    [
      'whose then getter throws',
      () => ({
        get then(): unknown {
          throw new Error('hostile getter');
        },
      }),
    ],
    [
      'whose then throws a non-Error',
      () => ({
        then(): never {
          throw 'not an Error';
        },
      }),
    ],
    ['that rejects', () => ({ then: (_ok: unknown, fail: (e: unknown) => void) => fail(new Error('rejected')) })],
  ])('a thenable %s fails the delivery: retried, then dead-lettered', async (_name, make) => {
    const bus = new CommunicationBus({ maxRetries: 1, retryDelayMs: 0 });
    const letter = firstValueFrom(bus.deadLetters$);
    let calls = 0;
    bus.registerAgent('b', { handler: () => (calls++, make()) });
    const a = bus.registerAgent('a');
    await bus.start();
    a.send({ recipientId: 'b', messageType: 'command', topic: 'boom', maxRetries: 1 });
    const dead = await letter;
    expect({ calls, reason: dead.reason, topic: 'message' in dead ? dead.message.topic : undefined }).toEqual({
      calls: 2,
      reason: 'max_retries',
      topic: 'boom',
    });
    await bus.stop();
  });
});
