import { setTimeout as sleep } from 'node:timers/promises';
import type { ObservedRuntime } from '../observedRuntime';
import { DEFAULT_BOTTLENECK_THRESHOLDS, identifyBottlenecks, type Bottleneck, type BottleneckThresholds } from './bottlenecks';
import { measureCommunicationLatency, type CommunicationLatency, type LatencyProbeOptions } from './communicationLatency';
import { startResourceSampler, type ResourceUsage } from './resourceUsage';
import { taskPerformance, type TaskPerformance } from './taskPerformance';

/** Options of {@link profileSystemPerformance}. */
export interface ProfileOptions extends LatencyProbeOptions {
  /**
   * Shortest resource sampling window, wall ms (default 1000): resources are sampled while
   * the probes run, and for the rest of this window after them.
   */
  readonly resourceWindowMs?: number;
  /** How the rest of the window passes (default: a real sleep). */
  readonly wait?: (ms: number) => Promise<unknown>;
  /** Task history window (default: the orchestrator's). */
  readonly taskHistoryHours?: number;
  readonly thresholds?: Partial<BottleneckThresholds>;
}

/** How a receiving agent answered the probes. */
export interface AgentResponsiveness {
  readonly probes: number;
  readonly timeouts: number;
  /** Mean of answered round trips (0 when none answered). */
  readonly meanMs: number;
}

/** The profiler's report (the guide's `profile_system_performance`). */
export interface PerformanceReport {
  /** Runtime clock ms. */
  readonly timestamp: number;
  readonly communicationLatency: CommunicationLatency;
  readonly taskPerformance: TaskPerformance;
  readonly resourceUsage: ResourceUsage;
  readonly agentResponsiveness: Readonly<Record<string, AgentResponsiveness>>;
  readonly bottlenecks: readonly Bottleneck[];
  readonly thresholds: BottleneckThresholds;
}

function responsiveness(latency: CommunicationLatency): Record<string, AgentResponsiveness> {
  const byAgent = new Map<string, { probes: number; timeouts: number; total: number }>();
  for (const pair of latency.pairs) {
    let entry = byAgent.get(pair.to);
    if (!entry) byAgent.set(pair.to, (entry = { probes: 0, timeouts: 0, total: 0 }));
    entry.probes++;
    if (Number.isFinite(pair.latencyMs)) entry.total += pair.latencyMs;
    else entry.timeouts++;
  }
  return Object.fromEntries(
    [...byAgent].map(([agentId, e]) => [agentId, { probes: e.probes, timeouts: e.timeouts, meanMs: e.probes > e.timeouts ? e.total / (e.probes - e.timeouts) : 0 }]),
  );
}

/**
 * Profiles a running system per the spec (section 5): pairwise request round trips
 * between agents (a 5 s timeout counts as infinite), task execution statistics, resource
 * usage (CPU, memory, event-loop delay from `perf_hooks.monitorEventLoopDelay`) and the
 * bottlenecks these show: mean latency > 100 ms (communication, high), > 20 % of tasks
 * over 30 s (task execution, medium), any resource > 90 % (resource, critical).
 *
 * @example
 * ```ts
 * const report = await profileSystemPerformance(nf, { maxPairs: 50 });
 * console.log(formatProfileReport(report));
 * ```
 */
export async function profileSystemPerformance(runtime: ObservedRuntime, options: ProfileOptions = {}): Promise<PerformanceReport> {
  const thresholds = { ...DEFAULT_BOTTLENECK_THRESHOLDS, ...options.thresholds };
  const windowMs = options.resourceWindowMs ?? 1000;
  const wait = options.wait ?? sleep;
  const started = Date.now();
  const sampler = startResourceSampler();
  let resourceUsage: ResourceUsage;
  let communicationLatency: CommunicationLatency;
  try {
    communicationLatency = await measureCommunicationLatency(runtime.bus, options);
    const rest = windowMs - (Date.now() - started);
    if (rest > 0) await wait(rest);
  } finally {
    resourceUsage = sampler.stop();
  }
  const tasks = taskPerformance(runtime.orchestrator, {
    slowThresholdSeconds: thresholds.slowTaskSeconds,
    ...(options.taskHistoryHours !== undefined && { hours: options.taskHistoryHours }),
  });
  return {
    timestamp: runtime.clock.now(),
    communicationLatency,
    taskPerformance: tasks,
    resourceUsage,
    agentResponsiveness: responsiveness(communicationLatency),
    bottlenecks: identifyBottlenecks(communicationLatency, tasks, resourceUsage, thresholds),
    thresholds,
  };
}

const num = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '∞');
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * The report as text, for a terminal (`neuroflux profile`).
 *
 * @example
 * ```ts
 * process.stdout.write(formatProfileReport(await profileSystemPerformance(nf)));
 * ```
 */
export function formatProfileReport(report: PerformanceReport): string {
  const c = report.communicationLatency;
  const t = report.taskPerformance;
  const r = report.resourceUsage;
  const lines: string[] = [];
  lines.push('Communication latency (request round trips)');
  lines.push(
    `  pairs measured ${c.pairsMeasured} of ${c.pairsTotal}, timeouts ${c.timeouts}; mean ${num(c.meanMs, 3)} ms, ` +
      `p50 ${num(c.p50Ms, 3)} ms, p95 ${num(c.p95Ms, 3)} ms, max ${num(c.maxMs, 3)} ms (answered mean ${num(c.answeredMeanMs, 3)} ms)`,
  );
  const slowest = [...c.pairs].sort((a, b) => b.latencyMs - a.latencyMs).slice(0, 5);
  for (const pair of slowest) lines.push(`    ${pair.from} → ${pair.to}: ${num(pair.latencyMs, 3)} ms${pair.error ? ` (${pair.error})` : ''}`);
  lines.push('Task execution (recent attempts)');
  lines.push(
    `  attempts ${t.count} (completed ${t.completed}, failed ${t.failed}, timed out ${t.timedOut}, cancelled ${t.cancelled}); ` +
      `mean ${num(t.meanSeconds, 3)} s, p95 ${num(t.p95Seconds, 3)} s, max ${num(t.maxSeconds, 3)} s; ` +
      `over ${t.slowThresholdSeconds} s: ${t.slowTasks} (${num(100 * t.slowShare, 1)} %)`,
  );
  for (const [type, s] of Object.entries(t.byType)) lines.push(`    ${type}: ${s.count} attempts, mean ${num(s.meanSeconds, 3)} s, p95 ${num(s.p95Seconds, 3)} s`);
  const o = t.orchestrator;
  lines.push(
    `  orchestrator: created ${o.tasksCreated}, completed ${o.tasksCompleted}, failed ${o.tasksFailed}, timed out ${o.tasksTimedOut}, ` +
      `retries ${o.retries}, pending ${o.pendingTasks}, running ${o.runningTasks}, utilization ${num(100 * o.utilization, 1)} %`,
  );
  lines.push(`Resources (over ${num(r.windowMs / 1000, 2)} s)`);
  lines.push(`  CPU ${num(r.cpuPercent, 1)} % of one core (${num(r.cpuPercentOfHost, 1)} % of the host)`);
  lines.push(
    `  memory: heap ${mib(r.memory.heapUsedBytes)} of ${mib(r.memory.heapLimitBytes)} (${num(r.memory.heapPercent, 1)} %), ` +
      `RSS ${mib(r.memory.rssBytes)}, host ${num(r.memory.systemPercent, 1)} % used`,
  );
  lines.push(
    `  event loop: ${num(r.eventLoop.utilizationPercent, 1)} % busy; delay mean ${num(r.eventLoop.delayMeanMs, 2)} ms, ` +
      `p99 ${num(r.eventLoop.delayP99Ms, 2)} ms, max ${num(r.eventLoop.delayMaxMs, 2)} ms`,
  );
  lines.push('Bottlenecks');
  if (report.bottlenecks.length === 0) lines.push('  none');
  for (const b of report.bottlenecks) lines.push(`  [${b.severity}] ${b.type}: ${b.description}`);
  return `${lines.join('\n')}\n`;
}
