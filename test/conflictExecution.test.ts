import { SimulatedClock, createMachine } from 'xstate';
import { CommunicationBus } from '../src/bus/communicationBus';
import { IDEMPOTENCY_HEADER } from '../src/bus/executedKeys';
import type { Message } from '../src/bus/message';
import { ValidationError } from '../src/errors';
import { ConflictResolutionEngine, executionKey, executorsOf, type ConflictEvent, type ConflictResolutionEngineOptions } from '../src/conflict';
import { MemorySnapshotStore } from '../src/store';
import { machineConflict, signalConflict } from './support/conflictFixtures';

/** Lets bus deliveries, responses and promise chains run to the end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

/**
 * A bus, an engine and traders: each answers `conflict_vote` with its answer (undefined:
 * never answers) and records every other message it handles in `executed`.
 */
async function scenario(answers: Record<string, unknown>, options: Omit<ConflictResolutionEngineOptions, 'bus'> = {}) {
  const clock = new SimulatedClock();
  const bus = new CommunicationBus({ clock });
  await bus.start();
  const engine = new ConflictResolutionEngine({ bus, ...options });
  cleanups.push(async () => {
    await engine.stop();
    await bus.stop();
  });
  const executed: (Message & { executedBy: string })[] = [];
  for (const [agentId, answer] of Object.entries(answers)) {
    bus.registerAgent(agentId, {
      handler: (message, handle) => {
        if (message.topic === 'conflict_vote') {
          if (answer !== undefined) handle.respond(message, answer);
          return;
        }
        executed.push({ ...message, executedBy: handle.agentId });
      },
    });
  }
  return { clock, bus, engine, executed };
}

const BUY = { decision: 'BUY', confidence: 0.9 };
const SELL = { decision: 'SELL', confidence: 0.6 };
/** A malformed answer is an abstention. */
const ABSTAIN = { reasoning: 'no view' };

describe('who executes a resolved decision', () => {
  it('execute_trade reaches only the agents that voted for the winning decision', async () => {
    const { engine, executed } = await scenario({ a: BUY, b: BUY, c: SELL, d: ABSTAIN });
    const resolution = await engine.resolveConflict(signalConflict({ involvedAgents: ['a', 'b', 'c', 'd'] }));
    expect(resolution).toMatchObject({ status: 'resolved', decision: 'BUY', action: 'execute' });
    await settle();
    const trades = executed.filter((m) => m.topic === 'execute_trade');
    expect(trades.map((m) => m.executedBy).sort()).toEqual(['a', 'b']);
    expect(engine.getConflict(resolution.conflictId)?.votes.find((v) => v.agentId === 'd')?.decision).toBeNull();
  });

  it('a voter that never answers does not execute', async () => {
    const { engine, executed, clock } = await scenario({ a: BUY, b: BUY, c: SELL, silent: undefined });
    const pending = engine.resolveConflict(signalConflict({ involvedAgents: ['a', 'b', 'c', 'silent'] }));
    await settle();
    clock.increment(30_000); // the vote timeout: the silent voter's ballot is an abstention
    const resolution = await pending;
    expect(resolution).toMatchObject({ status: 'resolved', decision: 'BUY', action: 'execute' });
    await settle();
    expect(
      executed
        .filter((m) => m.topic === 'execute_trade')
        .map((m) => m.executedBy)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it("the conflict's executors list overrides the default", async () => {
    const { engine, executed } = await scenario({ a: BUY, b: BUY, c: SELL });
    await engine.resolveConflict(signalConflict({ executors: ['c'] }));
    await settle();
    expect(executed.filter((m) => m.topic === 'execute_trade').map((m) => m.executedBy)).toEqual(['c']);
  });

  it("the engine's decisionExecutors function chooses, given the conflict and the decision", async () => {
    const seen: unknown[] = [];
    const { engine, executed } = await scenario(
      { a: BUY, b: BUY, c: SELL },
      {
        decisionExecutors: (conflict, decision) => {
          seen.push(decision);
          // An id that is not involved is dropped.
          return [conflict.involvedAgents[0] as string, 'outsider'];
        },
      },
    );
    await engine.resolveConflict(signalConflict());
    await settle();
    expect(seen).toEqual(['BUY']);
    expect(executed.filter((m) => m.topic === 'execute_trade').map((m) => m.executedBy)).toEqual(['a']);
  });

  it('a decisionExecutors function that returns no array sends nothing and says so', async () => {
    const { engine, executed } = await scenario({ a: BUY, b: BUY, c: SELL }, { decisionExecutors: () => 'ab' as unknown as string[] });
    const events: ConflictEvent[] = [];
    engine.events$.subscribe((e) => events.push(e));
    expect(await engine.resolveConflict(signalConflict())).toMatchObject({ status: 'resolved', decision: 'BUY' });
    await settle();
    expect(executed.filter((m) => m.topic === 'execute_trade')).toEqual([]);
    expect(events).toContainEqual(expect.objectContaining({ type: 'DELIVERY_FAILED', error: expect.stringMatching(/decisionExecutors/) }));
  });

  it('executors are stored with the conflict: the engine that restores it sends to them', async () => {
    const store = new MemorySnapshotStore();
    const first = await scenario({ a: undefined, b: undefined, c: undefined }, { store });
    await first.engine.restore();
    const id = first.engine.reportConflict(signalConflict({ executors: ['c'] }));
    void first.engine.resolveConflict(id).catch(() => undefined);
    await settle();
    await first.engine.flush();
    await first.engine.stop();

    const second = await scenario({ a: BUY, b: BUY, c: SELL }, { store });
    expect(await second.engine.restore()).toBe(1);
    await settle();
    expect(second.engine.getConflict(id)?.resolution).toMatchObject({ status: 'resolved', decision: 'BUY' });
    expect(second.executed.filter((m) => m.topic === 'execute_trade').map((m) => m.executedBy)).toEqual(['c']);
  });

  it('refuses executors that are not involved agents, naming the field', async () => {
    const { engine } = await scenario({ a: BUY, b: BUY, c: SELL });
    const report = (executors: unknown) => engine.reportConflict({ ...signalConflict(), executors } as Parameters<typeof engine.reportConflict>[0]);
    for (const bad of [['z'], ['__proto__'], [], [''], 'a', [1]]) {
      let error: unknown;
      try {
        report(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toMatch(/executors/);
    }
    expect(() => report(['a', 'a'])).not.toThrow();
  });

  it('a decision no vote holds (a human decision) goes to every involved agent', async () => {
    const { engine, executed } = await scenario({ a: BUY, b: BUY, c: SELL }, { resolutionStrategy: 'human_intervention' });
    const id = engine.reportConflict(signalConflict());
    const pending = engine.resolveConflict(id);
    await settle();
    engine.submitHumanDecision(id, 'SELL', { confidence: 1 });
    expect(await pending).toMatchObject({ status: 'resolved', decision: 'SELL', action: 'execute' });
    await settle();
    expect(
      executed
        .filter((m) => m.topic === 'execute_trade')
        .map((m) => m.executedBy)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
  });
});

describe('executorsOf', () => {
  const vote = (agentId: string, decision: string | null) => ({ agentId, decision, confidence: 0.9, reasoning: '', timestamp: 0, stake: 0.5 });
  it('with no vote for the decision (a compromise median), every involved agent but the abstainers', () => {
    const conflict = { ...machineConflict, involvedAgents: ['a', 'b', 'c'] };
    expect(executorsOf(conflict, 150, [vote('a', null), vote('b', 'x')])).toEqual(['b', 'c']);
  });
});

describe('idempotent execution', () => {
  it('the execution command carries the conflict and decision key, in the payload and a header', async () => {
    const { engine, executed } = await scenario({ a: BUY, b: BUY, c: SELL });
    const first = await engine.resolveConflict(signalConflict());
    const second = await engine.resolveConflict(signalConflict());
    await settle();
    const keyOf = (conflictId: string) => executed.find((m) => m.topic === 'execute_trade' && (m.payload as { conflictId: string }).conflictId === conflictId);
    const one = keyOf(first.conflictId);
    const two = keyOf(second.conflictId);
    expect(one?.headers?.[IDEMPOTENCY_HEADER]).toBe(executionKey(first.conflictId, 'BUY'));
    expect((one?.payload as { idempotencyKey: string }).idempotencyKey).toBe(one?.headers?.[IDEMPOTENCY_HEADER]);
    expect(two?.headers?.[IDEMPOTENCY_HEADER]).toBe(executionKey(second.conflictId, 'BUY'));
    expect(one?.headers?.[IDEMPOTENCY_HEADER]).not.toBe(two?.headers?.[IDEMPOTENCY_HEADER]);
  });

  it('the same execution command delivered twice executes once', async () => {
    const { engine, executed, bus } = await scenario({ a: BUY, b: BUY, c: SELL });
    await engine.resolveConflict(signalConflict());
    await settle();
    const original = executed.find((m) => m.executedBy === 'a' && m.topic === 'execute_trade') as Message;
    // A redelivery: the identical command again (as a restored engine would re-send it).
    const resend = () =>
      bus.sendMessage({
        senderId: original.senderId,
        recipientId: 'a',
        messageType: original.messageType,
        priority: original.priority,
        topic: original.topic,
        payload: original.payload,
        headers: original.headers,
      });
    resend();
    resend();
    await settle();
    expect(executed.filter((m) => m.executedBy === 'a' && m.topic === 'execute_trade')).toHaveLength(1);
    // Another agent has its own memory: the same key is new to it.
    bus.sendMessage({ senderId: 'conflict_resolver', recipientId: 'c', messageType: 'command', topic: 'execute_trade', payload: {}, headers: original.headers });
    await settle();
    expect(executed.filter((m) => m.executedBy === 'c')).toHaveLength(1);
  });

  it('a command whose handling failed runs again on its retry', async () => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    await bus.start();
    cleanups.push(() => bus.stop());
    let runs = 0;
    bus.registerAgent('a', {
      handler: () => {
        runs++;
        if (runs === 1) throw new Error('exchange down');
      },
    });
    const command = { senderId: 's', recipientId: 'a', messageType: 'command', topic: 'execute_trade', headers: { [IDEMPOTENCY_HEADER]: 'c1:"BUY"' } };
    bus.sendMessage(command);
    await settle();
    bus.sendMessage(command);
    bus.sendMessage(command);
    await settle();
    expect(runs).toBe(2);
  });

  it('an agent whose behaviour is a machine runs a repeated command once', async () => {
    const bus = new CommunicationBus({ clock: new SimulatedClock() });
    await bus.start();
    cleanups.push(() => bus.stop());
    let runs = 0;
    bus.registerAgent('m', { machine: createMachine({ on: { execute_trade: { actions: () => runs++ } } }) });
    const command = { senderId: 's', recipientId: 'm', messageType: 'command', topic: 'execute_trade', headers: { [IDEMPOTENCY_HEADER]: 'k' } };
    bus.sendMessage(command);
    bus.sendMessage(command);
    await settle();
    expect(runs).toBe(1);
  });

  it('the pull API returns a repeated command once', async () => {
    const bus = new CommunicationBus({ clock: new SimulatedClock() });
    await bus.start();
    cleanups.push(() => bus.stop());
    const puller = bus.registerAgent('p');
    const command = { senderId: 's', recipientId: 'p', messageType: 'command', topic: 'execute_trade', headers: { [IDEMPOTENCY_HEADER]: 'k' } };
    bus.sendMessage(command);
    bus.sendMessage(command);
    bus.sendMessage({ ...command, headers: { [IDEMPOTENCY_HEADER]: 'other' } });
    expect(puller.receive()).toHaveLength(2);
    bus.sendMessage(command);
    expect(puller.receive()).toHaveLength(0);
  });
});
