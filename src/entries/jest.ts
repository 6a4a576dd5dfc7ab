/**
 * Jest matchers for verification: `import 'neuroflux/jest'` in a test file (or in
 * `setupFilesAfterEach`) and write
 *
 * ```ts
 * expect(workflow).toBeDeadlockFree();
 * expect(workflow).toTerminate({ environment: { cancellations: 'none' } });
 * expect(workflow).toSatisfy((s) => s.tasks.report.state !== 'failed' || 'report failed');
 * expect(myMachine).toBeDeadlockFree({ events: [...] });
 * ```
 *
 * The received value is a workflow (`{ tasks, agents? }`), an XState machine, or a
 * result of `verifyWorkflow` / `verifyMachine`. A failing matcher prints the verdict and
 * the counterexample trace. An incomplete exploration (state bound reached) fails: a
 * property is only claimed when it is proved.
 * @module neuroflux/jest
 * @packageDocumentation
 */
import { ErrorCode, NeuroFluxError } from '../errors';
import { verificationMatchers, type InvariantFor, type VerificationMatcherOptions } from '../verify/verificationMatchers';

export { verificationMatchers, type InvariantFor, type VerificationMatcherOptions };

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merging with @types/jest's Matchers requires its exact type parameters
    interface Matchers<R, T = {}> {
      /** No reachable unfinished state in which nothing can happen by itself. */
      toBeDeadlockFree(options?: VerificationMatcherOptions<T>): R;
      /** Every reachable state can still reach the end (every task final; a final machine state). */
      toTerminate(options?: VerificationMatcherOptions<T>): R;
      /** The invariant holds in every reachable state. */
      toSatisfy(invariant: InvariantFor<T>, options?: VerificationMatcherOptions<T>): R;
    }
  }
}

const globalExpect = (globalThis as { expect?: { extend(matchers: Record<string, unknown>): void } }).expect;
if (globalExpect === undefined) {
  // Jest is what is not running here: a NeuroFluxError like every other, so a caller can tell it by code.
  throw new NeuroFluxError(ErrorCode.NOT_RUNNING, "neuroflux/jest registers Jest matchers: import it from a test file (Jest's global `expect` is missing)");
}
globalExpect.extend(verificationMatchers);
