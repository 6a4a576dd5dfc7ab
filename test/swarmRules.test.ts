import { produce } from 'immer';
import {
  activateConnection,
  connectionSuccessRate,
  decayConnection,
  nextRandom,
  pearsonCorrelation,
  seedFromString,
  successRateAdjustedStrength,
  SWARM_DEFAULTS,
} from '../src/swarm';
import { newConnection, recordConnectionOutcome } from '../src/swarm/model/connection';
import { canFire, fireNeuron, newNeuron, updatePerformance } from '../src/swarm/model/neuron';

const rules = SWARM_DEFAULTS;

describe('connection rules (spec section 4)', () => {
  test('activation outputs signal × strength, then strength += 0.1 × signal (capped at 1)', () => {
    const c = newConnection('c', 'a', 'b', 0.5, 0, rules);
    expect(activateConnection(c, 1, 0)).toBeCloseTo(0.5);
    expect(c.strength).toBeCloseTo(0.6);
    expect(activateConnection(c, 0.5, 0)).toBeCloseTo(0.3);
    expect(c.strength).toBeCloseTo(0.65);
    expect(c.activationCount).toBe(2);
    const strong = newConnection('s', 'a', 'b', 0.95, 0, rules);
    activateConnection(strong, 1, 0);
    expect(strong.strength).toBe(1);
  });

  test('decay counts from the last activation, not from creation (fixed upstream bug)', () => {
    const c = newConnection('c', 'a', 'b', 0.5, 0, rules);
    activateConnection(c, 1, 100_000); // strength 0.6 at t = 100 s
    decayConnection(c, 110_000, 0.01);
    expect(c.strength).toBeCloseTo(0.6 * Math.exp(-0.1), 10);
    // The original compounded exp(−0.01 × age since creation) on every cycle:
    expect(c.strength).not.toBeCloseTo(0.6 * Math.exp(-1.1), 3);
  });

  test('decay never counts a span twice: many cycles equal one', () => {
    const stepwise = newConnection('c', 'a', 'b', 0.8, 0, rules);
    for (let t = 1000; t <= 60_000; t += 1000) decayConnection(stepwise, t, 0.01);
    const once = newConnection('c', 'a', 'b', 0.8, 0, rules);
    decayConnection(once, 60_000, 0.01);
    expect(stepwise.strength).toBeCloseTo(once.strength, 12);
    expect(once.strength).toBeCloseTo(0.8 * Math.exp(-0.6), 12);
  });

  test('success-rate rule: > 0.8 → +0.1, < 0.4 → −0.1 with floor 0.1, otherwise unchanged', () => {
    expect(successRateAdjustedStrength(0.5, 0.81, rules)).toBeCloseTo(0.6);
    expect(successRateAdjustedStrength(0.95, 1, rules)).toBe(1);
    expect(successRateAdjustedStrength(0.5, 0.8, rules)).toBe(0.5);
    expect(successRateAdjustedStrength(0.5, 0.4, rules)).toBe(0.5);
    expect(successRateAdjustedStrength(0.5, 0.39, rules)).toBeCloseTo(0.4);
    expect(successRateAdjustedStrength(0.15, 0, rules)).toBe(0.1);
    // Under the floor already (decayed): left to pruning, not lifted.
    expect(successRateAdjustedStrength(0.05, 0, rules)).toBe(0.05);
  });

  test('success rate is 0.5 without data and uses a sliding window by count and age', () => {
    const c = newConnection('c', 'a', 'b', 0.5, 0, rules);
    expect(connectionSuccessRate(c, 0, rules)).toBe(0.5);
    for (let i = 0; i < 25; i++) recordConnectionOutcome(c, i < 5 ? false : true, i, rules);
    expect(c.outcomes).toHaveLength(20); // window of 20: the 5 failures dropped
    expect(connectionSuccessRate(c, 25, rules)).toBe(1);
    const old = newConnection('o', 'a', 'b', 0.5, 0, rules);
    recordConnectionOutcome(old, false, 0, rules);
    recordConnectionOutcome(old, true, rules.successWindowMs + 1, rules);
    expect(old.outcomes).toHaveLength(1);
    expect(connectionSuccessRate(old, rules.successWindowMs + 1, rules)).toBe(1);
  });
});

describe('neuron rules', () => {
  test('fires at or above the threshold, outside the refractory period; output = activation + bias', () => {
    const n = newNeuron('a', 0, { activationThreshold: 0.5, bias: 0.1 }, rules);
    n.activation = 0.49;
    expect(canFire(n, 0)).toBe(false);
    n.activation = 0.5;
    expect(canFire(n, 0)).toBe(true);
    expect(fireNeuron(n, 0)).toBeCloseTo(0.6);
    expect(n.activation).toBe(0);
    n.activation = 1;
    expect(canFire(n, 999)).toBe(false);
    expect(canFire(n, 1000)).toBe(true);
  });

  test('performance is an EMA with alpha 0.1', () => {
    const n = newNeuron('a', 0, {}, rules);
    expect(n.performance).toBe(0.5);
    updatePerformance(n, 1, 0.1);
    expect(n.performance).toBeCloseTo(0.55);
    updatePerformance(n, 0, 0.1);
    expect(n.performance).toBeCloseTo(0.495);
  });
});

describe('seeded randomness and correlation', () => {
  test('mulberry32 is reproducible from its state and spreads over [0, 1)', () => {
    const draws = (seed: number) => {
      let state = seed;
      return Array.from({ length: 1000 }, () => {
        const d = nextRandom(state);
        state = d.state;
        return d.value;
      });
    };
    expect(draws(42)).toEqual(draws(42));
    expect(draws(42)).not.toEqual(draws(43));
    const values = draws(7);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(seedFromString('trading_swarm')).toBe(seedFromString('trading_swarm'));
    expect(seedFromString('a')).not.toBe(seedFromString('b'));
  });

  test('pearson correlation', () => {
    expect(pearsonCorrelation([1, 2, 3, 4], [2, 4, 6, 8])).toBeCloseTo(1);
    expect(pearsonCorrelation([1, 2, 3, 4], [8, 6, 4, 2])).toBeCloseTo(-1);
    expect(pearsonCorrelation([1, 1, 1], [1, 2, 3])).toBe(0);
    expect(pearsonCorrelation([1], [1])).toBe(0);
  });

  test('rules mutate immer drafts and leave the base untouched', () => {
    const base = newConnection('c', 'a', 'b', 0.5, 0, rules);
    const next = produce(base, (draft) => {
      activateConnection(draft, 1, 0);
    });
    expect(base.strength).toBe(0.5);
    expect(next.strength).toBeCloseTo(0.6);
  });
});
