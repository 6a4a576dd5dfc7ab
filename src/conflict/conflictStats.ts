import type { SnapshotWriterStats } from '../store/snapshotWriter';

/** Counters of a conflict engine. Times are milliseconds on the runtime's clock. */
export interface ConflictStats {
  readonly conflictsDetected: number;
  readonly conflictsResolved: number;
  readonly conflictsEscalated: number;
  /** Tallies run by the voting strategy. */
  readonly consensusAttempts: number;
  /** Share of consensus attempts that reached consensus (0 with no attempt). */
  readonly consensusSuccessRate: number;
  /** Mean time from detection to resolution of resolved conflicts. */
  readonly avgResolutionTime: number;
  /** Escalated share of finished conflicts (0 with none finished). */
  readonly escalationRate: number;
  /** Conflicts open now. */
  readonly activeConflicts: number;
  /** Same as `conflictsResolved` (the spec lists both). */
  readonly resolvedConflicts: number;
  readonly votesReceived: number;
  readonly abstentions: number;
  readonly decisionsExecuted: number;
  readonly decisionsHeld: number;
  /**
   * Messages conflict actors ignored since this engine started (not restored from a store):
   * sent to an actor by its system id instead of by the engine, malformed, from a voter not
   * awaited, or not expected in the conflict's phase.
   */
  readonly ignoredMessages: number;
  /** Writes to the store (null without one); `fenced`: another engine restored from the same key and took over. */
  readonly persistence: SnapshotWriterStats | null;
}

/** The raw counters behind {@link ConflictStats}, as persisted. @internal */
export interface CounterValues {
  readonly detected: number;
  readonly resolved: number;
  readonly escalated: number;
  readonly consensusAttempts: number;
  readonly consensusSuccesses: number;
  readonly resolutionTimeTotal: number;
  readonly votes: number;
  readonly abstentions: number;
  readonly executed: number;
  readonly held: number;
}

/** The engine's running counters; everything in {@link ConflictStats} is derived in O(1). @internal */
export class ConflictCounters implements CounterValues {
  detected = 0;
  resolved = 0;
  escalated = 0;
  consensusAttempts = 0;
  consensusSuccesses = 0;
  resolutionTimeTotal = 0;
  votes = 0;
  abstentions = 0;
  executed = 0;
  held = 0;
  /** Not persisted: see `ConflictStats.ignoredMessages`. */
  ignoredMessages = 0;

  values(): CounterValues {
    const { detected, resolved, escalated, consensusAttempts, consensusSuccesses, resolutionTimeTotal, votes, abstentions, executed, held } = this;
    return { detected, resolved, escalated, consensusAttempts, consensusSuccesses, resolutionTimeTotal, votes, abstentions, executed, held };
  }

  /** Adds counters restored from a store to what this engine counted before restoring. */
  add(other: CounterValues): void {
    this.detected += other.detected;
    this.resolved += other.resolved;
    this.escalated += other.escalated;
    this.consensusAttempts += other.consensusAttempts;
    this.consensusSuccesses += other.consensusSuccesses;
    this.resolutionTimeTotal += other.resolutionTimeTotal;
    this.votes += other.votes;
    this.abstentions += other.abstentions;
    this.executed += other.executed;
    this.held += other.held;
  }

  snapshot(active: number, persistence: ConflictStats['persistence'] = null): ConflictStats {
    const finished = this.resolved + this.escalated;
    return {
      conflictsDetected: this.detected,
      conflictsResolved: this.resolved,
      conflictsEscalated: this.escalated,
      consensusAttempts: this.consensusAttempts,
      consensusSuccessRate: this.consensusAttempts === 0 ? 0 : this.consensusSuccesses / this.consensusAttempts,
      avgResolutionTime: this.resolved === 0 ? 0 : this.resolutionTimeTotal / this.resolved,
      escalationRate: finished === 0 ? 0 : this.escalated / finished,
      activeConflicts: active,
      resolvedConflicts: this.resolved,
      votesReceived: this.votes,
      abstentions: this.abstentions,
      decisionsExecuted: this.executed,
      decisionsHeld: this.held,
      ignoredMessages: this.ignoredMessages,
      persistence,
    };
  }
}
