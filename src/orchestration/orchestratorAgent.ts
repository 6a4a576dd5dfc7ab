import type { TaskExecutor } from './taskExecutor';
import type { AgentPool } from './agentPool';
import type { AgentActorLink } from './agentActorLink';
import { hasAllCapabilities } from './planning/capabilityMatch';

/** One finished attempt in an agent's history. Times in clock milliseconds. */
export interface TaskHistoryEntry {
  readonly taskId: string;
  readonly taskType: string;
  readonly outcome: 'completed' | 'failed' | 'timeout' | 'cancelled';
  readonly startedAt: number;
  readonly completedAt: number;
  /** The task's estimated duration, ms. */
  readonly expectedMs: number;
}

/** What balancers and `getAgent` see of an agent (read-only: the figures are read from the orchestrator). */
export interface AgentView {
  readonly agentId: string;
  readonly capabilities: ReadonlySet<string>;
  readonly maxConcurrentTasks: number;
  readonly load: number;
  /** Spec score: starts at 1.0, moves with completions, failures and timeouts. */
  readonly performance: number;
  /** Guide score: 0.7 × success rate + 0.3 × min(1, expected/actual) over recent history; 0.5 without history. */
  readonly recentPerformance: number;
  /** Order of registration (ties go to the first registered). */
  readonly registrationOrder: number;
  /** Sequence number of the agent's last assignment (−1: never). */
  readonly lastAssignedSeq: number;
  specializationFor(taskType: string): number;
}

/**
 * An agent as users and user balancers see it (`getAgent`, `score`, `choose`): its figures
 * read through to the orchestrator's own record, which they cannot reach or change. Before,
 * `getAgent` returned that record itself: `getAgent('a').load = -100` made the agent take
 * tasks without bound, and `capabilities.add(...)` put it in pools it was never scheduled
 * for (test/agentViewIsolation.test.ts). One per agent, made with it.
 */
class AgentReadView implements AgentView {
  readonly #agent: OrchestratorAgent;

  // Made by the agent's field initializer: its constructor's parameters are not set yet, so
  // every read goes to the agent.
  constructor(agent: OrchestratorAgent) {
    this.#agent = agent;
  }

  get agentId(): string {
    return this.#agent.agentId;
  }

  /** A copy at each read: the agent's own set is the orchestrator's. */
  get capabilities(): ReadonlySet<string> {
    return new Set(this.#agent.capabilities);
  }

  get maxConcurrentTasks(): number {
    return this.#agent.maxConcurrentTasks;
  }

  get load(): number {
    return this.#agent.load;
  }

  get performance(): number {
    return this.#agent.performance;
  }

  get recentPerformance(): number {
    return this.#agent.recentPerformance;
  }

  get registrationOrder(): number {
    return this.#agent.registrationOrder;
  }

  get lastAssignedSeq(): number {
    return this.#agent.lastAssignedSeq;
  }

  specializationFor(taskType: string): number {
    return this.#agent.specializationFor(taskType);
  }

  /** What `console.log` shows (Node's inspect hook): the figures, as `toJSON` gives them. */
  [Symbol.for('nodejs.util.inspect.custom')](): ReturnType<AgentReadView['toJSON']> {
    return this.toJSON();
  }

  /** What `JSON.stringify` writes: the figures, not an empty object. */
  toJSON(): Omit<AgentView, 'specializationFor' | 'capabilities'> & { capabilities: string[] } {
    return {
      agentId: this.agentId,
      capabilities: [...this.#agent.capabilities],
      maxConcurrentTasks: this.maxConcurrentTasks,
      load: this.load,
      performance: this.performance,
      recentPerformance: this.recentPerformance,
      registrationOrder: this.registrationOrder,
      lastAssignedSeq: this.lastAssignedSeq,
    };
  }
}

/** The view users and user balancers get of an agent (the agent itself for anything else that implements the view). */
export function agentViewOf(agent: AgentView): AgentView {
  return agent instanceof OrchestratorAgent ? agent.view : agent;
}

/** How many finished attempts an agent keeps for its history and recent score. */
const HISTORY_SIZE = 256;

/**
 * The orchestrator's record of one agent: capabilities, load, scores and history.
 * @internal
 */
export class OrchestratorAgent implements AgentView {
  private taskCount = 0;
  private pausedFlag = false;
  /**
   * False while the agent's actor on the local bus reads `offline` (told by its link):
   * it gets no new task then. Remote agents are online while their host is alive.
   */
  online = true;
  /** The agent's actor on the local bus, told of load and pause changes (none for a remote agent). */
  private actorLink: AgentActorLink | undefined;
  performance = 1.0;
  lastAssignedSeq = -1;
  readonly activeTasks = new Set<string>();
  readonly pools = new Set<AgentPool>();
  private readonly history: TaskHistoryEntry[] = [];
  private historyNext = 0;
  private recentScore = 0.5;
  /** The recent score is recomputed lazily: only the `weighted` balancer reads it. */
  private recentWindowStart: number | undefined;
  /** What users and user balancers are given of this agent. */
  readonly view: AgentView = new AgentReadView(this);

  constructor(
    readonly agentId: string,
    readonly capabilities: ReadonlySet<string>,
    readonly maxConcurrentTasks: number,
    readonly registrationOrder: number,
    private readonly specializations: ReadonlyMap<string, number>,
    readonly execute: TaskExecutor | undefined,
  ) {}

  /** Tasks assigned to the agent and not yet released. */
  get load(): number {
    return this.taskCount;
  }

  set load(value: number) {
    this.taskCount = value;
    this.actorLink?.taskLoadChanged(value);
  }

  /** Paused by `TaskOrchestrator.pauseAgent`: no new task until resumed. */
  get paused(): boolean {
    return this.pausedFlag;
  }

  set paused(value: boolean) {
    this.pausedFlag = value;
    this.actorLink?.pausedChanged(value);
  }

  /** Links (or, with undefined, unlinks) the agent's actor on the local bus; it learns the current figures at once. */
  linkActor(link: AgentActorLink | undefined): void {
    this.actorLink?.detach();
    this.actorLink = link;
    link?.announce(this.taskCount, this.pausedFlag);
  }

  get available(): boolean {
    return !this.paused && this.online && this.load < this.maxConcurrentTasks;
  }

  specializationFor(taskType: string): number {
    return this.specializations.get(taskType) ?? 1;
  }

  hasCapabilities(required: readonly string[]): boolean {
    return hasAllCapabilities(this.capabilities, required);
  }

  /** Records a finished attempt; the recent score will cover `windowMs` before `now`. */
  recordOutcome(entry: TaskHistoryEntry, now: number, windowMs: number): void {
    if (this.history.length < HISTORY_SIZE) this.history.push(entry);
    else this.history[this.historyNext] = entry;
    this.historyNext = (this.historyNext + 1) % HISTORY_SIZE;
    this.recentWindowStart = now - windowMs;
  }

  get recentPerformance(): number {
    if (this.recentWindowStart !== undefined) {
      // Order does not matter to the score: read the ring in place, no copies.
      this.recentScore = recentPerformanceScore(this.history, this.recentWindowStart);
      this.recentWindowStart = undefined;
    }
    return this.recentScore;
  }

  /** Finished attempts after `since`, oldest first: copies (the entries themselves feed the recent score). */
  historySince(since: number): TaskHistoryEntry[] {
    const ordered = this.history.length < HISTORY_SIZE ? this.history : [...this.history.slice(this.historyNext), ...this.history.slice(0, this.historyNext)];
    return ordered.filter((e) => e.completedAt > since).map((e) => ({ ...e }));
  }
}

/**
 * The guide's performance score: `0.7 × successRate + 0.3 × min(1, expected / actual)`
 * over the entries completed after `since`, 0.5 for an agent with no history.
 *
 * @example
 * ```ts
 * recentPerformanceScore([]); // 0.5
 * ```
 */
export function recentPerformanceScore(entries: readonly TaskHistoryEntry[], since = -Infinity): number {
  let total = 0;
  let completed = 0;
  let actual = 0;
  let expected = 0;
  for (const e of entries) {
    if (e.completedAt <= since) continue;
    total++;
    if (e.outcome !== 'completed') continue;
    completed++;
    actual += e.completedAt - e.startedAt;
    expected += e.expectedMs;
  }
  if (total === 0) return 0.5;
  const successRate = completed / total;
  if (completed === 0) return 0.7 * successRate;
  const timeEfficiency = actual <= 0 ? 1 : Math.min(1, expected / actual);
  return 0.7 * successRate + 0.3 * timeEfficiency;
}
