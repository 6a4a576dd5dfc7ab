import type { ConflictType } from './model/conflictTypes';
import { clampStake, computeStake, type StakeProvider } from './model/stakes';
import type { PerformanceLedger } from './performanceLedger';

/**
 * Where the engine's stakes and expert records come from: the `stakeProvider` option when
 * given (its answer clamped to [0.1, 2.0]; a throw, whatever it throws, is the default
 * stake), otherwise the performance ledger.
 * @internal
 */
export class StakeSource {
  constructor(
    private readonly ledger: PerformanceLedger,
    private readonly provider: StakeProvider | undefined,
  ) {}

  /** An agent's stake for a conflict type. */
  stakeOf(agentId: string, conflictType: ConflictType): number {
    if (!this.provider) return this.ledger.stakeOf(agentId, conflictType);
    try {
      return clampStake(this.provider(agentId, conflictType));
    } catch {
      return computeStake();
    }
  }

  /** The agent's record for a conflict type, which picks the expert: the provider's stake, or its per-type weight. */
  expertRecordOf(agentId: string, conflictType: ConflictType): number {
    return this.provider ? this.stakeOf(agentId, conflictType) : this.ledger.recordFor(agentId, conflictType);
  }
}
