import { compareRouting, verdictMarginFills } from '../src/cli/routingVerdict';

describe("the demo's routing verdict", () => {
  test('the margin is 5 % of the trades, at least 2 fills', () => {
    expect(verdictMarginFills(0)).toBe(2);
    expect(verdictMarginFills(20)).toBe(2);
    expect(verdictMarginFills(60)).toBe(3);
    expect(verdictMarginFills(61)).toBe(4);
  });

  test('a difference of at least the margin is better or worse, anything smaller is no better', () => {
    const of = (filled: number) => ({ filled, total: 60 });
    expect(compareRouting(of(43), of(40))).toEqual({ verdict: 'better', marginFills: 3 });
    expect(compareRouting(of(42), of(40)).verdict).toBe('no better');
    expect(compareRouting(of(38), of(40)).verdict).toBe('no better');
    expect(compareRouting(of(37), of(40)).verdict).toBe('worse');
    expect(compareRouting({ filled: 0, total: 0 }, { filled: 0, total: 0 }).verdict).toBe('no better');
  });
});
