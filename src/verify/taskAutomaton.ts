import { __unsafe_getAllOwnEventDescriptors, initialTransition, transition, type SnapshotFrom } from 'xstate';
import { taskMachine, type DependencyFailurePolicy, type TaskEndReason, type TaskMachineEvent, type TaskStateName } from '../../machines/task.machine';

/**
 * What one task can go through, abstracted from time: the model's phases are the task
 * machine's stable states, with `assigned` and `running` merged (a dispatch assigns and
 * starts the attempt in one step).
 */
export type TaskPhase = Exclude<TaskStateName, 'assigned'>;

/** What can happen to one task. The first seven are steps of a trace. @internal */
export const TaskEventKind = {
  DISPATCH: 0,
  SUCCEED: 1,
  FAIL: 2,
  TIMEOUT: 3,
  BACKOFF: 4,
  CANCEL: 5,
  AGENT_LOST: 6,
  DEPENDENCY_COMPLETED: 7,
  DEPENDENCY_FAILED: 8,
} as const;
export type TaskEventKind = (typeof TaskEventKind)[keyof typeof TaskEventKind];
/** @internal */
export const TASK_EVENT_KINDS = 9;

/** Everything about a task's policy that changes what its machine does. @internal */
export interface TaskAutomatonParams {
  readonly maxRetries: number;
  readonly retryOnFailure: boolean;
  readonly onDependencyFailure: DependencyFailurePolicy;
  readonly dependencies: number;
}

/** One abstract state of a task. @internal */
export interface LocalState {
  readonly phase: TaskPhase;
  readonly retryCount: number;
  /** The machine's count of unfinished dependencies (only meaningful while waiting). */
  readonly pendingDependencies: number;
  /** Dependencies the model saw complete / fail while the task waited (its own tally, not the machine's). */
  readonly completedSeen: number;
  readonly failedSeen: number;
  readonly endReason: TaskEndReason | null;
  readonly final: boolean;
  /** Why this state breaks a built-in property (dependency order, bounded retries), if it does. */
  readonly violation: { readonly property: 'dependency_order' | 'bounded_retries'; readonly message: string } | null;
}

type TaskSnapshot = SnapshotFrom<typeof taskMachine>;

/** The task machine the model runs: the runtime's, or a variant of it (the verifier's own mutation tests). @internal */
export type TaskLogic = typeof taskMachine;

const FINAL_PHASES: ReadonlySet<TaskPhase> = new Set(['completed', 'failed', 'timedOut', 'cancelled']);
const NO_NEXT = -1;

/**
 * The task machine of `machines/task.machine.ts`, compiled on demand into a small finite
 * automaton: each abstract state is reached by running the real machine (XState's pure
 * `transition`), so the verifier follows exactly what the runtime's task actors do. A
 * state keeps only what the machine's guards read (phase, retry count, pending
 * dependencies; an agent is held exactly while running) plus the end reason; deadlines
 * and errors are forgotten, which is what makes the model untimed. Transitions are computed once per
 * (state, event) and cached: the machine runs a few hundred times per policy, not once per
 * explored state.
 * @internal
 */
export class TaskAutomaton {
  readonly initial: number;
  private readonly states: LocalState[] = [];
  private readonly snapshots: TaskSnapshot[] = [];
  private readonly ids = new Map<string, number>();
  private readonly next: number[] = [];
  /** Stand-in for every final state when final details are forgotten (see `collapsedId`). */
  private collapsed = NO_NEXT;

  constructor(
    readonly params: TaskAutomatonParams,
    private readonly machine: TaskLogic = taskMachine,
  ) {
    const [snapshot] = initialTransition(machine, {
      taskId: 'model',
      timeoutMs: 1,
      maxRetries: params.maxRetries,
      backoffFactor: 1,
      initialDelayMs: 1,
      retryOnFailure: params.retryOnFailure,
      onDependencyFailure: params.onDependencyFailure,
      pendingDependencies: params.dependencies,
      dependencyFailedAtStart: false,
    });
    this.initial = this.intern(snapshot, 0, 0, null);
  }

  /** Number of abstract states discovered so far. */
  get size(): number {
    return this.states.length;
  }

  state(id: number): LocalState {
    return this.states[id] as LocalState;
  }

  /** The state after `kind`, or -1 when the machine ignores it there. */
  step(id: number, kind: TaskEventKind): number {
    const slot = id * TASK_EVENT_KINDS + kind;
    let target = this.next[slot];
    if (target === undefined) {
      target = this.compute(id, kind);
      this.next[slot] = target;
    }
    return target;
  }

  /**
   * The id every final state shares once the details of how it ended stop mattering (the
   * dependents already received the outcome, see `reduction.ts`).
   */
  collapsedId(id: number): number {
    if (!(this.states[id] as LocalState).final) return id;
    if (this.collapsed === NO_NEXT) this.collapsed = id;
    return this.collapsed;
  }

  private compute(id: number, kind: TaskEventKind): number {
    const from = this.states[id] as LocalState;
    if (from.final) return NO_NEXT;
    const snapshot = this.snapshots[id] as TaskSnapshot;
    let completedSeen = from.completedSeen;
    let failedSeen = from.failedSeen;
    let events: TaskMachineEvent[];
    const attempt = from.retryCount;
    switch (kind) {
      case TaskEventKind.DISPATCH:
        if (from.phase !== 'queued') return NO_NEXT;
        // As with an in-process executor: assigned and started in one step (a remote agent
        // reports the start; `assigned` then `running`, the same for the model).
        events = [
          { type: 'AGENT_ASSIGNED', agentId: 'agent', at: 0, startsAtOnce: true },
          { type: 'EXECUTION_STARTED', attempt },
        ];
        break;
      case TaskEventKind.SUCCEED:
        events = [{ type: 'EXECUTION_SUCCEEDED', attempt }];
        break;
      case TaskEventKind.FAIL:
        events = [{ type: 'EXECUTION_FAILED', attempt, error: 'failed', at: 0 }];
        break;
      case TaskEventKind.TIMEOUT:
      case TaskEventKind.BACKOFF: {
        // Timers are ordinary events for the model: the machine's own `after` transition.
        const delay = kind === TaskEventKind.TIMEOUT ? 'taskTimeout' : 'retryBackoff';
        const type = (__unsafe_getAllOwnEventDescriptors(snapshot) as string[]).find((t) => t.startsWith(`xstate.after.${delay}.`));
        if (type === undefined) return NO_NEXT;
        events = [{ type } as unknown as TaskMachineEvent];
        break;
      }
      case TaskEventKind.CANCEL:
        events = [{ type: 'CANCELLED' }];
        break;
      case TaskEventKind.AGENT_LOST:
        events = [{ type: 'AGENT_LOST', agentId: 'agent' }];
        break;
      case TaskEventKind.DEPENDENCY_COMPLETED:
        if (from.phase === 'waiting') completedSeen++;
        events = [{ type: 'DEPENDENCY_COMPLETED', dependencyId: 'dependency' }];
        break;
      case TaskEventKind.DEPENDENCY_FAILED:
        if (from.phase === 'waiting') failedSeen++;
        events = [{ type: 'DEPENDENCY_FAILED', dependencyId: 'dependency' }];
        break;
      default:
        return NO_NEXT;
    }
    let next = snapshot;
    for (const event of events) next = transition(this.machine, next, event)[0];
    if (kind === TaskEventKind.DISPATCH && phaseOf(next) !== 'running') return NO_NEXT;
    // An event the machine ignores leaves the abstract state as it was: not a step.
    const to = this.intern(next, completedSeen, failedSeen, from);
    return to === id ? NO_NEXT : to;
  }

  private intern(snapshot: TaskSnapshot, completedSeen: number, failedSeen: number, from: LocalState | null): number {
    const phase = phaseOf(snapshot);
    const context = snapshot.context;
    const waiting = phase === 'waiting';
    const final = FINAL_PHASES.has(phase);
    // Tallies and the pending count only matter while waiting: outside it they are
    // forgotten so that states differing only there coincide.
    const pending = waiting ? context.pendingDependencies : 0;
    const completed = waiting ? completedSeen : 0;
    const failed = waiting ? failedSeen : 0;
    const violation = this.violationOf(phase, context.retryCount, completedSeen, failedSeen, from);
    const key = `${phase}|${context.retryCount}|${pending}|${completed}|${failed}|${final ? context.endReason : ''}|${violation ? violation.property : ''}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.states.length;
      this.ids.set(key, id);
      this.states.push({
        phase,
        retryCount: context.retryCount,
        pendingDependencies: pending,
        completedSeen: completed,
        failedSeen: failed,
        endReason: final ? context.endReason : null,
        final,
        violation,
      });
      this.snapshots.push(snapshot);
    }
    return id;
  }

  /**
   * The built-in local properties, judged by the model's own bookkeeping rather than the
   * machine's guards: a task leaves `waiting` for the queue only once every dependency has
   * reported, all of them completed unless its policy is `ignore`; a retry count never
   * exceeds the policy.
   */
  private violationOf(phase: TaskPhase, retryCount: number, completedSeen: number, failedSeen: number, from: LocalState | null): LocalState['violation'] {
    const { maxRetries, retryOnFailure, onDependencyFailure, dependencies } = this.params;
    if (from?.violation) return from.violation;
    if (retryCount > maxRetries || (!retryOnFailure && retryCount > 0)) {
      return {
        property: 'bounded_retries',
        message: `retry count ${retryCount} exceeds the policy (maxRetries ${retryOnFailure ? maxRetries : 0})`,
      };
    }
    const leftWaiting = (from === null || from.phase === 'waiting') && (phase === 'queued' || phase === 'running');
    if (leftWaiting && dependencies > 0) {
      const reported = completedSeen + failedSeen;
      if (reported < dependencies) {
        return {
          property: 'dependency_order',
          message: `queued to run after ${reported} of its ${dependencies} dependencies finished`,
        };
      }
      if (failedSeen > 0 && onDependencyFailure !== 'ignore') {
        return {
          property: 'dependency_order',
          message: `queued to run although ${failedSeen} dependenc${failedSeen === 1 ? 'y' : 'ies'} did not complete (policy '${onDependencyFailure}')`,
        };
      }
    }
    return null;
  }
}

function phaseOf(snapshot: TaskSnapshot): TaskPhase {
  const value = snapshot.value as TaskStateName;
  return value === 'assigned' ? 'running' : value;
}

/** @internal */
export function isFinalPhase(phase: TaskPhase): boolean {
  return FINAL_PHASES.has(phase);
}
