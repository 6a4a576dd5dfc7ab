import { FifoQueue } from '../kernel/fifoQueue';
import type { ScoringBalancer, TaskTraits } from './balancers';
import type { OrchestratorAgent } from './orchestratorAgent';
import type { TaskPriority } from './taskTypes';

const LANE: Readonly<Record<TaskPriority, number>> = { critical: 0, high: 1, medium: 2, low: 3 };

/** A queued task waiting in a pool: its id, lane and arrival order. @internal */
export interface WaitingTask {
  readonly taskId: string;
  readonly lane: number;
  readonly seq: number;
}

/**
 * The agents that qualify for one kind of task (same balancer, task type and required
 * capabilities), in a heap ordered by availability, then the balancer's score, then
 * registration order; and the tasks of that kind waiting for an agent, by priority.
 * Choosing an agent is O(1), updating one after its load changes O(log n): no scan of
 * every agent per task.
 * @internal
 */
export class AgentPool {
  private readonly heap: OrchestratorAgent[] = [];
  private readonly position = new Map<OrchestratorAgent, number>();
  private readonly scores = new Map<OrchestratorAgent, number>();
  private readonly lanes = [new FifoQueue<WaitingTask>(), new FifoQueue<WaitingTask>(), new FifoQueue<WaitingTask>(), new FifoQueue<WaitingTask>()];
  private waitingCount = 0;

  constructor(
    readonly key: string,
    readonly balancer: ScoringBalancer,
    readonly traits: TaskTraits,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  get waiting(): number {
    return this.waitingCount;
  }

  /** The best agent if it has a free slot. */
  top(): OrchestratorAgent | undefined {
    const best = this.heap[0];
    return best?.available ? best : undefined;
  }

  add(agent: OrchestratorAgent): void {
    this.position.set(agent, this.heap.length);
    this.scores.set(agent, this.balancer.score(agent, this.traits));
    this.heap.push(agent);
    agent.pools.add(this);
    this.siftUp(this.heap.length - 1);
  }

  remove(agent: OrchestratorAgent): void {
    const i = this.position.get(agent);
    if (i === undefined) return;
    const last = this.heap.pop() as OrchestratorAgent;
    this.position.delete(agent);
    this.scores.delete(agent);
    agent.pools.delete(this);
    if (i < this.heap.length) {
      this.heap[i] = last;
      this.position.set(last, i);
      this.siftDown(i);
      this.siftUp(i);
    }
  }

  /** Re-scores an agent whose load or performance changed. */
  update(agent: OrchestratorAgent): void {
    const i = this.position.get(agent);
    if (i === undefined) return;
    this.scores.set(agent, this.balancer.score(agent, this.traits));
    this.siftDown(i);
    this.siftUp(this.position.get(agent) as number);
  }

  /** Available agents in no particular order (for choosing balancers). */
  availableAgents(): OrchestratorAgent[] {
    return this.heap.filter((a) => a.available);
  }

  enqueue(task: WaitingTask): void {
    (this.lanes[task.lane] as FifoQueue<WaitingTask>).push(task);
    this.waitingCount++;
  }

  /** The most urgent, oldest waiting task. */
  peekWaiting(): WaitingTask | undefined {
    for (const lane of this.lanes) if (lane.length > 0) return lane.peek();
    return undefined;
  }

  shiftWaiting(): WaitingTask | undefined {
    for (const lane of this.lanes) {
      if (lane.length > 0) {
        this.waitingCount--;
        return lane.shift();
      }
    }
    return undefined;
  }

  /** Puts a task back at the head of its lane (e.g. a choosing balancer declined). */
  unshiftWaiting(task: WaitingTask): void {
    (this.lanes[task.lane] as FifoQueue<WaitingTask>).unshift(task);
    this.waitingCount++;
  }

  /** `a` goes before `b`: available first, then higher score, then registered earlier. */
  private before(a: OrchestratorAgent, b: OrchestratorAgent): boolean {
    if (a.available !== b.available) return a.available;
    const sa = this.scores.get(a) as number;
    const sb = this.scores.get(b) as number;
    if (sa !== sb) return sa > sb;
    return a.registrationOrder < b.registrationOrder;
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i] as OrchestratorAgent;
    const b = this.heap[j] as OrchestratorAgent;
    this.heap[i] = b;
    this.heap[j] = a;
    this.position.set(b, i);
    this.position.set(a, j);
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(this.heap[i] as OrchestratorAgent, this.heap[parent] as OrchestratorAgent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.before(this.heap[l] as OrchestratorAgent, this.heap[best] as OrchestratorAgent)) best = l;
      if (r < n && this.before(this.heap[r] as OrchestratorAgent, this.heap[best] as OrchestratorAgent)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }
}

/** @internal */
export function laneOf(priority: TaskPriority): number {
  return LANE[priority];
}
