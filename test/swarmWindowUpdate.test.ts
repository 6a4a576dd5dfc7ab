import fc from 'fast-check';
import { produce } from 'immer';
import { SWARM_DEFAULTS, type ConnectionOutcome, type SwarmRules } from '../src/swarm';
import { newConnection, recordConnectionOutcome } from '../src/swarm/model/connection';
import { discountedCounts, updatePosterior, type PairPosterior } from '../src/swarm/model/routingBandit';

/**
 * `recordConnectionOutcome` makes a new window of the exact size (never changing the one it
 * was given, owned or shared); `updatePosterior` computes `discountedCounts` inline. Both are
 * held here to the code they replaced, written out as it was.
 */

/** The window rule as it was: the whole window plus the outcome, then what is too many or too old dropped from the front. */
function referenceWindow(previous: readonly ConnectionOutcome[], outcome: ConnectionOutcome, rules: SwarmRules): ConnectionOutcome[] {
  const outcomes = [...previous, outcome];
  const maxSize = Math.max(1, Math.floor(rules.successWindowSize));
  let drop = Math.max(0, outcomes.length - maxSize);
  while (drop < outcomes.length && outcome.at - outcomes[drop]!.at > rules.successWindowMs) drop++;
  return drop > 0 ? outcomes.slice(drop) : outcomes;
}

const rulesArb = fc.record({
  successWindowSize: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(0, 2.5, 20)),
  successWindowMs: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constantFrom(-1, 1e308)),
});

/** A step: the outcome, and whether the caller hands a frozen window (shared with an earlier state) or its own. */
const stepsArb = fc.array(fc.record({ success: fc.boolean(), dt: fc.integer({ min: 0, max: 30 }), shared: fc.boolean() }), { maxLength: 30 });

describe('recordConnectionOutcome: the sliding window', () => {
  test('the same window as the rule before, in a new array each time: the one given (owned or shared) unchanged', () => {
    fc.assert(
      fc.property(rulesArb, stepsArb, (overrides, steps) => {
        const rules = { ...SWARM_DEFAULTS, ...overrides };
        const connection = newConnection('c', 'a', 'b', 0.5, 0, rules);
        let expected: ConnectionOutcome[] = [];
        let at = 0;
        for (const { success, dt, shared } of steps) {
          at += dt;
          if (shared) Object.freeze(connection.outcomes);
          const before = connection.outcomes;
          const copyBefore = [...before];
          recordConnectionOutcome(connection, success, at, rules);
          expected = referenceWindow(expected, { at, success }, rules);
          expect(connection.outcomes).toEqual(expected);
          expect(before).toEqual(copyBefore);
          expect(connection.outcomes).not.toBe(before);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('on an immer draft the base window is copied, never changed, whether the connection is new or drafted', () => {
    const rules = { ...SWARM_DEFAULTS, successWindowSize: 2 };
    const base = { connection: newConnection('c', 'a', 'b', 0.5, 0, rules) };
    base.connection.outcomes.push({ at: 0, success: false }, { at: 1, success: true });
    const frozenBase = produce(base, () => undefined);
    const next = produce(frozenBase as { connection: typeof base.connection; created?: typeof base.connection }, (draft) => {
      recordConnectionOutcome(draft.connection, true, 2, rules);
      recordConnectionOutcome(draft.connection, false, 3, rules);
      draft.created = newConnection('n', 'a', 'c', 0.5, 2, rules);
      recordConnectionOutcome(draft.created, true, 2, rules);
      recordConnectionOutcome(draft.created, true, 3, rules);
      recordConnectionOutcome(draft.created, false, 4, rules);
    });
    expect(next.created?.outcomes).toEqual([
      { at: 3, success: true },
      { at: 4, success: false },
    ]);
    expect(frozenBase.connection.outcomes).toEqual([
      { at: 0, success: false },
      { at: 1, success: true },
    ]);
    expect(next.connection.outcomes).toEqual([
      { at: 2, success: true },
      { at: 3, success: false },
    ]);
    expect(Object.isFrozen(next.connection.outcomes)).toBe(true);
  });
});

describe('updatePosterior', () => {
  const countArb = fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(0, 1, 1e308, -1, Number.NaN, Number.POSITIVE_INFINITY));
  const stepArb = fc.oneof(fc.integer({ min: -3, max: 40 }), fc.constantFrom(Number.NaN, 2 ** 53, 1.5));
  const posteriorArb: fc.Arbitrary<PairPosterior | undefined> = fc.option(fc.record({ successes: countArb, failures: countArb, step: stepArb }), { nil: undefined });

  test('equals discountedCounts plus the outcome, to the last bit (also on corrupted counts and steps)', () => {
    fc.assert(
      fc.property(posteriorArb, stepArb, fc.boolean(), fc.oneof(fc.double({ min: 0, max: 1 }), fc.constantFrom(1, 0, 1.5, Number.NaN)), (posterior, now, success, discount) => {
        const counts = discountedCounts(posterior, now, discount);
        const next = updatePosterior(posterior, now, success, discount);
        expect(Object.is(next.successes, counts.successes + (success ? 1 : 0))).toBe(true);
        expect(Object.is(next.failures, counts.failures + (success ? 0 : 1))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
