/**
 * Following an open conflict (issue #16): a conflict's actor emits what it records
 * (`VOTES_RECORDED`, `HUMAN_DECISION_AWAITED`, read with `actor.on`), the engine reports
 * exactly that on `events$` and counts it, and publishes the events of the final effects
 * after the outcome they follow from. Hostile input sent straight to an actor, odd agent ids
 * and resolvers that throw non-Errors are refused or absorbed, never thrown into the runtime.
 */
import { createActor, SimulatedClock, type AnyActorRef } from 'xstate';
import { conflictMachine, type ConflictMachineEvent } from '../machines/conflict.machine';
import { CommunicationBus } from '../src/bus/communicationBus';
import { ConflictResolutionEngine, type ConflictEvent, type ConflictResolutionEngineOptions } from '../src/conflict';
import type { Vote } from '../src/conflict/model/conflictTypes';
import { MemorySnapshotStore, type SnapshotStore } from '../src/store';
import { machineConflictInput, signalConflict } from './support/conflictFixtures';

/** Lets bus deliveries, responses and promise chains run to the end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const vote = (agentId: string, decision: string | null, timestamp = 5): Vote => ({ agentId, decision, confidence: 0.9, reasoning: '', timestamp, stake: 0.5 });

const requested = (strategy: 'voting_consensus' | 'human_intervention'): ConflictMachineEvent => ({
  type: 'RESOLUTION_REQUESTED',
  strategy,
  algorithm: 'weighted_consensus',
  requestedAt: 0,
  stakes: { a: 0.5, b: 0.5 },
  expertId: null,
});

/** A conflict actor with no effects (votes arrive only as sent), and what it emits. */
function machineActor() {
  const clock = new SimulatedClock();
  const logic = conflictMachine.provide({ actions: { escalate: () => {}, executeDecision: () => {} } });
  const actor = createActor(logic, { clock, input: machineConflictInput });
  const emitted: unknown[] = [];
  actor.on('*', (event) => emitted.push(event));
  actor.start();
  return { clock, actor, emitted };
}

describe('conflictMachine: what it emits', () => {
  it('announces each awaited vote it records, says so of each vote it ignores, and the window’s abstentions in one event', () => {
    const { clock, actor, emitted } = machineActor();
    actor.send(requested('voting_consensus'));
    actor.send({ type: 'VOTE_RECEIVED', vote: vote('z', 'SELL') }); // not asked
    actor.send({ type: 'VOTE_RECEIVED', vote: vote('a', 'BUY') });
    actor.send({ type: 'VOTE_RECEIVED', vote: vote('a', 'SELL', 6) }); // heard from already
    const ignored = { type: 'MESSAGE_IGNORED', event: 'VOTE_RECEIVED' };
    expect(emitted).toEqual([ignored, { type: 'VOTES_RECORDED', votes: [vote('a', 'BUY')] }, ignored]);
    clock.increment(30_000);
    expect(emitted).toEqual([
      ignored,
      { type: 'VOTES_RECORDED', votes: [vote('a', 'BUY')] },
      ignored,
      { type: 'VOTES_RECORDED', votes: [{ agentId: 'b', decision: null, confidence: 0, reasoning: 'vote timeout', timestamp: 30_000, stake: 0.1 }] },
    ]);
    // What was announced is what the actor holds.
    const announced = emitted.filter((e) => (e as { type: string }).type === 'VOTES_RECORDED');
    expect(actor.getSnapshot().context.votes).toEqual(announced.flatMap((e) => (e as { votes: Vote[] }).votes));
    actor.stop();
  });

  it('announces the last awaited vote before it tallies', () => {
    const { actor, emitted } = machineActor();
    actor.send(requested('voting_consensus'));
    actor.send({ type: 'VOTE_RECEIVED', vote: vote('a', 'BUY') });
    actor.send({ type: 'VOTE_RECEIVED', vote: vote('b', 'BUY') });
    expect(actor.getSnapshot().value).toEqual({ open: 'tallying' });
    expect(emitted).toEqual([
      { type: 'VOTES_RECORDED', votes: [vote('a', 'BUY')] },
      { type: 'VOTES_RECORDED', votes: [vote('b', 'BUY')] },
    ]);
    actor.stop();
  });

  it('announces once that it waits for a human decision', () => {
    const { actor, emitted } = machineActor();
    actor.send(requested('human_intervention'));
    actor.send(requested('human_intervention')); // not understood there: ignored, nothing more
    expect(emitted).toEqual([{ type: 'HUMAN_DECISION_AWAITED' }, { type: 'MESSAGE_IGNORED', event: 'RESOLUTION_REQUESTED' }]);
    actor.stop();
  });
});

async function engineOn(options: Omit<ConflictResolutionEngineOptions, 'bus'> = {}, at = 0) {
  const clock = new SimulatedClock();
  clock.set(at);
  const bus = new CommunicationBus({ clock });
  await bus.start();
  const engine = new ConflictResolutionEngine({ bus, ...options });
  const events: ConflictEvent[] = [];
  engine.events$.subscribe((event) => events.push(event));
  const actorOf = (conflictId: string) => bus.root.system.get(`conflict:${conflictId}`) as AnyActorRef | undefined;
  cleanups.push(async () => {
    await engine.stop();
    await bus.stop();
  });
  return { clock, bus, engine, events, actorOf };
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('ConflictResolutionEngine: following a conflict through its actor', () => {
  it('reports and counts exactly the votes the conflict’s actor announces', async () => {
    const { engine, events, actorOf } = await engineOn({ voteTimeoutMs: 10_000 });
    engine.registerVoter('a', () => ({ decision: 'BUY', confidence: 0.9, reasoning: 'breakout' }));
    engine.registerVoter('b', () => ({ decision: 'SELL', confidence: 0.6, reasoning: 'drawdown' }));
    engine.registerVoter('c', () => ({ decision: 'nope', confidence: 1, reasoning: 'not an option' }));
    const id = engine.reportConflict(signalConflict());
    const announced: Vote[] = [];
    actorOf(id)?.on('VOTES_RECORDED', (event: { votes: Vote[] }) => announced.push(...event.votes));
    await engine.resolveConflict(id);
    const reported = events.filter((e) => e.type === 'VOTE_RECEIVED').map((e) => e.vote);
    expect(announced.map((v) => [v.agentId, v.decision])).toEqual([
      ['a', 'BUY'],
      ['b', 'SELL'],
      ['c', null],
    ]);
    expect(reported).toEqual(announced);
    expect(engine.getStats()).toMatchObject({ votesReceived: 3, abstentions: 1 });
  });

  it('ignores forged votes sent straight to a conflict’s actor (an awaited voter’s too), and a malformed message', async () => {
    const { engine, events, actorOf } = await engineOn();
    engine.registerVoter('a', () => ({ decision: 'BUY', confidence: 0.9, reasoning: '' }));
    const id = engine.reportConflict(signalConflict({ involvedAgents: ['a', 'b'] }));
    let answerB: (answer: { decision: string; confidence: number; reasoning: string }) => void = () => {};
    engine.registerVoter('b', () => new Promise((resolve) => (answerB = resolve)));
    const pending = engine.resolveConflict(id);
    await settle();
    const actor = actorOf(id);
    actor?.send({ type: 'VOTE_RECEIVED', vote: vote('mallory', 'SELL') }); // not involved
    actor?.send({ type: 'VOTE_RECEIVED', vote: vote('a', 'SELL') }); // a has voted
    actor?.send({ type: 'VOTE_RECEIVED', vote: { ...vote('b', 'SELL'), confidence: 1, stake: 1e300 } }); // b is awaited: still forged
    actor?.send({ type: 'VOTE_RECEIVED', vote: { ...vote('b', 'SELL'), decision: 10n } as unknown as Vote });
    actor?.send({ type: 'VOTE_RECEIVED' } as unknown as ConflictMachineEvent); // no vote at all
    expect(events.filter((e) => e.type === 'VOTE_RECEIVED').map((e) => e.vote.agentId)).toEqual(['a']);
    answerB({ decision: 'BUY', confidence: 0.8, reasoning: '' });
    expect(await pending).toMatchObject({ status: 'resolved', decision: 'BUY', participants: ['a', 'b'] });
    expect(engine.getStats()).toMatchObject({ votesReceived: 2, ignoredMessages: 5 });
  });

  it('a voter named __proto__ is announced and weighted like any other', async () => {
    const { engine, events } = await engineOn();
    engine.setAgentPerformance('__proto__', { overall: 2, byType: { signal_conflict: 2 } });
    engine.registerVoter('__proto__', () => ({ decision: 'SELL', confidence: 0.9, reasoning: '' }));
    engine.registerVoter('b', () => ({ decision: 'BUY', confidence: 0.9, reasoning: '' }));
    const resolution = await engine.resolveConflict(signalConflict({ involvedAgents: ['__proto__', 'b'] }));
    const votes = events.filter((e) => e.type === 'VOTE_RECEIVED').map((e) => e.vote);
    expect(votes.map((v) => [v.agentId, v.stake])).toEqual(
      expect.arrayContaining([
        ['__proto__', 2],
        ['b', 0.5],
      ]),
    );
    expect(resolution).toMatchObject({ status: 'resolved', decision: 'SELL' });
  });

  it('resolvers that throw non-Errors are abstentions, default stakes or a reported delivery failure', async () => {
    const { engine, events, bus } = await engineOn({
      stakeProvider: () => {
        throw Symbol('no stake');
      },
      decisionExecutors: () => {
        throw { code: 42 };
      },
    });
    const sent: unknown[] = [];
    bus.messages$.subscribe((m) => m.messageType === 'command' && sent.push(m));
    engine.registerVoter('a', () => ({ decision: 'BUY', confidence: 0.9, reasoning: '' }));
    engine.registerVoter('b', () => ({ decision: 'BUY', confidence: 0.9, reasoning: '' }));
    engine.registerVoter('c', () => {
      throw 'no opinion';
    });
    const resolution = await engine.resolveConflict(signalConflict());
    expect(resolution).toMatchObject({ status: 'resolved', decision: 'BUY', action: 'execute' });
    const votes = events.filter((e) => e.type === 'VOTE_RECEIVED').map((e) => e.vote);
    expect(votes.find((v) => v.agentId === 'c')).toMatchObject({ decision: null, reasoning: 'vote failed: no opinion' });
    expect(votes.find((v) => v.agentId === 'a')?.stake).toBe(0.5); // the provider threw: the default stake
    const types = events.map((e) => e.type);
    expect(types.slice(types.indexOf('CONFLICT_RESOLVED'))).toEqual(['CONFLICT_RESOLVED', 'DELIVERY_FAILED']);
    expect(events.at(-1)).toMatchObject({ type: 'DELIVERY_FAILED', topic: 'execute_decision' });
    await settle();
    expect(sent).toEqual([]);
    expect(engine.getStats().decisionsExecuted).toBe(0);
  });

  it('counts a decision’s effects before anyone hears of the outcome, and publishes them after it', async () => {
    const { engine, events } = await engineOn();
    engine.registerVoter('a', () => ({ decision: 'BUY', confidence: 0.9, reasoning: '' }));
    engine.registerVoter('b', () => ({ decision: 'BUY', confidence: 0.9, reasoning: '' }));
    let executedWhenResolved: number | undefined;
    engine.events$.subscribe((e) => {
      if (e.type === 'CONFLICT_RESOLVED') executedWhenResolved = engine.getStats().decisionsExecuted;
    });
    await engine.resolveConflict(signalConflict({ involvedAgents: ['a', 'b'] }));
    expect(executedWhenResolved).toBe(1);
    expect(events.slice(-2).map((e) => e.type)).toEqual(['CONFLICT_RESOLVED', 'DECISION_EXECUTED']);
  });

  it('a conflict restored past its deadline reports its failed escalation broadcast after its escalation', async () => {
    const store: SnapshotStore = new MemorySnapshotStore();
    const first = await engineOn({ store });
    await first.engine.restore();
    const id = first.engine.reportConflict(signalConflict());
    await first.engine.flush();

    const second = await engineOn({ store }, 100_000);
    jest.spyOn(second.bus, 'broadcastMessage').mockImplementation(() => {
      throw new Error('bus down');
    });
    expect(await second.engine.restore()).toBe(1);
    expect(second.engine.getConflict(id)?.resolution).toMatchObject({ status: 'escalated', reason: 'deadline_passed' });
    expect(second.events.map((e) => e.type)).toEqual(['CONFLICT_ESCALATED', 'DELIVERY_FAILED']);
    expect(second.events[1]).toMatchObject({ conflictId: id, topic: 'conflict_escalation', error: 'bus down' });
  });
});
