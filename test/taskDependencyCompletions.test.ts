/**
 * A task actor told of several completed dependencies in one `DEPENDENCY_COMPLETED`
 * (`count`, as the orchestrator merges the completions of one burst) ends where it would
 * have after one event per dependency: the same state and context.
 */
import fc from 'fast-check';
import { createActor } from 'xstate';
import { taskMachine, type TaskMachineInput } from '../machines/task.machine';

const input = (pendingDependencies: number): TaskMachineInput => ({
  taskId: 't',
  timeoutMs: 10_000,
  maxRetries: 1,
  backoffFactor: 2,
  initialDelayMs: 1000,
  retryOnFailure: true,
  onDependencyFailure: 'ignore',
  pendingDependencies,
  dependencyFailedAtStart: false,
});

function after(pending: number, counts: readonly (number | undefined)[]): { value: unknown; pending: number } {
  const actor = createActor(taskMachine, { input: input(pending) }).start();
  for (const count of counts) actor.send({ type: 'DEPENDENCY_COMPLETED', dependencyId: 'd', ...(count !== undefined && { count }) });
  const snapshot = actor.getSnapshot();
  actor.stop();
  return { value: snapshot.value, pending: snapshot.context.pendingDependencies };
}

describe('task machine: completed dependencies told in bursts', () => {
  test('one event of count n does what n events of count 1 do, however the completions are grouped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }), (pending, groups) => {
        const ones = groups.flatMap((n) => Array.from({ length: n }, () => undefined));
        expect(after(pending, groups)).toEqual(after(pending, ones));
      }),
    );
  });

  test('the last completions move it to queued; fewer leave it waiting with the rest counted', () => {
    expect(after(3, [2])).toEqual({ value: 'waiting', pending: 1 });
    expect(after(3, [2, 1])).toEqual({ value: 'queued', pending: 0 });
    expect(after(3, [3])).toEqual({ value: 'queued', pending: 0 });
  });

  test('a count that is not a positive whole number counts as one', () => {
    for (const count of [0, -2, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expect(after(3, [count])).toEqual({ value: 'waiting', pending: 2 });
    }
  });
});
