import { randomUUID } from 'node:crypto';
import { Subject, type Observable } from 'rxjs';
import type { Subscription } from 'xstate';
import { z } from 'zod';
import { conflictStatusOf } from '../../machines/conflict.machine';
import { CommunicationBus } from '../bus/communicationBus';
import { NotRunningError, ValidationError } from '../errors';
import { ConflictStateError, DuplicateConflictError, UnknownConflictError } from './conflictErrors';
import type { ConflictEvent, ConsensusOutcome } from './conflictEvents';
import { finishedToRestore } from './conflictArchive';
import { conflictEngineStateOf } from './conflictEngineState';
import { FinishedConflicts } from './finishedConflicts';
import { ConflictActors, type ConflictActor } from './conflictActors';
import type { ConflictForwarder } from './conflictForwarding';
import type { PersistedConflictEngine } from './conflictPersistence';
import { ConflictStateSaving } from './conflictStateSaving';
import { toResolution, type ConflictRecord, type ConflictResolution } from './conflictRecord';
import { ConflictCounters, type ConflictStats } from './conflictStats';
import {
  ConflictInputSchema,
  ConflictStatus,
  ConflictType,
  DecisionSchema,
  EscalationReason,
  HumanDecisionOptionsSchema,
  ResolutionStrategy,
  type Conflict,
  type ConflictInput,
  type ConflictVerdict,
  type Decision,
  type HumanDecisionOptions,
  type Vote,
} from './model/conflictTypes';
import { sameDecision } from './model/decisionKey';
import { detectPriorityConflicts, type AgentSlots, type TaskClaim } from './detectors/priorityDetector';
import { detectResourceConflicts, type ResourceAvailability, type ResourceRequest } from './detectors/resourceDetector';
import { detectSignalConflicts, type SignalRule, type TradingSignalInput } from './detectors/signalDetector';
import { detectTimingConflicts, type TimedAction, type TimingDetectionOptions } from './detectors/timingDetector';
import { PerformanceLedger, type AgentPerformance } from './performanceLedger';
import { clampStake, computeStake } from './model/stakes';
import { selectExpert } from './model/strategies';
import type { VoteFunction } from './voteCollection';
import { describeError } from '../describeError';
import {
  DEFAULT_DEADLINE_MS,
  EngineOptionsSchema,
  ResolveOptionsSchema,
  type ConflictDetectionContext,
  type ConflictResolutionEngineOptions,
  type ResolveOptions,
} from './conflictEngineOptions';

export { DEFAULT_DEADLINE_MS, type ConflictDetectionContext, type ConflictResolutionEngineOptions, type ResolveOptions } from './conflictEngineOptions';

interface Waiter {
  readonly resolve: (resolution: ConflictResolution) => void;
  readonly reject: (error: Error) => void;
}

/** An open conflict: its actor and who waits for it. */
interface OpenConflict {
  readonly conflict: Conflict;
  readonly actor: ConflictActor;
  readonly subscription: Subscription;
  status: ConflictStatus;
  votesSeen: number;
  waiters: Waiter[];
  /** Events of effects run during the final transition, published after the outcome. */
  effects: ConflictEvent[];
}

/**
 * Detects and resolves conflicts between agents. Each reported conflict is an actor
 * (`conflictMachine`) spawned under the bus's root; it collects votes over the bus
 * (`conflict_vote`), consults an expert, waits for a human, or applies a fallback or a
 * compromise, then executes the decision (`execute_decision`, or `execute_trade` for
 * trading signals) when its confidence is above the execution threshold, or broadcasts
 * `conflict_escalation`. Finished actors are stopped; a compact record stays.
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
  private readonly voteFunctions = new Map<string, VoteFunction>();
  private readonly open = new Map<string, OpenConflict>();
  private readonly finished: FinishedConflicts;
  /** Set while this engine is a standby's: reported conflicts go to the leader's engine. */
  private forwarder: ConflictForwarder | undefined;
  private readonly counters = new ConflictCounters();
  private readonly eventSubject = new Subject<ConflictEvent>();
  private readonly outcomeSubject = new Subject<ConsensusOutcome>();
  private readonly actors: ConflictActors;
  /** With a store: the state written there from `restore()` until the engine stops. */
  private readonly saving: ConflictStateSaving | undefined;
  private stopped = false;

  constructor(options: ConflictResolutionEngineOptions) {
    const parsed = EngineOptionsSchema.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod('conflict engine options', parsed.error);
    this.options = parsed.data;
    this.bus = parsed.data.bus;
    this.ledger = new PerformanceLedger(parsed.data.weightUpdate);
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
    this.actors = new ConflictActors({
      bus: this.bus,
      senderId: this.options.agentId,
      voteFunctions: this.voteFunctions,
      decisionExecutors: this.options.decisionExecutors,
      confidenceThreshold: this.options.confidenceThreshold,
      executionThreshold: this.options.executionThreshold,
    });
    this.actors.effects$.subscribe(({ conflictId, events }) => this.effectsRan(conflictId, events));
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
    this.freezeSaving();
    for (const [id, entry] of this.open) {
      entry.subscription.unsubscribe();
      for (const waiter of entry.waiters) waiter.reject(new NotRunningError('conflict engine'));
      this.finished.keep(id, this.recordOf(entry, null));
    }
    this.open.clear();
    this.actors.stopAll();
    this.eventSubject.complete();
    this.outcomeSubject.complete();
    await this.saving?.flush();
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
   * holds are kept as they are. No events are emitted for what is restored.
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
    const { state, archived: fromArchive } = loaded;
    this.finished.attachArchive(this.saving.archive);
    let restored = 0;
    if (state) {
      this.counters.add(state.counters);
      for (const entry of state.ledger) {
        if (!this.ledger.knows(entry.agentId)) this.ledger.setPerformance(entry.agentId, entry);
      }
      for (const { record, outcomeRecorded, archived } of finishedToRestore(fromArchive, state.finished)) {
        const id = record.conflict.conflictId;
        if (this.open.has(id) || this.finished.has(id)) continue;
        this.finished.keep(id, record, outcomeRecorded, archived);
        restored++;
      }
      for (const stored of state.open) {
        const id = stored.conflict.conflictId;
        if (this.open.has(id) || this.finished.has(id)) continue;
        this.track(stored.conflict, this.actors.resume(stored), stored.votes.length);
        restored++;
      }
    }
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
    const now = this.bus.clock.now();
    const found: ConflictInput[] = [];
    if (context.signals) found.push(...detectSignalConflicts(context.signals, now, { rule: context.signalRule }));
    if (context.resourceRequests) {
      found.push(...detectResourceConflicts(context.resourceRequests, context.availability ?? {}, now));
    }
    if (context.taskClaims) found.push(...detectPriorityConflicts(context.taskClaims, context.agentSlots ?? {}, now));
    if (context.actions) found.push(...detectTimingConflicts(context.actions, now, context.timing));
    return found.map((input) => this.report(input));
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
        return Promise.resolve(resolution);
      }
      const entry = this.open.get(id);
      if (!entry) throw new UnknownConflictError(id);
      const settled = new Promise<ConflictResolution>((resolve, reject) => entry.waiters.push({ resolve, reject }));
      if (entry.status === ConflictStatus.DETECTED) {
        const strategy = parsed.data.strategy ?? this.options.resolutionStrategy;
        const algorithm = parsed.data.algorithm ?? this.options.consensusAlgorithm;
        const { conflict } = entry;
        // fromEntries defines each key as its own property: assigning `stakes['__proto__']` would not.
        const stakes = Object.fromEntries(conflict.involvedAgents.map((agentId) => [agentId, this.getStake(agentId, conflict.conflictType)]));
        const expertId =
          strategy === ResolutionStrategy.EXPERT_PRECEDENCE
            ? (selectExpert(conflict.involvedAgents, (agentId) => this.expertRecord(agentId, conflict.conflictType)) ?? null)
            : null;
        const at = this.bus.clock.now();
        this.emit({ type: 'RESOLUTION_STARTED', conflictId: id, strategy, algorithm, at });
        entry.actor.send({ type: 'RESOLUTION_REQUESTED', strategy, algorithm, requestedAt: at, stakes, expertId });
      }
      return settled;
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
    const entry = this.open.get(conflictId);
    if (!entry) {
      const finished = this.finished.get(conflictId);
      if (finished) throw new ConflictStateError(conflictId, finished.record.status, ConflictStatus.AWAITING_HUMAN);
      throw new UnknownConflictError(conflictId);
    }
    if (entry.status !== ConflictStatus.AWAITING_HUMAN) {
      throw new ConflictStateError(conflictId, entry.status, ConflictStatus.AWAITING_HUMAN);
    }
    const parsedDecision = DecisionSchema.safeParse(decision);
    if (!parsedDecision.success) throw ValidationError.fromZod('human decision', parsedDecision.error);
    const parsed = HumanDecisionOptionsSchema.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod('human decision options', parsed.error);
    entry.actor.send({
      type: 'HUMAN_DECISION_SUBMITTED',
      decision: { decision: parsedDecision.data, ...parsed.data, decidedAt: this.bus.clock.now() },
    });
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
      const entry = this.open.get(conflictId);
      if (entry) throw new ConflictStateError(conflictId, entry.status, 'resolved or escalated');
      throw new UnknownConflictError(conflictId);
    }
    if (finished.outcomeRecorded) throw new ConflictStateError(conflictId, 'already given its outcome', 'no outcome yet');
    const parsed = DecisionSchema.safeParse(actualDecision);
    if (!parsed.success) throw ValidationError.fromZod('actual decision', parsed.error);
    const { conflict, votes, resolution } = finished.record;
    // A copy archived without its outcome (let go, then restored) is stale: archived again with it.
    this.finished.outcomeRecorded(finished);
    const voters = this.ledger.applyOutcome(conflict.conflictType, votes, parsed.data);
    this.persist();
    const consensusDecision = resolution?.status === 'resolved' ? resolution.decision : null;
    const outcome: ConsensusOutcome = {
      conflictId,
      conflictType: conflict.conflictType,
      actualDecision: parsed.data,
      consensusDecision,
      consensusCorrect: consensusDecision === null ? null : sameDecision(consensusDecision, parsed.data),
      voters,
      at: this.bus.clock.now(),
    };
    this.outcomeSubject.next(outcome);
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
    const id = z.string().min(1).safeParse(agentId);
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
    const provider = this.options.stakeProvider;
    if (!provider) return this.ledger.stakeOf(agentId, conflictType);
    try {
      return clampStake(provider(agentId, conflictType));
    } catch {
      return computeStake();
    }
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
    const entry = this.open.get(conflictId);
    if (entry) return this.recordOf(entry, null);
    return this.finished.get(conflictId)?.record;
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

  /** The agent's record for a conflict type, which picks the expert. */
  private expertRecord(agentId: string, conflictType: ConflictType): number {
    return this.options.stakeProvider ? this.getStake(agentId, conflictType) : this.ledger.recordFor(agentId, conflictType);
  }

  private report(input: ConflictInput | Conflict, forwardReport = true): Conflict {
    if (this.stopped) throw new NotRunningError('conflict engine');
    const parsed = ConflictInputSchema.safeParse(input);
    if (!parsed.success) throw ValidationError.fromZod('conflict', parsed.error);
    const data = parsed.data;
    const now = this.bus.clock.now();
    const conflictId = data.conflictId ?? `${data.conflictType}_${randomUUID()}`;
    if (this.open.has(conflictId) || this.finished.has(conflictId)) throw new DuplicateConflictError(conflictId);
    const detectedAt = data.detectedAt ?? now;
    const conflict: Conflict = {
      conflictId,
      conflictType: data.conflictType,
      description: data.description,
      involvedAgents: data.involvedAgents,
      conflictingElements: data.conflictingElements,
      severity: data.severity,
      detectedAt,
      resolutionDeadline: data.resolutionDeadline ?? detectedAt + DEFAULT_DEADLINE_MS[data.conflictType],
      options: data.options,
      ...(data.executors !== undefined && { executors: data.executors }),
    };
    // A standby's engine keeps nothing: the leader's registers the conflict and decides it.
    if (this.forwarder) {
      if (forwardReport) this.forwarder.report(conflict);
      return conflict;
    }
    this.counters.detected++;
    this.track(conflict, this.actors.spawn(conflict, this.options.voteTimeoutMs), 0);
    this.emit({ type: 'CONFLICT_DETECTED', conflictId, conflict, at: now });
    this.persist();
    return conflict;
  }

  /** Follows a conflict's new actor. */
  private track(conflict: Conflict, actor: ConflictActor, votesSeen: number): void {
    const { conflictId } = conflict;
    const entry: OpenConflict = {
      conflict,
      actor,
      subscription: { unsubscribe: () => {} },
      // A restored conflict is already where it was (or has ended: its deadline had passed).
      status: conflictStatusOf(actor.getSnapshot().value),
      votesSeen,
      waiters: [],
      effects: [],
    };
    this.open.set(conflictId, entry);
    // Observed before anyone hears of it, so a listener that resolves it at once is seen too.
    // An actor that has already ended is reported through `complete` right here.
    (entry as { subscription: Subscription }).subscription = actor.subscribe({
      next: () => this.observe(conflictId),
      error: (error) => this.fail(conflictId, error),
      complete: () => this.observe(conflictId),
    });
  }

  /** Something persisted changed: write it (with the rest of this tick's changes). */
  private persist(): void {
    this.saving?.changed();
  }

  /** From now on, writes (a pending one, a retry) carry the state as it is now, and nothing new is marked or archived. */
  private freezeSaving(): void {
    this.saving?.freeze();
    this.finished.detachArchive();
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

  /** Follows an open conflict's actor: new votes, status changes, the end. */
  private observe(conflictId: string): void {
    const entry = this.open.get(conflictId);
    if (!entry) return;
    const snapshot = entry.actor.getSnapshot();
    const { votes } = snapshot.context;
    const at = this.bus.clock.now();
    for (let i = entry.votesSeen; i < votes.length; i++) {
      const vote = votes[i] as Vote;
      this.counters.votes++;
      if (vote.decision === null) this.counters.abstentions++;
      this.emit({ type: 'VOTE_RECEIVED', conflictId, vote, at });
    }
    entry.votesSeen = votes.length;
    const status = conflictStatusOf(snapshot.value);
    if (status !== entry.status) {
      entry.status = status;
      if (status === ConflictStatus.AWAITING_HUMAN) {
        this.emit({ type: 'HUMAN_DECISION_REQUESTED', conflictId, conflict: entry.conflict, at });
      }
    }
    if (snapshot.status === 'done') this.finish(conflictId, entry, snapshot.context.verdict);
    else if (snapshot.status === 'stopped') this.abandon(conflictId, entry);
    else this.persist();
  }

  private fail(conflictId: string, error: unknown): void {
    const entry = this.open.get(conflictId);
    if (!entry) return;
    const verdict: ConflictVerdict = {
      status: 'escalated',
      reason: EscalationReason.INTERNAL_ERROR,
      detail: describeError(error),
      result: null,
    };
    const votes = entry.actor.getSnapshot().context.votes;
    this.actors.escalate({ conflict: entry.conflict, verdict, votes });
    this.finish(conflictId, entry, verdict);
  }

  /** The actor was stopped from outside (the bus or the system stopped). */
  private abandon(conflictId: string, entry: OpenConflict): void {
    // The system is going down: the store keeps the conflicts open for the next engine.
    this.freezeSaving();
    this.open.delete(conflictId);
    for (const waiter of entry.waiters) waiter.reject(new NotRunningError('conflict engine'));
    this.finished.keep(conflictId, this.recordOf(entry, null));
  }

  private finish(conflictId: string, entry: OpenConflict, verdict: ConflictVerdict | null): void {
    this.open.delete(conflictId);
    entry.subscription.unsubscribe();
    const context = entry.actor.getSnapshot().context;
    const at = this.bus.clock.now();
    const final: ConflictVerdict = verdict ?? {
      status: 'escalated',
      reason: EscalationReason.INTERNAL_ERROR,
      detail: 'the conflict ended without a verdict',
      result: null,
    };
    const resolution = toResolution(entry.conflict, final, context.strategy, context.algorithm ?? this.options.consensusAlgorithm, at);
    // A consensus attempt is a tally of the voting strategy; a deadline that cut the vote short is none.
    const tallied = final.status === 'resolved' || final.reason === EscalationReason.NO_CONSENSUS;
    if (context.strategy === ResolutionStrategy.VOTING_CONSENSUS && tallied) {
      this.counters.consensusAttempts++;
      if (final.status === 'resolved') this.counters.consensusSuccesses++;
    }
    if (resolution.status === 'resolved') {
      this.counters.resolved++;
      this.counters.resolutionTimeTotal += at - entry.conflict.detectedAt;
      this.emit({ type: 'CONFLICT_RESOLVED', conflictId, resolution, at });
    } else {
      this.counters.escalated++;
      this.emit({ type: 'CONFLICT_ESCALATED', conflictId, resolution, at });
    }
    for (const event of entry.effects) this.emit(event);
    this.finished.keep(conflictId, this.recordOf(entry, resolution));
    this.persist();
    for (const waiter of entry.waiters) waiter.resolve(resolution);
    this.actors.release(conflictId);
  }

  private recordOf(entry: OpenConflict, resolution: ConflictResolution | null): ConflictRecord {
    const snapshot = entry.actor.getSnapshot();
    const context = snapshot.context;
    return {
      conflict: entry.conflict,
      status: resolution ? resolution.status : conflictStatusOf(snapshot.value),
      strategy: context.strategy,
      algorithm: context.algorithm,
      votes: context.votes,
      resolution,
    };
  }

  /** Events of the machine's effects: counted now, published after the conflict's outcome. */
  private effectsRan(conflictId: string, events: readonly ConflictEvent[]): void {
    for (const event of events) {
      if (event.type === 'DECISION_HELD') this.counters.held++;
      else if (event.type === 'DECISION_EXECUTED') this.counters.executed++;
    }
    this.open.get(conflictId)?.effects.push(...events);
  }

  private emit(event: ConflictEvent): void {
    if (!this.stopped) this.eventSubject.next(event);
  }
}
