import fc from 'fast-check';
import { ValidationError } from '../src/errors';
import { TASK_FAILURE_CAUSES } from '../src/swarm/model/failureAttribution';
import { MAX_PRODUCERS_PER_OUTCOME, TaskOutcomeSchema, TaskOutcomesSchema } from '../src/swarm/model/swarmSchemas';
import { parseTaskOutcomes } from '../src/swarm/parseTaskOutcomes';

/** The schema's result, or the error's issue paths. */
function bySchema(input: unknown): { data: unknown } | { paths: string[] } {
  const result = TaskOutcomesSchema.safeParse(input);
  return result.success ? { data: result.data } : { paths: result.error.issues.map((issue) => issue.path.map(String).join('.')) };
}

function byHand(input: unknown): { data: unknown } | { paths: string[] } {
  try {
    return { data: parseTaskOutcomes(input) };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { paths: error.issues.map((issue) => issue.path) };
  }
}

/** Keys in order, all the way down (toStrictEqual does not look at the order). */
function keyOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(keyOrder);
  if (typeof value !== 'object' || value === null) return value;
  return Object.entries(value).map(([key, item]) => [key, keyOrder(item)]);
}

describe('parseTaskOutcomes: outcomes checked by hand, zod only for the message', () => {
  test('the schema has the fields the hand check reads (a field added to TaskOutcomeSchema must be checked in parseOutcome too)', () => {
    expect(Object.keys(TaskOutcomeSchema.shape)).toEqual(['taskId', 'agentId', 'taskType', 'producerAgentIds', 'durationMs', 'at', 'failureCause']);
  });

  const cyclic: Record<string, unknown> = { taskId: 't' };
  cyclic['self'] = cyclic;
  const odd = fc.constantFrom<unknown>(undefined, null, '', 'x', 0, -0, -1, 1.5, NaN, Infinity, -Infinity, 1e308, true, [], {}, '__proto__', 10n, cyclic, Symbol('s'));
  /** A field: mostly a value the schema takes, sometimes an odd one, absent, or present as `undefined`. */
  const field = (good: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: odd }, { weight: 1, arbitrary: fc.constant(ABSENT) }, { weight: 1, arbitrary: fc.constant(undefined) });
  const ABSENT = Symbol('absent');
  const id = fc.constantFrom('a', 'b', '__proto__', 'toString');
  const producers = fc.oneof(
    fc.array(fc.oneof({ weight: 8, arbitrary: id }, { weight: 1, arbitrary: odd }), { maxLength: 3 }),
    fc.array(fc.constant('p'), { minLength: MAX_PRODUCERS_PER_OUTCOME - 1, maxLength: MAX_PRODUCERS_PER_OUTCOME + 1 }),
  );
  const outcome = fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .record({
          taskId: field(id),
          agentId: field(id),
          taskType: field(id),
          producerAgentIds: field(producers),
          durationMs: field(fc.oneof(fc.double({ min: 0, noNaN: true }), fc.constantFrom(0, -0, 1e308))),
          at: field(fc.oneof(fc.double({ min: 0, noNaN: true }), fc.constantFrom(0, -0, 1e308))),
          failureCause: field(fc.constantFrom<unknown>(...TASK_FAILURE_CAUSES)),
          extra: field(odd),
        })
        .map((fields) => Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== ABSENT))),
    },
    { weight: 1, arbitrary: odd },
  );
  const entry = fc.oneof(
    { weight: 8, arbitrary: fc.record({ outcome, success: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ outcome, success: odd }) },
    { weight: 1, arbitrary: odd },
  );

  test('the same outcomes as TaskOutcomesSchema (fields, their order, undefined kept where the key is), or errors at the same fields', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 8, arbitrary: fc.array(entry, { maxLength: 3 }) }, { weight: 1, arbitrary: odd }), (input) => {
        const expected = bySchema(input);
        const actual = byHand(input);
        if ('data' in expected) {
          accepted++;
          expect(actual).toStrictEqual(expected);
          expect(keyOrder((actual as { data: unknown }).data)).toEqual(keyOrder(expected.data));
        } else {
          expect('paths' in actual).toBe(true);
          // The hand check stops at the first bad entry; zod lists every issue.
          expect(expected.paths).toContain((actual as { paths: string[] }).paths[0]);
        }
      }),
      { numRuns: 2000 },
    );
    // Many runs reach the hand path's result, not only its refusals (~590 of 2 000 on average,
    // σ ≈ 20: the bound is far from what a random seed gives).
    expect(accepted).toBeGreaterThan(300);
  });

  test('objects that are not plain (null prototype, class instances) are read as zod reads them; a producer list is a new array', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { taskId: 't', agentId: 'a', at: 1 });
    class Outcome {
      taskId = 't';
      agentId = 'a';
      get taskType(): string {
        return 'k';
      }
    }
    const ids = ['p'];
    const input = [
      { outcome: bare, success: true },
      { outcome: new Outcome(), success: false },
      { outcome: { taskId: 't', agentId: 'a', producerAgentIds: ids }, success: true },
    ];
    const parsed = parseTaskOutcomes(input);
    expect(parsed).toStrictEqual(TaskOutcomesSchema.parse(input));
    expect(parsed[2]!.outcome.producerAgentIds).not.toBe(ids);
  });

  test('a getter runs once whether the outcome is accepted or refused; one that throws is a ValidationError at the outcome', () => {
    let reads = 0;
    const counted = (agentId: unknown) => ({
      taskId: 't',
      get agentId() {
        reads++;
        return agentId;
      },
    });
    parseTaskOutcomes([{ outcome: counted('a'), success: true }]);
    expect(reads).toBe(1);
    expect(() => parseTaskOutcomes([{ outcome: counted(''), success: true }])).toThrow(ValidationError);
    expect(reads).toBe(2);
    const throwing = {
      taskId: 't',
      get agentId(): string {
        throw 42;
      },
    };
    expect(() => parseTaskOutcomes([{ outcome: throwing, success: true }])).toThrow(expect.objectContaining({ issues: [expect.objectContaining({ path: '0.outcome' })] }));
  });
});
