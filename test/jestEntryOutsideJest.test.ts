/**
 * `neuroflux/jest` imported where Jest's global `expect` is missing (a script, not a test
 * file) throws a NeuroFluxError with a code (review RA finding 9: it threw a plain Error).
 */
import { ErrorCode, NeuroFluxError } from '../src/errors';

test('src/entries/jest.ts outside Jest: a NeuroFluxError (ERR_NOT_RUNNING) naming what to do', () => {
  const saved = (globalThis as { expect?: unknown }).expect;
  let thrown: unknown;
  jest.isolateModules(() => {
    (globalThis as { expect?: unknown }).expect = undefined;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../src/entries/jest');
    } catch (error) {
      thrown = error;
    } finally {
      (globalThis as { expect?: unknown }).expect = saved;
    }
  });
  // The fresh registry has its own copy of the error classes: compare by name and code.
  expect(thrown).toBeInstanceOf(Error);
  const error = thrown as NeuroFluxError;
  expect(error.name).toBe(NeuroFluxError.name);
  expect(error.code).toBe(ErrorCode.NOT_RUNNING);
  expect(error.message).toContain('import it from a test file');
});
