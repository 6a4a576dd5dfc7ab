/**
 * `runAttempt` (src/orchestration/taskExecutor.ts) settles an executor's attempt in the same
 * turn when it returns a value, and through a promise when it returns one; what it throws,
 * rejects with or hides behind a hostile `then` fails the attempt with its text, never
 * escaping.
 */
import { runAttempt, type ExecutionContext, type TaskExecutor } from '../src/orchestration/taskExecutor';
import type { TaskSpec } from '../src';

const task = { taskId: 't' } as TaskSpec;
const context: ExecutionContext = { signal: new AbortController().signal, attempt: 2, dependencyResults: {}, reportProgress: () => {} };

describe('runAttempt', () => {
  test('a value returned at once is settled in the same turn, as a frozen JSON copy', () => {
    const returned = { rows: [1], at: new Date(0) };
    const outcome = runAttempt(() => returned, task, context);
    expect(outcome).not.toBeInstanceOf(Promise);
    expect(outcome).toEqual({ taskId: 't', attempt: 2, status: 'completed', result: { rows: [1], at: '1970-01-01T00:00:00.000Z' } });
    expect(Object.isFrozen((outcome as { result: { rows: unknown } }).result.rows)).toBe(true);
    expect(Object.isFrozen(returned)).toBe(false);
  });

  test('a promise is awaited: its value completes the attempt, its rejection fails it', async () => {
    await expect(runAttempt(() => Promise.resolve(5), task, context)).resolves.toEqual({ taskId: 't', attempt: 2, status: 'completed', result: 5 });
    await expect(runAttempt(() => Promise.reject(new Error('down')), task, context)).resolves.toEqual({ taskId: 't', attempt: 2, status: 'failed', error: 'down' });
    // A thenable that is not a Promise, as some libraries return.
    const thenable = { then: (resolve: (v: unknown) => void) => resolve('ok') };
    await expect(runAttempt(() => thenable, task, context)).resolves.toMatchObject({ status: 'completed', result: 'ok' });
  });

  test('what is thrown (a non-Error, a then getter that throws, a BigInt result) fails the attempt and never escapes', async () => {
    const hostile: TaskExecutor[] = [
      () => {
        throw 'plain text';
      },
      () =>
        Object.defineProperty({}, 'then', {
          get(): never {
            throw new Error('then getter');
          },
        }),
      () => ({ amount: 10n }),
      () => Promise.reject(Object.create(null) as object),
    ];
    const outcomes = await Promise.all(hostile.map((execute) => runAttempt(execute, task, context)));
    expect(outcomes.map((o) => o.status)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(outcomes[0]?.error).toBe('plain text');
    expect(outcomes[1]?.error).toBe('then getter');
    expect(outcomes[2]).toMatchObject({ failureKind: 'invalid_result', error: expect.stringContaining('result.amount') as unknown });
    expect(typeof outcomes[3]?.error).toBe('string');
  });
});
