import { z } from 'zod';
import { ValidationError } from '../errors';
import { systemClock, type NeuroFluxClock } from '../kernel/clock';
import { describeError } from '../describeError';

/** System load as the scaling check sees it. Usages are percentages (0–100). */
export interface ScalingMetrics {
  readonly cpuUsage: number;
  readonly memoryUsage: number;
  /** Tasks or messages waiting. */
  readonly queueDepth: number;
}

/** One running agent instance. `utilization` is a percentage (0–100). */
export interface AgentInstance {
  readonly agentId: string;
  readonly agentType: string;
  readonly utilization: number;
}

/**
 * Starts and stops agent processes: the user's side of scaling (a process manager, a
 * container scheduler, `child_process.fork`...). A launched agent registers itself with
 * the orchestrator, as any remote agent does.
 */
export interface AgentLauncher {
  launch(agentId: string, agentType: string): Promise<void>;
  shutdown(agentId: string): Promise<void>;
}

/** Why a scale-out happened, in the guide's order of precedence. */
export type ScaleOutReason = 'cpu' | 'memory' | 'queue';

/** What one check decided: agents to launch and agents to shut down. */
export interface ScalingDecision {
  readonly scaleOut?: { readonly reason: ScaleOutReason; readonly agentType: string; readonly launch: readonly string[] };
  readonly scaleIn: readonly string[];
}

const ScalingPolicySchema = z.object({
  cpuScaleOutPercent: z.number().min(0).max(100).default(80),
  memoryScaleOutPercent: z.number().min(0).max(100).default(85),
  queueDepthScaleOut: z.number().nonnegative().default(100),
  cpuScaleInPercent: z.number().min(0).max(100).default(30),
  /** Scale in only when more agents than this run in all. */
  scaleInAboveAgents: z.number().int().nonnegative().default(3),
  /** An agent under this utilization is a candidate for removal. */
  underutilizedPercent: z.number().min(0).max(100).default(20),
  minAgentsPerType: z.number().int().nonnegative().default(2),
  maxAgentsPerType: z.number().int().positive().default(20),
  /** Agent type launched for each scale-out reason (the guide's names by default). */
  agentTypes: z
    .object({ cpu: z.string().min(1), memory: z.string().min(1), queue: z.string().min(1) })
    .default({ cpu: 'cpu_intensive', memory: 'memory_intensive', queue: 'queue_bound' }),
});

/** Thresholds of scaling (defaults: SPEC section 5). */
export type ScalingPolicy = z.input<typeof ScalingPolicySchema>;

const MetricsSchema = z.object({
  cpuUsage: z.number().finite(),
  memoryUsage: z.number().finite(),
  queueDepth: z.number().finite().nonnegative(),
});

function parsePolicy(policy: ScalingPolicy | undefined): z.output<typeof ScalingPolicySchema> {
  const parsed = ScalingPolicySchema.safeParse(policy ?? {});
  if (!parsed.success) throw ValidationError.fromZod('scaling policy', parsed.error);
  return parsed.data;
}

/**
 * The pure scaling rule (SPEC section 5, the guide's `monitor_system_load`): scale out
 * when CPU > 80 %, else memory > 85 %, else queue depth > 100, doubling the agents of the
 * matching type up to 20 (from none, one is launched); scale in when CPU < 30 % and more
 * than 3 agents run, removing agents under 20 % utilization while keeping 2 per type.
 * `newAgentId` names launched agents.
 *
 * @example
 * ```ts
 * planScaling({ cpuUsage: 90, memoryUsage: 10, queueDepth: 0 }, agents, {}, (type, i) => `${type}_${i}`);
 * // → { scaleOut: { reason: 'cpu', agentType: 'cpu_intensive', launch: [...] }, scaleIn: [] }
 * ```
 */
export function planScaling(
  metrics: ScalingMetrics,
  agents: readonly AgentInstance[],
  policy: ScalingPolicy = {},
  newAgentId: (agentType: string, index: number) => string = (type, i) => `${type}_${i}`,
): ScalingDecision {
  const p = parsePolicy(policy);
  const m = MetricsSchema.safeParse(metrics);
  if (!m.success) throw ValidationError.fromZod('scaling metrics', m.error);
  const countOf = (type: string) => agents.filter((a) => a.agentType === type).length;

  let reason: ScaleOutReason | undefined;
  if (m.data.cpuUsage > p.cpuScaleOutPercent) reason = 'cpu';
  else if (m.data.memoryUsage > p.memoryScaleOutPercent) reason = 'memory';
  else if (m.data.queueDepth > p.queueDepthScaleOut) reason = 'queue';
  let scaleOut: ScalingDecision['scaleOut'];
  if (reason) {
    const agentType = p.agentTypes[reason];
    const current = countOf(agentType);
    const target = Math.min(Math.max(current * 2, 1), p.maxAgentsPerType);
    const launch: string[] = [];
    for (let i = current; i < target; i++) launch.push(newAgentId(agentType, i));
    scaleOut = { reason, agentType, launch };
  }

  const scaleIn: string[] = [];
  if (m.data.cpuUsage < p.cpuScaleInPercent && agents.length > p.scaleInAboveAgents) {
    const idleByType = new Map<string, string[]>();
    for (const a of agents) {
      if (a.utilization >= p.underutilizedPercent) continue;
      const list = idleByType.get(a.agentType) ?? [];
      list.push(a.agentId);
      idleByType.set(a.agentType, list);
    }
    for (const [type, ids] of idleByType) scaleIn.push(...ids.slice(0, Math.max(0, countOf(type) - p.minAgentsPerType)));
  }
  return scaleOut ? { scaleOut, scaleIn } : { scaleIn };
}

/** Options of a {@link ScalingManager}. */
export interface ScalingManagerOptions {
  launcher: AgentLauncher;
  /** Reads the current load (CPU and memory in percent, queue depth). */
  metrics: () => ScalingMetrics | Promise<ScalingMetrics>;
  /** The agents running now, with their type and utilization. */
  agents: () => readonly AgentInstance[] | Promise<readonly AgentInstance[]>;
  policy?: ScalingPolicy;
  /** Time between checks, ms (default 60 000). */
  intervalMs?: number;
  clock?: NeuroFluxClock;
  /** Called with every decision that launched or stopped something, and with launcher errors. */
  onDecision?: (decision: ScalingDecision, errors: readonly Error[]) => void;
}

/**
 * Checks the load every 60 s on the injected clock and scales through the user's
 * {@link AgentLauncher} by {@link planScaling}. Launcher failures are reported to
 * `onDecision`, never thrown out of the timer.
 *
 * @example
 * ```ts
 * const scaling = new ScalingManager({ launcher, metrics: readLoad, agents: listAgents });
 * scaling.start();
 * // ...
 * await scaling.stop();
 * ```
 */
export class ScalingManager {
  private readonly options: ScalingManagerOptions;
  private readonly policy: z.output<typeof ScalingPolicySchema>;
  private readonly clock: NeuroFluxClock;
  private readonly intervalMs: number;
  private timer: unknown = undefined;
  private running: Promise<ScalingDecision> | undefined;
  private started = false;

  constructor(options: ScalingManagerOptions) {
    this.policy = parsePolicy(options.policy);
    const interval = z.number().positive().default(60_000).safeParse(options.intervalMs);
    if (!interval.success) throw ValidationError.fromZod('scaling options', interval.error);
    for (const field of ['metrics', 'agents'] as const) {
      if (typeof options[field] !== 'function') throw new ValidationError('scaling options', [{ path: field, message: 'must be a function' }]);
    }
    if (typeof options.launcher?.launch !== 'function' || typeof options.launcher.shutdown !== 'function') {
      throw new ValidationError('scaling options', [{ path: 'launcher', message: 'must have launch and shutdown' }]);
    }
    this.intervalMs = interval.data;
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  /** Arms the periodic check (first one after one interval). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.arm();
  }

  /** Stops checking and waits for a check in progress. */
  async stop(): Promise<void> {
    this.started = false;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Runs one check now: reads metrics and agents, plans, launches and shuts down. */
  async check(): Promise<ScalingDecision> {
    if (this.running) return this.running;
    this.running = this.runCheck().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runCheck(): Promise<ScalingDecision> {
    const [metrics, agents] = await Promise.all([this.options.metrics(), this.options.agents()]);
    const now = this.clock.now();
    const decision = planScaling(metrics, agents, this.policy, (type, i) => `${type}_${i}_${now}`);
    const errors: Error[] = [];
    const attempt = (p: Promise<void>) => p.catch((e: unknown) => void errors.push(asError(e)));
    const { launcher } = this.options;
    const out = decision.scaleOut;
    await Promise.all([
      ...(out ? out.launch.map((id) => attempt(launcher.launch(id, out.agentType))) : []),
      ...decision.scaleIn.map((id) => attempt(launcher.shutdown(id))),
    ]);
    if ((out && out.launch.length > 0) || decision.scaleIn.length > 0 || errors.length > 0) this.options.onDecision?.(decision, errors);
    return decision;
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => {
      if (!this.started) return;
      void this.check()
        .catch((e: unknown) => this.options.onDecision?.({ scaleIn: [] }, [asError(e)]))
        .finally(() => {
          if (this.started) this.arm();
        });
    }, this.intervalMs);
  }
}

/** What a launcher threw, as an Error: itself when it is one, else an Error with its text. */
function asError(thrown: unknown): Error {
  try {
    if (thrown instanceof Error) return thrown;
  } catch {
    // A Proxy whose prototype trap throws.
  }
  return new Error(describeError(thrown));
}
