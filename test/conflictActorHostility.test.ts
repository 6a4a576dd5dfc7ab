/**
 * Messages sent straight to a conflict's actor by its system id (`conflict:<id>`), an actor
 * stopped from outside, and listeners that act on an outcome as they hear of it (review of
 * issue #16, findings 1 to 3). None may stop the engine's store writes, change a vote's
 * weight, escalate a conflict or leave a caller waiting.
 */
import { createActor, createMachine, SimulatedClock, type AnyActorRef } from 'xstate';
import { conflictMachine, type ConflictMachineEvent } from '../machines/conflict.machine';
import { CommunicationBus } from '../src/bus/communicationBus';
import { ConflictResolutionEngine, DuplicateConflictError, type ConflictResolutionEngineOptions } from '../src/conflict';
import type { Vote } from '../src/conflict/model/conflictTypes';
import { MemorySnapshotStore } from '../src/store';
import { machineConflictInput, signalConflict } from './support/conflictFixtures';

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const buy = () => ({ decision: 'BUY', confidence: 0.9, reasoning: '' });

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function engineOn(options: Omit<ConflictResolutionEngineOptions, 'bus'> = {}, clock = new SimulatedClock()) {
  const bus = new CommunicationBus({ clock });
  await bus.start();
  const engine = new ConflictResolutionEngine({ bus, ...options });
  const actorOf = (conflictId: string) => bus.root.system.get(`conflict:${conflictId}`) as AnyActorRef | undefined;
  cleanups.push(async () => {
    await engine.stop();
    await bus.stop();
  });
  return { clock, bus, engine, actorOf };
}

describe('conflictMachine: votes and decisions it takes', () => {
  it('weighs a vote with the stake fixed at the request, not the one the message carries, and ignores malformed votes and decisions', () => {
    const clock = new SimulatedClock();
    const actor = createActor(conflictMachine, { clock, input: machineConflictInput });
    const emitted: unknown[] = [];
    actor.on('*', (event) => emitted.push(event));
    actor.start();
    actor.send({ type: 'RESOLUTION_REQUESTED', strategy: 'voting_consensus', algorithm: 'weighted_consensus', requestedAt: 0, stakes: { a: 0.7, b: 0.4 }, expertId: null });
    const huge: Vote = { agentId: 'a', decision: 'SELL', confidence: 1, reasoning: '', timestamp: 1, stake: 1e300 };
    actor.send({ type: 'VOTE_RECEIVED', vote: { ...huge, agentId: 'b', decision: 10n } as unknown as Vote });
    actor.send({ type: 'VOTE_RECEIVED', vote: huge });
    expect(actor.getSnapshot().context.votes).toEqual([{ ...huge, stake: 0.7 }]);
    expect(emitted).toEqual([
      { type: 'MESSAGE_IGNORED', event: 'VOTE_RECEIVED' },
      { type: 'VOTES_RECORDED', votes: [{ ...huge, stake: 0.7 }] },
    ]);
    actor.stop();

    const human = createActor(conflictMachine, { clock, input: machineConflictInput }).start();
    human.send({ type: 'RESOLUTION_REQUESTED', strategy: 'human_intervention', algorithm: 'weighted_consensus', requestedAt: 0, stakes: {}, expertId: null });
    human.send({ type: 'HUMAN_DECISION_SUBMITTED', decision: { decision: 10n, confidence: 1, decidedBy: 'x', reasoning: '', decidedAt: 0 } } as unknown as ConflictMachineEvent);
    human.send({ type: 'HUMAN_DECISION_SUBMITTED' } as unknown as ConflictMachineEvent);
    expect(human.getSnapshot().value).toEqual({ open: 'awaitingHumanDecision' });
    human.stop();
  });
});

describe('ConflictResolutionEngine: messages forged by system id', () => {
  it('an awaited voter’s forged vote, whatever its stake, does not decide: the real voters do', async () => {
    const { engine, actorOf, clock, bus } = await engineOn({ voteTimeoutMs: 1_000 });
    const commands: unknown[] = [];
    bus.messages$.subscribe((m) => m.messageType === 'command' && commands.push(m.payload));
    engine.registerVoter('a', buy);
    engine.registerVoter('b', buy);
    engine.registerVoter('c', () => new Promise(() => {})); // slow: the window closes on it
    const pending = engine.resolveConflict(signalConflict({ conflictId: 'hijack', involvedAgents: ['a', 'b', 'c'] }));
    actorOf('hijack')?.send({ type: 'VOTE_RECEIVED', vote: { agentId: 'c', decision: 'SELL', confidence: 1, reasoning: 'forged', timestamp: 0, stake: 1e300 } });
    await settle();
    clock.increment(1_000);
    expect(await pending).toMatchObject({ status: 'resolved', decision: 'BUY' });
    expect(engine.getConflict('hijack')?.votes.find((v) => v.agentId === 'c')).toMatchObject({ decision: null, reasoning: 'vote timeout' });
    expect(JSON.stringify(commands)).not.toContain('SELL');
    expect(engine.getStats().ignoredMessages).toBe(1);
  });

  it('a forged resolution request (with its own stakes) or human decision is ignored; the engine’s own are taken', async () => {
    const { engine, actorOf } = await engineOn();
    const id = engine.reportConflict(signalConflict({ involvedAgents: ['a', 'b'] }));
    actorOf(id)?.send({ type: 'RESOLUTION_REQUESTED', strategy: 'human_intervention', algorithm: 'weighted_consensus', requestedAt: 0, stakes: { a: 1e300 }, expertId: null });
    expect(engine.getConflict(id)?.status).toBe('detected');
    const pending = engine.resolveConflict(id, { strategy: 'human_intervention' });
    actorOf(id)?.send({ type: 'HUMAN_DECISION_SUBMITTED', decision: { decision: 'SELL', confidence: 1, decidedBy: 'mallory', reasoning: '', decidedAt: 0 } });
    expect(engine.getConflict(id)?.status).toBe('awaiting_human');
    engine.submitHumanDecision(id, 'BUY', { decidedBy: 'ops' });
    expect(await pending).toMatchObject({ status: 'resolved', decision: 'BUY' });
    expect(engine.getStats().ignoredMessages).toBe(2);
  });
});

describe('ConflictResolutionEngine: a conflict actor stopped from outside', () => {
  it('escalates that conflict, settles its callers, releases its actor and keeps writing the store', async () => {
    const store = new MemorySnapshotStore();
    const { engine, actorOf, clock } = await engineOn({ store });
    await engine.restore();
    engine.registerVoter('a', buy);
    engine.registerVoter('b', () => new Promise(() => {}));
    const waiting = engine.resolveConflict(signalConflict({ conflictId: 'victim', involvedAgents: ['a', 'b'] }));
    await settle();
    actorOf('victim')?.send({ type: 'xstate.stop' });
    const resolution = await waiting;
    expect(resolution).toMatchObject({ status: 'escalated', reason: 'internal_error' });
    expect(resolution.status === 'escalated' && resolution.detail).toMatch(/stopped from outside/);
    await settle();
    expect(actorOf('victim')).toBeUndefined();
    expect(engine.getStats().activeConflicts).toBe(0);

    engine.registerVoter('b', buy);
    expect(await engine.resolveConflict(signalConflict({ conflictId: 'later', involvedAgents: ['a', 'b'] }))).toMatchObject({ status: 'resolved' });
    engine.recordOutcome('later', 'SELL');
    await engine.flush();

    const next = await engineOn({ store }, clock);
    expect(await next.engine.restore()).toBe(2);
    expect(next.engine.getConflict('later')?.status).toBe('resolved');
    expect(next.engine.getConflict('victim')?.status).toBe('escalated');
    expect(next.engine.getAgentPerformance('a').overall).toBe(engine.getAgentPerformance('a').overall);
  });

  it('an actor that fails (a forged tally result it cannot read) escalates its conflict as an internal error; the engine carries on', async () => {
    const { engine, actorOf } = await engineOn();
    const pending = engine.resolveConflict(signalConflict({ conflictId: 'broken', involvedAgents: ['a', 'b'] }), { strategy: 'human_intervention' });
    engine.submitHumanDecision('broken', 'BUY');
    // The tally runs as a promise: until it settles, XState's own done event can be forged with a result no guard can read.
    actorOf('broken')?.send({ type: 'xstate.done.actor.tally', output: undefined });
    expect(await pending).toMatchObject({ status: 'escalated', reason: 'internal_error' });
    engine.registerVoter('a', buy);
    engine.registerVoter('b', buy);
    expect(await engine.resolveConflict(signalConflict({ involvedAgents: ['a', 'b'] }))).toMatchObject({ status: 'resolved' });
    expect(engine.getStats()).toMatchObject({ activeConflicts: 0, conflictsEscalated: 1, conflictsResolved: 1 });
  });

  it('the bus stopping still leaves open conflicts open in the store', async () => {
    const store = new MemorySnapshotStore();
    const { engine, bus, clock } = await engineOn({ store });
    await engine.restore();
    engine.registerVoter('a', () => new Promise(() => {}));
    const waiting = engine.resolveConflict(signalConflict({ conflictId: 'open', involvedAgents: ['a'] }));
    await settle();
    await bus.stop();
    await expect(waiting).rejects.toMatchObject({ name: 'NotRunningError' });
    await engine.flush();
    const next = await engineOn({ store }, clock);
    await next.engine.restore();
    expect(next.engine.getConflict('open')?.status).toBe('resolving');
  });
});

describe('ConflictResolutionEngine: listeners of an outcome', () => {
  it('a CONFLICT_RESOLVED listener reads the record, records the outcome, and a same-id report is a duplicate', async () => {
    const { engine } = await engineOn();
    engine.registerVoter('a', buy);
    engine.registerVoter('b', buy);
    const seen: unknown[] = [];
    engine.events$.subscribe((event) => {
      if (event.type !== 'CONFLICT_RESOLVED') return;
      seen.push(engine.getConflict(event.conflictId)?.status);
      try {
        seen.push(engine.recordOutcome(event.conflictId, 'BUY').consensusCorrect);
      } catch (error) {
        seen.push(String(error)); // a throw from a listener would be rethrown asynchronously by rxjs
      }
      try {
        engine.reportConflict(signalConflict({ conflictId: event.conflictId, involvedAgents: ['a', 'b'] }));
      } catch (error) {
        seen.push(error instanceof DuplicateConflictError);
      }
    });
    await engine.resolveConflict(signalConflict({ conflictId: 'x', involvedAgents: ['a', 'b'] }));
    expect(seen).toEqual(['resolved', true, true]);
    expect(engine.getStats()).toMatchObject({ conflictsDetected: 1, activeConflicts: 0 });
  });

  it('a system id taken by someone else’s actor is a DuplicateConflictError, and nothing is counted', async () => {
    const { engine, bus } = await engineOn();
    const squatter = createActor(createMachine({}), { systemId: 'conflict:taken', parent: bus.root } as never);
    squatter.start();
    expect(() => engine.reportConflict(signalConflict({ conflictId: 'taken' }))).toThrow(DuplicateConflictError);
    expect(engine.getStats().conflictsDetected).toBe(0);
  });
});
