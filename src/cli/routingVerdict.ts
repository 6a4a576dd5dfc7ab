/** How many trades one routing filled. */
export interface FillCount {
  readonly filled: number;
  readonly total: number;
}

/** The demo's judgement of swarm routing against the round-robin baseline. */
export type RoutingVerdict = 'better' | 'no better' | 'worse';

/**
 * Smallest difference in fills that counts: 5 % of the trades, at least 2. Both runs see the
 * same market and the same exchange draws, so a smaller gap is noise from which desk happened
 * to get which round, not something routing earned.
 */
export function verdictMarginFills(total: number): number {
  return Math.max(2, Math.ceil(total * 0.05));
}

/** "better" / "worse" when swarm fills differ from the baseline's by at least the margin, else "no better". */
export function compareRouting(swarm: FillCount, baseline: FillCount): { readonly verdict: RoutingVerdict; readonly marginFills: number } {
  const marginFills = verdictMarginFills(Math.max(swarm.total, baseline.total));
  const difference = swarm.filled - baseline.filled;
  const verdict = difference >= marginFills ? 'better' : difference <= -marginFills ? 'worse' : 'no better';
  return { verdict, marginFills };
}
