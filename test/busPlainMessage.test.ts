import fc from 'fast-check';
import { CommunicationBus } from '../src/bus/communicationBus';
import { parseMessage, type Message } from '../src/bus/message';
import { MessageSchema } from '../src/bus/model/message';
import { parsePlainMessage, SchemaInput } from '../src/bus/plainMessage';
import { ValidationError } from '../src/errors';

/** What `parseMessage` did before the hand-written check: the schema alone. */
function schemaParse(input: unknown, now: number, senderId?: string): { ok: true; message: Message } | { ok: false; error: string } {
  const parsed = (senderId === undefined ? MessageSchema : MessageSchema.omit({ senderId: true })).safeParse(input);
  if (!parsed.success) return { ok: false, error: ValidationError.fromZod('message', parsed.error).message };
  const message = parsed.data as Message;
  if (senderId !== undefined) message.senderId = senderId;
  if (message.messageId === undefined) message.messageId = 'generated';
  if (message.timestamp === undefined) message.timestamp = now;
  return { ok: true, message };
}

/** The same outcome through `parseMessage` (generated ids replaced, as the reference's are). */
function currentParse(input: unknown, now: number, senderId?: string): { ok: true; message: Message } | { ok: false; error: string } {
  try {
    const message = parseMessage(input, now, senderId);
    // Kept (not generated) when present to `in` as zod asks it, and not undefined.
    const hadId = typeof input === 'object' && input !== null && 'messageId' in input && (input as { messageId?: unknown }).messageId !== undefined;
    return { ok: true, message: hadId ? message : { ...message, messageId: 'generated' } };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** Each field: mostly a valid value (absent or undefined where the schema allows it), now and then a bad one. */
const ABSENT = Symbol('absent');
type FieldValue = unknown;
const field = (valid: readonly FieldValue[], bad: readonly FieldValue[]) =>
  fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 12 }, { arbitrary: fc.constantFrom(...bad), weight: 1 });
const OPTIONAL = [ABSENT, undefined];
const arbitraryInput = fc
  .record({
    messageId: field([...OPTIONAL, 'm-1'], ['', 7, null]),
    senderId: field(['a'], [ABSENT, undefined, '', null, 3]),
    recipientId: field([...OPTIONAL, 'b', null], ['', 0]),
    messageType: field(['command', 'event', 'request', 'response', 'broadcast', 'notification'], [ABSENT, undefined, 'shout', '']),
    priority: field([...OPTIONAL, 'low', 'medium', 'high', 'critical'], ['urgent', 2, null]),
    topic: field(['t', 'market.btc'], [ABSENT, undefined, '', {}]),
    payload: field([...OPTIONAL, 1, 'x', { a: [1, 2] }, null, { at: new Date(0) }], [{ n: 1n }, [1, undefined], Number.NaN, () => 1, { deep: new Map() }]),
    timestamp: field([...OPTIONAL, 0, -0, 12.5], [-1, Number.POSITIVE_INFINITY, Number.NaN, '1', null]),
    correlationId: field([...OPTIONAL, 'c'], ['', 5, null]),
    ttl: field([...OPTIONAL, 1, 0.5, 1e308], [0, -1, Number.POSITIVE_INFINITY, Number.NaN, '30']),
    retryCount: field([...OPTIONAL, 0, -0, 2, 2 ** 53 - 1], [2 ** 53, 1.5, -1]),
    maxRetries: field([...OPTIONAL, 0, 5], [2 ** 53, 1.5, -1, Number.NaN]),
    headers: field([...OPTIONAL, { 'nf-idempotency-key': 'k' }], [{ a: 1 }, null]),
    metadata: field([...OPTIONAL, { a: 1 }], [{ f: () => 1 }, 'x']),
    extra: field([ABSENT, 'ignored'], [undefined]),
  })
  .map((fields) => {
    const input: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) if (value !== ABSENT) input[key] = value;
    return input;
  });

/**
 * The same fields in another kind of object (each call builds a fresh one, so the two sides
 * read their own): getters, an inherited copy, and Proxies whose `has` hides some keys or all
 * of them (review F1: zod asks `key in input`, the hand check must not judge those).
 */
const WRAPPERS = {
  plain: (f: Record<string, unknown>) => ({ ...f }),
  getters: (f: Record<string, unknown>) => Object.defineProperties({}, Object.fromEntries(Object.entries(f).map(([k, v]) => [k, { get: () => v, enumerable: true }]))) as object,
  inherited: (f: Record<string, unknown>) => Object.create({ ...f }) as object,
  hidingProxy: (f: Record<string, unknown>) =>
    new Proxy({ ...f }, { has: (t, k) => k in t && !['messageId', 'timestamp', 'correlationId', 'topic', 'maxRetries'].includes(k as string) }),
  lyingProxy: (f: Record<string, unknown>) => new Proxy({ ...f }, { has: () => false }),
  plainProxy: (f: Record<string, unknown>) => new Proxy({ ...f }, {}),
} as const;
const arbitraryWrapper = fc.constantFrom(...(Object.keys(WRAPPERS) as (keyof typeof WRAPPERS)[]));

describe('local messages checked by hand (parsePlainMessage) against MessageSchema', () => {
  test('parseMessage accepts and refuses exactly what the schema does, with the same message and the same error', () => {
    fc.assert(
      fc.property(arbitraryInput, fc.constantFrom(undefined, 'handle-agent'), (input, senderId) => {
        expect(currentParse(input, 1000, senderId)).toStrictEqual(schemaParse(input, 1000, senderId));
      }),
      { numRuns: 2000 },
    );
  });

  test('the same for getters, inherited fields and Proxies whose `has` hides fields (zod asks `key in input`)', () => {
    fc.assert(
      fc.property(arbitraryInput, arbitraryWrapper, fc.constantFrom(undefined, 'handle-agent'), (input, wrapper, senderId) => {
        const wrap = WRAPPERS[wrapper];
        expect(currentParse(wrap(input), 1000, senderId)).toStrictEqual(schemaParse(wrap(input), 1000, senderId));
      }),
      { numRuns: 3000 },
    );
  });

  test('what the hand check accepts, the schema accepts with the same fields; nothing it refuses slips through', () => {
    let taken = 0;
    fc.assert(
      fc.property(arbitraryInput, fc.constantFrom(undefined, 'handle-agent'), (input, senderId) => {
        const plain = parsePlainMessage(input, 1000, senderId);
        const reference = schemaParse(input, 1000, senderId);
        if (plain instanceof SchemaInput) return;
        taken++;
        expect(reference.ok).toBe(true);
        const hadId = input['messageId'] !== undefined;
        expect({ ok: true, message: hadId ? plain : { ...plain, messageId: 'generated' } }).toStrictEqual(reference);
      }),
      { numRuns: 2000 },
    );
    // The check is actually used: the arbitrary makes valid messages often enough.
    expect(taken).toBeGreaterThan(20);
  });

  test('an ordinary send takes the hand-written path; headers, metadata and non-objects go to the schema', () => {
    const ordinary = { senderId: 'a', recipientId: 'b', messageType: 'command', topic: 't', payload: 1 };
    expect(parsePlainMessage(ordinary, 5, undefined)).toMatchObject({ senderId: 'a', recipientId: 'b', priority: 'medium', payload: 1, timestamp: 5, ttl: 300 });
    expect((parsePlainMessage({ ...ordinary, senderId: 'spoofed' }, 5, 'me') as Message).senderId).toBe('me');
    expect(parsePlainMessage({ ...ordinary, headers: { a: 'b' } }, 5, undefined)).toBeInstanceOf(SchemaInput);
    expect(parsePlainMessage({ ...ordinary, metadata: {} }, 5, undefined)).toBeInstanceOf(SchemaInput);
    for (const notAnObject of [null, undefined, 'm', 3, [ordinary]]) expect(parsePlainMessage(notAnObject, 5, undefined)).toStrictEqual(new SchemaInput(notAnObject));
  });

  test('a sent message has the field order of the messages the runtime builds, whatever order the caller wrote', () => {
    const bus = new CommunicationBus();
    const agent = bus.registerAgent('a');
    bus.registerAgent('b');
    const built = Object.keys(bus.publishEvent({ senderId: 'a', topic: 't' }));
    const sent = [
      bus.sendMessage({ topic: 't', messageType: 'command', recipientId: 'b', senderId: 'a', payload: 1 }),
      agent.send({ payload: 1, topic: 't', messageType: 'command', recipientId: 'b' }),
      bus.sendMessage({ timestamp: 3, senderId: 'a', messageId: 'mine', recipientId: 'b', messageType: 'command', topic: 't' }),
      // Judged by the schema (review F4: these came out in zod's order, senderId, messageId and timestamp last).
      agent.send({ headers: { h: 'v' }, topic: 't', messageType: 'command', recipientId: 'b' }),
      bus.sendMessage({ metadata: { m: 1 }, topic: 't', messageType: 'command', recipientId: 'b', senderId: 'a' }),
      bus.sendMessage(new Proxy({ topic: 't', messageType: 'command', recipientId: 'b', senderId: 'a' }, {})),
    ];
    for (const message of sent) expect(Object.keys(message).filter((k) => k !== 'headers' && k !== 'metadata')).toEqual(built);
    // The optional records come last, after the fields every message has, as createMessage puts them.
    expect(Object.keys(sent[3] as Message).slice(-1)).toEqual(['headers']);
    expect(Object.keys(sent[4] as Message).slice(-1)).toEqual(['metadata']);
  });

  test('each field is read once: a getter that answers differently the second time cannot pass a bad value', () => {
    let reads = 0;
    const sly = {
      senderId: 'a',
      messageType: 'command',
      get topic(): string {
        reads++;
        return reads === 1 ? 't' : '';
      },
    };
    const message = parseMessage(sly, 0);
    expect(message.topic).toBe('t');
    expect(reads).toBe(1);
  });

  test('hostile sends through the bus are refused with a ValidationError naming the field, and nothing is queued', () => {
    const bus = new CommunicationBus();
    const agent = bus.registerAgent('a');
    bus.registerAgent('b');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    for (const [bad, path] of [
      [{ recipientId: 'b', messageType: 'command', topic: 't', payload: cyclic }, 'payload'],
      [{ recipientId: 'b', messageType: 'command', topic: 't', ttl: Number.POSITIVE_INFINITY }, 'ttl'],
      [{ recipientId: 'b', messageType: 'command', topic: '' }, 'topic'],
      [{ recipientId: 'b', messageType: 'command', topic: 't', retryCount: 2 ** 53 }, 'retryCount'],
    ] as const) {
      let thrown: unknown;
      try {
        agent.send(bad as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as Error).message).toContain(path);
    }
    expect(bus.getStats()).toMatchObject({ messagesSent: 0, messagesRejected: 4, queueDepth: 0 });
  });
});
