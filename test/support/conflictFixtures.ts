import type { ConflictMachineInput } from '../../machines/conflict.machine';
import type { ConflictInput } from '../../src';
import type { Conflict } from '../../src/conflict/model/conflictTypes';

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

/** A detected conflict between agents `a` and `b`, with a 60 s deadline, as a conflict actor sees it. */
export const machineConflict: Conflict = {
  conflictId: 'c1',
  conflictType: 'signal_conflict',
  description: '',
  involvedAgents: ['a', 'b'],
  conflictingElements: {},
  severity: 0.5,
  detectedAt: 0,
  resolutionDeadline: 60_000,
  options: [],
};

/** The input the engine gives the actor of {@link machineConflict}. */
export const machineConflictInput: ConflictMachineInput = {
  conflict: machineConflict,
  deadlineMs: 60_000,
  voteTimeoutMs: 30_000,
  confidenceThreshold: 0.7,
  executionThreshold: 0.7,
};
