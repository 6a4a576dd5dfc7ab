import { allocateByStake, proposeCompromise, weightedMedian } from '../src/conflict/model/compromise';
import type { Conflict, ConflictType, Decision, ResolutionStrategy, Vote } from '../src/conflict/model/conflictTypes';
import { decisionRecipients, planExecution } from '../src/conflict/decisionExecution';
import { selectExpert, tallyConflict, type TallyInput } from '../src/conflict/model/strategies';

const vote = (agentId: string, decision: Decision | null, confidence: number, stake: number): Vote => ({
  agentId,
  decision,
  confidence,
  reasoning: '',
  timestamp: 0,
  stake,
});

const conflictOf = (conflictType: ConflictType, extra: Partial<Conflict> = {}): Conflict => ({
  conflictId: 'c1',
  conflictType,
  description: '',
  involvedAgents: ['a', 'b', 'c'],
  conflictingElements: {},
  severity: 0.5,
  detectedAt: 0,
  resolutionDeadline: 60_000,
  options: [],
  ...extra,
});

const tally = (strategy: ResolutionStrategy, overrides: Partial<TallyInput> = {}) =>
  tallyConflict({
    conflict: conflictOf('signal_conflict'),
    strategy,
    algorithm: 'weighted_consensus',
    votes: [],
    stakes: {},
    expertAnswer: null,
    humanDecision: null,
    confidenceThreshold: 0.7,
    executionThreshold: 0.7,
    ...overrides,
  });

describe('voting_consensus', () => {
  it('resolves with the consensus and executes above the execution threshold', () => {
    const verdict = tally('voting_consensus', {
      votes: [vote('a', 'BUY', 0.9, 0.5), vote('b', 'BUY', 0.8, 0.5), vote('c', 'SELL', 0.4, 0.5)],
    });
    expect(verdict).toMatchObject({ status: 'resolved', action: 'execute', result: { decision: 'BUY' } });
  });

  it('holds at or below the execution threshold (0.7 is not above 0.7)', () => {
    const verdict = tally('voting_consensus', { votes: [vote('a', 'BUY', 0.7, 1), vote('b', 'BUY', 0.7, 1)] });
    expect(verdict).toMatchObject({ status: 'resolved', action: 'hold', result: { confidence: 0.7 } });
  });

  it('escalates without consensus, keeping the failed result', () => {
    const verdict = tally('voting_consensus', { votes: [vote('a', 'BUY', 0.9, 1), vote('b', 'SELL', 0.9, 1)] });
    expect(verdict).toMatchObject({
      status: 'escalated',
      reason: 'no_consensus',
      detail: 'weighted_consensus: no_majority',
      result: { achieved: false, agreement: 0.5 },
    });
  });

  it('breaks ties the same way whatever order the votes arrived in', () => {
    // Tied stake cannot win, but agreement and participants must not depend on arrival order.
    const votes = [vote('c', 'SELL', 0.9, 1), vote('a', 'BUY', 0.9, 1)];
    const verdict = tally('voting_consensus', { votes });
    expect(verdict.status === 'escalated' && verdict.result?.participants).toEqual(['a', 'c']);
  });
});

describe('expert_precedence', () => {
  it('selects the involved agent with the best record, the first one on ties', () => {
    const records: Record<string, number> = { a: 0.5, b: 0.9, c: 0.9 };
    expect(selectExpert(['a', 'b', 'c'], (id) => records[id] ?? 0)).toBe('b');
    expect(selectExpert([], () => 1)).toBeUndefined();
  });

  it("resolves with the expert's answer", () => {
    const verdict = tally('expert_precedence', {
      expertAnswer: { agentId: 'b', decision: 'SELL', confidence: 0.8, reasoning: 'trend' },
    });
    expect(verdict).toEqual({
      status: 'resolved',
      action: 'execute',
      result: { achieved: true, decision: 'SELL', confidence: 0.8, agreement: 1, algorithm: 'weighted_consensus', participants: ['b'] },
    });
  });

  it('escalates when the expert did not answer', () => {
    expect(tally('expert_precedence')).toMatchObject({ status: 'escalated', reason: 'expert_unavailable' });
  });
});

describe('confidence_threshold', () => {
  it('the most confident vote wins when above the threshold', () => {
    const verdict = tally('confidence_threshold', {
      votes: [vote('a', 'BUY', 0.75, 0.5), vote('b', 'SELL', 0.95, 0.2), vote('c', 'BUY', 0.6, 0.5), vote('d', null, 0, 0.1)],
    });
    expect(verdict).toMatchObject({ status: 'resolved', action: 'execute', result: { decision: 'SELL', confidence: 0.95 } });
    // Stake share behind SELL: 0.2 of 1.3.
    expect(verdict.status === 'resolved' && verdict.result.agreement).toBeCloseTo(0.2 / 1.3, 12);
  });

  it('escalates when the best confidence is not above the threshold', () => {
    const verdict = tally('confidence_threshold', { votes: [vote('a', 'BUY', 0.7, 1), vote('b', 'SELL', 0.5, 1)] });
    expect(verdict).toMatchObject({ status: 'escalated', reason: 'below_confidence_threshold' });
  });

  it('breaks a confidence tie by stake, and escalates a full tie', () => {
    const byStake = tally('confidence_threshold', { votes: [vote('a', 'BUY', 0.9, 0.5), vote('b', 'SELL', 0.9, 1)] });
    expect(byStake).toMatchObject({ status: 'resolved', result: { decision: 'SELL' } });
    const fullTie = tally('confidence_threshold', { votes: [vote('a', 'BUY', 0.9, 1), vote('b', 'SELL', 0.9, 1)] });
    expect(fullTie).toMatchObject({ status: 'escalated', detail: 'tie between equally confident votes' });
  });
});

describe('fallback_protocol', () => {
  it.each([
    ['signal_conflict', 'HOLD'],
    ['resource_conflict', 'REDUCE'],
    ['risk_conflict', 'CONSERVATIVE'],
  ] as const)('%s falls back to %s with confidence 0.5, which is held', (type, decision) => {
    const verdict = tally('fallback_protocol', { conflict: conflictOf(type) });
    expect(verdict).toMatchObject({ status: 'resolved', action: 'hold', result: { decision, confidence: 0.5 } });
  });

  it.each(['priority_conflict', 'timing_conflict', 'strategy_conflict'] as const)('%s has no fallback and escalates', (type) => {
    expect(tally('fallback_protocol', { conflict: conflictOf(type) })).toMatchObject({ status: 'escalated', reason: 'no_fallback' });
  });
});

describe('human_intervention', () => {
  it("resolves with the human's decision and confidence", () => {
    const verdict = tally('human_intervention', {
      humanDecision: { decision: 'HOLD', confidence: 0.95, decidedBy: 'ops', reasoning: '', decidedAt: 5 },
    });
    expect(verdict).toMatchObject({ status: 'resolved', action: 'execute', result: { decision: 'HOLD', participants: ['ops'] } });
  });
});

describe('compromise_solution', () => {
  it('splits a resource by stake, never beyond a request (water-filling)', () => {
    // a asks 20 of 100; its stake share (25) is more than it needs, so the 5 left go to b and c by stake.
    const allocation = allocateByStake(
      100,
      [
        { agentId: 'a', amount: 20 },
        { agentId: 'b', amount: 100 },
        { agentId: 'c', amount: 100 },
      ],
      (id) => (id === 'c' ? 2 : 1),
    );
    expect(allocation['a']).toBe(20);
    expect(allocation['b']).toBeCloseTo(80 / 3, 10);
    expect(allocation['c']).toBeCloseTo(160 / 3, 10);
  });

  it('gives every request in full when capacity covers them, and adds up claims of one agent', () => {
    expect(
      allocateByStake(
        10,
        [
          { agentId: 'a', amount: 3 },
          { agentId: 'a', amount: 2 },
          { agentId: 'b', amount: 4 },
        ],
        () => 1,
      ),
    ).toEqual({
      a: 5,
      b: 4,
    });
  });

  it('shares equally when nobody has stake', () => {
    expect(
      allocateByStake(
        10,
        [
          { agentId: 'a', amount: 10 },
          { agentId: 'b', amount: 10 },
        ],
        () => 0,
      ),
    ).toEqual({ a: 5, b: 5 });
  });

  it('resolves a resource conflict with an allocation decision', () => {
    const conflict = conflictOf('resource_conflict', {
      involvedAgents: ['a', 'b'],
      conflictingElements: {
        resourceType: 'gpu',
        available: 4,
        totalRequested: 6,
        requests: [
          { agentId: 'a', resourceType: 'gpu', amount: 3 },
          { agentId: 'b', resourceType: 'gpu', amount: 3 },
        ],
      },
    });
    const verdict = tally('compromise_solution', { conflict, stakes: { a: 1.5, b: 0.5 } });
    expect(verdict).toEqual({
      status: 'resolved',
      action: 'execute',
      result: {
        achieved: true,
        decision: { action: 'allocate', resourceType: 'gpu', allocations: { a: 3, b: 1 } },
        confidence: 1,
        agreement: 1,
        algorithm: 'weighted_consensus',
        participants: ['a', 'b'],
      },
    });
  });

  it('takes the stake-weighted median of numeric votes', () => {
    expect(
      weightedMedian([
        { value: 10, weight: 1 },
        { value: 20, weight: 0.5 },
        { value: 30, weight: 0.4 },
      ]),
    ).toBe(10);
    expect(
      weightedMedian([
        { value: 30, weight: 1 },
        { value: 10, weight: 0.2 },
        { value: 20, weight: 0.9 },
      ]),
    ).toBe(20);
    expect(weightedMedian([{ value: 1, weight: 0 }])).toBeUndefined();
    const conflict = conflictOf('strategy_conflict');
    const verdict = tally('compromise_solution', {
      conflict,
      votes: [vote('a', 100, 0.9, 1), vote('b', 300, 0.6, 0.9), vote('c', 200, 0.8, 0.2)],
    });
    expect(verdict).toMatchObject({ status: 'resolved', result: { decision: 200, participants: ['a', 'b', 'c'] } });
    const result = verdict.status === 'resolved' ? verdict.result : undefined;
    expect(result?.confidence).toBeCloseTo((0.9 + 0.54 + 0.16) / 2.1, 12);
    expect(result?.agreement).toBeCloseTo(0.2 / 2.1, 12);
  });

  it('escalates with the reason when no compromise applies', () => {
    expect(tally('compromise_solution', { votes: [vote('a', 'BUY', 0.9, 1), vote('b', 100, 0.9, 1)] })).toMatchObject({
      status: 'escalated',
      reason: 'compromise_not_applicable',
      detail: 'votes are neither numeric nor a resource split',
    });
    const noRequests = proposeCompromise(conflictOf('resource_conflict'), [], {}, 'bft');
    expect(noRequests).toMatchObject({ applicable: false });
    expect(!noRequests.applicable && noRequests.detail).toMatch(/available/);
  });
});

describe('execution commands', () => {
  const result = { achieved: true, confidence: 0.85, agreement: 0.7, algorithm: 'weighted_consensus' as const, participants: [] };

  it('a trading signal becomes the guide execute_trade', () => {
    const conflict = conflictOf('signal_conflict', { conflictingElements: { symbol: 'BTC' } });
    expect(planExecution(conflict, { ...result, decision: 'BUY' })).toEqual({
      topic: 'execute_trade',
      recipients: ['a', 'b', 'c'],
      payload: { conflictId: 'c1', idempotencyKey: 'c1:"BUY"', symbol: 'BTC', signal: 'BUY', confidence: 0.85, reason: 'Consensus resolution' },
    });
    const named = planExecution(conflict, { ...result, decision: { signal: 'SELL', symbol: 'ETH', amount: 2, agentId: 'trader' } });
    expect(named).toMatchObject({ recipients: ['trader'], payload: { symbol: 'ETH', signal: 'SELL', amount: 2 } });
  });

  it('anything else becomes execute_decision to the agents the decision names', () => {
    const conflict = conflictOf('resource_conflict');
    const decision = { action: 'allocate', allocations: { a: 1, b: 2 } };
    expect(planExecution(conflict, { ...result, decision })).toMatchObject({
      topic: 'execute_decision',
      recipients: ['a', 'b'],
      payload: { conflictId: 'c1', decision, confidence: 0.85 },
    });
    expect(decisionRecipients(conflict, { agents: ['x', 'y'] })).toEqual(['x', 'y']);
    expect(decisionRecipients(conflict, 'REDUCE')).toEqual(['a', 'b', 'c']);
  });
});
