import type { NeuroFluxClock } from '../kernel/clock';
import { ValidationError } from '../errors';
import { armAgentLoadReports } from './agentActorLink';
import { AgentPool, laneOf } from './agentPool';
import { builtInBalancers, isOurBalancer, isScoring, type Balancer, type ScoringBalancer } from './balancers';
import { agentViewOf, type OrchestratorAgent } from './orchestratorAgent';
import { compareReady } from './planning/readyOrder';
import type { TaskEntry } from './taskEntry';
import type { TaskRecord } from './taskTypes';
import { compositeKey } from '../compositeKey';

/**
 * What the scheduler reads of the orchestrator: its task and agent tables (the same maps,
 * not copies) and the two calls a round needs from it.
 * @internal
 */
export interface SchedulerTables {
  readonly tasks: ReadonlyMap<string, TaskEntry>;
  readonly agents: ReadonlyMap<string, OrchestratorAgent>;
  readonly clock: NeuroFluxClock;
  /** Asks the orchestrator's chart for a round (it runs `runRound` only while `active`). */
  requestRound(): void;
  /** Agents that ran the task's completed dependencies (what a `choose` balancer is told). */
  producersOf(record: TaskRecord): string[];
  /** Tells task actors the dependencies that completed in this burst (held to tell in one event each), so that the tasks they make ready are in the round. */
  tellCompletedDependencies(): void;
}

function copyRecord(record: TaskRecord): TaskRecord {
  return { ...record };
}

/**
 * The ready queues (one per agent pool) and the scheduling rounds: which waiting task gets
 * which agent, by `planning/readyOrder` across the pools that changed and the task's
 * balancer within its pool.
 *
 * Hot path: made once per orchestrator; the orchestrator and the task actors' actions call
 * it directly (one method call per task readied or assigned, no closure, actor message or
 * allocation added per task). Split from `TaskOrchestrator` for issue #16 with the
 * dispatcher: paired A/B (4 000 tasks, 100 agents × 5) after/before 0.992–0.994, within the
 * A/A control's 0.983–0.986 (docs/architecture.md, "Orchestration modules").
 * @internal
 */
export class TaskScheduler {
  /** Errors thrown (or NaN scores returned) by user balancers: counted, never fatal. */
  balancerErrors = 0;
  readonly defaultBalancer: Balancer;
  private readonly balancerByName = new Map<string, Balancer>();
  private readonly pools = new Map<string, AgentPool>();
  private readonly dirtyPools = new Set<AgentPool>();
  private roundRequested = false;
  private waitingSeq = 0;
  private assignmentSeq = 0;
  /** Made once: one microtask per burst of readiness, not one closure per request. */
  private readonly flushRequest = (): void => {
    // Before the round, while a round is still requested (the tasks they make ready ask for
    // none of their own): a dependent must not lose a freed slot to a lower-priority task
    // because its dependency's completion was held (the verifier's model, test/verifyRuntimeAgreement).
    this.tables.tellCompletedDependencies();
    this.roundRequested = false;
    if (this.dirtyPools.size > 0) this.tables.requestRound();
  };

  constructor(
    private readonly tables: SchedulerTables,
    balancer: Balancer | string | undefined,
    balancers: readonly Balancer[] | undefined,
  ) {
    for (const b of [...Object.values(builtInBalancers), ...(balancers ?? [])]) this.balancerByName.set(b.name, b);
    this.defaultBalancer = typeof balancer === 'string' ? this.balancerNamed(balancer) : (balancer ?? builtInBalancers.default);
    this.balancerByName.set(this.defaultBalancer.name, this.defaultBalancer);
  }

  /** The balancer registered under `name`; a `ValidationError` naming `balancer` otherwise. */
  balancerNamed(name: string): Balancer {
    const balancer = this.balancerByName.get(name);
    if (!balancer) {
      throw new ValidationError('balancer', [{ path: 'balancer', message: `unknown balancer '${name}'` }]);
    }
    return balancer;
  }

  hasBalancer(name: string): boolean {
    return this.balancerByName.has(name);
  }

  /** The name `chooser` is registered under (what a retry or a stored task names). */
  nameOf(chooser: Balancer): string | undefined {
    for (const [name, registered] of this.balancerByName) if (registered === chooser) return name;
    return undefined;
  }

  /** The pool of agents for tasks like this one, created (one scan of the agents) on first use. */
  poolFor(chooser: Balancer, task: { readonly taskType: string; readonly requiredCapabilities: readonly string[] }): AgentPool {
    const capabilities = [...new Set(task.requiredCapabilities)].sort();
    const key = compositeKey([chooser.name, task.taskType, compositeKey(capabilities)]);
    let pool = this.pools.get(key);
    if (!pool) {
      const scorer: ScoringBalancer = isScoring(chooser) ? this.safeScorer(chooser) : builtInBalancers.default;
      pool = new AgentPool(key, scorer, { taskType: task.taskType, priority: 'medium', requiredCapabilities: capabilities });
      for (const agent of this.tables.agents.values()) if (agent.hasCapabilities(capabilities)) pool.add(agent);
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** A new agent joins every pool it qualifies for; pools with waiting tasks get a round. */
  agentAdded(agent: OrchestratorAgent): void {
    for (const pool of this.pools.values()) {
      if (agent.hasCapabilities(pool.traits.requiredCapabilities)) {
        pool.add(agent);
        if (pool.waiting > 0) this.dirtyPools.add(pool);
      }
    }
  }

  /** The agent's pools are scheduled in the next round (it freed a slot, resumed, came back online). */
  markAgentPools(agent: OrchestratorAgent, onlyWaiting: boolean): void {
    for (const pool of agent.pools) {
      pool.update(agent);
      if (!onlyWaiting || pool.waiting > 0) this.dirtyPools.add(pool);
    }
  }

  /** The pool is scheduled in the next round. */
  markPool(pool: AgentPool): void {
    this.dirtyPools.add(pool);
  }

  /** A task became ready: it waits in its pool's queue, in its lane, until a round places it. */
  enqueue(entry: TaskEntry): void {
    entry.pool.enqueue({ taskId: entry.record.taskId, lane: laneOf(entry.record.priority), seq: this.waitingSeq++ });
    this.dirtyPools.add(entry.pool);
    this.requestRound();
  }

  /**
   * One scheduling round per burst of readiness: tasks spawned or freed in the same tick
   * are placed together, in priority order.
   */
  requestRound(): void {
    if (this.roundRequested) return;
    this.roundRequested = true;
    queueMicrotask(this.flushRequest);
    // The agents' load reports of this turn (agentActorLink.ts) go out before any callback a caller queues after this.
    armAgentLoadReports();
  }

  /**
   * One scheduling round: repeatedly takes the most urgent waiting task among the pools
   * that changed and gives it to its pool's best available agent.
   */
  runRound(): void {
    const candidates = [...this.dirtyPools].filter((p) => p.waiting > 0);
    this.dirtyPools.clear();
    while (candidates.length > 0) {
      let bestIndex = -1;
      let best: { lane: number; seq: number } | undefined;
      for (let i = 0; i < candidates.length; i++) {
        const head = (candidates[i] as AgentPool).peekWaiting();
        if (head && (!best || compareReady(head, best) < 0)) {
          best = head;
          bestIndex = i;
        }
      }
      if (bestIndex < 0) break;
      const pool = candidates[bestIndex] as AgentPool;
      const head = pool.peekWaiting() as { taskId: string };
      const entry = this.tables.tasks.get(head.taskId);
      if (!entry || entry.record.state !== 'queued') {
        pool.shiftWaiting(); // cancelled or already placed: stale
        continue;
      }
      const agent = this.chooseAgent(pool, entry);
      if (!agent) {
        entry.record.reason = pool.size === 0 ? 'no_capable_agent' : 'no_agent_available';
        candidates.splice(bestIndex, 1);
        continue;
      }
      pool.shiftWaiting();
      this.assign(entry, agent);
    }
  }

  /** Takes a slot of `agent` for the task and tells the task's actor. */
  assign(entry: TaskEntry, agent: OrchestratorAgent): void {
    agent.load++;
    agent.lastAssignedSeq = this.assignmentSeq++;
    agent.activeTasks.add(entry.record.taskId);
    for (const pool of agent.pools) pool.update(agent);
    entry.record.reason = null;
    entry.assignedAt = this.tables.clock.now();
    entry.actor?.send({ type: 'AGENT_ASSIGNED', agentId: agent.agentId, at: entry.assignedAt, startsAtOnce: agent.execute !== undefined });
  }

  private chooseAgent(pool: AgentPool, entry: TaskEntry): OrchestratorAgent | undefined {
    if (isScoring(entry.chooser)) return pool.top();
    const available = pool.availableAgents();
    if (available.length === 0) return undefined;
    let chosen: string | undefined;
    try {
      chosen = entry.chooser.choose(copyRecord(entry.record), isOurBalancer(entry.chooser) ? available : available.map(agentViewOf), {
        producerAgentIds: this.tables.producersOf(entry.record),
      });
    } catch {
      // A user balancer that throws leaves the task waiting; it must not fail the round.
      this.balancerErrors++;
      return undefined;
    }
    return chosen === undefined ? undefined : available.find((a) => a.agentId === chosen);
  }

  /** A user score that throws or is not a number ranks the agent last instead of failing a step. */
  private safeScorer(balancer: ScoringBalancer): ScoringBalancer {
    if (isOurBalancer(balancer)) return balancer;
    return {
      name: balancer.name,
      score: (agent, task) => {
        try {
          const score = balancer.score(agentViewOf(agent), task);
          return Number.isNaN(score) ? -Infinity : score;
        } catch {
          this.balancerErrors++;
          return -Infinity;
        }
      },
    };
  }
}
