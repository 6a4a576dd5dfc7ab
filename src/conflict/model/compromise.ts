import { z } from 'zod';
import { ConflictType, type Conflict, type ConsensusAlgorithm, type ConsensusResult, type Vote } from './conflictTypes';

/** One agent's demand for a resource. */
export interface ResourceClaim {
  readonly agentId: string;
  readonly amount: number;
}

/** A value with its weight, for {@link weightedMedian}. */
export interface WeightedValue {
  readonly value: number;
  readonly weight: number;
}

/**
 * Splits `available` capacity among claims in proportion to stake, never giving an
 * agent more than it asked for: capacity an agent cannot use is shared again among the
 * others by stake (water-filling). Several claims of one agent add up. When capacity
 * covers every claim, everyone gets what it asked. Amounts may be fractional.
 *
 * @example
 * ```ts
 * allocateByStake(100, [{ agentId: 'a', amount: 80 }, { agentId: 'b', amount: 80 }], (id) => (id === 'a' ? 1.5 : 0.5));
 * // { a: 75, b: 25 }
 * ```
 */
export function allocateByStake(available: number, claims: readonly ResourceClaim[], stakeOf: (agentId: string) => number): Record<string, number> {
  const demand = new Map<string, number>();
  for (const claim of claims) demand.set(claim.agentId, (demand.get(claim.agentId) ?? 0) + Math.max(0, claim.amount));
  const allocation = new Map<string, number>();
  for (const agentId of demand.keys()) allocation.set(agentId, 0);
  // Agents with zero stake would otherwise get nothing however much is left over.
  const anyStake = [...demand.keys()].some((id) => stakeOf(id) > 0);
  const weight = (id: string) => (anyStake ? Math.max(0, stakeOf(id)) : 1);
  let remaining = Math.max(0, available);
  let open = [...demand.keys()].filter((id) => (demand.get(id) ?? 0) > 0);
  while (open.length > 0 && remaining > 0) {
    const totalWeight = open.reduce((sum, id) => sum + weight(id), 0);
    const share = (id: string) => (totalWeight === 0 ? remaining / open.length : (remaining * weight(id)) / totalWeight);
    const satisfied = open.filter((id) => share(id) >= (demand.get(id) ?? 0));
    if (satisfied.length === 0) {
      for (const id of open) allocation.set(id, share(id));
      break;
    }
    for (const id of satisfied) {
      const amount = demand.get(id) ?? 0;
      allocation.set(id, amount);
      remaining -= amount;
    }
    open = open.filter((id) => !satisfied.includes(id));
  }
  // fromEntries defines every id as an own key (`__proto__` included); assignment would not.
  return Object.fromEntries(allocation);
}

/**
 * The lower weighted median: the smallest value at which the cumulative weight reaches
 * half of the total. Undefined when there is no value or no weight.
 *
 * @example
 * ```ts
 * weightedMedian([{ value: 10, weight: 1 }, { value: 20, weight: 0.5 }, { value: 30, weight: 0.4 }]); // 10
 * ```
 */
export function weightedMedian(values: readonly WeightedValue[]): number | undefined {
  const sorted = values.filter((v) => v.weight > 0).sort((a, b) => a.value - b.value);
  const total = sorted.reduce((sum, v) => sum + v.weight, 0);
  if (total === 0) return undefined;
  let cumulative = 0;
  for (const v of sorted) {
    cumulative += v.weight;
    if (cumulative >= total / 2) return v.value;
  }
  return sorted[sorted.length - 1]?.value;
}

const ResourceElementsSchema = z.object({
  resourceType: z.string().default(''),
  available: z.number().finite().nonnegative(),
  requests: z.array(z.object({ agentId: z.string().min(1), amount: z.number().finite().nonnegative() })).min(1, 'needs at least one request'),
});

/** A compromise, or why none applies. */
export type CompromiseOutcome = { readonly applicable: true; readonly result: ConsensusResult } | { readonly applicable: false; readonly detail: string };

/**
 * The compromise strategy:
 * - resource conflicts: the available capacity split by stake ({@link allocateByStake});
 *   the decision is `{ action: 'allocate', resourceType, allocations }` with confidence 1,
 *   because the split is feasible by construction and binds every party;
 * - numeric votes: the stake-weighted median, with the stake-weighted mean confidence;
 * - anything else: not applicable (the conflict escalates with `detail` as the reason).
 *
 * @example
 * ```ts
 * const outcome = proposeCompromise(conflict, votes, { a: 1.5, b: 0.5 }, 'weighted_consensus');
 * if (outcome.applicable) console.log(outcome.result.decision);
 * ```
 */
export function proposeCompromise(conflict: Conflict, votes: readonly Vote[], stakes: Readonly<Record<string, number>>, algorithm: ConsensusAlgorithm): CompromiseOutcome {
  if (conflict.conflictType === ConflictType.RESOURCE_CONFLICT) {
    const parsed = ResourceElementsSchema.safeParse(conflict.conflictingElements);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { applicable: false, detail: `resource conflict without usable requests: ${issue?.path.join('.')}: ${issue?.message}` };
    }
    const { resourceType, available, requests } = parsed.data;
    const allocations = allocateByStake(available, requests, (id) => (Object.hasOwn(stakes, id) ? stakes[id] : undefined) ?? 0);
    return {
      applicable: true,
      result: {
        achieved: true,
        decision: { action: 'allocate', resourceType, allocations },
        confidence: 1,
        agreement: 1,
        algorithm,
        participants: Object.keys(allocations),
      },
    };
  }
  const ballots = votes.filter((v) => v.decision !== null);
  if (ballots.length === 0) return { applicable: false, detail: 'no votes to compromise between' };
  if (!ballots.every((v) => typeof v.decision === 'number')) {
    return { applicable: false, detail: 'votes are neither numeric nor a resource split' };
  }
  const median = weightedMedian(ballots.map((v) => ({ value: v.decision as number, weight: v.stake })));
  if (median === undefined) return { applicable: false, detail: 'numeric votes carry no stake' };
  const ballotStake = ballots.reduce((sum, v) => sum + v.stake, 0);
  const totalStake = votes.reduce((sum, v) => sum + v.stake, 0);
  const atMedian = ballots.filter((v) => v.decision === median).reduce((sum, v) => sum + v.stake, 0);
  return {
    applicable: true,
    result: {
      achieved: true,
      decision: median,
      confidence: ballots.reduce((sum, v) => sum + v.stake * v.confidence, 0) / ballotStake,
      agreement: totalStake === 0 ? 0 : atMedian / totalStake,
      algorithm,
      participants: ballots.map((v) => v.agentId),
    },
  };
}
