import { taskMachine, type TaskEndReason } from '../../machines/task.machine';
import { laneOf } from '../orchestration/agentPool';
import { dependencyEventType } from '../orchestration/planning/dependencyOutcome';
import { compareReady } from '../orchestration/planning/readyOrder';
import { hasFreeSlot } from '../orchestration/planning/slotAccounting';
import type { ParsedTask } from '../orchestration/taskTypes';
import { AgentCapacity, type CapacityAgent } from './agentCapacity';
import type { ExplorationBudget } from './explorationBudget';
import { TaskAutomaton, TaskEventKind, type TaskLogic, type TaskPhase } from './taskAutomaton';
import type { TraceStep, TraceStepType } from './trace';
import type { ParsedWorkflow } from './workflowSchema';

/** Which cancellations the environment may make. */
export type CancellationScope =
  /** Never: only the tasks' own outcomes. */
  | 'none'
  /** Tasks queued, running or retrying (the default: what a user sees in flight). */
  | 'inFlight'
  /** Any unfinished task, including those still waiting for their dependencies. */
  | 'anywhere';

/** What the environment of a workflow may do besides tasks succeeding, failing and timing out. */
export interface EnvironmentOptions {
  /** Default `inFlight`. */
  readonly cancellations?: CancellationScope;
  /** Explore agents going away while running a task (`agent_lost`). Default true. */
  readonly agentLoss?: boolean;
}

/** What an invariant sees of one task. */
export interface TaskStateView {
  /** The task machine's state (`assigned` is reported as `running`). */
  readonly state: TaskPhase;
  readonly retryCount: number;
  /** Why a final task did not complete, as in `TaskRecord.reason`. */
  readonly reason: TaskEndReason | null;
  readonly final: boolean;
}

/** A state of a workflow, as invariants and reachability goals see it. */
export interface WorkflowState {
  readonly tasks: Readonly<Record<string, TaskStateView>>;
}

/** One task of the model. @internal */
export interface ModelTask {
  readonly index: number;
  readonly taskId: string;
  readonly spec: ParsedTask;
  readonly automaton: TaskAutomaton;
  readonly dependencies: readonly number[];
  readonly dependents: readonly number[];
  readonly capabilityClass: number;
  readonly lane: number;
}

/** A model state after a step: the local state of each task and the dispatches the step made. @internal */
export interface ModelOutcome {
  readonly state: number[];
  /** Tasks dispatched (in order) after the step: the `task_started` lines of the trace. */
  readonly started: readonly number[];
}

const STEP_OF_KIND: Readonly<Partial<Record<TaskEventKind, TraceStepType>>> = {
  [TaskEventKind.DISPATCH]: 'task_started',
  [TaskEventKind.SUCCEED]: 'task_succeeded',
  [TaskEventKind.FAIL]: 'task_failed',
  [TaskEventKind.TIMEOUT]: 'task_timed_out',
  [TaskEventKind.BACKOFF]: 'backoff_elapsed',
  [TaskEventKind.CANCEL]: 'task_cancelled',
  [TaskEventKind.AGENT_LOST]: 'agent_lost',
};

const KIND_OF_STEP: Readonly<Record<TraceStepType, TaskEventKind>> = {
  task_started: TaskEventKind.DISPATCH,
  task_succeeded: TaskEventKind.SUCCEED,
  task_failed: TaskEventKind.FAIL,
  task_timed_out: TaskEventKind.TIMEOUT,
  backoff_elapsed: TaskEventKind.BACKOFF,
  task_cancelled: TaskEventKind.CANCEL,
  agent_lost: TaskEventKind.AGENT_LOST,
};

/** @internal */
export function kindOfStep(type: TraceStepType): TaskEventKind {
  return KIND_OF_STEP[type];
}

/** @internal */
export function isProgressKind(kind: TaskEventKind): boolean {
  return kind === TaskEventKind.SUCCEED || kind === TaskEventKind.FAIL || kind === TaskEventKind.TIMEOUT || kind === TaskEventKind.BACKOFF;
}

/**
 * Compiled task automata, per task machine and policy. An automaton is a pure function of
 * both (it runs the machine with XState's pure `transition`), and compiling one runs the
 * machine a few hundred times: shared between verifications, a suite verifying thousands of
 * small workflows compiles each policy once. Bounded: a policy mix beyond this starts over.
 */
const AUTOMATA_KEPT = 256;
const compiledAutomata = new WeakMap<TaskLogic, Map<string, TaskAutomaton>>();

function automataOf(machine: TaskLogic): Map<string, TaskAutomaton> {
  let automata = compiledAutomata.get(machine);
  if (!automata) {
    automata = new Map();
    compiledAutomata.set(machine, automata);
  }
  return automata;
}

const RUNNING_KINDS = [TaskEventKind.SUCCEED, TaskEventKind.FAIL, TaskEventKind.TIMEOUT] as const;

/**
 * A workflow as a finite, untimed transition system. A state is the abstract local state
 * of every task (see `TaskAutomaton`); a step is one environment event on one task
 * (success, failure, timeout, backoff elapsed, cancellation, agent lost), then what the
 * runtime does synchronously about it: a finishing task's outcome goes to its dependents
 * (which may finish in turn, per their `onDependencyFailure`), then the orchestrator
 * dispatches queued tasks to free capable agents. Scheduling is the runtime's: eager, in
 * its queue order (kept in the state when agents are scarce, see `tracksQueue`), each task
 * placed on one capable agent with room; where agents serve overlapping but different
 * capability sets, every agent the balancer could pick is explored.
 * @internal
 */
export class WorkflowModel {
  readonly tasks: readonly ModelTask[];
  readonly capacity: AgentCapacity;
  readonly cancellations: CancellationScope;
  readonly agentLoss: boolean;
  private readonly indexOf = new Map<string, number>();

  constructor(
    workflow: ParsedWorkflow,
    agents: readonly CapacityAgent[] | undefined,
    environment: EnvironmentOptions = {},
    machine?: TaskLogic,
    /** Read while building the capacity model (see `AgentCapacity`): false stops it. */
    inTime?: () => boolean,
  ) {
    this.cancellations = environment.cancellations ?? 'inFlight';
    this.agentLoss = environment.agentLoss ?? true;
    this.capacity = new AgentCapacity(workflow.tasks, agents, inTime);
    workflow.tasks.forEach((task, index) => this.indexOf.set(task.taskId, index));
    const automata = automataOf(machine ?? taskMachine);
    const dependents = workflow.tasks.map(() => [] as number[]);
    const dependencies = workflow.tasks.map((task, index) => {
      // A dependency listed twice is one dependency for the runtime too (one entry per task).
      const deps = [...new Set(task.dependencies)].map((id) => this.indexOf.get(id) as number);
      for (const d of deps) (dependents[d] as number[]).push(index);
      return deps;
    });
    this.tasks = workflow.tasks.map((spec, index) => {
      const deps = dependencies[index] as number[];
      const params = {
        maxRetries: spec.retryPolicy.maxRetries,
        retryOnFailure: spec.retryPolicy.retryOnFailure,
        onDependencyFailure: spec.onDependencyFailure,
        dependencies: deps.length,
      };
      const key = `${params.maxRetries}|${params.retryOnFailure}|${params.onDependencyFailure}|${params.dependencies}`;
      let automaton = automata.get(key);
      if (!automaton) {
        automaton = new TaskAutomaton(params, machine);
        if (automata.size >= AUTOMATA_KEPT) automata.clear();
        automata.set(key, automaton);
      }
      return {
        index,
        taskId: spec.taskId,
        spec,
        automaton,
        dependencies: deps,
        dependents: dependents[index] as number[],
        capabilityClass: this.capacity.classOf[index] as number,
        lane: laneOf(spec.priority),
      };
    });
  }

  /** Index of a task id, or -1. */
  taskIndex(taskId: string): number {
    return this.indexOf.get(taskId) ?? -1;
  }

  /**
   * How the reduction identifies states, so that the balancer's choices are explored once
   * per class of equivalent outcomes: `key` (states with one key have the same future) and
   * `symmetryClass` (tasks with one class, ≥ 0, are interchangeable). @internal
   */
  equivalence: { readonly key: (state: readonly number[]) => string; readonly symmetryClass: readonly number[] } | undefined;

  /**
   * Fill free slots one way only, in the balancer's order (most urgent lane, then submission
   * order), instead of every way: set when no check can see which task got a slot. @internal
   */
  balancerOrderOnly = false;

  /** The states right after submission (one per way the balancer can fill the agents). */
  initial(budget?: ExplorationBudget): ModelOutcome[] {
    const state = this.tasks.map((t) => t.automaton.initial);
    if (this.tracksQueue) {
      // Submission queues the tasks without dependencies in workflow order.
      const n = state.length;
      for (let i = 0; i < 2 * n; i++) state.push(0);
      this.settleQueue(
        state,
        this.tasks.map((t) => t.index),
      );
    }
    return this.dispatchAll(state, budget);
  }

  phase(state: readonly number[], task: number): TaskPhase {
    const t = this.tasks[task] as ModelTask;
    return t.automaton.state(state[task] as number).phase;
  }

  isFinal(state: readonly number[]): boolean {
    for (let i = 0; i < this.tasks.length; i++) {
      if (!(this.tasks[i] as ModelTask).automaton.state(state[i] as number).final) return false;
    }
    return true;
  }

  /** Environment events enabled for one task. */
  enabledKinds(state: readonly number[], task: number): TaskEventKind[] {
    const t = this.tasks[task] as ModelTask;
    const id = state[task] as number;
    const local = t.automaton.state(id);
    const kinds: TaskEventKind[] = [];
    const offer = (kind: TaskEventKind) => {
      if (t.automaton.step(id, kind) >= 0) kinds.push(kind);
    };
    switch (local.phase) {
      case 'running':
        for (const kind of RUNNING_KINDS) offer(kind);
        if (this.cancellations !== 'none') offer(TaskEventKind.CANCEL);
        if (this.agentLoss) offer(TaskEventKind.AGENT_LOST);
        break;
      case 'retrying':
        offer(TaskEventKind.BACKOFF);
        if (this.cancellations !== 'none') offer(TaskEventKind.CANCEL);
        break;
      case 'queued':
        if (this.cancellations !== 'none') offer(TaskEventKind.CANCEL);
        break;
      case 'waiting':
        if (this.cancellations === 'anywhere') offer(TaskEventKind.CANCEL);
        break;
      default:
        break;
    }
    return kinds;
  }

  /** Whether the task can make progress by itself (succeed, fail, time out, leave backoff). */
  hasProgress(state: readonly number[], task: number): boolean {
    const phase = this.phase(state, task);
    return phase === 'running' || phase === 'retrying';
  }

  /**
   * One environment event and everything the runtime does about it, dispatch included.
   * Each scheduling choice tried spends a unit of `budget`; once it is spent the outcomes
   * are partial (the caller sees `budget.exhausted`).
   */
  apply(state: readonly number[], task: number, kind: TaskEventKind, budget?: ExplorationBudget): ModelOutcome[] {
    const next = this.applyEnvironment(state, task, kind);
    return next ? this.dispatchAll(next, budget) : [];
  }

  /** The event and its dependency cascade, without dispatching: `undefined` if not enabled. */
  applyEnvironment(state: readonly number[], task: number, kind: TaskEventKind): number[] | undefined {
    const t = this.tasks[task] as ModelTask;
    if (t.automaton.step(state[task] as number, kind) < 0) return undefined;
    const next = state.slice();
    if (next.length < 3 * this.tasks.length) {
      this.deliver(next, task, kind);
      return next;
    }
    const joined: number[] = [];
    this.deliver(next, task, kind, joined);
    this.settleQueue(next, joined);
    return next;
  }

  /** Dispatches one queued task: `undefined` if it is not queued or no agent can take it. */
  dispatch(state: readonly number[], task: number): number[] | undefined {
    const t = this.tasks[task] as ModelTask;
    if (!this.canDispatch(state, task, this.runningPerClass(state))) return undefined;
    const next = state.slice();
    next[task] = t.automaton.step(state[task] as number, TaskEventKind.DISPATCH);
    return next;
  }

  /** The trace step of an event. */
  traceStep(state: readonly number[], task: number, kind: TaskEventKind): TraceStep {
    const t = this.tasks[task] as ModelTask;
    const retryCount = t.automaton.state(state[task] as number).retryCount;
    // A backoff belongs to the attempt it leads to.
    return { type: STEP_OF_KIND[kind] as TraceStepType, taskId: t.taskId, attempt: retryCount };
  }

  /** What invariants see. Views of local states are shared, so this is one small object per task. */
  view(state: readonly number[]): WorkflowState {
    const tasks: Record<string, TaskStateView> = {};
    for (const t of this.tasks) tasks[t.taskId] = this.viewOf(t, state[t.index] as number);
    return { tasks };
  }

  private readonly views = new Map<TaskAutomaton, TaskStateView[]>();

  private viewOf(task: ModelTask, id: number): TaskStateView {
    let cache = this.views.get(task.automaton);
    if (!cache) {
      cache = [];
      this.views.set(task.automaton, cache);
    }
    let view = cache[id];
    if (!view) {
      const local = task.automaton.state(id);
      view = Object.freeze({ state: local.phase, retryCount: local.retryCount, reason: local.endReason, final: local.final });
      cache[id] = view;
    }
    return view;
  }

  /** Applies an event to a task and, if it finishes, tells its dependents (recursively). */
  private deliver(state: number[], task: number, kind: TaskEventKind, joined?: number[]): void {
    const t = this.tasks[task] as ModelTask;
    const next = t.automaton.step(state[task] as number, kind);
    if (next < 0) return;
    const wasQueued = t.automaton.state(state[task] as number).phase === 'queued';
    state[task] = next;
    const local = t.automaton.state(next);
    // The runtime queues a task when its machine enters `queued`, in the order of this walk.
    if (joined && !wasQueued && local.phase === 'queued') joined.push(task);
    if (!local.final) return;
    const outcome = dependencyEventType(local.phase) === 'DEPENDENCY_COMPLETED' ? TaskEventKind.DEPENDENCY_COMPLETED : TaskEventKind.DEPENDENCY_FAILED;
    for (const d of t.dependents) {
      const dependent = this.tasks[d] as ModelTask;
      if (!dependent.automaton.state(state[d] as number).final) this.deliver(state, d, outcome, joined);
    }
  }

  private runningPerClass(state: readonly number[]): number[] {
    const running = new Array<number>(this.capacity.classCount).fill(0);
    for (const t of this.tasks) {
      if (t.automaton.state(state[t.index] as number).phase === 'running') {
        running[t.capabilityClass] = (running[t.capabilityClass] as number) + 1;
      }
    }
    return running;
  }

  private canDispatch(state: readonly number[], task: number, running: readonly number[]): boolean {
    const t = this.tasks[task] as ModelTask;
    if (t.automaton.state(state[task] as number).phase !== 'queued') return false;
    return this.capacity.canStart(running, t.capabilityClass);
  }

  /**
   * Whether states carry the runtime's queue (and, with agents that are not `pooled`, the
   * agent of each running task): whenever tasks can wait for a slot and the fill is not
   * reduced to one (`balancerOrderOnly`). A state is then `[local states][queue ranks]
   * [agents]`, n numbers each: the rank of a queued task is its place in the order tasks
   * joined the queue (1 first), the agent of a running task its declaration index + 1
   * (0 when not tracked or not running).
   */
  get tracksQueue(): boolean {
    return this.capacity.declared && !this.capacity.unconstrained && !this.balancerOrderOnly;
  }

  /**
   * The scheduling round after a step, as the orchestrator runs it (`runBalancer`): queued
   * tasks in its order (most urgent lane, then order of joining the queue: submission order
   * at the start, a dependency cascade depth first, a retry or lost agent at the back), each
   * given a capable agent with a free slot if there is one, the agent kept until the attempt
   * ends. With pooled agents that is one outcome; otherwise one per agent the balancer could
   * pick (any capable agent with room: this contains every scoring balancer's choice, the
   * default's included, whose scores follow run times the model does not have).
   */
  private dispatchAll(state: number[], budget?: ExplorationBudget): ModelOutcome[] {
    if (this.balancerOrderOnly && !this.capacity.unconstrained) return this.fillInOrder(state, budget);
    const n = this.tasks.length;
    const queued: number[] = [];
    for (const t of this.tasks) {
      if (t.automaton.state(state[t.index] as number).phase === 'queued' && this.capacity.coverable[t.index]) queued.push(t.index);
    }
    if (!this.tracksQueue || state.length < 3 * n) {
      if (queued.length === 0) return [{ state, started: [] }];
      queued.sort((x, y) => compareReady({ lane: (this.tasks[x] as ModelTask).lane, seq: x }, { lane: (this.tasks[y] as ModelTask).lane, seq: y }));
      // Unconstrained: every queued task starts. Untracked states with scarce agents (a caller
      // walking its own steps) are filled in submission order.
      if (this.capacity.unconstrained) {
        for (const i of queued) state[i] = (this.tasks[i] as ModelTask).automaton.step(state[i] as number, TaskEventKind.DISPATCH);
        return [{ state, started: queued }];
      }
      return this.fillInOrder(state, budget);
    }
    queued.sort((x, y) =>
      compareReady({ lane: (this.tasks[x] as ModelTask).lane, seq: state[n + x] as number }, { lane: (this.tasks[y] as ModelTask).lane, seq: state[n + y] as number }),
    );
    const capacity = this.capacity;
    if (capacity.pooled) {
      const running = this.runningPerClass(state);
      const started: number[] = [];
      for (const i of queued) {
        const t = this.tasks[i] as ModelTask;
        if (!capacity.canStart(running, t.capabilityClass)) continue;
        if (budget && !budget.spend()) return [];
        state[i] = t.automaton.step(state[i] as number, TaskEventKind.DISPATCH);
        running[t.capabilityClass] = (running[t.capabilityClass] as number) + 1;
        started.push(i);
      }
      this.settleQueue(state, []);
      return [{ state, started }];
    }
    const loads = new Array<number>(capacity.agentCount).fill(0);
    for (let i = 0; i < n; i++) {
      const agent = (state[2 * n + i] as number) - 1;
      if (agent >= 0 && this.phase(state, i) === 'running') loads[agent] = (loads[agent] as number) + 1;
    }
    const outcomes: ModelOutcome[] = [];
    const place = (k: number, current: number[], started: number[]): void => {
      for (; k < queued.length; k++) {
        const i = queued[k] as number;
        const t = this.tasks[i] as ModelTask;
        const kinds = new Set<string>();
        const options: number[] = [];
        for (const a of capacity.agentsFor(t.capabilityClass)) {
          if (!hasFreeSlot(loads[a] as number, capacity.capacityOf(a))) continue;
          // Agents alike (same classes, capacity and load): picking either gives states that
          // differ only by the agents' names, which nothing observable depends on.
          const kind = `${capacity.agentKind(a)}:${loads[a] as number}`;
          if (kinds.has(kind)) continue;
          kinds.add(kind);
          options.push(a);
        }
        if (options.length === 0) continue;
        for (const a of options) {
          if (budget && !budget.spend()) return;
          const next = current.slice();
          next[i] = t.automaton.step(current[i] as number, TaskEventKind.DISPATCH);
          next[2 * n + i] = a + 1;
          loads[a] = (loads[a] as number) + 1;
          place(k + 1, next, [...started, i]);
          loads[a] = loads[a] - 1;
          if (budget?.exhausted) return;
        }
        return;
      }
      this.settleQueue(current, []);
      outcomes.push({ state: current, started });
    };
    place(0, state, []);
    return outcomes;
  }

  /**
   * Queue ranks and agents after a step: cleared for tasks no longer queued / running, the
   * tasks that joined the queue (`joined`, in order) put at the back, ranks renumbered 1…q
   * (so that states with one queue order are one state).
   */
  private settleQueue(state: number[], joined: readonly number[]): void {
    const n = this.tasks.length;
    const inQueue: number[] = [];
    for (let i = 0; i < n; i++) {
      const phase = this.phase(state, i);
      if (phase !== 'running') state[2 * n + i] = 0;
      if (phase !== 'queued') state[n + i] = 0;
      else if ((state[n + i] as number) > 0) inQueue.push(i);
    }
    inQueue.sort((x, y) => (state[n + x] as number) - (state[n + y] as number));
    for (const i of joined) if (this.phase(state, i) === 'queued' && (state[n + i] as number) === 0) inQueue.push(i);
    inQueue.forEach((i, rank) => (state[n + i] = rank + 1));
  }

  /**
   * The one fill the balancer's order gives: each queued task, most urgent first, started if
   * a capable agent has room. Maximal (a task passed over never fits later in the same fill:
   * slots only get taken). Each task started is a unit of work.
   */
  private fillInOrder(state: number[], budget?: ExplorationBudget): ModelOutcome[] {
    const started: number[] = [];
    let running: number[] | undefined;
    // A class with no room stays without room for the rest of the fill (slots only get taken).
    const full = new Array<boolean>(this.capacity.classCount).fill(false);
    let fullClasses = 0;
    for (const i of this.balancerOrder) {
      const t = this.tasks[i] as ModelTask;
      if (full[t.capabilityClass] || !this.capacity.coverable[i] || t.automaton.state(state[i] as number).phase !== 'queued') continue;
      running ??= this.runningPerClass(state);
      if (!this.capacity.canStart(running, t.capabilityClass)) {
        full[t.capabilityClass] = true;
        if (++fullClasses === this.capacity.classCount) break;
        continue;
      }
      if (budget && !budget.spend()) return [];
      state[i] = t.automaton.step(state[i] as number, TaskEventKind.DISPATCH);
      running[t.capabilityClass] = (running[t.capabilityClass] as number) + 1;
      started.push(i);
    }
    return [{ state, started }];
  }

  /** Every task in the balancer's order (lanes and submission order never change), sorted once. */
  private get balancerOrder(): readonly number[] {
    this.order ??= this.tasks
      .map((t) => t.index)
      .sort((a, b) => compareReady({ lane: (this.tasks[a] as ModelTask).lane, seq: a }, { lane: (this.tasks[b] as ModelTask).lane, seq: b }));
    return this.order;
  }

  private order: number[] | undefined;
}
