import { ExplorationBudget } from './explorationBudget';

/** Default bound of a state search: enough for workflows of dozens of tasks with reduction. */
export const DEFAULT_MAX_STATES = 500_000;

/** One step out of a state: its label (for traces), the state reached, and whether it is progress. @internal */
export interface Expansion<S, L> {
  readonly label: L;
  readonly state: S;
  /**
   * Progress steps are those the system takes by itself (a task succeeding, failing, timing
   * out, a backoff passing, a machine event). Interventions (cancelling, losing an agent) are
   * explored but do not count: a state is deadlocked when no progress step is enabled, and
   * termination asks for a completion reachable by progress alone.
   */
  readonly progress: boolean;
  /** `key(state)`, when the model had it at hand (saves decoding the state again). */
  readonly key?: string;
}

/** A transition system the explorer walks. The model applies its own reduction in `expand`. @internal */
export interface StateSpaceModel<S, L> {
  /** The initial states, each with the label of the steps that lead to it from nothing. */
  initial(): readonly Expansion<S, L>[];
  /** Identifies a state up to the model's equivalence (symmetry, forgotten details). */
  key(state: S): string;
  /** The steps to explore from `state`. */
  expand(state: S): readonly Expansion<S, L>[];
  /** A state the system rests in by design (every task final, a machine's `done`). */
  isFinal(state: S): boolean;
}

/** @internal */
export interface ExploreOptions<S> {
  /** Stop (incomplete) once this many distinct states are known (when no `budget` is given). */
  readonly maxStates: number;
  /** The work allowed, shared with the model (whose scheduling choices spend it too). */
  readonly budget?: ExplorationBudget;
  /** Keep progress edges, for the termination analysis. */
  readonly recordEdges: boolean;
  /** Called once per new state, in breadth-first order (so the first hit has a shortest trace). */
  readonly onState?: (state: S, index: number) => void;
}

/** Growable Int32 column (parents, edges): far smaller than arrays of numbers at 10⁶ entries. */
class IntColumn {
  private data = new Int32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  get(index: number): number {
    return this.data[index] as number;
  }
}

/**
 * The explored part of a state space: states in breadth-first order with a parent pointer
 * and the label of the step from the parent, so that a shortest trace to any state can be
 * read back; the deadlocks met; and (if asked) the progress edges for the termination check.
 * @internal
 */
export class StateSpace<S, L> {
  readonly states: S[] = [];
  readonly labels: L[] = [];
  private readonly parents = new IntColumn();
  private readonly edgeFrom = new IntColumn();
  private readonly edgeTo = new IntColumn();
  private readonly finalFlags: boolean[] = [];
  /** Non-final states without an enabled progress step, in discovery order. */
  readonly deadlocks: number[] = [];
  /** False when the budget (`maxStates`, `timeLimitMs`) stopped the exploration. */
  complete = true;
  transitions = 0;

  constructor(private readonly recordEdges: boolean) {}

  get size(): number {
    return this.states.length;
  }

  /** @internal */
  add(state: S, label: L, parent: number, final: boolean): number {
    this.states.push(state);
    this.labels.push(label);
    this.parents.push(parent);
    this.finalFlags.push(final);
    return this.states.length - 1;
  }

  /** @internal */
  addEdge(from: number, to: number): void {
    if (!this.recordEdges) return;
    this.edgeFrom.push(from);
    this.edgeTo.push(to);
  }

  isFinal(index: number): boolean {
    return this.finalFlags[index] === true;
  }

  /** The labels and states from an initial state to `index` (the first label leads to the initial state). */
  pathTo(index: number): { labels: L[]; states: S[] } {
    const labels: L[] = [];
    const states: S[] = [];
    for (let i = index; i >= 0; i = this.parents.get(i)) {
      labels.push(this.labels[i] as L);
      states.push(this.states[i] as S);
    }
    return { labels: labels.reverse(), states: states.reverse() };
  }

  /**
   * States from which no final state can be reached by progress steps, in discovery order
   * (backward search from the final states over the recorded progress edges).
   * `undefined` when the exploration was incomplete or edges were not recorded.
   */
  cannotReachFinal(): number[] | undefined {
    if (!this.complete || !this.recordEdges) return undefined;
    const n = this.states.length;
    const m = this.edgeFrom.length;
    // Reverse adjacency in CSR form.
    const start = new Int32Array(n + 1);
    for (let e = 0; e < m; e++) {
      const slot = this.edgeTo.get(e) + 1;
      start[slot] = (start[slot] as number) + 1;
    }
    for (let i = 0; i < n; i++) start[i + 1] = (start[i + 1] as number) + (start[i] as number);
    const fill = start.slice(0, n);
    const sources = new Int32Array(m);
    for (let e = 0; e < m; e++) {
      const to = this.edgeTo.get(e);
      const at = fill[to] as number;
      fill[to] = at + 1;
      sources[at] = this.edgeFrom.get(e);
    }
    const reaches = new Uint8Array(n);
    const queue = new Int32Array(n);
    let head = 0;
    let tail = 0;
    for (let i = 0; i < n; i++) {
      if (this.finalFlags[i]) {
        reaches[i] = 1;
        queue[tail++] = i;
      }
    }
    while (head < tail) {
      const s = queue[head++] as number;
      for (let k = start[s] as number; k < (start[s + 1] as number); k++) {
        const p = sources[k] as number;
        if (!reaches[p]) {
          reaches[p] = 1;
          queue[tail++] = p;
        }
      }
    }
    const stuck: number[] = [];
    for (let i = 0; i < n; i++) if (!reaches[i]) stuck.push(i);
    return stuck;
  }
}

/**
 * Breadth-first exploration of a model's reachable states, up to `maxStates`. Every state
 * is stored once under its key; self-loops are dropped (they change nothing a property
 * sees) but still count as enabled steps for the deadlock check.
 * @internal
 */
export function exploreStateSpace<S, L>(model: StateSpaceModel<S, L>, options: ExploreOptions<S>): StateSpace<S, L> {
  const space = new StateSpace<S, L>(options.recordEdges);
  const budget = options.budget ?? new ExplorationBudget(options.maxStates, undefined);
  const index = new Map<string, number>();
  const keys: string[] = [];
  const visit = (state: S, label: L, parent: number, key: string): number => {
    const id = space.add(state, label, parent, model.isFinal(state));
    index.set(key, id);
    keys.push(key);
    budget.states = space.size;
    options.onState?.(state, id);
    return id;
  };
  const stop = () => {
    space.complete = false;
    return space;
  };
  const starts = model.initial();
  if (budget.exhausted) return stop();
  for (const start of starts) {
    const key = model.key(start.state);
    if (index.has(key)) continue;
    if (!budget.spend()) return stop();
    visit(start.state, start.label, -1, key);
  }
  for (let current = 0; current < space.size; current++) {
    if ((current & 15) === 0 && !budget.checkClock()) return stop();
    const state = space.states[current] as S;
    const currentKey = keys[current] as string;
    const steps = model.expand(state);
    // The model spent the budget while choosing how to fill free slots: this state's
    // successors are not all known, so nothing is concluded from them.
    if (budget.exhausted) return stop();
    let progress = false;
    for (const step of steps) {
      space.transitions++;
      if (step.progress) progress = true;
      const key = step.key ?? model.key(step.state);
      if (key === currentKey) continue;
      let target = index.get(key);
      if (target === undefined) {
        if (!budget.spend()) return stop();
        target = visit(step.state, step.label, current, key);
      }
      if (step.progress) space.addEdge(current, target);
    }
    if (!progress && !space.isFinal(current)) space.deadlocks.push(current);
  }
  return space;
}
