import { connectionSuccessRate } from './model/connection';
import { listConnections, listNeurons } from './model/swarmState';
import type { SwarmSnapshot } from './model/swarmTypes';

/** What the swarm has observed and learned so far. */
export interface SwarmPerformanceMetrics {
  readonly totalSignals: number;
  readonly totalFirings: number;
  /** Firings per propagated signal (0 before the first signal). */
  readonly firingsPerSignal: number;
  readonly tasksCompleted: number;
  readonly tasksFailed: number;
  /** Completed / (completed + failed); `null` before the first task outcome. */
  readonly taskSuccessRate: number | null;
  /** Mean duration of the task outcomes that reported one; `null` without any. */
  readonly averageTaskDurationMs: number | null;
  readonly consensusOutcomes: number;
  /** Correct votes / all votes; `null` before the first consensus outcome. */
  readonly voteAccuracy: number | null;
  /** Mean learned performance of the agents (0.5 for a network without agents). */
  readonly averagePerformance: number;
  readonly cycles: number;
  readonly knowledgeTransfers: number;
  readonly connectionsPruned: number;
  readonly connectionsGrown: number;
  /** Success rate of each connection that has recorded outcomes, by connection id. */
  readonly connectionSuccessRates: Readonly<Record<string, number>>;
}

/**
 * Summarises the swarm's counters and learned values.
 *
 * @example
 * ```ts
 * const { taskSuccessRate, voteAccuracy } = performanceMetrics(network.getNetworkState());
 * ```
 */
export function performanceMetrics(state: SwarmSnapshot): SwarmPerformanceMetrics {
  const c = state.counters;
  const neurons = listNeurons(state);
  const tasks = c.tasksCompleted + c.tasksFailed;
  const votes = c.correctVotes + c.wrongVotes;
  const rates: Record<string, number> = {};
  for (const connection of listConnections(state)) {
    if (connection.outcomes.length === 0) continue;
    rates[connection.connectionId] = connectionSuccessRate(connection, state.now, state.rules);
  }
  return {
    totalSignals: c.totalSignals,
    totalFirings: c.totalFirings,
    firingsPerSignal: c.totalSignals === 0 ? 0 : c.totalFirings / c.totalSignals,
    tasksCompleted: c.tasksCompleted,
    tasksFailed: c.tasksFailed,
    taskSuccessRate: tasks === 0 ? null : c.tasksCompleted / tasks,
    averageTaskDurationMs: c.tasksWithDuration === 0 ? null : c.taskDurationMsTotal / c.tasksWithDuration,
    consensusOutcomes: c.consensusOutcomes,
    voteAccuracy: votes === 0 ? null : c.correctVotes / votes,
    averagePerformance: neurons.length === 0 ? state.rules.initialPerformance : neurons.reduce((sum, n) => sum + n.performance, 0) / neurons.length,
    cycles: c.cycles,
    knowledgeTransfers: c.knowledgeTransfers,
    connectionsPruned: c.connectionsPruned,
    connectionsGrown: c.connectionsGrown,
    connectionSuccessRates: rates,
  };
}
