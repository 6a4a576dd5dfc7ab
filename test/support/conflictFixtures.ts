import type { ConflictInput } from '../../src';

/** Three agents disagree on a BTC signal; `extra` overrides fields. */
export const signalConflict = (extra: Partial<ConflictInput> = {}): ConflictInput => ({
  conflictType: 'signal_conflict',
  description: 'BTC signals disagree',
  involvedAgents: ['a', 'b', 'c'],
  conflictingElements: { symbol: 'BTC' },
  severity: 0.6,
  options: ['BUY', 'SELL', 'HOLD'],
  ...extra,
});
