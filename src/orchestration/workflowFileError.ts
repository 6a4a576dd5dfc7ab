import { ValidationError, type NeuroFluxErrorOptions } from '../errors';
import type { SourcePosition } from './workflowFileSource';

/** One problem of a workflow file: the file, the place in it, what is wrong. */
export interface WorkflowFileIssue {
  /** The workflow file as given. */
  readonly file: string;
  /** Line and column (1-based) in the file, when known. */
  readonly position?: SourcePosition;
  /** Path inside the file, `tasks[3].retryPolicy.maxRetries` ('' for the file as a whole). */
  readonly path: string;
  readonly message: string;
}

/** Most problems listed in one error; the rest are counted. */
export const MAX_WORKFLOW_FILE_ISSUES = 50;

/**
 * A workflow file cannot be used: every problem found in it, each naming the file, the line
 * and column and the path (`flow.yaml:12:5 tasks[3].retryPolicy.maxRetries: expected a
 * non-negative integer, got -1`). The message holds all of them, one per line. Nothing of
 * the file was run. A `ValidationError`, so `field` is the first problem's path.
 *
 * @example
 * ```ts
 * try { loadWorkflowFile('flow.yaml'); }
 * catch (e) { if (e instanceof WorkflowFileError) for (const line of e.lines) console.error(line); }
 * ```
 */
export class WorkflowFileError extends ValidationError {
  /** The problems, each formatted as one line (`file:line:column path: message`). */
  readonly lines: readonly string[];

  constructor(
    /** The workflow file as given. */
    readonly file: string,
    /** Every problem found (at most {@link MAX_WORKFLOW_FILE_ISSUES}). */
    readonly problems: readonly WorkflowFileIssue[],
    /** Problems found beyond those listed. */
    readonly omitted = 0,
    options?: NeuroFluxErrorOptions,
  ) {
    super(`workflow file ${file}`, problems, options);
    this.lines = [...problems.map(formatWorkflowFileIssue), ...(omitted > 0 ? [`${file}: … and ${omitted} more problems`] : [])];
    this.message = this.lines.join('\n');
  }
}

/**
 * `flow.yaml:12:5 tasks[3].retryPolicy.maxRetries: expected …`; `flow.yaml: …` without a
 * known position, no path for the file as a whole.
 * @internal
 */
export function formatWorkflowFileIssue(issue: WorkflowFileIssue): string {
  const where = issue.position ? `${issue.file}:${issue.position.line}:${issue.position.column}` : issue.file;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where} ${issue.path}: ${issue.message}`;
}

/** Segments of a path shown; a deeper one (a payload nested 5 000 levels) is cut with a count. */
const MAX_PATH_SEGMENTS = 16;

/** `['tasks', 3, 'retryPolicy']` → `tasks[3].retryPolicy`; odd keys quoted (`["a b"]`). @internal */
export function formatIssuePath(path: readonly (string | number)[]): string {
  if (path.length > MAX_PATH_SEGMENTS) return `${formatIssuePath(path.slice(0, MAX_PATH_SEGMENTS / 2))}…(${path.length - MAX_PATH_SEGMENTS / 2} more levels)`;
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) text += text === '' ? key : `.${key}`;
    else text += `[${JSON.stringify(key)}]`;
  }
  return text;
}
