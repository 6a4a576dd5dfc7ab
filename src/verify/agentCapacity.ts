import { hasAllCapabilities } from '../orchestration/planning/capabilityMatch';
import { hasFreeSlot } from '../orchestration/planning/slotAccounting';
import type { ParsedTask } from '../orchestration/taskTypes';
import { compositeKey } from '../compositeKey';

/**
 * Builtins read once: under jest each module runs in a vm context, where every read of a
 * global (`Number`, `String`, `Math`) goes through the context's interceptor, several times
 * slower than a module constant in the searches' hottest calls.
 */
const MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

/** An agent as the verifier needs it: what it can do and how many tasks it runs at once. @internal */
export interface CapacityAgent {
  readonly agentId: string;
  readonly capabilities: readonly string[];
  readonly maxConcurrentTasks: number;
}

/**
 * Which agents can run which tasks, and how many at once. Tasks with the same required
 * capabilities form a class; a set of running tasks fits the agents when every task can
 * be given a capable agent without exceeding any agent's `maxConcurrentTasks` (a bipartite
 * b-matching, decided by max flow). Max flow is the runtime's answer only when the agents
 * are `pooled`; otherwise the model tracks which agent runs each task (`WorkflowModel`).
 * @internal
 */
export class AgentCapacity {
  /** False when nobody declared agents: every task is then assumed servable, without limit. */
  readonly declared: boolean;
  /** Capability class of each task. */
  readonly classOf: readonly number[];
  readonly classCount: number;
  /** Whether some agent has every capability the task needs. */
  readonly coverable: readonly boolean[];
  /** Every coverable task could run at the same time: dispatch never waits for a slot. */
  readonly unconstrained: boolean;
  private readonly capableAgents: readonly (readonly number[])[];
  private readonly capacities: readonly number[];
  private readonly fits = new Map<string, boolean>();
  private readonly startFits = new Map<number | string, boolean>();
  private readonly totalCapacity: number;

  /**
   * @param inTime read before each augmenting path (one per task placed, a breadth-first
   *   search over the agents): false stops the computation, which then answers "does not
   *   fit" (so the model stays an over-approximation of waiting) and sets `interrupted`.
   */
  constructor(
    tasks: readonly ParsedTask[],
    agents: readonly CapacityAgent[] | undefined,
    private readonly inTime: () => boolean = () => true,
  ) {
    this.declared = agents !== undefined;
    const classIds = new Map<string, number>();
    const classCaps: string[][] = [];
    this.classOf = tasks.map((task) => {
      const caps = [...new Set(task.requiredCapabilities)].sort();
      const key = compositeKey(caps);
      let id = classIds.get(key);
      if (id === undefined) {
        id = classCaps.length;
        classIds.set(key, id);
        classCaps.push(caps);
      }
      return id;
    });
    this.classCount = classCaps.length;
    const list = agents ?? [];
    this.capacities = list.map((a) => a.maxConcurrentTasks);
    this.totalCapacity = this.capacities.reduce((sum, c) => sum + c, 0);
    this.capableAgents = classCaps.map((caps) => {
      const capable: number[] = [];
      list.forEach((agent, index) => {
        const has = new Set(agent.capabilities);
        if (hasAllCapabilities(has, caps)) capable.push(index);
      });
      return capable;
    });
    this.coverable = this.classOf.map((c) => !this.declared || (this.capableAgents[c] as number[]).length > 0);
    this.pooled = this.capableSetsNest();
    if (!this.declared) this.unconstrained = true;
    else {
      const demand = new Array<number>(this.classCount).fill(0);
      tasks.forEach((_, i) => {
        if (!this.coverable[i]) return;
        const cls = this.classOf[i] as number;
        demand[cls] = (demand[cls] as number) + 1;
      });
      this.unconstrained = this.neverBlocks(demand);
    }
  }

  /**
   * Whether any greedy placement is as good as the best one: the capable agents of any two
   * classes are the same agents or none in common, so the agents fall into pools each class
   * draws from as a whole. Otherwise the runtime, which places each task on one agent and
   * never moves it, can leave a task waiting where max flow says it fits (a generalist
   * taken by a task a specialist could have run), and the model tracks each running task's
   * agent instead of asking max flow.
   */
  readonly pooled: boolean;

  /** How many agents were declared. */
  get agentCount(): number {
    return this.capacities.length;
  }

  /** `maxConcurrentTasks` of agent `agent` (declaration order). */
  capacityOf(agent: number): number {
    return this.capacities[agent] as number;
  }

  /** The agents (declaration order) that can run tasks of class `cls`. */
  agentsFor(cls: number): readonly number[] {
    return this.capableAgents[cls] as number[];
  }

  /**
   * Agents a balancer cannot tell apart for the model: same classes served, same capacity.
   * Two such agents with the same load lead to states that differ only by naming them.
   */
  agentKind(agent: number): number {
    this.kinds ??= this.agentKinds();
    return this.kinds[agent] as number;
  }

  private kinds: readonly number[] | undefined;

  private agentKinds(): number[] {
    const ids = new Map<string, number>();
    const serves = this.capacities.map(() => [] as number[]);
    this.capableAgents.forEach((agents, c) => {
      for (const a of agents) (serves[a] as number[]).push(c);
    });
    return this.capacities.map((capacity, a) => {
      const key = `${(serves[a] as number[]).join(',')}|${capacity}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = ids.size;
        ids.set(key, id);
      }
      return id;
    });
  }

  private capableSetsNest(): boolean {
    const sets = this.capableAgents.map((agents) => new Set(agents));
    for (let c = 0; c < sets.length; c++) {
      for (let d = c + 1; d < sets.length; d++) {
        const a = sets[c] as Set<number>;
        const b = sets[d] as Set<number>;
        let shared = 0;
        for (const agent of a) if (b.has(agent)) shared++;
        if (shared > 0 && (shared !== a.size || shared !== b.size)) return false;
      }
    }
    return true;
  }

  /**
   * Whether tasks of these counts per class never wait for a slot, however the balancer
   * places them. Pooled agents: max flow. Otherwise a sufficient test: each class has a
   * capable agent with room for every task that agent could be given.
   */
  private neverBlocks(demand: readonly number[]): boolean {
    if (this.pooled) return this.feasible(demand);
    const couldHold = this.capacities.map(() => 0);
    demand.forEach((count, c) => {
      for (const a of this.capableAgents[c] as number[]) couldHold[a] = (couldHold[a] as number) + count;
    });
    return demand.every((count, c) => count === 0 || (this.capableAgents[c] as number[]).some((a) => (this.capacities[a] as number) >= (couldHold[a] as number)));
  }

  /** Whether a task of class `cls` can start next to the running tasks (counts per class). */
  canStart(running: readonly number[], cls: number): boolean {
    if (!this.declared) return true;
    if ((this.capableAgents[cls] as number[]).length === 0) return false;
    if (this.unconstrained) return true;
    // Running counts never exceed the total capacity: a small number names the vector,
    // where a string key would be built on every scheduling choice.
    const base = this.totalCapacity + 2;
    const limit = MAX_SAFE_INTEGER / base;
    let numeric = cls;
    for (let c = 0; c < running.length && numeric < limit; c++) numeric = numeric * base + (running[c] as number);
    const key: number | string = numeric < limit ? numeric : `${running.join(',')}+${cls}`;
    let fits = this.startFits.get(key);
    if (fits === undefined) {
      const demand = running.slice();
      demand[cls] = (demand[cls] as number) + 1;
      fits = this.feasible(demand);
      if (!this.interrupted) this.startFits.set(key, fits);
    }
    return fits;
  }

  /** Whether tasks of these counts per class could all run at once, whatever agents the balancer picks. */
  fitsAll(demand: readonly number[]): boolean {
    if (!this.declared || this.unconstrained) return true;
    const key = `all:${demand.join(',')}`;
    let fits = this.fits.get(key);
    if (fits === undefined) {
      fits = this.neverBlocks(demand);
      if (!this.interrupted) this.fits.set(key, fits);
    }
    return fits;
  }

  /** Set when `inTime` stopped a computation: answers since then may be "does not fit" for lack of time. */
  interrupted = false;

  /** Max flow source → classes (demand) → capable agents → sink (capacity) saturates the demand. */
  private feasible(demand: readonly number[]): boolean {
    const agents = this.capacities.length;
    const used = new Array<number>(agents).fill(0);
    // assigned[c][a]: tasks of class c placed on agent a.
    const assigned = demand.map(() => new Array<number>(agents).fill(0));
    for (let c = 0; c < demand.length; c++) {
      for (let k = 0; k < (demand[c] as number); k++) {
        if (!this.inTime()) {
          this.interrupted = true;
          return false;
        }
        if (!this.augment(c, used, assigned)) return false;
      }
    }
    return true;
  }

  /** One augmenting path for one more task of class `start` (BFS over classes and agents). */
  private augment(start: number, used: number[], assigned: number[][]): boolean {
    const classes = assigned.length;
    const previousAgentOfClass = new Array<number>(classes).fill(-2);
    const previousClassOfAgent = new Array<number>(used.length).fill(-1);
    previousAgentOfClass[start] = -1;
    // An index, not shift(): shift is linear in the queue's length.
    const queue = [start];
    for (let head = 0; head < queue.length; head++) {
      const c = queue[head] as number;
      for (const a of this.capableAgents[c] as number[]) {
        if (previousClassOfAgent[a] !== -1) continue;
        previousClassOfAgent[a] = c;
        // The orchestrator's own test of an agent's room (one implementation, issue 16).
        if (hasFreeSlot(used[a] as number, this.capacities[a] as number)) {
          // Walk back: move one task along each edge of the path.
          used[a] = (used[a] as number) + 1;
          let agent = a;
          let cls = c;
          for (;;) {
            (assigned[cls] as number[])[agent] = ((assigned[cls] as number[])[agent] as number) + 1;
            const back = previousAgentOfClass[cls] as number;
            if (back === -1) return true;
            (assigned[cls] as number[])[back] = ((assigned[cls] as number[])[back] as number) - 1;
            agent = back;
            cls = previousClassOfAgent[back] as number;
          }
        }
        // The agent is full: try moving one of its tasks (of a class placed there) elsewhere.
        for (let other = 0; other < classes; other++) {
          if (((assigned[other] as number[])[a] as number) > 0 && previousAgentOfClass[other] === -2) {
            previousAgentOfClass[other] = a;
            queue.push(other);
          }
        }
      }
    }
    return false;
  }
}
