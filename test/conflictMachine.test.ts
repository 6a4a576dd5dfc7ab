import { createActor, fromCallback, SimulatedClock, type EventObject } from 'xstate';
import { conflictMachine, conflictStatusOf, type CollectVotesInput, type ConflictMachineEvent, type ConflictMachineInput } from '../machines/conflict.machine';
import { machineConflictInput } from './support/conflictFixtures';

const input = machineConflictInput;

const requested = (strategy: 'voting_consensus' | 'fallback_protocol' = 'voting_consensus'): ConflictMachineEvent => ({
  type: 'RESOLUTION_REQUESTED',
  strategy,
  algorithm: 'weighted_consensus',
  requestedAt: 0,
  stakes: { a: 0.5, b: 0.5 },
  expertId: null,
});

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function start(collector?: (input: CollectVotesInput, sendBack: (event: ConflictMachineEvent) => void) => void, overrides: Partial<ConflictMachineInput> = {}) {
  const clock = new SimulatedClock();
  const escalate = jest.fn();
  const executeDecision = jest.fn();
  const logic = conflictMachine.provide({
    actions: { escalate, executeDecision },
    ...(collector && {
      actors: { collectVotes: fromCallback<EventObject, CollectVotesInput>(({ input: i, sendBack }) => collector(i, sendBack)) },
    }),
  });
  const actor = createActor(logic, { clock, input: { ...input, ...overrides } }).start();
  return { clock, actor, escalate, executeDecision };
}

describe('conflictMachine', () => {
  it('escalates exactly once when the deadline passes while collecting votes', () => {
    const { clock, actor, escalate } = start(undefined, { deadlineMs: 10_000 });
    actor.send(requested());
    expect(conflictStatusOf(actor.getSnapshot().value)).toBe('resolving');
    clock.increment(9_999);
    expect(actor.getSnapshot().value).toEqual({ open: 'collectingVotes' });
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('escalated');
    expect(escalate).toHaveBeenCalledTimes(1);
    expect(escalate.mock.calls[0]?.[1]).toMatchObject({ verdict: { reason: 'deadline_passed' }, votes: [] });
    clock.increment(120_000); // the vote window would have closed here; the actor is gone
    expect(escalate).toHaveBeenCalledTimes(1);
  });

  it('escalates once at the deadline even if nobody asked for a resolution, and never again', () => {
    const { clock, actor, escalate } = start();
    clock.increment(59_999);
    expect(conflictStatusOf(actor.getSnapshot().value)).toBe('detected');
    clock.increment(1);
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().value).toBe('escalated');
    expect(actor.getSnapshot().context.verdict).toMatchObject({ status: 'escalated', reason: 'deadline_passed' });
    clock.increment(600_000);
    actor.send(requested());
    expect(escalate).toHaveBeenCalledTimes(1);
  });

  it('closes the vote window with timeout abstentions (stake 0.1), then tallies', async () => {
    const { clock, actor, executeDecision } = start((_, sendBack) => {
      sendBack({
        type: 'VOTE_RECEIVED',
        vote: { agentId: 'a', decision: 'BUY', confidence: 0.9, reasoning: '', timestamp: 5, stake: 0.5 },
      });
      // Votes from agents not asked, or twice, are ignored.
      sendBack({ type: 'VOTE_RECEIVED', vote: { agentId: 'z', decision: 'SELL', confidence: 1, reasoning: '', timestamp: 5, stake: 2 } });
      sendBack({ type: 'VOTE_RECEIVED', vote: { agentId: 'a', decision: 'SELL', confidence: 1, reasoning: '', timestamp: 6, stake: 2 } });
    });
    actor.send(requested());
    expect(actor.getSnapshot().context.awaitedVoters).toEqual(['b']);
    clock.increment(30_000);
    expect(actor.getSnapshot().value).toEqual({ open: 'tallying' });
    expect(actor.getSnapshot().context.votes).toEqual([
      { agentId: 'a', decision: 'BUY', confidence: 0.9, reasoning: '', timestamp: 5, stake: 0.5 },
      { agentId: 'b', decision: null, confidence: 0, reasoning: 'vote timeout', timestamp: 30_000, stake: 0.1 },
    ]);
    await flush();
    expect(actor.getSnapshot().value).toBe('resolved');
    const verdict = actor.getSnapshot().context.verdict;
    expect(verdict).toMatchObject({ status: 'resolved', action: 'execute', result: { decision: 'BUY', confidence: 0.9 } });
    expect(verdict?.result?.agreement).toBeCloseTo(0.5 / 0.6, 12);
    expect(executeDecision).toHaveBeenCalledTimes(1);
  });

  it('tallies as soon as the last awaited voter answers', async () => {
    const { actor } = start((i, sendBack) => {
      for (const agentId of i.voters) {
        sendBack({ type: 'VOTE_RECEIVED', vote: { agentId, decision: 'SELL', confidence: 0.8, reasoning: '', timestamp: 1, stake: i.stakes[agentId] ?? 0 } });
      }
    });
    actor.send(requested());
    await flush();
    expect(actor.getSnapshot().context.verdict).toMatchObject({ status: 'resolved', result: { decision: 'SELL', agreement: 1 } });
  });

  it('goes straight to tallying for strategies that need no input', async () => {
    const { actor } = start();
    actor.send(requested('fallback_protocol'));
    expect(actor.getSnapshot().value).toEqual({ open: 'tallying' });
    await flush();
    expect(actor.getSnapshot().context.verdict).toMatchObject({ status: 'resolved', action: 'hold', result: { decision: 'HOLD' } });
  });
});
