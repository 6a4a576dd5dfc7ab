import { assign, setup } from 'xstate';

/** What a task does when one of its dependencies fails or is cancelled. */
export type DependencyFailurePolicy = 'fail' | 'ignore' | 'skip';

/** The states a task reports to the orchestrator (transient ones excluded). */
export type TaskStateName = 'waiting' | 'queued' | 'assigned' | 'running' | 'retrying' | 'completed' | 'failed' | 'timedOut' | 'cancelled';

/** Why a task ended without completing. */
export type TaskEndReason = 'execution_failed' | 'timed_out' | 'dependency_failed' | 'dependency_skipped' | 'cancelled';

/** Input of a task actor: everything its decisions depend on. */
export interface TaskMachineInput {
  readonly taskId: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly backoffFactor: number;
  readonly initialDelayMs: number;
  readonly retryOnFailure: boolean;
  readonly onDependencyFailure: DependencyFailurePolicy;
  /** Dependencies not finished when the task was submitted. */
  readonly pendingDependencies: number;
  /** A dependency had already failed at submission. */
  readonly dependencyFailedAtStart: boolean;
  /** Retries already spent (a task restored after a restart keeps its count). */
  readonly retryCount?: number;
  /**
   * A task restored while it waited out a retry backoff: the absolute clock time (ms) at
   * which it may be queued again. It waits in `retrying` for the time that is left.
   */
  readonly retryAt?: number | null;
}

export interface TaskMachineContext extends TaskMachineInput {
  pendingDependencies: number;
  retryCount: number;
  assignedAgent: string | null;
  /** Absolute clock time (ms) at which the current attempt times out. */
  deadline: number | null;
  /** Absolute clock time (ms) at which the next attempt may be queued. */
  retryAt: number | null;
  lastError: string | null;
  /** Clock time of the last failed attempt (a timeout's is its deadline). */
  failedAt: number | null;
  endReason: TaskEndReason | null;
}

/**
 * Events of a task actor. Times (`at`) are the runtime clock's, passed in by the
 * orchestrator so that the machine stays pure and deadlines survive a restore.
 */
export type TaskMachineEvent =
  /**
   * `count` dependencies completed (default 1), `dependencyId` the last of them: the
   * orchestrator tells a task of the dependencies that complete in one burst in one event.
   */
  | { type: 'DEPENDENCY_COMPLETED'; dependencyId: string; count?: number }
  | { type: 'DEPENDENCY_FAILED'; dependencyId: string }
  /** `startsAtOnce`: the agent runs in this process and starts the work right away. */
  | { type: 'AGENT_ASSIGNED'; agentId: string; at: number; startsAtOnce?: boolean }
  | { type: 'EXECUTION_STARTED'; attempt: number }
  | { type: 'EXECUTION_SUCCEEDED'; attempt: number }
  | { type: 'EXECUTION_FAILED'; attempt: number; error: string; at: number }
  /** The assigned agent went away: back to the queue, not counted as a retry. */
  | { type: 'AGENT_LOST'; agentId: string }
  | { type: 'CANCELLED' };

/** The dependencies a `DEPENDENCY_COMPLETED` reports: a positive whole number, 1 when absent or not one. */
function completedCount(event: { count?: number }): number {
  const count = event.count;
  return count !== undefined && Number.isSafeInteger(count) && count > 0 ? count : 1;
}

/**
 * Longest retry backoff: ten years, the runtime's `MAX_DELAY_MS` (a machine imports no
 * runtime module; a test holds the two equal).
 */
export const MAX_BACKOFF_MS = 10 * 365 * 86_400_000;

/**
 * The wait before retry `retryCount` (1 for the first): `initialDelayMs × backoffFactor^(retryCount − 1)`,
 * at most {@link MAX_BACKOFF_MS}. Shared by the task machine and the verifier. A series that
 * overflows is capped, so `retryAt` stays a finite time (it read `1e+308`, or `NaN` for a
 * zero initial delay times an infinite power, which a JSON store keeps as `null`).
 *
 * @example
 * ```ts
 * retryBackoffMs(1000, 2, 3); // 4000
 * retryBackoffMs(1000, 1e308, 3); // MAX_BACKOFF_MS
 * ```
 */
export function retryBackoffMs(initialDelayMs: number, backoffFactor: number, retryCount: number): number {
  if (initialDelayMs <= 0) return 0;
  return Math.min(MAX_BACKOFF_MS, initialDelayMs * backoffFactor ** (retryCount - 1));
}

function backoffMs(context: TaskMachineContext, retryCount: number): number {
  return retryBackoffMs(context.initialDelayMs, context.backoffFactor, retryCount);
}

/**
 * One task: waits for its dependencies, queues for an agent, runs (with a timeout), retries
 * with exponential backoff, and ends completed, failed, timed out or cancelled.
 * Timeouts and backoffs are `after` delays; their absolute deadlines are kept in context so
 * that a restored task re-arms only its remaining time (the `taskTimeout` and
 * `retryBackoff` delays are provided with the clock by the orchestrator).
 */
export const taskMachine = setup({
  types: {
    context: {} as TaskMachineContext,
    input: {} as TaskMachineInput,
    events: {} as TaskMachineEvent,
  },
  actions: {
    /** The task is ready: ask the orchestrator for an agent. */
    requestAgent: () => {},
    /** Hand the current attempt to the assigned agent. */
    dispatchToAgent: (_, _params: { agentId: string; attempt: number }) => {},
    /** Stop the current attempt's work (abort signal, or a cancel command to a remote agent). */
    abortWork: (_, _params: { agentId: string; attempt: number }) => {},
    /** Give the agent's slot back (after success, failure, timeout, cancel or loss). */
    releaseAgent: (_, _params: { agentId: string; outcome: 'completed' | 'failed' | 'timeout' | 'cancelled' | 'lost' }) => {},
    /** Report a state change to the orchestrator (records, events$, stats). */
    reportTransition: (_, _params: { state: TaskStateName }) => {},
    recordDependencyDone: assign({ pendingDependencies: ({ context }) => context.pendingDependencies - 1 }),
    /** Never below 0: the completions past the last are not counted, as separate events would not be (queued takes none). */
    recordDependenciesDone: assign(({ context }, params: { count: number }) => ({ pendingDependencies: Math.max(0, context.pendingDependencies - params.count) })),
    recordAssignment: assign(({ context }, params: { agentId: string; at: number }) => ({
      assignedAgent: params.agentId,
      deadline: params.at + context.timeoutMs,
    })),
    recordFailure: assign((_, params: { error: string; at: number }) => ({ lastError: params.error, failedAt: params.at })),
    scheduleRetry: assign(({ context }) => {
      const retryCount = context.retryCount + 1;
      const retryAt = (context.failedAt ?? 0) + backoffMs(context, retryCount);
      return { retryCount, retryAt, assignedAgent: null, deadline: null };
    }),
    clearAssignment: assign({ assignedAgent: null, deadline: null }),
    recordEnd: assign((_, params: { reason: TaskEndReason }) => ({ endReason: params.reason })),
    /** The record's `error` names the failed dependency (the event that led here; none when it had failed before a restore). */
    recordDependencyFailure: assign({
      lastError: ({ event }) => (event.type === 'DEPENDENCY_FAILED' ? `dependency '${event.dependencyId}' did not complete` : 'a dependency did not complete'),
    }),
  },
  guards: {
    dependenciesDone: ({ context }) => context.pendingDependencies <= 0,
    lastDependency: ({ context }) => context.pendingDependencies <= 1,
    lastDependencies: ({ context }, params: { count: number }) => context.pendingDependencies <= params.count,
    failsOnDependency: ({ context }) => context.onDependencyFailure === 'fail',
    skipsOnDependency: ({ context }) => context.onDependencyFailure === 'skip',
    dependencyFailedAtStart: ({ context }) => context.dependencyFailedAtStart,
    canRetry: ({ context }) => context.retryOnFailure && context.retryCount < context.maxRetries,
    isCurrentAttempt: ({ context }, params: { attempt: number }) => params.attempt === context.retryCount,
    /** The task holds an agent's slot for this attempt (it is assigned or running). */
    holdsAgentFor: ({ context }, params: { attempt: number }) => context.assignedAgent !== null && params.attempt === context.retryCount,
    holdsAgent: ({ context }) => context.assignedAgent !== null,
    backoffPending: ({ context }) => context.pendingDependencies <= 0 && context.retryAt !== null,
    startsAtOnce: (_, params: { startsAtOnce: boolean }) => params.startsAtOnce,
    isAssignedAgent: ({ context }, params: { agentId: string }) => params.agentId === context.assignedAgent,
  },
  delays: {
    // Pure defaults from context; the orchestrator provides clock-aware versions that
    // measure the remaining time to the stored absolute deadline.
    taskTimeout: ({ context }) => context.timeoutMs,
    retryBackoff: ({ context }) => backoffMs(context, context.retryCount),
  },
}).createMachine({
  id: 'task',
  // Field by field rather than `...input`: every task's context then has one hidden class
  // whatever its input carried, and no spread per spawn (the spread was 4.6 % of the
  // raw-task-actor floor's CPU profile, self time).
  context: ({ input }) => ({
    taskId: input.taskId,
    timeoutMs: input.timeoutMs,
    maxRetries: input.maxRetries,
    backoffFactor: input.backoffFactor,
    initialDelayMs: input.initialDelayMs,
    retryOnFailure: input.retryOnFailure,
    onDependencyFailure: input.onDependencyFailure,
    pendingDependencies: input.pendingDependencies,
    dependencyFailedAtStart: input.dependencyFailedAtStart,
    retryCount: input.retryCount ?? 0,
    assignedAgent: null,
    deadline: null,
    retryAt: input.retryAt ?? null,
    lastError: null,
    failedAt: null,
    endReason: null,
  }),
  initial: 'waiting',
  // Events that apply wherever the task is. While it holds an agent (assigned or running:
  // `assignedAgent` is set exactly then) they also abort the work and free the slot.
  on: {
    CANCELLED: [
      {
        guard: 'holdsAgent',
        target: '.cancelled',
        actions: [
          { type: 'abortWork', params: ({ context }) => ({ agentId: context.assignedAgent ?? '', attempt: context.retryCount }) },
          { type: 'releaseAgent', params: ({ context }) => ({ agentId: context.assignedAgent ?? '', outcome: 'cancelled' }) },
          { type: 'recordEnd', params: { reason: 'cancelled' } },
        ],
      },
      { target: '.cancelled', actions: { type: 'recordEnd', params: { reason: 'cancelled' } } },
    ],
    EXECUTION_FAILED: {
      guard: { type: 'holdsAgentFor', params: ({ event }) => ({ attempt: event.attempt }) },
      target: '.failing',
      actions: [
        { type: 'releaseAgent', params: ({ context }) => ({ agentId: context.assignedAgent ?? '', outcome: 'failed' }) },
        { type: 'recordFailure', params: ({ event }) => ({ error: event.error, at: event.at }) },
      ],
    },
    AGENT_LOST: {
      guard: { type: 'isAssignedAgent', params: ({ event }) => ({ agentId: event.agentId }) },
      target: '.queued',
      actions: [
        { type: 'abortWork', params: ({ context }) => ({ agentId: context.assignedAgent ?? '', attempt: context.retryCount }) },
        { type: 'releaseAgent', params: ({ context }) => ({ agentId: context.assignedAgent ?? '', outcome: 'lost' }) },
        'clearAssignment',
      ],
    },
  },
  states: {
    waiting: {
      always: [
        { guard: 'dependencyFailedAtStart', target: 'dependencyFailed' },
        { guard: 'backoffPending', target: 'retrying' },
        { guard: 'dependenciesDone', target: 'queued' },
      ],
      on: {
        DEPENDENCY_COMPLETED: [
          {
            guard: { type: 'lastDependencies', params: ({ event }) => ({ count: completedCount(event) }) },
            target: 'queued',
            actions: { type: 'recordDependenciesDone', params: ({ event }) => ({ count: completedCount(event) }) },
          },
          { actions: { type: 'recordDependenciesDone', params: ({ event }) => ({ count: completedCount(event) }) } },
        ],
        DEPENDENCY_FAILED: { target: 'dependencyFailed' },
      },
    },
    /** Transient: apply the task's dependency-failure policy. */
    dependencyFailed: {
      always: [
        { guard: 'failsOnDependency', target: 'failed', actions: ['recordDependencyFailure', { type: 'recordEnd', params: { reason: 'dependency_failed' } }] },
        { guard: 'skipsOnDependency', target: 'cancelled', actions: { type: 'recordEnd', params: { reason: 'dependency_skipped' } } },
        // ignore: the failed dependency counts as finished.
        { guard: 'lastDependency', target: 'queued', actions: 'recordDependencyDone' },
        { target: 'waiting', actions: 'recordDependencyDone' },
      ],
    },
    queued: {
      entry: [{ type: 'reportTransition', params: { state: 'queued' } }, 'requestAgent'],
      on: {
        AGENT_ASSIGNED: [
          {
            // An in-process executor starts at once: one step instead of two.
            guard: { type: 'startsAtOnce', params: ({ event }) => ({ startsAtOnce: event.startsAtOnce === true }) },
            target: 'running',
            actions: [
              { type: 'recordAssignment', params: ({ event }) => ({ agentId: event.agentId, at: event.at }) },
              { type: 'dispatchToAgent', params: ({ context }) => ({ agentId: context.assignedAgent ?? '', attempt: context.retryCount }) },
            ],
          },
          {
            target: 'assigned',
            actions: { type: 'recordAssignment', params: ({ event }) => ({ agentId: event.agentId, at: event.at }) },
          },
        ],
      },
    },
    // `assigned` and `running` each arm the timeout; its delay is the time left to the
    // absolute deadline set at assignment, so moving from one to the other keeps it.
    assigned: {
      entry: [
        { type: 'reportTransition', params: { state: 'assigned' } },
        { type: 'dispatchToAgent', params: ({ context }) => ({ agentId: context.assignedAgent ?? '', attempt: context.retryCount }) },
      ],
      after: { taskTimeout: 'timingOut' },
      on: {
        EXECUTION_STARTED: {
          guard: { type: 'isCurrentAttempt', params: ({ event }) => ({ attempt: event.attempt }) },
          target: 'running',
        },
      },
    },
    running: {
      entry: { type: 'reportTransition', params: { state: 'running' } },
      after: { taskTimeout: 'timingOut' },
      on: {
        EXECUTION_SUCCEEDED: {
          guard: { type: 'isCurrentAttempt', params: ({ event }) => ({ attempt: event.attempt }) },
          target: 'completed',
          actions: { type: 'releaseAgent', params: ({ context }) => ({ agentId: context.assignedAgent ?? '', outcome: 'completed' }) },
        },
      },
    },
    /** Transient: the attempt ran out of time; abort it, then retry or give up. */
    timingOut: {
      entry: [
        { type: 'abortWork', params: ({ context }) => ({ agentId: context.assignedAgent ?? '', attempt: context.retryCount }) },
        { type: 'releaseAgent', params: ({ context }) => ({ agentId: context.assignedAgent ?? '', outcome: 'timeout' }) },
        { type: 'recordFailure', params: ({ context }) => ({ error: 'timed out', at: context.deadline ?? 0 }) },
      ],
      always: [
        { guard: 'canRetry', target: 'retrying', actions: 'scheduleRetry' },
        { target: 'timedOut', actions: { type: 'recordEnd', params: { reason: 'timed_out' } } },
      ],
    },
    /** Transient: retry or give up after a failed attempt. */
    failing: {
      always: [
        { guard: 'canRetry', target: 'retrying', actions: 'scheduleRetry' },
        { target: 'failed', actions: { type: 'recordEnd', params: { reason: 'execution_failed' } } },
      ],
    },
    retrying: {
      entry: { type: 'reportTransition', params: { state: 'retrying' } },
      after: { retryBackoff: 'queued' },
    },
    completed: { type: 'final', entry: { type: 'reportTransition', params: { state: 'completed' } } },
    failed: { type: 'final', entry: { type: 'reportTransition', params: { state: 'failed' } } },
    timedOut: { type: 'final', entry: { type: 'reportTransition', params: { state: 'timedOut' } } },
    cancelled: { type: 'final', entry: { type: 'reportTransition', params: { state: 'cancelled' } } },
  },
});

export type TaskMachine = typeof taskMachine;
