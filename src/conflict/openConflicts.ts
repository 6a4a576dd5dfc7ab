import type { Subscription } from 'xstate';
import { conflictStatusOf, type ConflictMachineEvent } from '../../machines/conflict.machine';
import { NotRunningError } from '../errors';
import { DuplicateConflictError } from './conflictErrors';
import { describeError } from '../describeError';
import type { NeuroFluxClock } from '../kernel/clock';
import { ConflictActors, type ConflictActor, type ConflictActorsOptions } from './conflictActors';
import type { ConflictEvent } from './conflictEvents';
import type { PersistedOpenConflict } from './conflictPersistence';
import { toResolution, type ConflictRecord, type ConflictResolution } from './conflictRecord';
import type { ConflictStateSaving } from './conflictStateSaving';
import type { ConflictCounters } from './conflictStats';
import type { FinishedConflicts } from './finishedConflicts';
import { EscalationReason, ResolutionStrategy, type Conflict, type ConflictStatus, type ConflictVerdict, type ConsensusAlgorithm, type Vote } from './model/conflictTypes';

interface Waiter {
  readonly resolve: (resolution: ConflictResolution) => void;
  readonly reject: (error: Error) => void;
}

/** An open conflict: its actor, what the engine listens to on it, and who waits for its end. */
interface OpenConflict {
  readonly conflict: Conflict;
  readonly actor: ConflictActor;
  /** Its emitted events (`actor.on`) and its snapshots (the end, a failure, a stop). */
  readonly listening: Subscription[];
  readonly waiters: Waiter[];
}

/** What following open conflicts needs from the engine. @internal */
export interface OpenConflictsDeps {
  /** What the conflicts' actors are made with. */
  readonly actors: ConflictActorsOptions;
  /** How long voters have to answer a conflict reported now. */
  readonly voteTimeoutMs: number;
  readonly finished: FinishedConflicts;
  readonly counters: ConflictCounters;
  /** The algorithm a resolution names when its conflict ended before one was chosen. */
  readonly defaultAlgorithm: ConsensusAlgorithm;
  /** Where the engine's events go (the subject behind `events$`; completed at stop, after which nothing more is sent). */
  readonly events: { next(event: ConflictEvent): void };
  /** With a store: told of each change, frozen when the system goes down. */
  readonly saving: ConflictStateSaving | undefined;
}

/**
 * Following each open conflict, from its report (or restore) to its end. The conflict's
 * actor says what happens: it emits `VOTES_RECORDED`, `HUMAN_DECISION_AWAITED` and
 * `MESSAGE_IGNORED` (`actor.on`), which become the engine's `VOTE_RECEIVED` and
 * `HUMAN_DECISION_REQUESTED` with their counters (and `ignoredMessages`); its snapshots say
 * when it changed (a write to the store), ended (the finished record kept, then the
 * resolution and its events published, the waiting `resolveConflict` calls settled),
 * failed (escalated as an internal error) or was stopped: with the system going down (the
 * bus's root no longer active) it is left open in the store; stopped alone while the
 * system runs (`xstate.stop` sent by its system id), it fails like any other failure. The
 * engine drives an open conflict only by messages to its actor (`send`), which the actor
 * takes as the engine's (`IssuedMessages`). Not a hot path (a handful of conflicts per
 * second at most; one costs ~0.8 ms of CPU, the same within noise as the snapshot diffing
 * this replaced: docs/conflicts.md, bench/profiles/conflictFollowingAB.ts), so actor events
 * are preferred to callbacks here.
 * @internal
 */
export class OpenConflicts {
  private readonly open = new Map<string, OpenConflict>();
  private readonly actors: ConflictActors;
  private readonly clock: Pick<NeuroFluxClock, 'now'>;

  constructor(private readonly deps: OpenConflictsDeps) {
    this.actors = new ConflictActors(deps.actors);
    this.clock = deps.actors.bus.clock;
  }

  /** Conflicts open now. */
  get size(): number {
    return this.open.size;
  }

  has(conflictId: string): boolean {
    return this.open.has(conflictId);
  }

  /** The open conflicts with their actors (for the saved state). */
  *values(): IterableIterator<{ readonly conflict: Conflict; readonly actor: ConflictActor }> {
    yield* this.open.values();
  }

  /** The conflict, while it is open. */
  conflictOf(conflictId: string): Conflict | undefined {
    return this.open.get(conflictId)?.conflict;
  }

  /** Where an open conflict is (undefined once it is not open). */
  statusOf(conflictId: string): ConflictStatus | undefined {
    const entry = this.open.get(conflictId);
    return entry && conflictStatusOf(entry.actor.getSnapshot().value);
  }

  /** An open conflict's record: where it is and its votes so far. */
  recordOf(conflictId: string): ConflictRecord | undefined {
    const entry = this.open.get(conflictId);
    return entry && this.recordOfEntry(entry, null);
  }

  /** Opens a conflict reported now: its actor starts in `detected`, followed before anyone hears of the conflict (a listener may resolve it at once). */
  report(conflict: Conflict): void {
    let actor: ConflictActor;
    try {
      actor = this.actors.spawn(conflict, this.deps.voteTimeoutMs);
    } catch (error) {
      // The only thing a spawn refuses: its system id `conflict:<id>` is taken (an actor of someone else's, in the same system).
      if (this.actors.isTaken(conflict.conflictId)) throw new DuplicateConflictError(conflict.conflictId, { cause: error });
      throw error;
    }
    this.follow(conflict, actor);
  }

  /** Opens a stored conflict again: its actor resumes in the phase it was in (one past its deadline has ended already, and is finished here). */
  resume(stored: PersistedOpenConflict): void {
    this.follow(stored.conflict, this.actors.resume(stored));
  }

  /** Tells an open conflict's actor what the engine was asked; false when the conflict is not open. */
  send(conflictId: string, event: ConflictMachineEvent): boolean {
    const entry = this.open.get(conflictId);
    if (entry) this.actors.send(entry.actor, conflictId, event);
    return entry !== undefined;
  }

  /** Settles with the conflict's resolution when it ends; rejects with `NotRunningError` if the engine stops first. Undefined when it is not open. */
  settled(conflictId: string): Promise<ConflictResolution> | undefined {
    const entry = this.open.get(conflictId);
    return entry && new Promise<ConflictResolution>((resolve, reject) => entry.waiters.push({ resolve, reject }));
  }

  /**
   * The engine stops: every open conflict is let go (its waiters rejected, a record without
   * a resolution kept) and the stored state frozen, so the store keeps them open for the
   * engine that restores it next; then every conflict actor is stopped.
   */
  stopAll(): void {
    this.freezeSaving();
    for (const entry of [...this.open.values()]) this.abandon(entry);
    this.actors.stopAll();
  }

  /**
   * Follows a conflict's new actor: what it emits, and its snapshots. Called before anyone
   * hears of the conflict, so that a listener that resolves it at once is followed too; an
   * actor that has already ended (a restored conflict past its deadline) is finished right here.
   */
  private follow(conflict: Conflict, actor: ConflictActor): void {
    const entry: OpenConflict = { conflict, actor, listening: [], waiters: [] };
    const { conflictId } = conflict;
    this.open.set(conflictId, entry);
    entry.listening.push(
      actor.on('VOTES_RECORDED', ({ votes }) => this.votesRecorded(entry, votes)),
      actor.on('HUMAN_DECISION_AWAITED', () => this.publish({ type: 'HUMAN_DECISION_REQUESTED', conflictId, conflict, at: this.clock.now() })),
      actor.on('MESSAGE_IGNORED', () => this.deps.counters.ignoredMessages++),
    );
    const snapshots = actor.subscribe({ next: () => this.changed(entry), error: (error) => this.fail(entry, error), complete: () => this.changed(entry) });
    entry.listening.push(snapshots);
  }

  private votesRecorded(entry: OpenConflict, votes: readonly Vote[]): void {
    const { conflictId } = entry.conflict;
    const at = this.clock.now();
    for (const vote of votes) {
      this.deps.counters.votes++;
      if (vote.decision === null) this.deps.counters.abstentions++;
      this.publish({ type: 'VOTE_RECEIVED', conflictId, vote, at });
    }
  }

  /** A new snapshot (or the end of the stream): written, or the conflict's end. */
  private changed(entry: OpenConflict): void {
    if (this.open.get(entry.conflict.conflictId) !== entry) return;
    const snapshot = entry.actor.getSnapshot();
    if (snapshot.status === 'done') this.finish(entry, snapshot.context.verdict);
    else if (snapshot.status !== 'stopped') this.deps.saving?.changed();
    else if (this.deps.actors.bus.root.getSnapshot().status !== 'active') {
      // The system is going down (the bus stopped): the store keeps the conflict open for the next engine.
      this.freezeSaving();
      this.abandon(entry);
    } else {
      // This one actor was stopped while the system runs: someone sent it `xstate.stop` by its
      // system id. Not a shutdown: the conflict fails on its own, and the store keeps being written.
      this.fail(entry, new Error('the conflict’s actor was stopped from outside while the engine ran'));
    }
  }

  /** The actor failed: the conflict escalates as an internal error (its own `escalate` effect cannot run). */
  private fail(entry: OpenConflict, error: unknown): void {
    if (this.open.get(entry.conflict.conflictId) !== entry) return;
    const verdict: ConflictVerdict = { status: 'escalated', reason: EscalationReason.INTERNAL_ERROR, detail: describeError(error), result: null };
    this.actors.escalate({ conflict: entry.conflict, verdict, votes: entry.actor.getSnapshot().context.votes });
    this.finish(entry, verdict);
  }

  private abandon(entry: OpenConflict): void {
    const { conflictId } = entry.conflict;
    this.open.delete(conflictId);
    for (const subscription of entry.listening) subscription.unsubscribe();
    for (const waiter of entry.waiters) waiter.reject(new NotRunningError('conflict engine'));
    this.deps.finished.keep(conflictId, this.recordOfEntry(entry, null));
  }

  private finish(entry: OpenConflict, verdict: ConflictVerdict | null): void {
    const { conflict } = entry;
    const { conflictId } = conflict;
    const { counters } = this.deps;
    const { clock } = this;
    this.open.delete(conflictId);
    for (const subscription of entry.listening) subscription.unsubscribe();
    const context = entry.actor.getSnapshot().context;
    const at = clock.now();
    const final: ConflictVerdict = verdict ?? {
      status: 'escalated',
      reason: EscalationReason.INTERNAL_ERROR,
      detail: 'the conflict ended without a verdict',
      result: null,
    };
    const resolution = toResolution(conflict, final, context.strategy, context.algorithm ?? this.deps.defaultAlgorithm, at);
    // What the final effects did (they ran inside the final transition): counted before anyone hears of the outcome, published after it.
    const effects = this.actors.takeEffects(conflictId);
    for (const event of effects) {
      if (event.type === 'DECISION_HELD') counters.held++;
      else if (event.type === 'DECISION_EXECUTED') counters.executed++;
    }
    // A consensus attempt is a tally of the voting strategy; a deadline that cut the vote short is none.
    const tallied = final.status === 'resolved' || final.reason === EscalationReason.NO_CONSENSUS;
    if (context.strategy === ResolutionStrategy.VOTING_CONSENSUS && tallied) {
      counters.consensusAttempts++;
      if (final.status === 'resolved') counters.consensusSuccesses++;
    }
    if (resolution.status === 'resolved') {
      counters.resolved++;
      counters.resolutionTimeTotal += at - conflict.detectedAt;
    } else counters.escalated++;
    // Kept before anyone hears of the outcome: a listener reads the record, records the
    // outcome, and a report of the same id is refused as a duplicate.
    this.deps.finished.keep(conflictId, this.recordOfEntry(entry, resolution));
    this.publish({ type: resolution.status === 'resolved' ? 'CONFLICT_RESOLVED' : 'CONFLICT_ESCALATED', conflictId, resolution, at });
    for (const event of effects) this.publish(event);
    this.deps.saving?.changed();
    for (const waiter of entry.waiters) waiter.resolve(resolution);
    this.actors.release(conflictId);
  }

  private recordOfEntry(entry: OpenConflict, resolution: ConflictResolution | null): ConflictRecord {
    const snapshot = entry.actor.getSnapshot();
    const { strategy, algorithm, votes } = snapshot.context;
    return { conflict: entry.conflict, status: resolution ? resolution.status : conflictStatusOf(snapshot.value), strategy, algorithm, votes, resolution };
  }

  /** From now on, writes (a pending one, a retry) carry the state as it is now, and nothing new is marked or archived. */
  private freezeSaving(): void {
    this.deps.saving?.freeze();
    this.deps.finished.detachArchive();
  }

  private publish(event: ConflictEvent): void {
    this.deps.events.next(event);
  }
}
