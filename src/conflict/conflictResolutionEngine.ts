import { randomUUID } from 'node:crypto';
import { Subject, type Observable } from 'rxjs';
import { z } from 'zod';
import { CommunicationBus } from '../bus/communicationBus';
import { NotRunningError, ValidationError } from '../errors';
import { runtimeLogger } from '../kernel/runtimeLogger';
import { settleWithin } from '../kernel/settleWithin';
import { ConflictStateError, DuplicateConflictError, UnknownConflictError } from './conflictErrors';
import type { ConflictEvent, ConsensusOutcome } from './conflictEvents';
import { conflictEngineStateOf } from './conflictEngineState';
import { FinishedConflicts } from './finishedConflicts';
import type { ConflictForwarder } from './conflictForwarding';
import { humanDecisionSubmittedOf, resolutionRequestOf } from './conflictMessages';
import type { PersistedConflictEngine } from './conflictPersistence';
import { restoreConflicts } from './conflictRestore';
import { ConflictStateSaving } from './conflictStateSaving';
import type { ConflictRecord, ConflictResolution } from './conflictRecord';
import { ConflictCounters, type ConflictStats } from './conflictStats';
import { OpenConflicts } from './openConflicts';
import { learnFromOutcome } from './outcomeLearning';
import { reportedConflictOf } from './reportedConflict';
import { StakeSource } from './stakeSource';
import { ConflictStatus, ConflictType, DecisionSchema, type Conflict, type ConflictInput, type Decision, type HumanDecisionOptions } from './model/conflictTypes';
import { detectInContext } from './detectors/contextDetector';
import { detectPriorityConflicts, type AgentSlots, type TaskClaim } from './detectors/priorityDetector';
import { detectResourceConflicts, type ResourceAvailability, type ResourceRequest } from './detectors/resourceDetector';
import { detectSignalConflicts, type SignalRule, type TradingSignalInput } from './detectors/signalDetector';
import { detectTimingConflicts, type TimedAction, type TimingDetectionOptions } from './detectors/timingDetector';
import { PerformanceLedger, type AgentPerformance } from './performanceLedger';
import type { VoteFunction } from './voteCollection';
import { readOnlyCopy } from './conflictEvents';
import {
  DEFAULT_DEADLINE_MS,
  EngineOptionsSchema,
  ResolveOptionsSchema,
  type ConflictDetectionContext,
  type ConflictResolutionEngineOptions,
  type ResolveOptions,
} from './conflictEngineOptions';
import { NonEmptyIdSchema } from '../nonEmptyIdSchema';

export { DEFAULT_DEADLINE_MS, type ConflictDetectionContext, type ConflictResolutionEngineOptions, type ResolveOptions } from './conflictEngineOptions';

/**
 * Detects and resolves conflicts between agents. Each reported conflict is an actor
 * (`conflictMachine`) spawned under the bus's root; it collects votes over the bus
 * (`conflict_vote`), consults an expert, waits for a human, or applies a fallback or a
 * compromise, then executes the decision (`execute_decision`, or `execute_trade` for
 * trading signals) when its confidence is above the execution threshold, or broadcasts
 * `conflict_escalation`. Finished actors are stopped; a compact record stays.
 *
 * A facade: each open conflict is followed through what its actor emits (`openConflicts.ts`)
 * and driven by messages to it (`conflictMessages.ts`); reports are normalised in
 * `reportedConflict.ts`, stakes come from `stakeSource.ts`, the actors' lifecycle is
 * `conflictActors.ts`, finished records `finishedConflicts.ts`, the store `conflictStateSaving.ts`.
 *
 * @example
 * ```ts
 * const engine = new ConflictResolutionEngine({ bus, consensusAlgorithm: 'weighted_consensus' });
 * const [conflict] = engine.detectSignalConflict(signals);
 * const resolution = await engine.resolveConflict(conflict.conflictId);
 * if (resolution.status === 'resolved') console.log(resolution.decision, resolution.action);
 * ```
 */
export class ConflictResolutionEngine {
  /** Everything that happens to conflicts, as it happens. */
  readonly events$: Observable<ConflictEvent>;
  /** How each voter fared, once `recordOutcome` gives the true decision (for the swarm to learn from). */
  readonly outcomes$: Observable<ConsensusOutcome>;
  readonly bus: CommunicationBus;

  private readonly options: z.output<typeof EngineOptionsSchema>;
  private readonly ledger: PerformanceLedger;
  private readonly stakes: StakeSource;
  private readonly voteFunctions = new Map<string, VoteFunction>();
  private readonly open: OpenConflicts;
  private readonly finished: FinishedConflicts;
  /** Set while this engine is a standby's: reported conflicts go to the leader's engine. */
  private forwarder: ConflictForwarder | undefined;
  private readonly counters = new ConflictCounters();
  private readonly eventSubject = new Subject<ConflictEvent>();
  private readonly outcomeSubject = new Subject<ConsensusOutcome>();
  /** With a store: the state written there from `restore()` until the engine stops. */
  private readonly saving: ConflictStateSaving | undefined;
  private stopped = false;

  constructor(options: ConflictResolutionEngineOptions) {
    const parsed = EngineOptionsSchema.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod('conflict engine options', parsed.error);
    this.options = parsed.data;
    this.bus = parsed.data.bus;
    this.ledger = new PerformanceLedger(parsed.data.weightUpdate);
    this.stakes = new StakeSource(this.ledger, parsed.data.stakeProvider);
    this.events$ = this.eventSubject.asObservable();
    this.outcomes$ = this.outcomeSubject.asObservable();
    const maxAgeMs = parsed.data.finishedRecordMaxAgeMs;
    this.finished = new FinishedConflicts({ maxRecords: parsed.data.maxFinishedRecords, maxAgeMs: maxAgeMs === 0 ? Infinity : maxAgeMs }, () => this.bus.clock.now());
    const { store, storeKey } = parsed.data;
    this.saving = store && new ConflictStateSaving({ store, storeKey, archiveSegmentSize: parsed.data.archiveSegmentSize, capture: () => this.exportState() });
    this.saving?.events$.subscribe((event) => {
      // Another engine restored from the same key: it is the one deciding now.
      if (event.type === 'fenced') void this.stop();
      else this.emit({ type: 'STORE_PROBLEM', problem: event.problem, at: this.bus.clock.now() });
    });
    const { agentId: senderId, decisionExecutors, confidenceThreshold, executionThreshold } = parsed.data;
    this.open = new OpenConflicts({
      actors: { bus: this.bus, senderId, voteFunctions: this.voteFunctions, decisionExecutors, confidenceThreshold, executionThreshold },
      voteTimeoutMs: parsed.data.voteTimeoutMs,
      finished: this.finished,
      counters: this.counters,
      defaultAlgorithm: this.options.consensusAlgorithm,
      events: { next: (event) => this.publish(event) },
      saving: this.saving,
    });
  }

  /**
   * The engine runs from construction; `start` exists for symmetry with the other
   * components (and refuses a stopped engine).
   *
   * @example
   * ```ts
   * await engine.start();
   * ```
   */
  async start(): Promise<void> {
    if (this.stopped) throw new NotRunningError('conflict engine');
  }

  /**
   * Stops every open conflict (waiting `resolveConflict` calls reject with
   * `NotRunningError`) and completes `events$` and `outcomes$`.
   *
   * @example
   * ```ts
   * await engine.stop();
   * await bus.stop();
   * ```
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Open conflicts stay open in the store, for the engine that restores it next.
    this.open.stopAll();
    this.eventSubject.complete();
    this.outcomeSubject.complete();
    if (!this.saving) return;
    const timeoutMs = this.options.storeFlushTimeoutMs;
    if (!(await settleWithin(this.saving.flush(), timeoutMs, this.bus.clock))) {
      runtimeLogger(this.bus.root, { component: 'conflicts' }).warn(
        { storeFlushTimeoutMs: timeoutMs },
        'the store did not take the final flush in time: stopped without it (changes it had not written may be lost)',
      );
    }
  }

  /**
   * While `forwarder` is set, this engine is a standby's: a conflict reported to it (or
   * resolved through it) goes to the leader's engine over the bus and its transport, and is
   * not kept here. `createNeuroFlux` sets it under a leader election, and clears it when
   * this process is elected.
   * @internal
   */
  forwardTo(forwarder: ConflictForwarder | undefined): void {
    this.forwarder = forwarder;
  }

  // ---------------------------------------------------------------- persistence

  /**
   * Resolves once every change made so far is written to the store (or its write failed:
   * see `getStats().persistence`). Immediate without a store or before `restore()`.
   *
   * @example
   * ```ts
   * engine.recordOutcome(id, 'SELL');
   * await engine.flush(); // the updated ledger is in the store
   * ```
   */
  async flush(): Promise<void> {
    await this.saving?.flush();
  }

  /**
   * Loads the state persisted under `storeKey` (with `store`) and carries on from it:
   * finished conflicts come back as records (their outcome is kept, their decision is not
   * executed again, `recordOutcome` still works once); open ones get an actor again in the
   * phase they were in, with the votes, stakes and answers they had (voters not heard from
   * are asked again), their resolution deadline and vote window re-armed for the time left
   * to their absolute ends (already past: the conflict escalates at once). The performance
   * ledger and the counters come back too. Conflicts and ledger entries this engine already
   * holds are kept as they are. No events are emitted for what is restored as it was; a
   * conflict restored past its deadline escalates within `restore()`, which then emits its
   * `CONFLICT_ESCALATED` and the events of its effects (e.g. `DELIVERY_FAILED`).
   *
   * Taking over the key fences the previous writer: its next write fails, and its engine
   * stops. Writing starts here: an engine with a store writes nothing before `restore()`.
   * Call it once, after the agents that vote are registered (a restored vote is asked at once).
   *
   * @returns How many conflicts were restored (open and finished); 0 without a store or on a second call.
   * @throws ValidationError naming the first bad field when the stored state does not match its schema.
   * @throws NotRunningError when the engine is stopped.
   * @example
   * ```ts
   * const engine = new ConflictResolutionEngine({ bus, store: new FileSnapshotStore({ directory: './state' }) });
   * await engine.restore();
   * ```
   */
  async restore(): Promise<number> {
    if (this.stopped) throw new NotRunningError('conflict engine');
    const loaded = await this.saving?.takeOver(() => (this.stopped ? new NotRunningError('conflict engine') : undefined));
    if (!this.saving || !loaded) return 0;
    this.finished.attachArchive(this.saving.archive);
    const { counters, ledger, finished, open } = this;
    const restored = restoreConflicts(loaded, { counters, ledger, finished, open });
    // Outcomes recorded before the archive existed (stored in the value) or before this restore.
    this.finished.archiveRecordedOutcomes();
    this.saving.changed(); // claims the key: the previous writer's next write is fenced
    return restored;
  }

  // ---------------------------------------------------------------- detection

  /**
   * Runs every detector that has input in `context` and reports what they find.
   *
   * @example
   * ```ts
   * const found = engine.detectConflicts({ signals, resourceRequests, availability: { gpu: 4 } });
   * ```
   */
  detectConflicts(context: ConflictDetectionContext): Conflict[] {
    return detectInContext(context, this.bus.clock.now()).map((input) => this.report(input));
  }

  /**
   * Detects opposing BUY/SELL signals per symbol and timeframe and reports each conflict.
   * The `guide` rule (default) needs mean confidences more than 0.3 apart; `code` flags
   * any opposition with severity 0.8.
   *
   * @example
   * ```ts
   * const conflicts = engine.detectSignalConflict(
   *   [{ agentId: 'a', symbol: 'BTC', signal: 'BUY', confidence: 0.9 }, { agentId: 'b', symbol: 'BTC', signal: 'SELL', confidence: 0.4 }],
   *   { rule: 'guide' },
   * );
   * ```
   */
  detectSignalConflict(signals: readonly TradingSignalInput[], options: { rule?: SignalRule } = {}): Conflict[] {
    return detectSignalConflicts(signals, this.bus.clock.now(), options).map((input) => this.report(input));
  }

  /**
   * Detects oversubscribed resources and reports each conflict.
   *
   * @example
   * ```ts
   * engine.detectResourceConflict([{ agentId: 'a', resourceType: 'gpu', amount: 3 }, { agentId: 'b', resourceType: 'gpu', amount: 2 }], { gpu: 4 });
   * ```
   */
  detectResourceConflict(requests: readonly ResourceRequest[], availability: ResourceAvailability): Conflict[] {
    return detectResourceConflicts(requests, availability, this.bus.clock.now()).map((input) => this.report(input));
  }

  /**
   * Detects equal-priority tasks competing for too few slots of one agent and reports each conflict.
   *
   * @example
   * ```ts
   * engine.detectPriorityConflict(
   *   [{ taskId: 't1', agentId: 'w', priority: 'critical' }, { taskId: 't2', agentId: 'w', priority: 'critical' }],
   *   { w: 1 },
   * );
   * ```
   */
  detectPriorityConflict(claims: readonly TaskClaim[], slots: AgentSlots): Conflict[] {
    return detectPriorityConflicts(claims, slots, this.bus.clock.now()).map((input) => this.report(input));
  }

  /**
   * Detects opposing actions by different agents on one resource within a time window and reports each conflict.
   *
   * @example
   * ```ts
   * engine.detectTimingConflict([{ agentId: 'a', resource: 'BTC', action: 'buy', timestamp: 0 }, { agentId: 'b', resource: 'BTC', action: 'sell', timestamp: 800 }]);
   * ```
   */
  detectTimingConflict(actions: readonly TimedAction[], options: TimingDetectionOptions = {}): Conflict[] {
    return detectTimingConflicts(actions, this.bus.clock.now(), options).map((input) => this.report(input));
  }

  // ---------------------------------------------------------------- lifecycle of a conflict

  /**
   * Validates and registers a conflict: its actor starts in `detected` and its deadline
   * runs from now. Returns the conflict id (given, or generated).
   *
   * @throws ValidationError for a malformed conflict; DuplicateConflictError for a known id.
   * @example
   * ```ts
   * const id = engine.reportConflict({ conflictType: 'strategy_conflict', involvedAgents: ['a', 'b'], severity: 0.6 });
   * ```
   */
  reportConflict(conflict: ConflictInput | Conflict): string {
    return this.report(conflict).conflictId;
  }

  /**
   * Resolves a conflict (reporting it first when given a new conflict) with a strategy
   * and algorithm (the engine's by default), and settles when it ends: resolved
   * (executed or held) or escalated. A conflict already being resolved keeps its first
   * strategy; a finished one gives its stored resolution.
   *
   * @example
   * ```ts
   * const resolution = await engine.resolveConflict(id, { strategy: 'voting_consensus', algorithm: 'bft' });
   * ```
   */
  resolveConflict(target: string | ConflictInput | Conflict, options: ResolveOptions = {}): Promise<ConflictResolution> {
    try {
      const parsed = ResolveOptionsSchema.safeParse(options);
      if (!parsed.success) throw ValidationError.fromZod('resolve options', parsed.error);
      if (this.forwarder) {
        // Completed here (id, detection time, deadline) as a report would be; the leader waits it out.
        const forwarded = typeof target === 'string' ? target : this.report(target, false);
        const graceMs = this.options.voteTimeoutMs + (typeof target === 'string' ? Math.max(...Object.values(DEFAULT_DEADLINE_MS)) : 0);
        return this.forwarder.resolve(forwarded, parsed.data, graceMs);
      }
      const id = this.idOf(target);
      const finished = this.finished.get(id);
      if (finished) {
        const resolution = finished.record.resolution;
        if (!resolution) throw new NotRunningError('conflict engine');
        return Promise.resolve(structuredClone(resolution));
      }
      const conflict = this.open.conflictOf(id);
      const settled = this.open.settled(id);
      if (!conflict || !settled) throw new UnknownConflictError(id);
      if (this.open.statusOf(id) === ConflictStatus.DETECTED) {
        const strategy = parsed.data.strategy ?? this.options.resolutionStrategy;
        const algorithm = parsed.data.algorithm ?? this.options.consensusAlgorithm;
        const request = resolutionRequestOf(conflict, strategy, algorithm, this.bus.clock.now(), this.stakes);
        this.emit({ type: 'RESOLUTION_STARTED', conflictId: id, strategy, algorithm, at: request.requestedAt });
        this.open.send(id, request);
      }
      // Each caller its own copy: the resolution is also the record's (see getConflict).
      return settled.then((resolution) => structuredClone(resolution));
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what validation threw, unchanged (a NeuroFluxError), as a rejection
      return Promise.reject(error);
    }
  }

  /**
   * Supplies the decision a conflict under `human_intervention` waits for.
   *
   * @throws UnknownConflictError; ConflictStateError when the conflict is not awaiting a human decision.
   * @example
   * ```ts
   * engine.submitHumanDecision(id, 'HOLD', { decidedBy: 'ops-oncall', confidence: 0.95 });
   * ```
   */
  submitHumanDecision(conflictId: string, decision: Decision, options: HumanDecisionOptions = {}): void {
    const status = this.open.statusOf(conflictId) ?? this.finished.get(conflictId)?.record.status;
    if (status === undefined) throw new UnknownConflictError(conflictId);
    if (status !== ConflictStatus.AWAITING_HUMAN) throw new ConflictStateError(conflictId, status, ConflictStatus.AWAITING_HUMAN);
    this.open.send(conflictId, humanDecisionSubmittedOf(decision, options, this.bus.clock.now()));
  }

  /**
   * Gives the true decision of a finished conflict: every non-abstaining voter's weights
   * are updated (wrong × β, right × reward, within floor and cap), which feeds later
   * stakes, and the outcome is published on `outcomes$`. Once per conflict.
   *
   * @throws UnknownConflictError; ConflictStateError while the conflict is open or when its outcome is already recorded.
   * @example
   * ```ts
   * const outcome = engine.recordOutcome(id, 'SELL');
   * outcome.voters.filter((v) => !v.correct); // the voters that got it wrong
   * ```
   */
  recordOutcome(conflictId: string, actualDecision: Decision): ConsensusOutcome {
    const finished = this.finished.get(conflictId);
    if (!finished) {
      const status = this.open.statusOf(conflictId);
      if (status !== undefined) throw new ConflictStateError(conflictId, status, 'resolved or escalated');
      throw new UnknownConflictError(conflictId);
    }
    if (finished.outcomeRecorded) throw new ConflictStateError(conflictId, 'already given its outcome', 'no outcome yet');
    const parsed = DecisionSchema.safeParse(actualDecision);
    if (!parsed.success) throw ValidationError.fromZod('actual decision', parsed.error);
    // A copy archived without its outcome (let go, then restored) is stale: archived again with it.
    this.finished.outcomeRecorded(finished);
    const outcome = learnFromOutcome(finished.record, parsed.data, this.ledger, this.bus.clock.now());
    this.persist();
    // One copy for the subscribers (the swarm learns from it), the caller gets its own.
    if (this.outcomeSubject.observed) this.outcomeSubject.next(readOnlyCopy(outcome));
    return outcome;
  }

  // ---------------------------------------------------------------- voters and stakes

  /**
   * Lets an agent vote through a function instead of answering `conflict_vote` on the
   * bus (also used for `expert_resolution`). Replaces any earlier function of the agent.
   *
   * @example
   * ```ts
   * engine.registerVoter('risk', async (conflict) => ({ decision: 'HOLD', confidence: 0.8, reasoning: 'drawdown' }));
   * ```
   */
  registerVoter(agentId: string, vote: VoteFunction): void {
    const id = NonEmptyIdSchema.safeParse(agentId);
    if (!id.success) throw ValidationError.fromZod('agentId', id.error);
    if (typeof vote !== 'function') throw new ValidationError('voter', [{ path: 'vote', message: 'must be a function' }]);
    this.voteFunctions.set(id.data, vote);
  }

  /**
   * Removes an agent's vote function: it is asked over the bus again.
   *
   * @example
   * ```ts
   * engine.unregisterVoter('risk'); // true if it had one
   * ```
   */
  unregisterVoter(agentId: string): boolean {
    return this.voteFunctions.delete(agentId);
  }

  /**
   * An agent's stake for a conflict type: the stake provider's, or
   * `0.6 × overall + 0.4 × per-type performance` from the ledger, clamped to [0.1, 2.0].
   *
   * @example
   * ```ts
   * engine.getStake('analyst', 'signal_conflict'); // 0.5 for an agent with no record
   * ```
   */
  getStake(agentId: string, conflictType: ConflictType): number {
    return this.stakes.stakeOf(agentId, conflictType);
  }

  /**
   * An agent's weights in the ledger (overall and per conflict type).
   *
   * @example
   * ```ts
   * engine.getAgentPerformance('analyst'); // { overall: 0.5, byType: {} } for a newcomer
   * ```
   */
  getAgentPerformance(agentId: string): AgentPerformance {
    return this.ledger.performanceOf(agentId);
  }

  /**
   * Seeds an agent's weights, e.g. from the task orchestrator's performance scores.
   *
   * @example
   * ```ts
   * engine.setAgentPerformance('analyst', { overall: 1.0, byType: { signal_conflict: 0.9 } });
   * ```
   */
  setAgentPerformance(agentId: string, performance: Partial<AgentPerformance>): void {
    this.ledger.setPerformance(agentId, performance);
    this.persist();
  }

  // ---------------------------------------------------------------- queries

  /**
   * A conflict's record: the conflict, its status, its votes so far and, once finished,
   * its resolution. Undefined for an unknown id (or a record evicted by `maxFinishedRecords`).
   *
   * @example
   * ```ts
   * engine.getConflict(id)?.status; // 'resolving'
   * ```
   */
  getConflict(conflictId: string): ConflictRecord | undefined {
    const record = this.open.recordOf(conflictId) ?? this.finished.get(conflictId)?.record;
    // A copy, all the way down: the record holds the conflict its actor decides on and the
    // votes of the actor's context, and a caller's `involvedAgents.push(...)` or
    // `votes.push(...)` changed the vote itself (test/conflictRecordIsolation). Records are
    // JSON values, so a structured clone copies them whole.
    return record && structuredClone(record);
  }

  /**
   * `getConflict`, and for a finished conflict let go from memory (`maxFinishedRecords`,
   * `finishedRecordMaxAgeMs`) its record read back from the store's archive (with `store`;
   * a store read per archive segment searched, newest first). Undefined for an unknown id,
   * or a record let go without a store.
   *
   * @example
   * ```ts
   * const record = await engine.findConflict(id); // resolved last week
   * ```
   */
  async findConflict(conflictId: string): Promise<ConflictRecord | undefined> {
    const record = this.getConflict(conflictId);
    if (record || !this.saving || this.finished.evicted === 0) return record;
    return (await this.saving.findArchived((item) => item.record.conflict.conflictId === conflictId))?.record;
  }

  /**
   * The engine's counters.
   *
   * @example
   * ```ts
   * const { consensusSuccessRate, escalationRate } = engine.getStats();
   * ```
   */
  getStats(): ConflictStats {
    return this.counters.snapshot(this.open.size, this.saving ? this.saving.stats() : null);
  }

  // ---------------------------------------------------------------- internals

  private idOf(target: string | ConflictInput | Conflict): string {
    if (typeof target === 'string') return target;
    const given = target.conflictId;
    if (given !== undefined && (this.open.has(given) || this.finished.has(given))) return given;
    return this.report(target).conflictId;
  }

  private report(input: ConflictInput | Conflict, forwardReport = true): Conflict {
    if (this.stopped) throw new NotRunningError('conflict engine');
    const now = this.bus.clock.now();
    const conflict = reportedConflictOf(input, now, (conflictType) => `${conflictType}_${randomUUID()}`);
    const { conflictId } = conflict;
    if (this.open.has(conflictId) || this.finished.has(conflictId)) throw new DuplicateConflictError(conflictId);
    // A standby's engine keeps nothing: the leader's registers the conflict and decides it.
    if (this.forwarder) {
      if (forwardReport) this.forwarder.report(conflict);
      return conflict;
    }
    this.open.report(conflict); // throws DuplicateConflictError when its system id is taken: nothing is counted
    this.counters.detected++;
    this.emit({ type: 'CONFLICT_DETECTED', conflictId, conflict, at: now });
    this.persist();
    return conflict;
  }

  /** Something persisted changed: write it (with the rest of this tick's changes). */
  private persist(): void {
    this.saving?.changed();
  }

  private exportState(): PersistedConflictEngine {
    return conflictEngineStateOf({
      open: this.open.values(),
      finished: this.finished.values(),
      ledger: this.ledger.entries(),
      counters: this.counters.values(),
      savedAt: this.bus.clock.now(),
    });
  }

  private emit(event: ConflictEvent): void {
    if (!this.stopped) this.publish(event);
  }

  /**
   * Events carry the engine's own conflict, votes and resolution: subscribers get a frozen
   * copy (made only when someone listens), so that none can change the conflict being
   * decided, the record, or what the next subscriber sees.
   */
  private publish(event: ConflictEvent): void {
    if (this.eventSubject.observed) this.eventSubject.next(readOnlyCopy(event));
  }
}
