import { ValidationError } from '../errors';
import { describeError } from '../describeError';

/**
 * A named check. For workflows, `reads` lists the tasks it looks at: the verifier may then
 * forget and reorder everything else (see docs/verification.md). Without it, the check is
 * assumed to read every task and most reductions are off.
 */
export interface NamedCheck<F> {
  readonly name: string;
  readonly check: F;
  readonly reads?: readonly string[];
}

/** Checks given as one function, a named check, a list, or a record of name → check. */
export type Checks<F> = F | NamedCheck<F> | readonly (F | NamedCheck<F>)[] | Readonly<Record<string, F | Omit<NamedCheck<F>, 'name'>>>;

/**
 * Every check with a name: its key in a record, its `name`, the function's name, or
 * `<path> #n`. Validated once, at the boundary.
 * @internal
 */
export function namedChecks<F>(checks: Checks<F> | undefined, path: string): NamedCheck<F>[] {
  if (checks === undefined) return [];
  const list: NamedCheck<F>[] = [];
  const add = (value: unknown, name: string | undefined, where: string) => {
    const fallback = `${path} #${list.length + 1}`;
    if (typeof value === 'function') {
      list.push({ name: name ?? (value.name || fallback), check: value as F });
      return;
    }
    const named = value as Partial<NamedCheck<F>> | null;
    if (typeof named !== 'object' || named === null || typeof named.check !== 'function') {
      throw new ValidationError('verify options', [{ path: where, message: 'expected a function or { name, check, reads? }' }]);
    }
    if (named.reads !== undefined && (!Array.isArray(named.reads) || !named.reads.every((r) => typeof r === 'string'))) {
      throw new ValidationError('verify options', [{ path: `${where}.reads`, message: 'expected an array of task ids' }]);
    }
    list.push({ name: named.name ?? name ?? fallback, check: named.check, ...(named.reads && { reads: named.reads }) });
  };
  if (typeof checks === 'function') add(checks, undefined, path);
  else if (Array.isArray(checks)) checks.forEach((c, i) => add(c, undefined, `${path}.${i}`));
  else if (typeof (checks as { check?: unknown }).check === 'function') add(checks, undefined, path);
  else for (const [name, value] of Object.entries(checks as object)) add(value, name, `${path}.${name}`);
  return list;
}

/**
 * Runs an invariant: `null` when it holds, else the message (its own, or a default).
 * A throwing invariant counts as violated.
 * @internal
 */
export function evaluateInvariant<S>(check: NamedCheck<(state: S) => boolean | string>, state: S): string | null {
  let verdict: boolean | string;
  try {
    verdict = check.check(state);
  } catch (error) {
    return `the invariant threw: ${describeError(error)}`;
  }
  if (verdict === true) return null;
  return typeof verdict === 'string' && verdict.length > 0 ? verdict : `invariant '${check.name}' does not hold in this state`;
}

/** Runs a goal; a throwing goal counts as not reached. @internal */
export function evaluateGoal<S>(check: NamedCheck<(state: S) => boolean>, state: S): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare -- user goals may return any value; only `true` counts as reached
    return check.check(state) === true;
  } catch {
    return false;
  }
}
