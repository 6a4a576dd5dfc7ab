import { z } from 'zod';
import { ValidationError } from '../errors';
import type { ConflictType, Decision, Vote } from './model/conflictTypes';
import { sameDecision } from './model/decisionKey';
import { computeStake, DEFAULT_PERFORMANCE, MAX_STAKE, MIN_STAKE } from './model/stakes';

/** Multiplicative-weights parameters. */
export const WeightUpdateSchema = z
  .object({
    /** Factor applied to the weights of a voter that was wrong (0 < β < 1). */
    beta: z.number().gt(0).lt(1).default(0.5),
    /**
     * Factor applied to the weights of a voter that was right. 1 is the classic
     * weighted-majority update (only the wrong are penalised); above 1 lets an agent
     * that was penalised earn its stake back.
     */
    reward: z.number().min(1).default(1),
    /** Weights never fall below this, so a voter is never silenced for good. */
    floor: z.number().positive().default(MIN_STAKE),
    /** Weights never rise above this. */
    cap: z.number().positive().default(MAX_STAKE),
  })
  .refine((o) => o.floor <= o.cap, { message: 'floor must not exceed cap', path: ['floor'] });
export type WeightUpdateOptions = z.input<typeof WeightUpdateSchema>;

/** What the engine knows about an agent's track record in conflicts. */
export interface AgentPerformance {
  readonly overall: number;
  readonly byType: Readonly<Partial<Record<ConflictType, number>>>;
}

/** How one voter fared once the true outcome of a conflict was known. */
export interface VoterOutcome {
  readonly agentId: string;
  readonly decision: Decision;
  readonly correct: boolean;
  /** The stake the vote carried. */
  readonly stake: number;
  /** The agent's stake for this conflict type after the update. */
  readonly stakeAfter: number;
}

interface MutablePerformance {
  overall: number;
  byType: Partial<Record<ConflictType, number>>;
}

const PerformanceSchema = z.object({
  overall: z.number().finite().nonnegative().optional(),
  byType: z.record(z.string(), z.number().finite().nonnegative()).optional(),
});

/**
 * Each agent's weights (overall and per conflict type), starting at 0.5, updated by
 * multiplicative weights once the true outcome of a conflict is known: a voter that was
 * wrong has both weights multiplied by β, one that was right by `reward`, within
 * [floor, cap]. Abstainers are not updated. Stakes follow `computeStake`.
 *
 * @example
 * ```ts
 * const ledger = new PerformanceLedger({ beta: 0.5 });
 * ledger.applyOutcome('signal_conflict', votes, 'BUY');
 * ledger.stakeOf('agent-1', 'signal_conflict');
 * ```
 */
export class PerformanceLedger {
  private readonly options: z.output<typeof WeightUpdateSchema>;
  private readonly agents = new Map<string, MutablePerformance>();

  constructor(options: WeightUpdateOptions = {}) {
    const parsed = WeightUpdateSchema.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod('weight update options', parsed.error);
    this.options = parsed.data;
  }

  /** The agent's weights (defaults for an unknown agent). */
  performanceOf(agentId: string): AgentPerformance {
    const p = this.agents.get(agentId);
    return p ? { overall: p.overall, byType: { ...p.byType } } : { overall: DEFAULT_PERFORMANCE, byType: {} };
  }

  /**
   * Seeds or overrides an agent's weights, e.g. from the task orchestrator's performance
   * scores. Values are kept within [floor, cap].
   */
  setPerformance(agentId: string, performance: Partial<AgentPerformance>): void {
    const parsed = PerformanceSchema.safeParse(performance);
    if (!parsed.success) throw ValidationError.fromZod('agent performance', parsed.error);
    const p = this.entry(agentId);
    if (parsed.data.overall !== undefined) p.overall = this.bound(parsed.data.overall);
    for (const [type, value] of Object.entries(parsed.data.byType ?? {})) {
      p.byType[type as ConflictType] = this.bound(value);
    }
  }

  /** True when the ledger holds weights of this agent (seeded or learned). */
  knows(agentId: string): boolean {
    return this.agents.has(agentId);
  }

  /** Every agent's weights, in the order the ledger first heard of them (what a store keeps). */
  entries(): { agentId: string; overall: number; byType: Partial<Record<ConflictType, number>> }[] {
    return [...this.agents].map(([agentId, p]) => ({ agentId, overall: p.overall, byType: { ...p.byType } }));
  }

  /** `0.6 × overall + 0.4 × per-type`, clamped to [0.1, 2.0]. */
  stakeOf(agentId: string, conflictType: ConflictType): number {
    const p = this.agents.get(agentId);
    return computeStake(p?.overall, p?.byType[conflictType]);
  }

  /** The agent's per-type weight: its record for this kind of conflict. */
  recordFor(agentId: string, conflictType: ConflictType): number {
    return this.agents.get(agentId)?.byType[conflictType] ?? DEFAULT_PERFORMANCE;
  }

  /**
   * Updates the weights of every non-abstaining voter against the true decision and
   * returns how each fared.
   */
  applyOutcome(conflictType: ConflictType, votes: readonly Vote[], actual: Decision): VoterOutcome[] {
    const outcomes: VoterOutcome[] = [];
    // One agent, one update, as in consensus: its last vote counts.
    const lastVote = new Map<string, Vote>();
    for (const vote of votes) lastVote.set(vote.agentId, vote);
    for (const vote of lastVote.values()) {
      if (vote.decision === null) continue;
      const correct = sameDecision(vote.decision, actual);
      const factor = correct ? this.options.reward : this.options.beta;
      const p = this.entry(vote.agentId);
      p.overall = this.bound(p.overall * factor);
      p.byType[conflictType] = this.bound((p.byType[conflictType] ?? DEFAULT_PERFORMANCE) * factor);
      outcomes.push({
        agentId: vote.agentId,
        decision: vote.decision,
        correct,
        stake: vote.stake,
        stakeAfter: this.stakeOf(vote.agentId, conflictType),
      });
    }
    return outcomes;
  }

  private entry(agentId: string): MutablePerformance {
    let p = this.agents.get(agentId);
    if (!p) this.agents.set(agentId, (p = { overall: DEFAULT_PERFORMANCE, byType: {} }));
    return p;
  }

  private bound(weight: number): number {
    return Math.min(this.options.cap, Math.max(this.options.floor, weight));
  }
}
