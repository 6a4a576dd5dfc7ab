import fc from 'fast-check';
import { ValidationError } from '../src/errors';
import { achieveConsensus } from '../src/conflict/model/consensus';
import { ConsensusAlgorithm, type Decision, type Vote } from '../src/conflict/model/conflictTypes';

const vote = (agentId: string, decision: Decision | null, confidence: number, stake: number): Vote => ({
  agentId,
  decision,
  confidence,
  reasoning: '',
  timestamp: 0,
  stake,
});

const ALGORITHMS = Object.values(ConsensusAlgorithm);

describe('achieveConsensus', () => {
  describe('the upstream three-vote case (count says SELL, stake says BUY)', () => {
    // Two of three votes are SELL, but the BUY voter holds 1.5 of 2.5 stake.
    const votes = [vote('a', 'BUY', 0.9, 1.5), vote('b', 'SELL', 0.6, 0.5), vote('c', 'SELL', 0.8, 0.5)];

    it.each([
      ['simple_majority', true],
      ['weighted_consensus', true],
      ['supermajority', false],
      ['bft', true],
      ['quorum_based', true],
    ] as const)('%s: stake-based agreement 0.6 for BUY (achieved: %s)', (algorithm, achieved) => {
      const result = achieveConsensus(votes, algorithm);
      expect(result.agreement).toBeCloseTo(0.6, 12);
      expect(result.achieved).toBe(achieved);
      expect(result.decision).toBe(achieved ? 'BUY' : null);
      expect(result.algorithm).toBe(algorithm);
      expect(result.participants).toEqual(['a', 'b', 'c']);
      if (achieved) expect(result.confidence).toBeCloseTo(0.9, 12);
      else expect(result).toMatchObject({ confidence: 0, failure: 'no_majority' });
    });
  });

  it('simple majority averages the winners; weighted consensus weighs them by stake', () => {
    const votes = [vote('a', 'BUY', 0.9, 1.5), vote('d', 'BUY', 0.5, 0.5), vote('b', 'SELL', 0.6, 0.5)];
    const simple = achieveConsensus(votes, 'simple_majority');
    const weighted = achieveConsensus(votes, 'weighted_consensus');
    expect(simple).toMatchObject({ achieved: true, decision: 'BUY' });
    expect(simple.agreement).toBeCloseTo(0.8, 12);
    expect(simple.confidence).toBeCloseTo(0.7, 12); // (0.9 + 0.5) / 2
    expect(weighted.agreement).toBeCloseTo(0.8, 12);
    expect(weighted.confidence).toBeCloseTo(0.8, 12); // (1.5 × 0.9 + 0.5 × 0.5) / 2.0
  });

  it('a tie is never a majority', () => {
    for (const algorithm of ALGORITHMS) {
      const result = achieveConsensus([vote('a', 'BUY', 0.9, 1), vote('b', 'SELL', 0.9, 1), vote('c', 'HOLD', 0.9, 0)], algorithm);
      expect(result).toMatchObject({ achieved: false, decision: null, confidence: 0, agreement: 0.5 });
    }
  });

  it('a zero-stake vote carries no weight; all-zero stake achieves nothing', () => {
    const result = achieveConsensus([vote('a', 'BUY', 0.9, 0), vote('b', 'SELL', 0.4, 1)], 'weighted_consensus');
    expect(result).toMatchObject({ achieved: true, decision: 'SELL', agreement: 1, confidence: 0.4 });
    const none = achieveConsensus([vote('a', 'BUY', 0.9, 0), vote('b', 'BUY', 0.4, 0)], 'simple_majority');
    expect(none).toEqual({
      achieved: false,
      decision: null,
      confidence: 0,
      agreement: 0,
      algorithm: 'simple_majority',
      participants: ['a', 'b'],
      failure: 'no_stake',
    });
  });

  it('no votes, or only abstentions, achieve nothing', () => {
    for (const algorithm of ALGORITHMS) {
      expect(achieveConsensus([], algorithm)).toEqual({
        achieved: false,
        decision: null,
        confidence: 0,
        agreement: 0,
        algorithm,
        participants: [],
        failure: 'no_votes',
      });
      expect(achieveConsensus([vote('a', null, 0, 0.1)], algorithm)).toMatchObject({ achieved: false, failure: 'no_votes' });
    }
  });

  it('abstentions (stake 0.1) count in the total and dilute agreement', () => {
    const votes = [vote('a', 'BUY', 0.8, 0.5), vote('b', 'SELL', 0.7, 0.3), vote('c', null, 0, 0.1), vote('d', null, 0, 0.1)];
    const result = achieveConsensus(votes, 'simple_majority');
    expect(result.agreement).toBeCloseTo(0.5, 12); // 0.5 / 1.0: not more than half
    expect(result).toMatchObject({ achieved: false, failure: 'no_majority', participants: ['a', 'b'] });
    expect(achieveConsensus(votes.slice(0, 2), 'simple_majority')).toMatchObject({ achieved: true, agreement: 0.625 });
  });

  it('supermajority needs strictly more than 2/3 (the code accepted 0.66)', () => {
    const exactlyTwoThirds = [vote('a', 'BUY', 0.9, 1), vote('b', 'BUY', 0.7, 1), vote('c', 'SELL', 0.9, 1)];
    const atTwoThirds = achieveConsensus(exactlyTwoThirds, 'supermajority');
    expect(atTwoThirds.agreement).toBeCloseTo(2 / 3, 12);
    expect(atTwoThirds).toMatchObject({ achieved: false, failure: 'no_majority' });
    const above = achieveConsensus([vote('a', 'BUY', 0.9, 1.4), vote('c', 'SELL', 0.9, 0.6)], 'supermajority');
    expect(above).toMatchObject({ achieved: true, decision: 'BUY' });
    expect(above.agreement).toBeCloseTo(0.7, 12);
  });

  describe('bft: n − f votes, f = ⌊(n − 1)/3⌋', () => {
    const involvedAgents = ['a', 'b', 'c', 'd']; // n = 4, f = 1: needs 3 votes

    it('fails below n − f votes, whatever the agreement', () => {
      const votes = [vote('a', 'BUY', 0.9, 1), vote('b', 'BUY', 0.9, 1)];
      expect(achieveConsensus(votes, 'bft', { involvedAgents })).toMatchObject({
        achieved: false,
        agreement: 1,
        failure: 'insufficient_votes',
      });
    });

    it('abstentions do not count towards n − f', () => {
      const votes = [vote('a', 'BUY', 0.9, 1), vote('b', 'BUY', 0.9, 1), vote('c', null, 0, 0.1)];
      expect(achieveConsensus(votes, 'bft', { involvedAgents })).toMatchObject({ failure: 'insufficient_votes' });
    });

    it('with n − f votes, a stake majority decides', () => {
      const votes = [vote('a', 'BUY', 0.9, 1), vote('b', 'BUY', 0.7, 0.5), vote('c', 'SELL', 0.9, 0.5)];
      const result = achieveConsensus(votes, 'bft', { involvedAgents });
      expect(result).toMatchObject({ achieved: true, decision: 'BUY' });
      expect(result.agreement).toBeCloseTo(0.75, 12);
      expect(result.confidence).toBeCloseTo(0.8, 12);
    });

    it('n = 7 tolerates f = 2: needs 5 votes', () => {
      const seven = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
      const four = seven.slice(0, 4).map((id) => vote(id, 'BUY', 0.9, 1));
      expect(achieveConsensus(four, 'bft', { involvedAgents: seven }).failure).toBe('insufficient_votes');
      const five = seven.slice(0, 5).map((id) => vote(id, 'BUY', 0.9, 1));
      expect(achieveConsensus(five, 'bft', { involvedAgents: seven }).achieved).toBe(true);
    });

    it('without involvedAgents, n is the number of voters', () => {
      const votes = [vote('a', 'BUY', 0.9, 1), vote('b', null, 0, 0.1)]; // n = 2, f = 0: needs 2 votes
      expect(achieveConsensus(votes, 'bft').failure).toBe('insufficient_votes');
    });
  });

  describe('quorum_based: max(3, ⌊n/2⌋ + 1) votes, then simple majority', () => {
    it('never reaches quorum with fewer than 3 voters', () => {
      const votes = [vote('a', 'BUY', 0.9, 1), vote('b', 'BUY', 0.9, 1)];
      expect(achieveConsensus(votes, 'quorum_based', { involvedAgents: ['a', 'b'] })).toMatchObject({
        achieved: false,
        failure: 'insufficient_votes',
      });
    });

    it('n = 6 needs 4 votes; n = 5 needs 3', () => {
      const six = ['a', 'b', 'c', 'd', 'e', 'f'];
      const three = [vote('a', 'BUY', 0.9, 1), vote('b', 'BUY', 0.5, 1), vote('c', 'SELL', 0.9, 1)];
      expect(achieveConsensus(three, 'quorum_based', { involvedAgents: six }).failure).toBe('insufficient_votes');
      const result = achieveConsensus(three, 'quorum_based', { involvedAgents: six.slice(0, 5) });
      expect(result).toMatchObject({ achieved: true, decision: 'BUY' });
      expect(result.confidence).toBeCloseTo(0.7, 12);
    });
  });

  it('one agent, one vote: a later vote replaces an earlier one', () => {
    const votes = [vote('a', 'SELL', 0.9, 1), vote('b', 'BUY', 0.9, 1), vote('a', 'BUY', 0.6, 1)];
    const result = achieveConsensus(votes, 'simple_majority');
    expect(result).toMatchObject({ achieved: true, decision: 'BUY', agreement: 1, participants: ['b', 'a'] });
    expect(result.confidence).toBeCloseTo(0.75, 12);
  });

  it('object decisions are compared by value, whatever the key order', () => {
    const result = achieveConsensus(
      [vote('a', { symbol: 'BTC', signal: 'BUY' }, 0.9, 1), vote('b', { signal: 'BUY', symbol: 'BTC' }, 0.9, 1), vote('c', { signal: 'SELL', symbol: 'BTC' }, 0.9, 1)],
      'simple_majority',
    );
    expect(result.decision).toEqual({ symbol: 'BTC', signal: 'BUY' });
    expect(result.agreement).toBeCloseTo(2 / 3, 12);
  });

  it('rejects malformed votes with a ValidationError naming the field', () => {
    const bad = (v: Partial<Vote>) => () => achieveConsensus([{ ...vote('a', 'BUY', 0.5, 1), ...v }], 'simple_majority');
    expect(bad({ confidence: 1.5 })).toThrow(ValidationError);
    expect(bad({ stake: -1 })).toThrow(expect.objectContaining({ field: 'votes.0.stake' }) as Error);
    expect(bad({ agentId: '' })).toThrow(ValidationError);
    expect(() => achieveConsensus([], 'plurality' as ConsensusAlgorithm)).toThrow(ValidationError);
  });
});

describe('achieveConsensus properties', () => {
  const decisionArb = fc.constantFrom<Decision | null>('BUY', 'SELL', 'HOLD', null);
  const stakeArb = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 2, noNaN: true }));
  const votesArb = fc
    .uniqueArray(
      fc.record({
        agentId: fc.string({ minLength: 1, maxLength: 4 }),
        decision: decisionArb,
        confidence: fc.double({ min: 0, max: 1, noNaN: true }),
        stake: stakeArb,
      }),
      { selector: (v) => v.agentId, maxLength: 12 },
    )
    .map((vs) => vs.map((v) => ({ ...v, reasoning: '', timestamp: 0 }) as Vote));
  const algorithmArb = fc.constantFrom(...ALGORITHMS);

  it('the winner of weighted consensus holds more than half of the stake when achieved', () => {
    fc.assert(
      fc.property(votesArb, (votes) => {
        const result = achieveConsensus(votes, 'weighted_consensus');
        if (!result.achieved) return;
        const total = votes.reduce((sum, v) => sum + v.stake, 0);
        const winner = votes.filter((v) => v.decision === result.decision).reduce((sum, v) => sum + v.stake, 0);
        expect(winner / total).toBeGreaterThan(0.5);
      }),
    );
  });

  it('adding a vote for the winner never makes consensus fail', () => {
    fc.assert(
      fc.property(votesArb, algorithmArb, stakeArb, fc.double({ min: 0, max: 1, noNaN: true }), (votes, algorithm, stake, confidence) => {
        const involvedAgents = votes.map((v) => v.agentId);
        const before = achieveConsensus(votes, algorithm, { involvedAgents });
        fc.pre(before.achieved);
        const extra: Vote = { agentId: '#new-voter', decision: before.decision, confidence, reasoning: '', timestamp: 0, stake };
        const after = achieveConsensus([...votes, extra], algorithm, { involvedAgents });
        expect(after.achieved).toBe(true);
        expect(after.decision).toBe(before.decision);
      }),
    );
  });

  it('agreement and confidence stay within [0, 1]', () => {
    fc.assert(
      fc.property(votesArb, algorithmArb, (votes, algorithm) => {
        const result = achieveConsensus(votes, algorithm);
        expect(result.agreement).toBeGreaterThanOrEqual(0);
        expect(result.agreement).toBeLessThanOrEqual(1);
        expect(result.confidence).toBeGreaterThanOrEqual(0);
        expect(result.confidence).toBeLessThanOrEqual(1);
      }),
    );
  });
});
