import { ValidationError } from '../src/errors';
import type { Vote } from '../src/conflict/model/conflictTypes';
import { PerformanceLedger } from '../src/conflict/performanceLedger';
import { clampStake, computeStake } from '../src/conflict/model/stakes';

const vote = (agentId: string, decision: string | null, stake = 0.5): Vote => ({
  agentId,
  decision,
  confidence: 0.8,
  reasoning: '',
  timestamp: 0,
  stake,
});

describe('stakes', () => {
  it('are 0.6 × overall + 0.4 × per-type performance, 0.5 by default', () => {
    expect(computeStake()).toBeCloseTo(0.5, 12);
    expect(computeStake(1.0, 0.5)).toBeCloseTo(0.8, 12);
    expect(computeStake(0.5, 1.0)).toBeCloseTo(0.7, 12);
  });

  it('are clamped to [0.1, 2.0]', () => {
    expect(computeStake(5, 5)).toBe(2);
    expect(computeStake(0, 0)).toBe(0.1);
    expect(clampStake(Number.NaN)).toBe(0.1);
    expect(clampStake(1.3)).toBe(1.3);
  });
});

describe('PerformanceLedger (multiplicative weights)', () => {
  it('multiplies the weights of wrong voters by β and leaves the right ones (reward 1)', () => {
    const ledger = new PerformanceLedger();
    const outcomes = ledger.applyOutcome('signal_conflict', [vote('a', 'BUY'), vote('b', 'SELL'), vote('c', null, 0.1)], 'SELL');
    expect(outcomes).toEqual([
      { agentId: 'a', decision: 'BUY', correct: false, stake: 0.5, stakeAfter: 0.25 },
      { agentId: 'b', decision: 'SELL', correct: true, stake: 0.5, stakeAfter: 0.5 },
    ]);
    expect(ledger.performanceOf('a')).toEqual({ overall: 0.25, byType: { signal_conflict: 0.25 } });
    // The per-type weight is per type: another type only sees the overall drop.
    expect(ledger.stakeOf('a', 'risk_conflict')).toBeCloseTo(0.6 * 0.25 + 0.4 * 0.5, 12);
    expect(ledger.performanceOf('c')).toEqual({ overall: 0.5, byType: {} }); // abstainers are not updated
  });

  it('keeps weights within floor and cap', () => {
    const ledger = new PerformanceLedger({ beta: 0.5, reward: 1.5, floor: 0.1, cap: 2 });
    for (let i = 0; i < 10; i++) ledger.applyOutcome('risk_conflict', [vote('wrong', 'A'), vote('right', 'B')], 'B');
    expect(ledger.performanceOf('wrong').overall).toBe(0.1);
    expect(ledger.performanceOf('right').overall).toBe(2);
    expect(ledger.stakeOf('wrong', 'risk_conflict')).toBe(0.1);
    expect(ledger.stakeOf('right', 'risk_conflict')).toBe(2);
  });

  it('counts one update per agent even if it voted twice', () => {
    const ledger = new PerformanceLedger();
    ledger.applyOutcome('signal_conflict', [vote('a', 'BUY'), vote('a', 'BUY')], 'SELL');
    expect(ledger.performanceOf('a').overall).toBe(0.25);
  });

  it('can be seeded, within bounds, and validates its input', () => {
    const ledger = new PerformanceLedger();
    ledger.setPerformance('a', { overall: 1, byType: { signal_conflict: 9 } });
    expect(ledger.performanceOf('a')).toEqual({ overall: 1, byType: { signal_conflict: 2 } });
    expect(ledger.stakeOf('a', 'signal_conflict')).toBeCloseTo(1.4, 12);
    expect(() => ledger.setPerformance('a', { overall: -1 })).toThrow(ValidationError);
    expect(() => new PerformanceLedger({ beta: 1.5 })).toThrow(ValidationError);
  });
});
