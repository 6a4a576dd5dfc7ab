import { z } from 'zod';
import { ValidationError } from '../errors';

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
