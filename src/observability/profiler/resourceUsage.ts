import { availableParallelism, freemem, totalmem } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';

/** What the process used over a sampling window. Percentages are 0..100. */
export interface ResourceUsage {
  readonly windowMs: number;
  /** Process CPU time over the window as a share of one core (the event loop runs on one). */
  readonly cpuPercent: number;
  /** The same as a share of all the host's cores. */
  readonly cpuPercentOfHost: number;
  readonly memory: {
    readonly rssBytes: number;
    readonly heapUsedBytes: number;
    /** V8's heap size limit: past it the process dies. */
    readonly heapLimitBytes: number;
    readonly heapPercent: number;
    /** Host memory in use (every process). */
    readonly systemPercent: number;
  };
  readonly eventLoop: {
    /** Share of the window the event loop was busy (`performance.eventLoopUtilization`). */
    readonly utilizationPercent: number;
    /** Timer lateness measured by `perf_hooks.monitorEventLoopDelay`, in ms. */
    readonly delayMeanMs: number;
    readonly delayP50Ms: number;
    readonly delayP99Ms: number;
    readonly delayMaxMs: number;
  };
  /** Each resource's use, as the bottleneck check reads it. */
  readonly percents: Readonly<Record<'cpu' | 'memory' | 'eventLoop' | 'systemMemory', number>>;
}

/** A handle on a running sample: `stop()` ends the window and returns the usage. */
export interface ResourceSampler {
  stop(): ResourceUsage;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const nsToMs = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);

/**
 * Starts measuring CPU, memory and event-loop delay; `stop()` returns what was used since.
 * The event-loop delay histogram exists only between the two calls.
 *
 * @example
 * ```ts
 * const sampler = startResourceSampler();
 * await doWork();
 * const usage = sampler.stop();
 * ```
 */
export function startResourceSampler(): ResourceSampler {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const cpuStart = process.cpuUsage();
  const eluStart = performance.eventLoopUtilization();
  const started = performance.now();
  let stopped: ResourceUsage | undefined;
  return {
    stop() {
      if (stopped) return stopped;
      const windowMs = Math.max(performance.now() - started, 0.001);
      const cpu = process.cpuUsage(cpuStart);
      const elu = performance.eventLoopUtilization(eluStart);
      histogram.disable();
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const heap = getHeapStatistics();
      const total = totalmem();
      const cpuPercent = (100 * cpuMs) / windowMs;
      const heapPercent = (100 * heap.used_heap_size) / heap.heap_size_limit;
      const systemPercent = (100 * (total - freemem())) / total;
      const utilizationPercent = 100 * elu.utilization;
      const sampled = histogram.count > 0;
      stopped = {
        windowMs: round(windowMs),
        cpuPercent: round(cpuPercent),
        cpuPercentOfHost: round(cpuPercent / availableParallelism()),
        memory: {
          rssBytes: process.memoryUsage.rss(),
          heapUsedBytes: heap.used_heap_size,
          heapLimitBytes: heap.heap_size_limit,
          heapPercent: round(heapPercent),
          systemPercent: round(systemPercent),
        },
        eventLoop: {
          utilizationPercent: round(utilizationPercent),
          delayMeanMs: sampled ? round(nsToMs(histogram.mean), 3) : 0,
          delayP50Ms: sampled ? round(nsToMs(histogram.percentile(50)), 3) : 0,
          delayP99Ms: sampled ? round(nsToMs(histogram.percentile(99)), 3) : 0,
          delayMaxMs: sampled ? round(nsToMs(histogram.max), 3) : 0,
        },
        percents: { cpu: round(cpuPercent), memory: round(heapPercent), eventLoop: round(utilizationPercent), systemMemory: round(systemPercent) },
      };
      return stopped;
    },
  };
}

/**
 * Samples resource usage over `windowMs` (wall time; `wait` lets a test pass time its own way).
 *
 * @example
 * ```ts
 * const usage = await sampleResourceUsage(1000);
 * usage.eventLoop.delayP99Ms;
 * ```
 */
export async function sampleResourceUsage(windowMs: number, wait: (ms: number) => Promise<unknown> = sleep): Promise<ResourceUsage> {
  const sampler = startResourceSampler();
  await wait(windowMs);
  return sampler.stop();
}
