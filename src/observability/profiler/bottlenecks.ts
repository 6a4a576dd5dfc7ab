import type { CommunicationLatency } from './communicationLatency';
import type { ResourceUsage } from './resourceUsage';
import type { TaskPerformance } from './taskPerformance';

/** The spec's bottleneck thresholds (section 5). */
export interface BottleneckThresholds {
  /** Mean round trip above this is a communication bottleneck (high). */
  readonly meanLatencyMs: number;
  /** A task attempt longer than this is slow... */
  readonly slowTaskSeconds: number;
  /** ...and more than this share of slow attempts is a task-execution bottleneck (medium). */
  readonly slowTaskShare: number;
  /** Any resource above this percentage is a resource bottleneck (critical). */
  readonly resourcePercent: number;
}

export const DEFAULT_BOTTLENECK_THRESHOLDS: BottleneckThresholds = {
  meanLatencyMs: 100,
  slowTaskSeconds: 30,
  slowTaskShare: 0.2,
  resourcePercent: 90,
};

/** One bottleneck, in the guide's shape plus the measured value and the threshold it passed. */
export interface Bottleneck {
  readonly type: 'communication' | 'task_execution' | 'resource';
  readonly severity: 'high' | 'medium' | 'critical';
  readonly description: string;
  /** For `resource`: which one (`cpu`, `memory`, `eventLoop`, `systemMemory`). */
  readonly resource?: string;
  readonly value: number;
  readonly threshold: number;
}

const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)}ms` : '∞ (timeouts)');

/**
 * The guide's `identify_bottlenecks` with the spec's thresholds: mean latency > 100 ms
 * (communication, high; a timeout makes the mean infinite), more than 20 % of task
 * attempts over 30 s (task execution, medium), any resource over 90 % (critical).
 *
 * @example
 * ```ts
 * identifyBottlenecks(latency, tasks, resources); // [{ type: 'resource', resource: 'cpu', severity: 'critical', ... }]
 * ```
 */
export function identifyBottlenecks(
  latency: Pick<CommunicationLatency, 'meanMs' | 'pairsMeasured'>,
  tasks: Pick<TaskPerformance, 'count' | 'slowTasks'>,
  resources: Pick<ResourceUsage, 'percents'>,
  thresholds: BottleneckThresholds = DEFAULT_BOTTLENECK_THRESHOLDS,
): Bottleneck[] {
  const bottlenecks: Bottleneck[] = [];
  if (latency.pairsMeasured > 0 && latency.meanMs > thresholds.meanLatencyMs) {
    bottlenecks.push({
      type: 'communication',
      severity: 'high',
      description: `High average communication latency: ${ms(latency.meanMs)}`,
      value: latency.meanMs,
      threshold: thresholds.meanLatencyMs,
    });
  }
  if (tasks.count > 0 && tasks.slowTasks > tasks.count * thresholds.slowTaskShare) {
    bottlenecks.push({
      type: 'task_execution',
      severity: 'medium',
      description: `High number of slow tasks: ${tasks.slowTasks} of ${tasks.count} over ${thresholds.slowTaskSeconds}s`,
      value: tasks.slowTasks / tasks.count,
      threshold: thresholds.slowTaskShare,
    });
  }
  for (const [resource, usage] of Object.entries(resources.percents)) {
    if (usage > thresholds.resourcePercent) {
      bottlenecks.push({
        type: 'resource',
        resource,
        severity: 'critical',
        description: `Critical resource utilization: ${resource} at ${usage.toFixed(1)}%`,
        value: usage,
        threshold: thresholds.resourcePercent,
      });
    }
  }
  return bottlenecks;
}
