import { formatTrace, type TraceStep } from './trace';

/** The properties the verifier checks. */
export type PropertyName =
  /** Every reachable state can still reach one where every task is final (machines: a final state). */
  | 'termination'
  /** No reachable unfinished state in which nothing can happen by itself. */
  | 'deadlock'
  /** No task is queued to run before all its dependencies completed (finished, for `ignore`). */
  | 'dependency_order'
  /** No retry count exceeds its task's policy. */
  | 'bounded_retries'
  /** Every task has at least one declared or registered agent with all its capabilities. */
  | 'capability_coverage'
  /** A user invariant holds in every reachable state. */
  | 'invariant'
  /** A `canReach` goal holds in some reachable state. */
  | 'reachability';

/** The built-in properties of a workflow (checked unless `properties` says otherwise). */
export type WorkflowProperty = Extract<PropertyName, 'termination' | 'deadlock' | 'dependency_order' | 'bounded_retries' | 'capability_coverage'>;

/** All built-in workflow properties. */
export const WORKFLOW_PROPERTIES: readonly WorkflowProperty[] = ['termination', 'deadlock', 'dependency_order', 'bounded_retries', 'capability_coverage'];

/** A property that fails, with a shortest trace from the start to a state where it does. */
export interface Violation<Step = TraceStep> {
  readonly property: PropertyName;
  /** The invariant's or goal's name, for `invariant` and `reachability`. */
  readonly name?: string;
  readonly message: string;
  /** Tasks the violation is about (workflows). */
  readonly taskIds?: readonly string[];
  readonly trace: readonly Step[];
}

/** A reachability goal that holds somewhere, with a shortest trace that gets there. */
export interface Witness<Step = TraceStep> {
  readonly goal: string;
  readonly trace: readonly Step[];
}

/** What `verifyWorkflow` and `verifyMachine` return. */
export interface VerificationResult<Step = TraceStep> {
  /** True when the exploration was complete and nothing was violated. */
  readonly ok: boolean;
  /** `incomplete`: the state bound stopped the search before a violation was found. */
  readonly status: 'verified' | 'violated' | 'incomplete';
  /** False when `maxStates` was reached: properties hold in the explored part only. */
  readonly complete: boolean;
  /** Distinct states visited (after reduction). */
  readonly statesExplored: number;
  /** Steps taken from those states (including those leading to known states). */
  readonly transitions: number;
  readonly violations: readonly Violation<Step>[];
  /** One per reachable `canReach` goal. */
  readonly witnesses: readonly Witness<Step>[];
  /** The properties that were checked. */
  readonly checked: readonly PropertyName[];
  /** Properties not decided and assumptions made, in words. */
  readonly notes: readonly string[];
  readonly durationMs: number;
}

/** @internal */
export function buildResult<Step>(parts: {
  complete: boolean;
  statesExplored: number;
  transitions: number;
  violations: Violation<Step>[];
  witnesses: Witness<Step>[];
  checked: PropertyName[];
  notes: string[];
  startedAt: number;
  now: number;
  /** Which budget stopped the search (default `maxStates`). */
  stoppedBy?: 'maxStates' | 'timeLimitMs' | undefined;
  /** Units of work spent (states and scheduling choices), when they differ from states. */
  work?: number;
}): VerificationResult<Step> {
  const status = parts.violations.length > 0 ? 'violated' : parts.complete ? 'verified' : 'incomplete';
  if (!parts.complete) {
    const work = parts.work !== undefined && parts.work !== parts.statesExplored ? ` (${parts.work} units of work with scheduling choices)` : '';
    const bound = parts.stoppedBy === 'timeLimitMs' ? `the timeLimitMs bound after ${Math.round(parts.now - parts.startedAt)} ms` : 'the maxStates bound';
    parts.notes.unshift(`incomplete: explored ${parts.statesExplored} states${work}, ${bound}; properties hold in the explored part only`);
  }
  return {
    ok: status === 'verified',
    status,
    complete: parts.complete,
    statesExplored: parts.statesExplored,
    transitions: parts.transitions,
    violations: parts.violations,
    witnesses: parts.witnesses,
    checked: parts.checked,
    notes: parts.notes,
    durationMs: parts.now - parts.startedAt,
  };
}

/**
 * A result as text: the verdict, then each violation with its trace, then the witnesses.
 * Workflow traces print as numbered lines; machine traces as their events.
 *
 * @example
 * ```ts
 * const result = verifyWorkflow(workflow);
 * if (!result.ok) console.log(formatVerificationResult(result));
 * ```
 */
export function formatVerificationResult<Step>(result: VerificationResult<Step>, options: { formatTrace?: (trace: readonly Step[]) => string } = {}): string {
  const printTrace = options.formatTrace ?? ((trace: readonly Step[]) => defaultFormat(trace));
  const lines: string[] = [];
  const verdict =
    result.status === 'verified'
      ? 'verified: every checked property holds'
      : result.status === 'violated'
        ? `violated: ${result.violations.length} violation${result.violations.length === 1 ? '' : 's'}`
        : 'incomplete: no violation found in the explored states';
  lines.push(`${verdict} (${result.statesExplored} states, ${result.transitions} transitions, ${Math.round(result.durationMs)} ms)`);
  lines.push(`checked: ${result.checked.join(', ')}`);
  for (const note of result.notes) lines.push(`note: ${note}`);
  result.violations.forEach((violation, i) => {
    lines.push('');
    const name = violation.name ? ` '${violation.name}'` : '';
    lines.push(`violation ${i + 1}: ${violation.property}${name}: ${violation.message}`);
    lines.push('trace:');
    lines.push(printTrace(violation.trace));
  });
  for (const witness of result.witnesses) {
    lines.push('');
    lines.push(`reachable: '${witness.goal}'`);
    lines.push('trace:');
    lines.push(printTrace(witness.trace));
  }
  return lines.join('\n');
}

function defaultFormat<Step>(trace: readonly Step[]): string {
  if (trace.every(isTraceStep)) return formatTrace(trace as unknown as TraceStep[]);
  if (trace.length === 0) return '  (the initial state: no step needed)';
  return trace.map((step, i) => `  ${i + 1}. ${JSON.stringify(step)}`).join('\n');
}

function isTraceStep(step: unknown): boolean {
  return typeof step === 'object' && step !== null && 'taskId' in step && 'attempt' in step && 'type' in step;
}
