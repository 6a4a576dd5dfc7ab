/**
 * The bus judges what a caller's object answers once (review of the hand-written send check,
 * findings F1–F3): a Proxy whose `has` trap disagrees with its `get` is judged as the schema
 * judges it (zod asks `key in input`), a getter that changes its answer cannot slip a value
 * past the check on the schema's path, and `maxRetries` is capped from the value validated,
 * not from a second read. Sends, publishes, requests and responses alike.
 */
import { CommunicationBus } from '../src/bus/communicationBus';
import { parseMessage } from '../src/bus/message';
import { ValidationError } from '../src/errors';

const buses: CommunicationBus[] = [];
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.stop();
});
async function startedBus(options: { maxRetries?: number } = {}): Promise<CommunicationBus> {
  const bus = new CommunicationBus(options);
  buses.push(bus);
  bus.registerAgent('a');
  bus.registerAgent('b', { handler: (m, agent) => void (m.messageType === 'request' && agent.respond(m, m.payload)) });
  await bus.start();
  return bus;
}
const target = () => ({ senderId: 'a', recipientId: 'b', messageType: 'command', topic: 't' });
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('F1: a Proxy is judged by `key in input` as the schema judges it', () => {
  test('`has` says false for every key: refused, the first required field named as "nonoptional"', async () => {
    const bus = await startedBus();
    const error = thrown(() => bus.sendMessage(new Proxy(target(), { has: () => false })));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/senderId: .*nonoptional/);
    expect(bus.getStats().messagesRejected).toBe(1);
  });

  test('`has` throws: the send throws (as the schema does) and nothing is routed', async () => {
    const bus = await startedBus();
    const throwing = new Proxy(target(), {
      has: (t, k) => {
        if (k === 'topic') throw new Error('has(topic) threw');
        return k in t;
      },
    });
    expect(() => bus.sendMessage(throwing)).toThrow('has(topic) threw');
    await bus.whenIdle();
    expect(bus.getStats().messagesSent).toBe(0);
  });

  test('optional fields hidden from `has` are dropped, as the schema drops them: a fresh id, the clock, no correlationId', () => {
    const hiding = new Proxy(
      { ...target(), messageId: 'mine', timestamp: 5, correlationId: 'c' },
      { has: (t, k) => k in t && !['messageId', 'timestamp', 'correlationId'].includes(k as string) },
    );
    const message = parseMessage(hiding, 1000);
    expect(message.messageId).not.toBe('mine');
    expect(message.timestamp).toBe(1000);
    expect('correlationId' in message).toBe(false);
  });

  test('publish, request and response arguments: the same', async () => {
    const bus = await startedBus();
    const handle = bus.registerAgent('feed');
    expect(() => handle.publish(new Proxy({ topic: 't' }, { has: () => false }))).toThrow(/topic: .*nonoptional/);
    expect(() => bus.publishEvent(new Proxy({ senderId: 'a', topic: 't' }, { has: () => false }))).toThrow(/senderId: .*nonoptional/);
    await expect(handle.request(new Proxy({ recipientId: 'b', topic: 't' }, { has: () => false }))).rejects.toThrow(/topic: .*nonoptional/);
    const request = { messageId: 'm', senderId: 'feed', recipientId: 'b', correlationId: 'c' };
    expect(() => handle.respond(new Proxy(request, { has: () => false }) as never, 1)).toThrow(/messageId: .*nonoptional/);
  });
});

describe('F2: on the schema’s path the fields are the ones already read', () => {
  test('a topic getter answering "" then "t" is refused, read once', () => {
    let reads = 0;
    const sly = {
      senderId: 'a',
      messageType: 'command',
      get topic(): string {
        return ++reads === 1 ? '' : 't';
      },
    };
    expect(() => parseMessage(sly, 0)).toThrow(/topic/);
    expect(reads).toBe(1);
  });

  test('with headers (always the schema’s path) every field is read once and the message holds what was read', () => {
    const reads: Record<string, number> = {};
    const counted = (key: string, first: unknown, later: unknown) => ({
      get: () => ((reads[key] = (reads[key] ?? 0) + 1) === 1 ? first : later),
      enumerable: true,
    });
    const input = Object.defineProperties(
      {},
      {
        senderId: counted('senderId', 'a', 'x'),
        messageType: counted('messageType', 'command', 'event'),
        topic: counted('topic', 't', 'u'),
        payload: counted('payload', 1, 2),
        headers: counted('headers', { h: 'v' }, { h: 'w' }),
      },
    );
    const message = parseMessage(input, 0);
    expect(message).toMatchObject({ senderId: 'a', messageType: 'command', topic: 't', payload: 1, headers: { h: 'v' } });
    expect(reads).toEqual({ senderId: 1, messageType: 1, topic: 1, payload: 1, headers: 1 });
  });

  test('a publish and a request whose topic getter answers "" then "t" are refused, read once', async () => {
    const bus = await startedBus();
    const handle = bus.registerAgent('feed');
    let reads = 0;
    const topic = {
      get topic(): string {
        return ++reads === 1 ? '' : 't';
      },
    };
    expect(() => handle.publish(topic)).toThrow(/topic/);
    expect(reads).toBe(1);
    reads = 0;
    const request = {
      recipientId: 'b',
      get topic(): string {
        return ++reads === 1 ? '' : 't';
      },
    };
    await expect(handle.request(request)).rejects.toThrow(/topic/);
    expect(reads).toBe(1);
  });

  test('a response: the request being answered is read once, the reply goes where the check saw', async () => {
    const bus = await startedBus();
    const handle = bus.registerAgent('feed');
    let reads = 0;
    const request = {
      messageId: 'm',
      recipientId: null,
      get senderId(): string {
        return ++reads === 1 ? 'a' : '';
      },
    };
    expect(handle.respond(request as never, 1).recipientId).toBe('a');
    expect(reads).toBe(1);
  });
});

describe('F3: the bus’s maxRetries cap is applied to the value validated', () => {
  test('a getter answering 100 then undefined is refused (cap 5), not clamped', async () => {
    const bus = await startedBus({ maxRetries: 5 });
    let reads = 0;
    const message = {
      ...target(),
      get maxRetries(): number | undefined {
        return ++reads === 1 ? 100 : undefined;
      },
    };
    expect(() => bus.sendMessage(message)).toThrow(/maxRetries: must be at most 5/);
    expect(reads).toBe(1);
  });

  test('a getter answering undefined then 2 is accepted with the cap (1), not refused for a value it never had', async () => {
    const bus = await startedBus({ maxRetries: 1 });
    let reads = 0;
    const message = {
      ...target(),
      get maxRetries(): number | undefined {
        return ++reads === 1 ? undefined : 2;
      },
    };
    expect(bus.sendMessage(message).maxRetries).toBe(1);
    expect(reads).toBe(1);
  });

  test('on the schema’s path too (headers): given above the cap is refused, absent is lowered to the cap', async () => {
    const bus = await startedBus({ maxRetries: 1 });
    expect(() => bus.sendMessage({ ...target(), headers: { h: 'v' }, maxRetries: 2 })).toThrow(/maxRetries: must be at most 1/);
    expect(bus.sendMessage({ ...target(), headers: { h: 'v' } }).maxRetries).toBe(1);
    expect(bus.sendMessage({ ...target(), headers: { h: 'v' }, maxRetries: 0 }).maxRetries).toBe(0);
  });
});
