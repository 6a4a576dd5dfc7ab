/**
 * A value that JSON cannot carry (a BigInt, a cycle, a function, a Symbol...) is refused where
 * it enters, with a ValidationError naming the field, before anything is accepted: the same
 * with or without a transport, so a program does not change behaviour once distributed. Before,
 * a local subscriber got it, a transport threw a TypeError after acceptance, and one such task
 * result stopped every later write of the orchestrator's state.
 */
import fc from 'fast-check';
import { SimulatedClock } from 'xstate';
import { z } from 'zod';
import {
  CommunicationBus,
  ConflictResolutionEngine,
  MAX_JSON_DEPTH,
  MemorySnapshotStore,
  SnapshotWriter,
  ValidationError,
  createNeuroFlux,
  findNonJson,
  replaceNonJson,
  type Message,
  type SnapshotStore,
  type SnapshotWriterProblem,
  type StoredSnapshot,
  type TaskEvent,
} from '../../src';
import { warnOnStoreProblems } from '../../src/cli/storeWarnings';
import { frozenJsonCopyAround } from '../../src/jsonValue';
import { cleanupAfterEach } from '../support/cleanup';
import { signalConflict } from '../support/conflictFixtures';
import { settle } from '../support/settle';

const cleanup = cleanupAfterEach();

const cycle = (): Record<string, unknown> => {
  const value: Record<string, unknown> = { amount: 1 };
  value['self'] = value;
  return value;
};

/** Values refused inside a payload or result, and the path of the offending field in each. */
const NON_JSON: readonly (readonly [string, () => unknown, string])[] = [
  ['a BigInt', () => ({ amount: 10n }), 'amount'],
  ['a cycle', cycle, 'self'],
  ['a function', () => ({ amount: () => 1 }), 'amount'],
  ['a Symbol', () => ({ amount: Symbol('x') }), 'amount'],
  ['NaN', () => ({ amount: Number.NaN }), 'amount'],
  ['undefined in an array', () => ({ items: [1, undefined] }), 'items.1'],
  ['a Map', () => ({ amount: new Map([[1, 2]]) }), 'amount'],
];

describe('findNonJson', () => {
  test.each(NON_JSON)('names the field holding %s', (_, make, path) => {
    expect(findNonJson(make())).toMatchObject({ path });
  });

  test('accepts what JSON carries unchanged (or drops as JSON does)', () => {
    const shared = { n: 1 };
    for (const value of [undefined, null, 0, -1, 2 ** 53 - 1, 'x', true, [], {}, { a: undefined }, { at: new Date(0) }, [shared, shared], Object.create(null)]) {
      expect(findNonJson(value)).toBeUndefined();
    }
  });

  test('never throws, and does not recurse: a throwing getter, a Proxy, a value 100 000 levels deep, a huge sparse array', () => {
    const getter = Object.defineProperty({}, 'bad', {
      enumerable: true,
      get: () => {
        throw new Error('no');
      },
    });
    const proxy = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('no');
        },
      },
    );
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const sparse: unknown[] = [];
    sparse[1e9] = 1;
    expect(findNonJson(getter)).toMatchObject({ path: 'bad' });
    expect(findNonJson({ p: proxy })).toMatchObject({ path: 'p' });
    expect(findNonJson(deep)?.message).toMatch(`deeper than ${MAX_JSON_DEPTH}`);
    expect(findNonJson(sparse)).toMatchObject({ path: '0' });
  });

  test('a value of JSON primitives only (checked without the walk) gets the answer of the walk: the first value JSON would change, by its key', () => {
    const primitive = fc.oneof(fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.bigInt());
    const refused = (value: unknown, inArray: boolean) => typeof value === 'bigint' || (typeof value === 'number' && !Number.isFinite(value)) || (inArray && value === undefined);
    fc.assert(
      fc.property(fc.dictionary(fc.string(), primitive), (object) => {
        const first = Object.keys(object).find((key) => refused(object[key], false));
        expect(findNonJson(object)?.path).toBe(first);
      }),
    );
    fc.assert(
      fc.property(fc.array(primitive), (array) => {
        const first = array.findIndex((value) => refused(value, true));
        expect(findNonJson(array)?.path).toBe(first === -1 ? undefined : String(first));
      }),
    );
    // A nested value in a flat-looking object still goes through the walk.
    expect(findNonJson({ a: 1, b: { c: 2n } })).toMatchObject({ path: 'b.c' });
    expect(findNonJson([1, [2, Number.NaN]])).toMatchObject({ path: '1.1' });
  });

  test('class instances are looked into like plain objects; a toJSON method is trusted', () => {
    class Holder {
      readonly inner = { x: 1n };
    }
    expect(findNonJson({ h: new Holder() })).toMatchObject({ path: 'h.inner.x' });
    expect(findNonJson({ own: { toJSON: () => 'x', big: 1n } })).toBeUndefined();
  });

  test('replaceNonJson copies only the way to each bad part, which becomes null', () => {
    const kept = { big: 'unchanged' };
    const value = { kept, bad: { n: 10n, ok: 1 }, loop: cycle() };
    const repair = replaceNonJson(value);
    expect(repair?.value).toEqual({ kept, bad: { n: null, ok: 1 }, loop: { amount: 1, self: null } });
    expect((repair?.value as { kept: unknown }).kept).toBe(kept);
    expect(repair?.replaced.map((r) => r.path)).toEqual(['bad.n', 'loop.self']);
    expect(value.bad.n).toBe(10n); // the original is not touched
    expect(replaceNonJson({ fine: 1 })).toBeUndefined();
  });

  test('frozenJsonCopyAround copies as JSON would, with only the parts JSON cannot write as null, and never throws', () => {
    const throws = {
      toJSON(): never {
        throw new Error('no');
      },
    };
    const returnsCycle = { toJSON: () => cycle() };
    const returnsBigInt = { toJSON: () => 10n };
    const getterThrows = Object.defineProperty({ fine: 1 }, 'bad', {
      enumerable: true,
      get(): never {
        throw new Error('no');
      },
    });
    const odd = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    class ToJSONGetterThrows {
      get toJSON(): never {
        throw new Error('no');
      }
    }
    const keysThrow = new Proxy(
      { a: 1 },
      {
        ownKeys(): never {
          throw new Error('no keys');
        },
      },
    );
    const value = {
      throws,
      returnsCycle,
      returnsBigInt,
      getterThrows,
      odd,
      list: [throws, undefined, 1],
      nested: { list: [1, new ToJSONGetterThrows()], keysThrow },
      at: new Date(0),
      gone: undefined,
      neg: -0,
    };
    const copy = frozenJsonCopyAround(value) as Record<string, unknown>;
    expect(copy).toEqual({
      throws: null,
      returnsCycle: { amount: 1, self: null },
      returnsBigInt: null,
      getterThrows: { fine: 1, bad: null },
      odd: JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
      list: [null, null, 1],
      nested: { list: [1, null], keysThrow: null },
      at: '1970-01-01T00:00:00.000Z',
      neg: 0,
    });
    expect(Object.keys(copy)).not.toContain('gone');
    expect(Object.getPrototypeOf(copy['odd'])).toBe(Object.prototype);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    const isDeeplyFrozen = (v: unknown): boolean => typeof v !== 'object' || v === null || (Object.isFrozen(v) && Object.values(v).every(isDeeplyFrozen));
    expect(isDeeplyFrozen(copy)).toBe(true);
    // What JSON writes whole is copied whole.
    expect(frozenJsonCopyAround({ a: [1, { b: 'c' }] })).toEqual({ a: [1, { b: 'c' }] });
    expect(frozenJsonCopyAround(throws)).toBeNull();
    expect(frozenJsonCopyAround(undefined)).toBeUndefined();
  });
});

/** A transport link that serialises what it forwards, as the NATS transport does. */
function jsonLink(forwarded: string[]) {
  return {
    forward: (message: Message) => {
      forwarded.push(JSON.stringify(message));
      return true;
    },
    agentAdded: () => undefined,
    agentRemoved: () => undefined,
    subscribed: () => undefined,
    unsubscribed: () => undefined,
  };
}

describe.each(['without a transport', 'with a transport'] as const)('the bus %s', (setup) => {
  async function bus() {
    const b = cleanup.add(new CommunicationBus());
    const forwarded: string[] = [];
    if (setup === 'with a transport') b.attachTransport(jsonLink(forwarded));
    const accepted: Message[] = [];
    b.messages$.subscribe((m) => accepted.push(m));
    const received: unknown[] = [];
    b.registerAgent('w', { handler: (m) => void received.push(m.payload), topics: ['t'] });
    const pull = b.registerAgent('pull');
    await b.start();
    return { b, pull, forwarded, accepted, received };
  }

  test.each(NON_JSON)('refuses a payload holding %s before accepting it, naming the field', async (_, make, path) => {
    const { b, pull, forwarded, accepted, received } = await bus();
    const field = `payload.${path}`;
    const refused = (send: () => unknown) => {
      let error: unknown;
      try {
        send();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
    };
    refused(() => b.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't', payload: make() }));
    refused(() => b.publishEvent({ senderId: 's', topic: 't', payload: make() }));
    refused(() => b.broadcastMessage({ senderId: 's', topic: 't', payload: make() }));
    refused(() => pull.send({ recipientId: 'w', messageType: 'command', topic: 't', payload: make() }));
    refused(() => pull.publish({ topic: 't', payload: make() }));
    await expect(b.sendRequest({ senderId: 's', recipientId: 'w', topic: 't', payload: make() })).rejects.toMatchObject({ field });
    await expect(pull.request({ recipientId: 'w', topic: 't', payload: make() })).rejects.toMatchObject({ field });
    expect(() => b.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't', metadata: { m: make() } })).toThrow(
      expect.objectContaining({ field: `metadata.m.${path}` }) as unknown as Error,
    );

    // A response too: the request waits, and gets the valid answer sent after the refused one.
    const asked = b.sendRequest({ senderId: 's', recipientId: 'pull', topic: 'q', payload: {} });
    const [request] = pull.receive();
    refused(() => pull.respond(request as Message, make()));
    pull.respond(request as Message, { ok: true });
    await expect(asked).resolves.toMatchObject({ payload: { ok: true } });

    await b.whenIdle();
    // Nothing refused was accepted, delivered or forwarded: only the request and its answer.
    expect(accepted.map((m) => m.topic)).toEqual(['q', 'response']);
    expect(received).toEqual([]);
    expect(forwarded.every((frame) => !frame.includes('"t"'))).toBe(true);
  });
});

/** A runtime on `store` whose worker returns `results[taskId]` (or 'ok'). */
function runtime(store: SnapshotStore, results: Record<string, () => unknown>) {
  const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { store } }));
  nf.orchestrator.registerAgent('worker', { capabilities: ['x'], maxConcurrentTasks: 10, execute: (task) => (results[task.taskId] ?? (() => 'ok'))() });
  return nf;
}

describe('task results and payloads', () => {
  test.each(NON_JSON)('a result holding %s fails the attempt with a ValidationError naming result.<field>; persistence goes on', async (_, make, path) => {
    const store = new MemorySnapshotStore();
    const first = runtime(store, { bad: make });
    await first.start();
    first.orchestrator.submitTask({ taskId: 'bad', requiredCapabilities: ['x'], retryPolicy: { maxRetries: 0 } });
    await settle();
    const bad = first.orchestrator.getTask('bad');
    expect(bad).toMatchObject({ status: 'failed', retryCount: 0 });
    expect(bad?.error).toContain(`invalid task result: result.${path}: `);
    expect(bad?.result).toBeUndefined();

    first.orchestrator.submitTask({ taskId: 'later', requiredCapabilities: ['x'] });
    await settle();
    expect(first.orchestrator.getTask('later')).toMatchObject({ status: 'completed', result: 'ok' });
    await first.stop();

    const second = runtime(store, {});
    await second.start();
    expect(second.orchestrator.getTask('later')).toMatchObject({ status: 'completed', result: 'ok' });
    expect(second.orchestrator.getTask('bad')).toMatchObject({ status: 'failed' });
  });

  test('a refused result goes through the retry policy like any failure', async () => {
    let calls = 0;
    const nf = runtime(new MemorySnapshotStore(), { t: () => (++calls === 1 ? { amount: 10n } : { amount: '10' }) });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 't', requiredCapabilities: ['x'], retryPolicy: { maxRetries: 1, initialDelay: 0 } });
    await settle();
    (nf.clock as SimulatedClock).increment(1); // the retry's backoff (zero, but on the clock)
    await settle();
    expect(nf.orchestrator.getTask('t')).toMatchObject({ status: 'completed', retryCount: 1, result: { amount: '10' } });
  });

  test.each(NON_JSON)('a task payload holding %s is refused at submit, naming payload.<field>', async (_, make, path) => {
    const nf = runtime(new MemorySnapshotStore(), {});
    await nf.start();
    expect(() => nf.orchestrator.submitTask({ taskId: 'p', payload: make(), requiredCapabilities: ['x'] })).toThrow(ValidationError);
    expect(() => nf.orchestrator.submitTask({ taskId: 'p', payload: make(), requiredCapabilities: ['x'] })).toThrow(`payload.${path}`);
    expect(nf.orchestrator.getTask('p')).toBeUndefined();
  });
});

describe('conflicts', () => {
  test.each(NON_JSON)('a conflict or a vote holding %s is refused, naming the field; the engine goes on', async (_, make, path) => {
    const bus = cleanup.add(new CommunicationBus());
    const engine = cleanup.add(new ConflictResolutionEngine({ bus }));
    await bus.start();
    expect(() => engine.reportConflict(signalConflict({ conflictingElements: { symbol: make() } }))).toThrow(
      expect.objectContaining({ field: `conflictingElements.symbol.${path}` }) as unknown as Error,
    );
    engine.registerVoter('a', () => ({ decision: 'BUY', confidence: 0.9, evidence: make() }));
    engine.registerVoter('b', () => ({ decision: 'BUY', confidence: 0.9 }));
    engine.registerVoter('c', () => ({ decision: 'BUY', confidence: 0.9 }));
    const conflictId = engine.reportConflict(signalConflict());
    await expect(engine.resolveConflict(conflictId)).resolves.toMatchObject({ status: 'resolved', decision: 'BUY' });
    const vote = engine.getConflict(conflictId)?.votes.find((v) => v.agentId === 'a');
    expect(vote).toMatchObject({ decision: null });
    expect(vote?.reasoning).toContain(`evidence.${path}`);
  });
});

/** A store whose saves of `key` fail while `failing` is true. */
function flakyStore(key: string) {
  const inner = new MemorySnapshotStore();
  const control = { failing: true };
  const store: SnapshotStore = {
    load: <T>(k: string): Promise<StoredSnapshot<T> | undefined> => inner.load<T>(k),
    save: async (k: string, value: unknown, revision?: number) => {
      if (k === key && control.failing) throw new Error('disk full');
      return inner.save(k, value, revision);
    },
    delete: (k: string) => inner.delete(k),
    keys: () => inner.keys(),
    close: () => inner.close(),
  };
  return { store, control };
}

describe('the snapshot writer', () => {
  test('a state that is not JSON is written with its bad parts as null and reported; later writes land', async () => {
    const store = new MemorySnapshotStore();
    const state: { current: { items: unknown[] } } = { current: { items: [{ n: 10n }, { n: 1 }] } };
    const problems: SnapshotWriterProblem[] = [];
    const writer = new SnapshotWriter({
      store,
      key: 'k',
      schema: z.object({ items: z.array(z.unknown()) }),
      snapshot: () => state.current,
      onProblem: (p) => problems.push(p),
    });
    writer.markDirty();
    await writer.flush();
    expect(problems).toEqual([{ kind: 'repaired', key: 'k', replaced: [expect.objectContaining({ path: 'state.items.0.n' })] }]);
    expect(writer.stats()).toMatchObject({ saves: 1, saveErrors: 0, repairedWrites: 1 });
    state.current = { items: [{ n: 2 }] };
    writer.markDirty();
    await writer.flush();
    expect(await new SnapshotWriter({ store, key: 'k', schema: z.object({ items: z.array(z.unknown()) }), snapshot: () => state.current }).load()).toEqual({
      items: [{ n: 2 }],
    });
  });

  test('a store that keeps failing is reported on events$, in stats and by the CLI, and again when it recovers', async () => {
    const { store, control } = flakyStore('orchestrator');
    const nf = runtime(store, {});
    const events: TaskEvent[] = [];
    nf.orchestrator.events$.subscribe((e) => e.type === 'store_problem' && events.push(e));
    const lines: string[] = [];
    cleanup.defer(warnOnStoreProblems(nf, (text) => lines.push(text)));
    await nf.start();
    for (let i = 0; i < 3; i++) {
      nf.orchestrator.submitTask({ taskId: `t${i}`, requiredCapabilities: ['x'] });
      await settle();
    }
    expect(nf.orchestrator.getStats().persistence).toMatchObject({ failingWrites: { failing: true, lastError: 'disk full' } });
    expect(events).toEqual([expect.objectContaining({ problem: expect.objectContaining({ kind: 'failing', key: 'orchestrator', error: 'disk full', consecutiveFailures: 3 }) })]);
    expect(lines).toEqual([expect.stringMatching(/^warning: orchestrator store keeps failing .*disk full\n$/)]);

    control.failing = false;
    nf.orchestrator.submitTask({ taskId: 'after', requiredCapabilities: ['x'] });
    await settle();
    expect(events.map((e) => e.type === 'store_problem' && e.problem.kind)).toEqual(['failing', 'recovered']);
    expect(nf.orchestrator.getStats().persistence).not.toHaveProperty('failingWrites');
    expect(lines).toHaveLength(2);
  });

  test('the conflict engine reports its store failing as STORE_PROBLEM on its events$ and in its stats', async () => {
    const { store } = flakyStore('conflicts');
    const bus = cleanup.add(new CommunicationBus());
    const engine = cleanup.add(new ConflictResolutionEngine({ bus, store }));
    const kinds: string[] = [];
    engine.events$.subscribe((e) => e.type === 'STORE_PROBLEM' && kinds.push(e.problem.kind));
    await bus.start();
    await engine.restore();
    for (let i = 0; i < 3; i++) {
      engine.reportConflict(signalConflict());
      await settle();
    }
    expect(kinds).toEqual(['failing']);
    expect(engine.getStats().persistence).toMatchObject({ failingWrites: { consecutive: 3, failing: true, lastError: 'disk full' } });
  });
});
