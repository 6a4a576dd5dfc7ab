import type { ZodError } from 'zod';

/**
 * Stable machine-readable codes of every error NeuroFlux throws.
 * Match on `error.code`, never on the message text.
 */
export const ErrorCode = {
  VALIDATION: 'ERR_VALIDATION',
  REQUEST_TIMEOUT: 'ERR_REQUEST_TIMEOUT',
  QUEUE_FULL: 'ERR_QUEUE_FULL',
  UNKNOWN_AGENT: 'ERR_UNKNOWN_AGENT',
  DUPLICATE_AGENT: 'ERR_DUPLICATE_AGENT',
  NOT_RUNNING: 'ERR_NOT_RUNNING',
  WORKFLOW_INVALID: 'ERR_WORKFLOW_INVALID',
  UNKNOWN_TASK: 'ERR_UNKNOWN_TASK',
  DUPLICATE_TASK: 'ERR_DUPLICATE_TASK',
  TASK_NOT_RETRYABLE: 'ERR_TASK_NOT_RETRYABLE',
  ASSIGNMENT_REFUSED: 'ERR_ASSIGNMENT_REFUSED',
  DELIVERY_FAILED: 'ERR_DELIVERY_FAILED',
  STANDBY: 'ERR_STANDBY',
  AGENTS_UNAVAILABLE: 'ERR_AGENTS_UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every error NeuroFlux throws; `code` is stable across versions. */
export class NeuroFluxError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * The orchestrator of this runtime does not take tasks: it is a standby waiting for the
 * leader lease, or the runtime was created with `orchestrator: false` (an agent host).
 */
export class StandbyError extends NeuroFluxError {
  constructor(
    readonly component: string,
    readonly why: 'standby' | 'disabled',
  ) {
    super(
      ErrorCode.STANDBY,
      why === 'standby'
        ? `${component} is a standby: it takes tasks once it holds the leader lease`
        : `${component} is disabled in this runtime (created with orchestrator: false)`,
    );
  }
}

/** One problem found while validating input: where it is and what was expected. */
export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `payload.amount` (empty for the whole value). */
  readonly path: string;
  readonly message: string;
}

/**
 * Input from outside (a message, a task, a config, a network frame) did not match its schema.
 * `field` names the first offending field; `issues` lists all of them.
 *
 * @example
 * ```ts
 * try { bus.sendMessage({ senderId: '' }); }
 * catch (e) { if (e instanceof ValidationError) console.log(e.field); } // "senderId"
 * ```
 */
export class ValidationError extends NeuroFluxError {
  readonly field: string;
  readonly issues: readonly ValidationIssue[];

  constructor(what: string, issues: readonly ValidationIssue[]) {
    const first = issues[0];
    const field = first?.path ?? '';
    super(ErrorCode.VALIDATION, `invalid ${what}: ${field || '(value)'}: ${first?.message ?? 'invalid'}`);
    this.field = field;
    this.issues = issues;
  }

  /** @internal */
  static fromZod(what: string, error: ZodError): ValidationError {
    return new ValidationError(
      what,
      error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    );
  }
}

/** A request got no response within its timeout. */
export class RequestTimeoutError extends NeuroFluxError {
  constructor(
    readonly recipientId: string,
    readonly topic: string,
    readonly timeoutMs: number,
  ) {
    super(ErrorCode.REQUEST_TIMEOUT, `request '${topic}' to agent '${recipientId}' timed out after ${timeoutMs} ms`);
  }
}

/** A mailbox is at capacity and its overflow policy is `reject`. */
export class QueueFullError extends NeuroFluxError {
  constructor(
    readonly agentId: string,
    readonly maxQueueSize: number,
  ) {
    super(ErrorCode.QUEUE_FULL, `mailbox of agent '${agentId}' is full (${maxQueueSize} messages)`);
  }
}

/**
 * A request was given up before any answer could come: it expired, its recipient's mailbox
 * was full, or the recipient's handler failed on every attempt. `reason` is the dead letter's.
 */
export class DeliveryFailedError extends NeuroFluxError {
  constructor(
    readonly recipientId: string,
    readonly topic: string,
    readonly reason: string,
    readonly detail?: string,
  ) {
    super(ErrorCode.DELIVERY_FAILED, `request '${topic}' to agent '${recipientId}' failed: ${reason}${detail ? ` (${detail})` : ''}`);
  }
}

/** The call names an agent that is not registered. */
export class UnknownAgentError extends NeuroFluxError {
  constructor(readonly agentId: string) {
    super(ErrorCode.UNKNOWN_AGENT, `agent '${agentId}' is not registered`);
  }
}

/** An agent id is registered twice. */
export class DuplicateAgentError extends NeuroFluxError {
  constructor(readonly agentId: string) {
    super(ErrorCode.DUPLICATE_AGENT, `agent '${agentId}' is already registered`);
  }
}

/** The component was used before `start()` or after `stop()`. */
export class NotRunningError extends NeuroFluxError {
  constructor(readonly component: string) {
    super(ErrorCode.NOT_RUNNING, `${component} is not running: call start() first`);
  }
}

/** One reason a workflow is invalid, with the tasks involved. */
export interface WorkflowProblem {
  readonly kind: 'unknown_dependency' | 'cycle' | 'duplicate_id' | 'no_capable_agent';
  readonly taskIds: readonly string[];
  readonly message: string;
}

/**
 * A submitted workflow cannot run: a dependency on an unknown task, a cycle, a duplicate
 * id, or capabilities no registered agent has. Nothing of it was submitted.
 */
export class WorkflowValidationError extends NeuroFluxError {
  constructor(readonly problems: readonly WorkflowProblem[]) {
    super(ErrorCode.WORKFLOW_INVALID, `invalid workflow: ${problems.map((p) => p.message).join('; ')}`);
  }
}

/** The call names a task the orchestrator does not know. */
export class UnknownTaskError extends NeuroFluxError {
  constructor(readonly taskId: string) {
    super(ErrorCode.UNKNOWN_TASK, `task '${taskId}' is not known`);
  }
}

/** `retryTask` on a task that is not finished, or that completed. */
export class TaskNotRetryableError extends NeuroFluxError {
  constructor(
    readonly taskId: string,
    readonly status: string,
    /** A dependency that did not complete (and has no completed retry): the retry would fail the same way. */
    readonly failedDependency?: string,
  ) {
    super(
      ErrorCode.TASK_NOT_RETRYABLE,
      failedDependency === undefined
        ? `task '${taskId}' is ${status}: only a failed, timed out or cancelled task can be retried`
        : `task '${taskId}' cannot be retried: its dependency '${failedDependency}' did not complete (retry it first)`,
    );
  }
}

/** A task id is submitted twice. */
export class DuplicateTaskError extends NeuroFluxError {
  constructor(readonly taskId: string) {
    super(ErrorCode.DUPLICATE_TASK, `task '${taskId}' already exists`);
  }
}

/**
 * `orchestrator.waitForAgents` timed out: no registered agent (local, or announced by an
 * agent host) covers `unmet` yet. `missingCapabilities` are those of them no agent has at all.
 */
export class AgentsUnavailableError extends NeuroFluxError {
  constructor(
    readonly unmet: readonly (readonly string[])[],
    readonly missingCapabilities: readonly string[],
    readonly timeoutMs: number,
  ) {
    const what = unmet.map((set) => (set.length === 1 ? set[0] : `${set.join(' + ')} (in one agent)`)).join(', ');
    super(ErrorCode.AGENTS_UNAVAILABLE, `no agent with ${what} registered within ${timeoutMs} ms`);
  }
}

/** A manual assignment cannot be made (task not queued, agent lacks capability or capacity). */
export class AssignmentRefusedError extends NeuroFluxError {
  constructor(
    readonly taskId: string,
    readonly agentId: string,
    reason: string,
  ) {
    super(ErrorCode.ASSIGNMENT_REFUSED, `cannot assign task '${taskId}' to agent '${agentId}': ${reason}`);
  }
}
