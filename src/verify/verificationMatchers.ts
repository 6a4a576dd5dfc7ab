/**
 * The verification matchers (`toBeDeadlockFree`, `toTerminate`, `toSatisfy`) as plain
 * functions, for `expect.extend`. `neuroflux/jest` registers them with Jest's `expect`;
 * this module registers nothing, so the package can hold it without a test runner.
 */
import type { AnyStateMachine, SnapshotFrom } from 'xstate';
import { formatVerificationResult, type PropertyName, type VerificationResult } from './verificationResult';
import { verifyMachine, type MachineInvariant, type VerifyMachineOptions } from './verifyMachine';
import { verifyWorkflow, type VerifyWorkflowOptions, type WorkflowInvariant } from './verifyWorkflow';
import type { Workflow } from './workflowSchema';

/** Options of the matchers: those of `verifyWorkflow` or `verifyMachine`, by what is checked. */
export type VerificationMatcherOptions<T> = T extends AnyStateMachine
  ? Omit<VerifyMachineOptions<T>, 'properties' | 'invariants' | 'canReach'>
  : Omit<VerifyWorkflowOptions, 'properties' | 'invariants' | 'canReach'>;

/** The invariant `toSatisfy` takes: over workflow states, or over the machine's snapshots. */
export type InvariantFor<T> = T extends AnyStateMachine ? MachineInvariant<SnapshotFrom<T>> : WorkflowInvariant;

interface MatcherResult {
  pass: boolean;
  message(): string;
}

interface MatcherContext {
  readonly isNot?: boolean;
}

type AnyResult = VerificationResult<unknown>;

function isMachine(value: unknown): value is AnyStateMachine {
  return typeof value === 'object' && value !== null && '__xstatenode' in value && typeof (value as unknown as AnyStateMachine).transition === 'function';
}

function isResult(value: unknown): value is AnyResult {
  return typeof value === 'object' && value !== null && 'violations' in value && 'status' in value && 'statesExplored' in value;
}

function verify(received: unknown, property: 'deadlock' | 'termination' | 'invariant', options: object, invariant?: unknown): AnyResult {
  if (isResult(received)) {
    if (property === 'invariant') throw new TypeError('toSatisfy needs a workflow or a machine, not a verification result');
    return received;
  }
  if (isMachine(received)) {
    return verifyMachine(received, {
      ...(options as VerifyMachineOptions),
      properties: property === 'invariant' ? [] : [property],
      ...(invariant !== undefined && { invariants: { invariant: invariant as MachineInvariant } }),
    }) as AnyResult;
  }
  if (typeof received === 'object' && received !== null && Array.isArray((received as { tasks?: unknown }).tasks)) {
    return verifyWorkflow(received as Workflow, {
      ...(options as VerifyWorkflowOptions),
      properties: property === 'invariant' ? [] : [property],
      ...(invariant !== undefined && { invariants: { invariant: invariant as WorkflowInvariant } }),
    });
  }
  throw new TypeError(`expected a workflow ({ tasks }), an XState machine or a verification result, got ${typeof received}`);
}

function judge(this: MatcherContext | void, result: AnyResult, property: PropertyName, claim: string): MatcherResult {
  const violated = result.violations.some((v) => v.property === property);
  const proved = result.complete && !violated;
  const details = formatVerificationResult(result);
  return {
    // Jest negates `pass` under `.not`, which then passes only on a found violation: an
    // incomplete search proves neither side.
    pass: (this as MatcherContext | undefined)?.isNot ? !violated : proved,
    message: () =>
      (this as MatcherContext | undefined)?.isNot
        ? `expected a violation of ${property}, but ${claim} ${result.complete ? 'holds' : 'was not refuted in the explored states'}\n\n${details}`
        : `expected ${claim}${result.complete ? '' : ` (incomplete: explored ${result.statesExplored} states; raise maxStates)`}\n\n${details}`,
  };
}

/**
 * The matchers, for `expect.extend` in runners other than Jest (Vitest...). Importing
 * `neuroflux/jest` registers them with Jest's global `expect`.
 */
export const verificationMatchers = {
  toBeDeadlockFree(this: MatcherContext, received: unknown, options: object = {}): MatcherResult {
    return judge.call(this, verify(received, 'deadlock', options), 'deadlock', 'no deadlock');
  },
  toTerminate(this: MatcherContext, received: unknown, options: object = {}): MatcherResult {
    return judge.call(this, verify(received, 'termination', options), 'termination', 'termination');
  },
  toSatisfy(this: MatcherContext, received: unknown, invariant: unknown, options: object = {}): MatcherResult {
    if (typeof invariant !== 'function') throw new TypeError('toSatisfy(invariant): the invariant must be a function');
    return judge.call(this, verify(received, 'invariant', options, invariant), 'invariant', 'the invariant to hold in every reachable state');
  },
};
