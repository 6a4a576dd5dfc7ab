/**
 * Whatever user code throws (not only Errors) fails that one delivery, attempt or vote, as an
 * Error would, with a string for its text: the process, the agent and the runtime go on.
 * `String(value)` throws for several of these values; before `describeError`, a sync handler
 * throwing one killed its agent actor for good, and an async one crashed the process.
 */
import { createActor, createMachine, SimulatedClock } from 'xstate';
import {
  CommunicationBus,
  ConflictResolutionEngine,
  LeaderElection,
  MemorySnapshotStore,
  createNeuroFlux,
  describeError,
  startInspector,
  type AnyDeadLetter,
  type Message,
} from '../../src';
import { cleanupAfterEach } from '../support/cleanup';
import { signalConflict } from '../support/conflictFixtures';
import { settle } from '../support/settle';

const cyclic: Record<string, unknown> = { name: 'loop' };
cyclic['self'] = cyclic;

/** A Proxy every trap of which throws (including the one `instanceof` asks). */
const throwingProxy = (): object =>
  new Proxy(
    {},
    {
      get: () => {
        throw new Error('trap: get');
      },
      getPrototypeOf: () => {
        throw new Error('trap: getPrototypeOf');
      },
      has: () => {
        throw new Error('trap: has');
      },
      ownKeys: () => {
        throw new Error('trap: ownKeys');
      },
      getOwnPropertyDescriptor: () => {
        throw new Error('trap: getOwnPropertyDescriptor');
      },
    },
  );

/** Every kind of thrown value, made fresh for each use. */
const THROWN: readonly (readonly [string, () => unknown])[] = [
  ['an Error', () => new Error('boom')],
  ['a string', () => 'boom'],
  ['a number', () => 42],
  ['undefined', () => undefined],
  ['null', () => null],
  ['a Symbol', () => Symbol('boom')],
  ['a BigInt', () => 10n],
  ['a null-prototype object', () => Object.create(null) as object],
  ['{ toString: 1 }', () => ({ toString: 1 })],
  [
    'an Error whose message getter throws',
    () =>
      Object.defineProperty(new Error('hidden'), 'message', {
        get: () => {
          throw new Error('getter');
        },
      }),
  ],
  ['a Proxy whose traps throw', throwingProxy],
  ['a cyclic object', () => cyclic],
];

const cleanup = cleanupAfterEach();

/** Unhandled rejections and uncaught exceptions during a test: each would end a real process. */
let crashes: unknown[] = [];
const onCrash = (reason: unknown) => void crashes.push(reason);
beforeEach(() => {
  crashes = [];
  process.on('unhandledRejection', onCrash);
  process.on('uncaughtException', onCrash);
});
afterEach(() => {
  process.off('unhandledRejection', onCrash);
  process.off('uncaughtException', onCrash);
  expect(crashes.map(describeError)).toEqual([]);
});

describe('describeError', () => {
  test.each(THROWN)('gives a string for %s and never throws', (_, make) => {
    const text = describeError(make());
    expect(typeof text).toBe('string');
    expect(text.length).toBeGreaterThan(0);
  });

  test('keeps what an Error or a string says, and bounds the length', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('boom')).toBe('boom');
    expect(describeError({ message: 'plain' })).toBe('plain');
    expect(describeError(Symbol('s'))).toBe('Symbol(s)');
    expect(describeError('x'.repeat(10_000)).length).toBeLessThanOrEqual(2001);
  });
});

/** A bus whose agent `w` throws `thrown()` for payload `'fail'` and records everything else. */
async function busWith(thrown: () => unknown, mode: 'sync' | 'async') {
  const bus = cleanup.add(new CommunicationBus());
  const letters: AnyDeadLetter[] = [];
  bus.deadLetters$.subscribe((letter) => letters.push(letter));
  const handled: unknown[] = [];
  let attempts = 0;
  const handler =
    mode === 'sync'
      ? (message: Message) => {
          if (message.payload !== 'fail') return void handled.push(message.payload);
          attempts++;
          throw thrown();
        }
      : async (message: Message) => {
          await undefined;
          if (message.payload !== 'fail') return void handled.push(message.payload);
          attempts++;
          throw thrown();
        };
  bus.registerAgent('w', { handler });
  await bus.start();
  return { bus, letters, handled, attempts: () => attempts };
}

describe.each(['sync', 'async'] as const)('a %s bus handler that throws', (mode) => {
  test.each(THROWN)('%s: the message is retried then dead-lettered with a string; the agent handles later messages', async (_, thrown) => {
    const { bus, letters, handled, attempts } = await busWith(thrown, mode);
    bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't', payload: 'fail', maxRetries: 2 });
    await bus.whenIdle();
    await settle();
    expect(attempts()).toBe(3);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ reason: 'max_retries', agentId: 'w' });
    expect(typeof letters[0]?.error).toBe('string');

    bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't', payload: 'later' });
    await bus.whenIdle();
    await settle();
    expect(handled).toEqual(['later']);
    expect(bus.getStats()).toMatchObject({ messagesFailed: 3, messagesRetried: 2 });
  });
});

describe.each(['throws', 'rejects'] as const)('a task executor that %s', (how) => {
  test.each(THROWN)('%s: the attempt fails with a string, is retried, and later tasks complete', async (_, thrown) => {
    const clock = new SimulatedClock();
    const nf = cleanup.add(createNeuroFlux({ clock }));
    let calls = 0;
    nf.orchestrator.registerAgent('worker', {
      capabilities: ['x'],
      execute: (task) => {
        if (task.taskId !== 'bad') return 'fine';
        calls++;
        if (how === 'throws') throw thrown();
        return Promise.reject(thrown());
      },
    });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'bad', requiredCapabilities: ['x'], retryPolicy: { maxRetries: 1, initialDelay: 1 } });
    await settle(20);
    clock.increment(1000); // the retry's backoff
    await settle(20);
    const bad = nf.orchestrator.getTask('bad');
    expect(calls).toBe(2);
    expect(bad).toMatchObject({ status: 'failed', retryCount: 1 });
    expect(typeof bad?.error).toBe('string');

    nf.orchestrator.submitTask({ taskId: 'good', requiredCapabilities: ['x'] });
    await settle(20);
    expect(nf.orchestrator.getTask('good')).toMatchObject({ status: 'completed', result: 'fine' });
  });
});

describe.each(['throws', 'rejects'] as const)('a registered vote function that %s', (how) => {
  test.each(THROWN)('%s: that voter abstains with a string reason; the others decide', async (_, thrown) => {
    const bus = cleanup.add(new CommunicationBus());
    const engine = cleanup.add(new ConflictResolutionEngine({ bus }));
    engine.registerVoter('a', () => {
      if (how === 'throws') throw thrown();
      return Promise.reject(thrown());
    });
    engine.registerVoter('b', () => ({ decision: 'BUY', confidence: 0.9 }));
    engine.registerVoter('c', () => ({ decision: 'BUY', confidence: 0.9 }));
    await bus.start();
    const conflictId = engine.reportConflict(signalConflict());
    const resolution = await engine.resolveConflict(conflictId);
    expect(resolution).toMatchObject({ status: 'resolved', decision: 'BUY' });
    const abstention = engine.getConflict(conflictId)?.votes.find((v) => v.agentId === 'a');
    expect(abstention?.decision).toBeNull();
    expect(typeof abstention?.reasoning).toBe('string');
    expect(abstention?.reasoning).toMatch(/^vote failed: /);
  });
});

describe('leader election', () => {
  test.each(THROWN)('onElected rejecting with %s deposes the candidate, with a string as its last error', async (_, thrown) => {
    const clock = new SimulatedClock();
    const parent = createActor(createMachine({})).start();
    cleanup.defer(() => parent.stop());
    const election = new LeaderElection({
      store: new MemorySnapshotStore(),
      clock,
      parent,
      holder: 'p1',
      ttlMs: 1000,
      hooks: { onElected: () => Promise.reject(thrown()), onDeposed: () => undefined },
    });
    cleanup.add(election);
    election.start();
    await settle(20);
    expect(election.state).toBe('deposed');
    expect(typeof election.getStats().lastError).toBe('string');
  });
});

describe('inspector', () => {
  test.each(THROWN)('a /metrics callback failing with %s gets a 500 with its text', async (_, thrown) => {
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock() }));
    await nf.start();
    const failing = { contentType: 'text/plain', text: () => Promise.reject(thrown()), registry: undefined as never, dispose: () => undefined };
    const inspector = cleanup.add(await startInspector(nf, { port: 0, metrics: failing }));
    const response = await fetch(`${inspector.url}metrics`);
    expect(response.status).toBe(500);
    expect(await response.text()).toMatch(/^error: .+\n$/s);
  });
});
