import type { AgentView } from './orchestratorAgent';
import { PRIORITY_MULTIPLIER, type TaskPriority, type TaskRecord } from './taskTypes';

/** What a scoring balancer knows of the task being placed. */
export interface TaskTraits {
  readonly taskType: string;
  readonly priority: TaskPriority;
  readonly requiredCapabilities: readonly string[];
}

/**
 * Picks an agent by score: the available qualifying agent with the highest score wins,
 * the first registered on ties. Agents are kept in a heap per (task type, capabilities),
 * so a choice costs O(log agents). The score must depend only on the agent and the task
 * traits, and order agents the same way for every priority.
 */
export interface ScoringBalancer {
  readonly name: string;
  score(agent: AgentView, task: TaskTraits): number;
}

/** What a choosing balancer knows besides the task and the candidates. */
export interface ChoiceContext {
  /** Agents that ran the task's completed dependencies (producers of its inputs). */
  readonly producerAgentIds: readonly string[];
}

/**
 * Picks an agent by any rule, from the list of available qualifying agents: O(agents)
 * per choice. Return `undefined` to leave the task waiting.
 */
export interface ChoosingBalancer {
  readonly name: string;
  choose(task: TaskRecord, candidates: readonly AgentView[], context: ChoiceContext): string | undefined;
}

export type Balancer = ScoringBalancer | ChoosingBalancer;

/** @internal */
export function isScoring(balancer: Balancer): balancer is ScoringBalancer {
  return typeof (balancer as ScoringBalancer).score === 'function';
}

/**
 * The spec's default score: `performance × specialization[taskType] × (1 − load/max) ×
 * priorityMultiplier` (low 1.0, medium 1.1, high 1.2, critical 1.5).
 *
 * @example
 * ```ts
 * defaultScore(agent, { taskType: 'analysis', priority: 'high', requiredCapabilities: [] });
 * ```
 */
export function defaultScore(agent: AgentView, task: TaskTraits): number {
  return agent.performance * agent.specializationFor(task.taskType) * (1 - agent.load / agent.maxConcurrentTasks) * PRIORITY_MULTIPLIER[task.priority];
}

/**
 * How specific an agent is for a task: the share of the agent's capabilities the task
 * needs (1 for a specialist, less for a generalist; 1 when the task needs none).
 */
export function capabilityMatch(agent: AgentView, required: readonly string[]): number {
  if (required.length === 0 || agent.capabilities.size === 0) return 1;
  let shared = 0;
  for (const capability of required) if (agent.capabilities.has(capability)) shared++;
  return shared / agent.capabilities.size;
}

/**
 * The guide's weighted score: `0.4 × 1/(1+load) + 0.4 × recentPerformance + 0.2 × capabilityMatch`.
 *
 * @example
 * ```ts
 * weightedScore(agent, { taskType: 'trade', priority: 'medium', requiredCapabilities: ['trading'] });
 * ```
 */
export function weightedScore(agent: AgentView, task: TaskTraits): number {
  return 0.4 * (1 / (1 + agent.load)) + 0.4 * agent.recentPerformance + 0.2 * capabilityMatch(agent, task.requiredCapabilities);
}

/** The built-in balancers, by name. */
export const builtInBalancers = {
  /** The spec's default score. */
  default: { name: 'default', score: defaultScore },
  /** The guide's weighted score. */
  weighted: { name: 'weighted', score: weightedScore },
  /** Lowest load relative to capacity. */
  least_loaded: { name: 'least_loaded', score: (agent: AgentView) => -agent.load / agent.maxConcurrentTasks },
  /** The qualifying agent assigned longest ago. */
  round_robin: { name: 'round_robin', score: (agent: AgentView) => -agent.lastAssignedSeq },
} as const satisfies Record<string, ScoringBalancer>;

export type BuiltInBalancerName = keyof typeof builtInBalancers;

/** Balancers of ours: given the orchestrator's own agent records rather than read-only views (one lookup, no copy per choice). */
const ours = new WeakSet<Balancer>(Object.values(builtInBalancers));

/** Marks a balancer as one of ours (`swarmBalancer`). @internal */
export function ourBalancer<T extends Balancer>(balancer: T): T {
  ours.add(balancer);
  return balancer;
}

/** Whether the balancer is one of ours (user balancers are given read-only agent views). @internal */
export function isOurBalancer(balancer: Balancer): boolean {
  return ours.has(balancer);
}
