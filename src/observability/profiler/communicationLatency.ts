import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CommunicationBus } from '../../bus/communicationBus';
import type { MessagePriority } from '../../bus/message';
import { RequestTimeoutError } from '../../errors';
import { describeError } from '../../describeError';
import { attachBusHooks } from '../busHooks';

/** Topic of the profiler's round-trip probes. */
export const LATENCY_PROBE_TOPIC = 'neuroflux.latency_probe';
/** Header that marks a probe of one profiling run (its value is the run's token). */
export const LATENCY_PROBE_HEADER = 'x-neuroflux-latency-probe';

/** One measured round trip. `latencyMs` is `Infinity` for a timeout (the spec's rule). */
export interface PairLatency {
  /** `from_to`, as the guide names pairs. */
  readonly agentPair: string;
  readonly from: string;
  readonly to: string;
  readonly latencyMs: number;
  /** Why there was no answer (timeout, unknown agent...). */
  readonly error?: string;
}

/** Round trips between agent pairs and their summary. Means include timeouts, so one makes them infinite. */
export interface CommunicationLatency {
  readonly pairs: readonly PairLatency[];
  /** Pairs among the agents, and how many were measured (at most `maxPairs`, evenly spread). */
  readonly pairsTotal: number;
  readonly pairsMeasured: number;
  readonly timeouts: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  /** Mean of the round trips that got an answer. */
  readonly answeredMeanMs: number;
}

/** Options of {@link measureCommunicationLatency}. */
export interface LatencyProbeOptions {
  /** Agents to pair. Default: every agent on the bus. */
  readonly agents?: readonly string[];
  /** Most pairs measured; more are sampled evenly. Default 200. */
  readonly maxPairs?: number;
  /** A probe without an answer after this counts as infinite. Default 5000 (the spec's). */
  readonly timeoutMs?: number;
  /** Probes in flight at once. Default 4. */
  readonly concurrency?: number;
  /** Priority of the probes (answers are `high`, as every response). Default `medium`. */
  readonly priority?: MessagePriority;
}

/**
 * Nearest-rank percentile of sorted values (0 for none).
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 0.5); // 2
 * ```
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Every unordered pair, each in the direction that makes every agent the responder about half the time. */
function allPairs(agents: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < agents.length; i++) {
    for (let j = i + 1; j < agents.length; j++) {
      const a = agents[i] as string;
      const b = agents[j] as string;
      pairs.push((i + j) % 2 === 0 ? [a, b] : [b, a]);
    }
  }
  return pairs;
}

function spread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const step = items.length / max;
  return Array.from({ length: max }, (_, k) => items[Math.floor(k * step)] as T);
}

/**
 * Measures request round trips between pairs of agents through their real mailboxes: a
 * probe request from one agent to the other queues behind the responder's other
 * messages, and is answered by the runtime on the responder's behalf when the responder
 * takes it (its behaviour never sees probes). Agents that take nothing (pull API,
 * offline) time out, which counts as infinite latency.
 *
 * @example
 * ```ts
 * const latency = await measureCommunicationLatency(nf.bus, { agents: ['risk', 'trader', 'analysis'] });
 * console.log(latency.meanMs, latency.pairs);
 * ```
 */
export async function measureCommunicationLatency(bus: CommunicationBus, options: LatencyProbeOptions = {}): Promise<CommunicationLatency> {
  const agents = [...(options.agents ?? bus.getAgentIds())];
  const timeoutMs = options.timeoutMs ?? 5000;
  const candidates = allPairs(agents);
  const pairs = spread(candidates, Math.max(0, options.maxPairs ?? 200));
  const token = randomUUID();
  const detach = attachBusHooks(bus, {
    aroundDelivery(message, agentId, run) {
      if (message.topic !== LATENCY_PROBE_TOPIC || message.headers?.[LATENCY_PROBE_HEADER] !== token) return run();
      bus.sendResponse(message, { probe: true }, agentId);
      return undefined;
    },
  });
  const results = new Array<PairLatency>(pairs.length);
  const probe = async (index: number) => {
    const [from, to] = pairs[index] as [string, string];
    const agentPair = `${from}_${to}`;
    const started = performance.now();
    try {
      await bus.sendRequest({
        senderId: from,
        recipientId: to,
        topic: LATENCY_PROBE_TOPIC,
        payload: { probe: true },
        headers: { [LATENCY_PROBE_HEADER]: token },
        priority: options.priority ?? 'medium',
        timeoutMs,
        // A probe nobody takes expires with the profiling run instead of lingering.
        ttl: timeoutMs / 1000,
      });
      results[index] = { agentPair, from, to, latencyMs: performance.now() - started };
    } catch (error) {
      const reason = error instanceof RequestTimeoutError ? 'timeout' : describeError(error);
      results[index] = { agentPair, from, to, latencyMs: Infinity, error: reason };
    }
  };
  try {
    let next = 0;
    const worker = async () => {
      while (next < pairs.length) await probe(next++);
    };
    await Promise.all(Array.from({ length: Math.min(pairs.length, Math.max(1, options.concurrency ?? 4)) }, worker));
  } finally {
    detach();
  }
  const latencies = results.map((r) => r.latencyMs).sort((a, b) => a - b);
  const answered = latencies.filter(Number.isFinite);
  const mean = (values: readonly number[]) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
  return {
    pairs: results,
    pairsTotal: candidates.length,
    pairsMeasured: results.length,
    timeouts: latencies.length - answered.length,
    meanMs: mean(latencies),
    p50Ms: percentile(latencies, 0.5),
    p95Ms: percentile(latencies, 0.95),
    maxMs: latencies.length === 0 ? 0 : (latencies[latencies.length - 1] as number),
    answeredMeanMs: mean(answered),
  };
}
