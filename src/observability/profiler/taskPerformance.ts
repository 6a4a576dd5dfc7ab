import type { TaskOrchestrator } from '../../orchestration/taskOrchestrator';
import { percentile } from './communicationLatency';

/** Duration statistics of task attempts, in seconds. */
export interface DurationStats {
  readonly count: number;
  readonly meanSeconds: number;
  readonly p50Seconds: number;
  readonly p95Seconds: number;
  readonly maxSeconds: number;
}

/** How tasks ran, from the agents' attempt histories and the orchestrator's counters. */
export interface TaskPerformance extends DurationStats {
  /** Attempts by outcome. */
  readonly completed: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly cancelled: number;
  /** Attempts that took longer than the slow-task threshold, and their share of all. */
  readonly slowTasks: number;
  readonly slowShare: number;
  readonly slowThresholdSeconds: number;
  readonly byType: Readonly<Record<string, DurationStats>>;
  readonly orchestrator: {
    readonly tasksCreated: number;
    readonly tasksCompleted: number;
    readonly tasksFailed: number;
    readonly tasksTimedOut: number;
    readonly retries: number;
    readonly pendingTasks: number;
    readonly runningTasks: number;
    /** Mean start-to-completion time of completed tasks, ms. */
    readonly avgCompletionTimeMs: number;
    /** Running load over capacity, 0..1. */
    readonly utilization: number;
  };
}

function durationStats(seconds: number[]): DurationStats {
  const sorted = [...seconds].sort((a, b) => a - b);
  const total = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    meanSeconds: sorted.length === 0 ? 0 : total / sorted.length,
    p50Seconds: percentile(sorted, 0.5),
    p95Seconds: percentile(sorted, 0.95),
    maxSeconds: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] as number),
  };
}

/**
 * Task execution statistics over the agents' recent attempts (assignment to end, on the
 * runtime's clock; the orchestrator keeps the last 256 per agent within its history
 * window), with the share of attempts slower than `slowThresholdSeconds` (the spec's 30 s).
 *
 * @example
 * ```ts
 * const tasks = taskPerformance(nf.orchestrator);
 * console.log(tasks.p95Seconds, tasks.slowShare);
 * ```
 */
export function taskPerformance(orchestrator: TaskOrchestrator, options: { slowThresholdSeconds?: number; hours?: number } = {}): TaskPerformance {
  const slowThresholdSeconds = options.slowThresholdSeconds ?? 30;
  const stats = orchestrator.getStats();
  const all: number[] = [];
  const byType = new Map<string, number[]>();
  const outcomes = { completed: 0, failed: 0, timeout: 0, cancelled: 0 };
  for (const agentId of Object.keys(stats.agents)) {
    for (const entry of orchestrator.getAgentTaskHistory(agentId, options.hours === undefined ? {} : { hours: options.hours })) {
      const seconds = Math.max(0, entry.completedAt - entry.startedAt) / 1000;
      all.push(seconds);
      let list = byType.get(entry.taskType);
      if (!list) byType.set(entry.taskType, (list = []));
      list.push(seconds);
      outcomes[entry.outcome]++;
    }
  }
  const slowTasks = all.filter((s) => s > slowThresholdSeconds).length;
  return {
    ...durationStats(all),
    completed: outcomes.completed,
    failed: outcomes.failed,
    timedOut: outcomes.timeout,
    cancelled: outcomes.cancelled,
    slowTasks,
    slowShare: all.length === 0 ? 0 : slowTasks / all.length,
    slowThresholdSeconds,
    byType: Object.fromEntries([...byType].map(([type, seconds]) => [type, durationStats(seconds)])),
    orchestrator: {
      tasksCreated: stats.tasksCreated,
      tasksCompleted: stats.tasksCompleted,
      tasksFailed: stats.tasksFailed,
      tasksTimedOut: stats.tasksTimedOut,
      retries: stats.retries,
      pendingTasks: stats.pendingTasks,
      runningTasks: stats.runningTasks,
      avgCompletionTimeMs: stats.avgCompletionTime,
      utilization: stats.utilization,
    },
  };
}
