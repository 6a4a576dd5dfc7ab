import type { ZodError } from 'zod';

/**
 * Stable machine-readable codes of every error NeuroFlux throws, from every module: the
 * one list (feature modules' code objects such as `ConflictErrorCode` are subsets of it).
 * Match on `error.code`, never on the message text. `docs/errors.md` has the table.
 */
export const ErrorCode = {
  // Core: input, bus, orchestration.
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
  EXECUTOR_NOT_ALLOWED: 'ERR_EXECUTOR_NOT_ALLOWED',
  // Conflicts.
  UNKNOWN_CONFLICT: 'ERR_UNKNOWN_CONFLICT',
  DUPLICATE_CONFLICT: 'ERR_DUPLICATE_CONFLICT',
  CONFLICT_STATE: 'ERR_CONFLICT_STATE',
  REMOTE_CONFLICT: 'ERR_REMOTE_CONFLICT',
  /** Only on the wire: a leader's answer for a failure that was not a NeuroFluxError. */
  INTERNAL: 'ERR_INTERNAL',
  // Swarm.
  UNKNOWN_CONNECTION: 'ERR_UNKNOWN_CONNECTION',
  DUPLICATE_NETWORK: 'ERR_DUPLICATE_NETWORK',
  // Stores and resource pools.
  REVISION_MISMATCH: 'ERR_REVISION_MISMATCH',
  POOL_TIMEOUT: 'ERR_POOL_TIMEOUT',
  POOL_CLOSED: 'ERR_POOL_CLOSED',
  UNKNOWN_POOL: 'ERR_UNKNOWN_POOL',
  FOREIGN_RESOURCE: 'ERR_FOREIGN_RESOURCE',
  // Scaling.
  HOST_START: 'ERR_HOST_START',
  HOST_STOP: 'ERR_HOST_STOP',
  NO_REGION: 'ERR_NO_REGION',
  // Observability.
  INSPECTOR_NOT_LOOPBACK: 'ERR_INSPECTOR_NOT_LOOPBACK',
  INSPECTOR_LISTEN: 'ERR_INSPECTOR_LISTEN',
  INSPECTOR_ACTION_REFUSED: 'ERR_INSPECTOR_ACTION_REFUSED',
  // Verification.
  INVALID_TRACE: 'ERR_INVALID_TRACE',
  // Command line: a cause outside the command's input (NATS unreachable, store unopenable).
  CANNOT_RUN: 'ERR_CANNOT_RUN',
  // Packaging: a package an integration loads when first used is not installed.
  MISSING_DEPENDENCY: 'ERR_MISSING_DEPENDENCY',
} as const;
/** One of the {@link ErrorCode} values: the type of every NeuroFlux error's `code`. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Options every NeuroFlux error takes: `cause` is the value that made it (any thrown value,
 * not only an `Error`: a handler may throw a string or a BigInt), kept as it was thrown.
 */
export interface NeuroFluxErrorOptions {
  readonly cause?: unknown;
}

/**
 * Base class of every error NeuroFlux throws; `code` is stable across versions, `cause`
 * (standard `Error` cause) holds the value an error wraps, when it wraps one.
 *
 * @example
 * ```ts
 * try { await store.load('k'); }
 * catch (e) { if (e instanceof NeuroFluxError && e.code === ErrorCode.VALIDATION) console.log(e.cause); }
 * ```
 */
export class NeuroFluxError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: NeuroFluxErrorOptions) {
    // Only pass `cause` when given: `{ cause: undefined }` would define an own `cause` property.
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
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
    options?: NeuroFluxErrorOptions,
  ) {
    super(
      ErrorCode.STANDBY,
      why === 'standby'
        ? `${component} is a standby: it takes tasks once it holds the leader lease`
        : `${component} is disabled in this runtime (created with orchestrator: false)`,
      options,
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

  constructor(what: string, issues: readonly ValidationIssue[], options?: NeuroFluxErrorOptions) {
    const first = issues[0];
    const field = first?.path ?? '';
    super(ErrorCode.VALIDATION, `invalid ${what}: ${field || '(value)'}: ${first?.message ?? 'invalid'}`, options);
    this.field = field;
    this.issues = issues;
  }

  /** @internal */
  static fromZod(what: string, error: ZodError): ValidationError {
    return new ValidationError(
      what,
      error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
      { cause: error },
    );
  }
}

/** A request got no response within its timeout. */
export class RequestTimeoutError extends NeuroFluxError {
  constructor(
    readonly recipientId: string,
    readonly topic: string,
    readonly timeoutMs: number,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.REQUEST_TIMEOUT, `request '${topic}' to agent '${recipientId}' timed out after ${timeoutMs} ms`, options);
  }
}

/** A mailbox is at capacity and its overflow policy is `reject`. */
export class QueueFullError extends NeuroFluxError {
  constructor(
    readonly agentId: string,
    readonly maxQueueSize: number,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.QUEUE_FULL, `mailbox of agent '${agentId}' is full (${maxQueueSize} messages)`, options);
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
    /** `cause`: what the recipient's handler threw on its last attempt, as thrown. */
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.DELIVERY_FAILED, `request '${topic}' to agent '${recipientId}' failed: ${reason}${detail ? ` (${detail})` : ''}`, options);
  }
}

/** The call names an agent that is not registered. */
export class UnknownAgentError extends NeuroFluxError {
  constructor(
    readonly agentId: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.UNKNOWN_AGENT, `agent '${agentId}' is not registered`, options);
  }
}

/** An agent id is registered twice. */
export class DuplicateAgentError extends NeuroFluxError {
  constructor(
    readonly agentId: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.DUPLICATE_AGENT, `agent '${agentId}' is already registered`, options);
  }
}

/** The component was used before `start()` or after `stop()`. */
export class NotRunningError extends NeuroFluxError {
  /** `reason`: why it is not running, when `call start() first` would mislead (an embedded runtime has no start()). */
  constructor(
    readonly component: string,
    options?: NeuroFluxErrorOptions & { readonly reason?: string },
  ) {
    super(ErrorCode.NOT_RUNNING, `${component} is not running: ${options?.reason ?? 'call start() first'}`, options && 'cause' in options ? { cause: options.cause } : undefined);
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
  constructor(
    readonly problems: readonly WorkflowProblem[],
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.WORKFLOW_INVALID, workflowProblemsMessage(problems), options);
  }
}

/**
 * Problems a {@link WorkflowValidationError}'s message lists; `problems` holds every one. A
 * 100 000-task workflow submitted before its agents registered made a 6.3 MB message, one
 * clause per task, for whoever logs it.
 */
export const MAX_PROBLEMS_IN_MESSAGE = 10;

function workflowProblemsMessage(problems: readonly WorkflowProblem[]): string {
  const listed = problems.slice(0, MAX_PROBLEMS_IN_MESSAGE).map((p) => p.message);
  const more = problems.length - listed.length;
  return `invalid workflow: ${listed.join('; ')}${more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'} (all in WorkflowValidationError.problems)` : ''}`;
}

/** The call names a task the orchestrator does not know. */
export class UnknownTaskError extends NeuroFluxError {
  constructor(
    readonly taskId: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.UNKNOWN_TASK, `task '${taskId}' is not known`, options);
  }
}

/** `retryTask` on a task that is not finished, or that completed. */
export class TaskNotRetryableError extends NeuroFluxError {
  constructor(
    readonly taskId: string,
    readonly status: string,
    /** A dependency that did not complete (and has no completed retry): the retry would fail the same way. */
    readonly failedDependency?: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(
      ErrorCode.TASK_NOT_RETRYABLE,
      failedDependency === undefined
        ? `task '${taskId}' is ${status}: only a failed, timed out or cancelled task can be retried`
        : `task '${taskId}' cannot be retried: its dependency '${failedDependency}' did not complete (retry it first)`,
      options,
    );
  }
}

/** A task id is submitted twice. */
export class DuplicateTaskError extends NeuroFluxError {
  constructor(
    readonly taskId: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.DUPLICATE_TASK, `task '${taskId}' already exists`, options);
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
    options?: NeuroFluxErrorOptions,
  ) {
    const what = unmet.map((set) => (set.length === 1 ? set[0] : `${set.join(' + ')} (in one agent)`)).join(', ');
    super(ErrorCode.AGENTS_UNAVAILABLE, `no agent with ${what} registered within ${timeoutMs} ms`, options);
  }
}

/**
 * A package that a feature loads on first use (the NATS client, ioredis, ws, prom-client,
 * yaml, graphology, `@opentelemetry/api`) cannot be loaded: not installed, or one of its
 * own dependencies is missing. `cause` is the loader's error (its message names the module).
 */
export class MissingDependencyError extends NeuroFluxError {
  constructor(
    readonly packageName: string,
    readonly feature: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.MISSING_DEPENDENCY, `${feature} needs the package '${packageName}', which cannot be loaded: install it (npm install ${packageName})`, options);
  }
}

/** A manual assignment cannot be made (task not queued, agent lacks capability or capacity). */
export class AssignmentRefusedError extends NeuroFluxError {
  constructor(
    readonly taskId: string,
    readonly agentId: string,
    reason: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.ASSIGNMENT_REFUSED, `cannot assign task '${taskId}' to agent '${agentId}': ${reason}`, options);
  }
}
