/**
 * The conflict machine's effects as the engine provides them: a decision's command sent to
 * each executor (a failed delivery named, the others still sent), a held decision, an
 * escalation broadcast; none of them throws into the conflict actor.
 */
import { SimulatedClock } from 'xstate';
import { CommunicationBus } from '../src/bus/communicationBus';
import { DecisionSender } from '../src/conflict/decisionSending';
import { EscalationReason, type ConflictVerdict, type ConsensusResult } from '../src/conflict/model/conflictTypes';
import { cleanupAfterEach } from './support/cleanup';
import { machineConflict } from './support/conflictFixtures';

const cleanup = cleanupAfterEach();

const result: ConsensusResult = { achieved: true, decision: 'HOLD', confidence: 0.9, agreement: 1, algorithm: 'simple_majority', participants: ['a', 'b'] };
const executed = { status: 'resolved', result, action: 'execute' } as const satisfies ConflictVerdict;

async function busAt(now: number) {
  const clock = new SimulatedClock();
  clock.increment(now);
  const bus = cleanup.add(new CommunicationBus({ clock }));
  await bus.start();
  return bus;
}

describe('DecisionSender', () => {
  test('a command to each executor (a trade for a signal conflict); one that cannot be delivered is named and the others are still sent', async () => {
    const bus = await busAt(500);
    const sent: string[] = [];
    jest.spyOn(bus, 'sendMessage').mockImplementation((message: unknown) => {
      const { recipientId, topic } = message as { recipientId: string; topic: string };
      if (recipientId === 'a') throw new Error('mailbox full');
      sent.push(`${recipientId}:${topic}`);
      return undefined as never;
    });
    const events = new DecisionSender(bus, 'resolver', undefined).executeDecision({ conflict: machineConflict, verdict: executed, votes: [] });
    expect(sent).toEqual(['b:execute_trade']);
    expect(events).toEqual([
      { type: 'DELIVERY_FAILED', conflictId: 'c1', topic: 'execute_trade', error: expect.stringMatching(/mailbox full/), at: 500 },
      { type: 'DECISION_EXECUTED', conflictId: 'c1', topic: 'execute_trade', recipients: ['b'], at: 500 },
    ]);
  });

  test('a throwing decisionExecutors sends nothing and is reported, not thrown', async () => {
    const bus = await busAt(0);
    const send = jest.spyOn(bus, 'sendMessage');
    const sender = new DecisionSender(bus, 'resolver', () => {
      throw new Error('no executor');
    });
    const events = sender.executeDecision({ conflict: machineConflict, verdict: executed, votes: [] });
    expect(send).not.toHaveBeenCalled();
    expect(events).toEqual([expect.objectContaining({ type: 'DELIVERY_FAILED', topic: 'execute_decision', error: expect.stringMatching(/no executor/) })]);
  });

  test('a decision below the execution threshold is held; an escalated verdict sends nothing here', async () => {
    const bus = await busAt(7);
    const send = jest.spyOn(bus, 'sendMessage');
    const sender = new DecisionSender(bus, 'resolver', undefined);
    expect(sender.executeDecision({ conflict: machineConflict, verdict: { ...executed, action: 'hold' }, votes: [] })).toEqual([
      { type: 'DECISION_HELD', conflictId: 'c1', confidence: 0.9, at: 7 },
    ]);
    const escalated: ConflictVerdict = { status: 'escalated', reason: EscalationReason.NO_CONSENSUS, detail: 'split', result: null };
    expect(sender.executeDecision({ conflict: machineConflict, verdict: escalated, votes: [] })).toEqual([]);
    expect(send).not.toHaveBeenCalled();
  });

  test('an escalation is one broadcast; a failed broadcast is reported, not thrown', async () => {
    const bus = await busAt(3);
    const escalated: ConflictVerdict = { status: 'escalated', reason: EscalationReason.NO_CONSENSUS, detail: 'split', result: null };
    const broadcast = jest.spyOn(bus, 'broadcastMessage');
    const sender = new DecisionSender(bus, 'resolver', undefined);
    expect(sender.broadcastEscalation({ conflict: machineConflict, verdict: escalated, votes: [] })).toEqual([]);
    expect(broadcast).toHaveBeenCalledWith(expect.objectContaining({ senderId: 'resolver', topic: 'conflict_escalation', priority: 'high' }));
    broadcast.mockImplementation(() => {
      throw new Error('bus down');
    });
    expect(sender.broadcastEscalation({ conflict: machineConflict, verdict: escalated, votes: [] })).toEqual([
      { type: 'DELIVERY_FAILED', conflictId: 'c1', topic: 'conflict_escalation', error: expect.stringMatching(/bus down/), at: 3 },
    ]);
  });
});
