import { TaskEventKind } from './taskAutomaton';
import type { ModelTask, WorkflowModel } from './workflowModel';

/** Read once: a global read per state is slow in a vm context (jest), see agentCapacity.ts. */
const fromCharCode = String.fromCharCode;

/** Which state-space reductions `verifyWorkflow` applies. All on by default. */
export interface ReductionOptions {
  /** Explore events of independent tasks in one canonical order (partial-order reduction). */
  readonly partialOrder?: boolean;
  /** Treat identical tasks (same policy, dependencies and dependents) as interchangeable. */
  readonly symmetry?: boolean;
  /** Forget how a task ended once its dependents have been told (live-variable reduction). */
  readonly forgetFinished?: boolean;
  /**
   * With only built-in properties to judge (no invariants, no goals) and the runtime's task
   * machine: one way of filling free slots per step (the balancer's order) and one task's
   * steps per state, since neither choice can change a built-in verdict (see
   * docs/verification.md, "Only built-in properties").
   */
  readonly verdictsOnly?: boolean;
}

/** @internal */
export interface ResolvedReduction {
  readonly partialOrder: boolean;
  readonly symmetry: boolean;
  readonly forgetFinished: boolean;
  readonly verdictsOnly: boolean;
}

/** The events to explore from a state: per task, the kinds to fire. @internal */
export interface AmpleChoice {
  readonly task: number;
  readonly kinds: readonly TaskEventKind[];
}

/**
 * The reductions of the workflow state space, and why each keeps the verdicts:
 *
 * - **Forgetting finished tasks.** When a task finishes, the runtime immediately tells
 *   its dependents, whose own state (pending count, or final state) records everything
 *   they will ever use of it. From then on no step depends on *how* the task ended, so
 *   every final state of a task is one key. Invisible tasks only: an invariant or goal
 *   that reads a task keeps its details.
 * - **Symmetry.** Tasks with the same policy, capability class, priority, dependencies and
 *   dependents can be swapped without changing any step; states that differ by such a swap
 *   share a key (the members' local states are sorted). Invisible tasks only.
 * - **Partial-order reduction.** With agents that can run every task at once, two tasks
 *   that are both queued/running/retrying are independent: an event of one never enables,
 *   disables or changes the effect of an event of the other (their dependents combine
 *   outcomes by counting, which commutes). From each state only the events of one such
 *   task are explored (an ample set): the lowest-index task with a progress event whose
 *   events cannot change a visible task. This is a stubborn set: no other task can touch
 *   the chosen one before it moves, and its progress event stays enabled, so every
 *   deadlock (and, with the argument in docs/verification.md, every termination failure)
 *   of the full space is kept; visibility keeps invariants and goals exact; the reduced
 *   graph is acyclic apart from self-loops (agent loss), so no event is ignored forever.
 *   With cancellations `anywhere`, a waiting task's cancel conflicts with its ancestors'
 *   events, so the set grows to include them. With scarce agents, tasks compete for
 *   slots and every event is explored.
 * @internal
 */
export class WorkflowReduction {
  /** Tasks whose details an invariant or goal reads, or whose events can change such a task. */
  private readonly affectsVisible: readonly boolean[];
  private readonly forget: readonly boolean[];
  /** Per task, its automaton's `collapsedId` by local state id, filled as met (shared by tasks with one automaton). */
  private readonly collapsed: readonly number[][];
  private readonly groups: readonly (readonly number[])[];
  /** Closures over dependents / dependencies, computed when a stubborn set first needs them (quadratic in a long chain). */
  private readonly descendantsOf: (number[] | undefined)[];
  private readonly ancestorsOf: (number[] | undefined)[];
  private readonly codes: number[];
  /** Room for the largest symmetry group's codes (local state ids fit 16 bits: they are UTF-16 code units). */
  private readonly scratch: Uint16Array;
  /** Counts per local state id for the counting sort of large groups (all zero between calls). */
  private readonly histogram = new Uint32Array(65_536);
  /** No detail forgotten and no task swapped: a state's key is its encoding. */
  readonly identity: boolean;
  /** Symmetry group of each task, -1 for none. */
  private readonly symmetryClass: readonly number[];

  constructor(
    private readonly model: WorkflowModel,
    readonly options: ResolvedReduction,
    /** Tasks an invariant or goal reads; `true` for every task. */
    visible: readonly boolean[] | true,
  ) {
    const tasks = model.tasks;
    const isVisible = (i: number) => visible === true || visible[i] === true;
    this.descendantsOf = new Array<number[] | undefined>(tasks.length);
    this.ancestorsOf = new Array<number[] | undefined>(tasks.length);
    this.affectsVisible = reachesVisible(tasks, isVisible);
    this.forget = tasks.map((t) => options.forgetFinished && !isVisible(t.index));
    const tables = new Map<ModelTask['automaton'], number[]>();
    this.collapsed = tasks.map((t) => {
      let table = tables.get(t.automaton);
      if (!table) {
        table = [];
        tables.set(t.automaton, table);
      }
      return table;
    });
    model.balancerOrderOnly = options.verdictsOnly;
    // With the queue in the state, interchangeable tasks differ by their places in it:
    // sorting their local states alone would merge states with different futures.
    this.groups = options.symmetry && !model.tracksQueue ? symmetryGroups(tasks, isVisible) : [];
    this.codes = new Array<number>(tasks.length).fill(0);
    this.scratch = new Uint16Array(Math.max(0, ...this.groups.map((g) => g.length)));
    const symmetryClass = tasks.map(() => -1);
    this.groups.forEach((group, g) => group.forEach((i) => (symmetryClass[i] = g)));
    // The balancer's choices are tried once per class of equivalent outcomes.
    this.symmetryClass = symmetryClass;
    this.identity = !this.forget.some(Boolean) && this.groups.length === 0;
    model.equivalence = { key: (state) => this.key(state), symmetryClass };
  }

  /** The canonical key of a state: forgotten details dropped, symmetric tasks sorted. */
  key(state: readonly number[]): string {
    const codes = this.codes;
    const tasks = this.model.tasks;
    for (let i = 0; i < codes.length; i++) {
      const id = state[i] as number;
      if (!this.forget[i]) {
        codes[i] = id;
        continue;
      }
      // The collapsed id per local state, kept per task (a method call per task per successor adds up at 1 000 tasks).
      const table = this.collapsed[i] as number[];
      let code = table[id];
      if (code === undefined) {
        code = (tasks[i] as ModelTask).automaton.collapsedId(id);
        table[id] = code;
      }
      codes[i] = code;
    }
    // Runs once per successor, the searches' hottest call with symmetry: no comparator call
    // per pair and no allocation (insertion sort for small groups, a typed array's numeric
    // sort for large ones).
    const scratch = this.scratch;
    for (const group of this.groups) {
      const size = group.length;
      if (size <= 32) {
        for (let k = 0; k < size; k++) {
          const value = codes[group[k] as number] as number;
          let j = k;
          for (; j > 0 && (scratch[j - 1] as number) > value; j--) scratch[j] = scratch[j - 1] as number;
          scratch[j] = value;
        }
        for (let k = 0; k < size; k++) codes[group[k] as number] = scratch[k] as number;
        continue;
      }
      // Large groups (hundreds of identical tasks): a counting sort over the few local state
      // ids in use, linear where a comparison sort is n log n per successor.
      const histogram = this.histogram;
      let low = 65_535;
      let high = 0;
      for (let k = 0; k < size; k++) {
        const value = codes[group[k] as number] as number;
        histogram[value] = (histogram[value] as number) + 1;
        if (value < low) low = value;
        if (value > high) high = value;
      }
      let k = 0;
      for (let value = low; value <= high; value++) {
        for (let c = histogram[value] as number; c > 0; c--) codes[group[k++] as number] = value;
        histogram[value] = 0;
      }
    }
    const key = fromCharCode(...codes);
    // The queue and the agents, when the model tracks them: kept as they are.
    return state.length > codes.length ? key + fromCharCode(...state.slice(codes.length)) : key;
  }

  /** The events to explore from `state`. */
  ample(state: readonly number[]): AmpleChoice[] {
    const model = this.model;
    if (this.options.verdictsOnly) {
      // Only built-in verdicts are judged: the lowest-index task that can move by itself, all
      // its steps (docs/verification.md, "Only built-in properties", says why that is enough).
      for (const t of model.tasks) {
        if (model.hasProgress(state, t.index)) return [{ task: t.index, kinds: model.enabledKinds(state, t.index) }];
      }
    }
    const all: AmpleChoice[] = [];
    for (const t of model.tasks) {
      const kinds = model.enabledKinds(state, t.index);
      if (kinds.length > 0) all.push({ task: t.index, kinds });
    }
    if (!this.options.partialOrder || all.length <= 1 || !this.noContention(state)) return this.oncePerSymmetry(state, all);
    const enabled = new Map(all.map((c) => [c.task, c]));
    let best: number[] | undefined;
    for (const choice of all) {
      if (!model.hasProgress(state, choice.task) || this.affectsVisible[choice.task]) continue;
      const set = this.stubbornSet(state, choice.task, enabled);
      if (set && (!best || set.length < best.length)) {
        best = set;
        if (set.length === 1) break;
      }
    }
    if (!best || best.length === all.length) return this.oncePerSymmetry(state, all);
    return this.oncePerSymmetry(
      state,
      best.map((task) => enabled.get(task) as AmpleChoice),
    );
  }

  /**
   * Of interchangeable tasks in one local state, only the first's events: the others' lead
   * to states with the same key (the members' states are sorted).
   */
  private oncePerSymmetry(state: readonly number[], choices: AmpleChoice[]): AmpleChoice[] {
    if (this.groups.length === 0) return choices;
    const seen = new Set<number>();
    return choices.filter((c) => {
      const group = this.symmetryClass[c.task] as number;
      if (group < 0) return true;
      const signature = group * 65_536 + (state[c.task] as number);
      if (seen.has(signature)) return false;
      seen.add(signature);
      return true;
    });
  }

  private descendants(task: number): number[] {
    let list = this.descendantsOf[task];
    if (!list) {
      const tasks = this.model.tasks;
      list = closure(task, (i) => (tasks[i] as ModelTask).dependents);
      this.descendantsOf[task] = list;
    }
    return list;
  }

  private ancestors(task: number): number[] {
    let list = this.ancestorsOf[task];
    if (!list) {
      const tasks = this.model.tasks;
      list = closure(task, (i) => (tasks[i] as ModelTask).dependencies);
      this.ancestorsOf[task] = list;
    }
    return list;
  }

  /**
   * Whether no task can wait for a slot from this state on: every unfinished task the
   * agents can serve fits on them at once. Tasks are never added, so every later state
   * fits too, and from here the model is the unconstrained one the partial-order argument
   * is made for (every maximal fill dispatches every queued servable task).
   */
  private noContention(state: readonly number[]): boolean {
    const capacity = this.model.capacity;
    if (capacity.unconstrained) return true;
    const demand = new Array<number>(capacity.classCount).fill(0);
    for (const t of this.model.tasks) {
      if (!capacity.coverable[t.index] || t.automaton.state(state[t.index] as number).final) continue;
      demand[t.capabilityClass] = (demand[t.capabilityClass] as number) + 1;
    }
    return capacity.fitsAll(demand);
  }

  /**
   * The tasks whose enabled events must be explored with `task`'s: those that can change
   * it, or that it can change, before it moves. `undefined` if that includes a task whose
   * events are visible.
   */
  private stubbornSet(state: readonly number[], task: number, enabled: ReadonlyMap<number, AmpleChoice>): number[] | undefined {
    const set = new Set([task]);
    const work = [task];
    while (work.length > 0) {
      const x = work.pop() as number;
      const waiting = this.model.phase(state, x) === 'waiting';
      // A finishing task changes its waiting descendants; a waiting task can be finished by
      // its ancestors and, if cancelled, finishes its waiting descendants.
      const related = waiting ? [...this.ancestors(x), ...this.descendants(x)] : this.descendants(x);
      for (const y of related) {
        if (set.has(y) || !enabled.has(y)) continue;
        if (this.affectsVisible[y]) return undefined;
        set.add(y);
        work.push(y);
      }
    }
    return [...set];
  }
}

/**
 * Whether each task is visible or has a visible descendant: one pass over the tasks in
 * reverse dependency order (linear, where a closure per task is quadratic in a long chain).
 */
function reachesVisible(tasks: readonly ModelTask[], isVisible: (i: number) => boolean): boolean[] {
  const result = tasks.map((t) => isVisible(t.index));
  const pending = tasks.map((t) => t.dependents.length);
  // Kahn's order from the sinks: a task is settled once all its dependents are.
  const ready = tasks.filter((t) => t.dependents.length === 0).map((t) => t.index);
  while (ready.length > 0) {
    const i = ready.pop() as number;
    const task = tasks[i] as ModelTask;
    if (!result[i]) result[i] = task.dependents.some((d) => result[d] === true);
    for (const d of task.dependencies) {
      pending[d] = (pending[d] as number) - 1;
      if (pending[d] === 0) ready.push(d);
    }
  }
  return result;
}

/** Every task reachable from `start` through `next` (excluding `start`). */
function closure(start: number, next: (i: number) => readonly number[]): number[] {
  const seen = new Set<number>();
  const work = [...next(start)];
  while (work.length > 0) {
    const i = work.pop() as number;
    if (seen.has(i)) continue;
    seen.add(i);
    work.push(...next(i));
  }
  return [...seen].sort((a, b) => a - b);
}

/** Groups of two or more interchangeable invisible tasks. */
function symmetryGroups(tasks: readonly ModelTask[], isVisible: (i: number) => boolean): number[][] {
  const bySignature = new Map<string, number[]>();
  for (const t of tasks) {
    if (isVisible(t.index)) continue;
    const signature = [
      t.automaton.params.maxRetries,
      t.automaton.params.retryOnFailure,
      t.automaton.params.onDependencyFailure,
      t.capabilityClass,
      t.lane,
      [...t.dependencies].sort((a, b) => a - b).join(','),
      [...t.dependents].sort((a, b) => a - b).join(','),
    ].join('|');
    const group = bySignature.get(signature);
    if (group) group.push(t.index);
    else bySignature.set(signature, [t.index]);
  }
  return [...bySignature.values()].filter((g) => g.length > 1);
}
