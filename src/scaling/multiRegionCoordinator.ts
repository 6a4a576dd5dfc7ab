import { z } from 'zod';
import { ErrorCode, NeuroFluxError, ValidationError, type NeuroFluxErrorOptions } from '../errors';

const MaxLatencySchema = z.number().positive().default(500);

/** What a region reports about itself. */
export interface RegionStatus {
  readonly region: string;
  /** Round-trip latency from here to the region, ms. */
  readonly latencyMs: number;
  /** Load between 0 (idle) and 1 (saturated). */
  readonly load: number;
  /** Capabilities of the agents in the region. */
  readonly capabilities: readonly string[];
}

/** A region's score for one task and its parts, each between 0 and 1. */
export interface RegionScore {
  readonly region: string;
  readonly score: number;
  readonly latencyScore: number;
  readonly loadScore: number;
  readonly capabilityScore: number;
}

/** No region can take the task (none known, or none has every required capability). */
export class NoRegionError extends NeuroFluxError {
  constructor(
    readonly requiredCapabilities: readonly string[],
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.NO_REGION, `no region can take a task requiring [${requiredCapabilities.join(', ')}]`, options);
  }
}

const RegionStatusSchema = z.object({
  region: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, - or _ (it is a subject token)'),
  latencyMs: z.number().finite().nonnegative(),
  load: z.number().min(0).max(1),
  capabilities: z.array(z.string().min(1)),
});

/**
 * Scores a region for a task (SPEC section 5): `0.4 × latency + 0.3 × load + 0.3 ×
 * capability`, with latency score `max(0, 1 − latency / maxLatencyMs)`, load score
 * `1 − load` and capability score the share of required capabilities the region has
 * (1 when none is required).
 *
 * @example
 * ```ts
 * scoreRegion({ region: 'us-east', latencyMs: 20, load: 0.5, capabilities: ['trading'] }, ['trading']).score; // 0.834
 * ```
 */
export function scoreRegion(status: RegionStatus, requiredCapabilities: readonly string[], maxLatencyMs = 500): RegionScore {
  const latencyScore = Math.max(0, 1 - status.latencyMs / maxLatencyMs);
  const loadScore = 1 - Math.min(1, Math.max(0, status.load));
  const have = new Set(status.capabilities);
  const capabilityScore = requiredCapabilities.length === 0 ? 1 : requiredCapabilities.filter((c) => have.has(c)).length / requiredCapabilities.length;
  return { region: status.region, score: 0.4 * latencyScore + 0.3 * loadScore + 0.3 * capabilityScore, latencyScore, loadScore, capabilityScore };
}

/** The subject (and bus topic) on which a region's orchestrator takes routed tasks. */
export function regionTaskSubject(namespace: string, region: string): string {
  return `nf.${namespace}.region.${region}.tasks`;
}

/** Options of a {@link MultiRegionCoordinator}. */
export interface MultiRegionCoordinatorOptions<T> {
  /**
   * Sends a task to a region, e.g. an event on the bus topic {@link regionTaskSubject}, which
   * the NATS transport carries to the processes of the namespace (the region's intake agent
   * subscribes to it).
   */
  dispatch: (region: string, task: T) => Promise<void> | void;
  /** Latency at which the latency score reaches 0 (ms, default 500). */
  maxLatencyMs?: number;
  /** Only regions with every required capability are eligible (default true). */
  requireAllCapabilities?: boolean;
}

/**
 * Routes tasks to the best region by {@link scoreRegion}. Regions report their status
 * with `updateRegion`; ties go to the region reported first.
 *
 * @example
 * ```ts
 * // Router process: tasks go out as bus events, carried over NATS by the runtime's transport.
 * const nf = createNeuroFlux({ transport: nats({ servers, namespace: 'prod' }) });
 * await nf.start();
 * const regions = new MultiRegionCoordinator<{ taskId: string; requiredCapabilities: string[] }>({
 *   dispatch: (region, task) => void nf.bus.publishEvent({ senderId: 'region-router', topic: regionTaskSubject('prod', region), payload: task }),
 * });
 * regions.updateRegion({ region: 'eu-central', latencyMs: 30, load: 0.2, capabilities: ['trading'] });
 * await regions.routeTask({ taskId: 't1', requiredCapabilities: ['trading'] });
 *
 * // A process of region eu-central (same namespace): its intake agent submits what it is routed.
 * euNf.bus.registerAgent('eu-central-intake', {
 *   topics: [regionTaskSubject('prod', 'eu-central')],
 *   handler: (message) => void euNf.orchestrator.submitTask(message.payload as TaskInput),
 * });
 * ```
 */
export class MultiRegionCoordinator<T extends { requiredCapabilities?: readonly string[] }> {
  private readonly regions = new Map<string, RegionStatus>();
  private readonly options: MultiRegionCoordinatorOptions<T>;

  constructor(options: MultiRegionCoordinatorOptions<T>) {
    if (typeof options?.dispatch !== 'function') throw new ValidationError('multi-region options', [{ path: 'dispatch', message: 'must be a function' }]);
    const max = MaxLatencySchema.safeParse(options.maxLatencyMs);
    if (!max.success) throw ValidationError.fromZod('multi-region options', max.error);
    this.options = { ...options, maxLatencyMs: max.data };
  }

  /** Records (or replaces) a region's status. */
  updateRegion(status: RegionStatus): void {
    const parsed = RegionStatusSchema.safeParse(status);
    if (!parsed.success) throw ValidationError.fromZod('region status', parsed.error);
    this.regions.set(parsed.data.region, parsed.data);
  }

  removeRegion(region: string): boolean {
    return this.regions.delete(region);
  }

  /** Every region's score for a task requiring `requiredCapabilities`, best first. */
  rank(requiredCapabilities: readonly string[] = []): RegionScore[] {
    const scores = [...this.regions.values()].map((r) => scoreRegion(r, requiredCapabilities, this.options.maxLatencyMs));
    const eligible = this.options.requireAllCapabilities === false ? scores : scores.filter((s) => s.capabilityScore === 1);
    // Stable sort: ties keep the order regions were first reported in.
    return eligible.sort((a, b) => b.score - a.score);
  }

  /** Dispatches a task to the best region and returns that region's score. */
  async routeTask(task: T): Promise<RegionScore> {
    const required = task.requiredCapabilities ?? [];
    const best = this.rank(required)[0];
    if (!best) throw new NoRegionError(required);
    await this.options.dispatch(best.region, task);
    return best;
  }
}
