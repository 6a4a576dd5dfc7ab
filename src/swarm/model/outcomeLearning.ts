import type { Immutable } from 'immer';
import { appendBounded } from './boundedHistory';
import { appendConnectionOutcome } from './connection';
import { recordDecision, updatePerformance } from './neuron';
import { evidenceAt, updatePosterior } from './routingBandit';
import { MAX_PAIRS_PER_PRODUCER, MAX_PRODUCERS_PER_OUTCOME, PAIRS_DROPPED_AT_CAP } from './swarmSchemas';
import { addNeuron, connect, connectionOf, disconnect, findConnection } from './swarmState';
import { SwarmWorkingCopy } from './swarmWorkingCopy';
import type { ConnectionOutcome, ConsensusOutcome, ConsensusRecord, SwarmConnection, SwarmNeuron, SwarmSnapshot, SwarmState, TaskOutcome } from './swarmTypes';
import { pairOf, pairsOf } from './pairIndex';

/** Decision-pattern key of a task type (`task:<type>`, `task:untyped` without one). */
export function taskPatternKey(taskType: string | undefined): string {
  return `task:${taskType ?? 'untyped'}`;
}

/** Decision-pattern key of a conflict type (`consensus:<type>`). */
export function consensusPatternKey(conflictType: string): string {
  return `consensus:${conflictType}`;
}

/**
 * Learns from a finished task, mutating `state` (an immer draft). The swarm closes the
 * loop the guide only hints at: what flows between agents in real workflows shapes the
 * connections.
 *
 * - A failure whose `failureCause` is not `pair` (circuit open, a failed or cancelled
 *   dependency, an agent lost, a validation refusal) says nothing about the pairs nor
 *   the agent: it is only counted (`failuresNotAttributed`), nothing else changes.
 * - Each producer → consumer connection (producer: an agent whose result the task
 *   consumed; consumer: the agent that ran it) records the outcome in its sliding window
 *   and gets the success-rate rule (> 0.8: +0.1, < 0.4: −0.1 down to 0.1), and its
 *   routing posterior gets the outcome after the producer's other pairs are discounted
 *   (see `routingBandit`). A missing connection is created at the initial strength
 *   first. A producer that is the consumer itself is skipped (no self-connections).
 * - The consumer's performance moves toward 1 (success) or 0 (failure), EMA alpha 0.1,
 *   and its decision pattern for the task type is counted (knowledge transfer uses it).
 * - Agents the swarm has not seen join with default settings.
 *
 * @example
 * ```ts
 * const outcome = { taskId: 't2', agentId: 'trader', producerAgentIds: ['analyst'] };
 * produce(state, (draft) => learnFromTask(draft, outcome, true, now));
 * ```
 */
export function learnFromTask(state: SwarmState, outcome: TaskOutcome, success: boolean, at: number): void {
  learnInto(draftTarget(state), outcome, success, at);
}

/**
 * Where {@link learnInto} finds what an outcome changes: on an immer draft, the draft's own
 * records ({@link draftTarget}); in a batch, the working copy's writable copies, made on
 * first use ({@link CopyTarget}). The rules are written once, in `learnInto`.
 */
interface OutcomeTarget {
  readonly state: SwarmState;
  /** The agent's neuron, writable; an agent not in the network joins with default settings. */
  neuron(agentId: string): SwarmNeuron;
  /**
   * The producer → consumer connection, writable; a missing one is created at the initial
   * strength (after the producer's weakest pairs went, at `MAX_PAIRS_PER_PRODUCER`).
   */
  pair(producer: SwarmNeuron, consumer: SwarmNeuron, at: number): SwarmConnection | undefined;
  /** {@link taskPatternKey} of `taskType` (a batch makes each key once). */
  patternKey(taskType: string | undefined): string;
  /** The window record of an outcome at `at` (a batch shares one between outcomes at the same time). */
  outcomeRecord(at: number, success: boolean): ConnectionOutcome;
}

function draftTarget(state: SwarmState): OutcomeTarget {
  return {
    state,
    neuron: (agentId) => addNeuron(state, agentId),
    pair: (producer, consumer, at) => {
      const existing = findConnection(state, producer.agentId, consumer.agentId);
      if (existing) return existing;
      makeRoomForPair(state, producer);
      return connect(state, producer.agentId, consumer.agentId, undefined, at);
    },
    patternKey: taskPatternKey,
    outcomeRecord: (at, success) => ({ at, success }),
  };
}

/** {@link learnFromTask}'s rules, on what `target` gives. */
function learnInto(target: OutcomeTarget, outcome: TaskOutcome, success: boolean, at: number): void {
  const { state } = target;
  const { rules } = state;
  if (!success && (outcome.failureCause ?? 'pair') !== 'pair') {
    state.counters.failuresNotAttributed = (state.counters.failuresNotAttributed ?? 0) + 1;
    return;
  }
  const consumer = target.neuron(outcome.agentId);
  updatePerformance(consumer, success ? 1 : 0, rules.performanceAlpha);
  recordDecision(consumer, target.patternKey(outcome.taskType), success);
  // One record for every pair of this outcome (its windows share it: it is frozen, or
  // frozen with the step that made it).
  let record: ConnectionOutcome | undefined;

  // Each distinct producer once, the consumer never: a scan, not a Set per outcome, up to the
  // schema's MAX_PRODUCERS_PER_OUTCOME (64; a DAG task has a few); a longer list given to this
  // pure function directly goes through a Set (a scan would be quadratic).
  const scan = outcome.producerAgentIds.length <= MAX_PRODUCERS_PER_OUTCOME;
  const producerIds = scan ? outcome.producerAgentIds : [...new Set(outcome.producerAgentIds)];
  for (let i = 0; i < producerIds.length; i++) {
    const producer = producerIds[i] as string;
    if (producer === outcome.agentId || (scan && producerIds.indexOf(producer) < i)) continue;
    const source = target.neuron(producer);
    const connection = target.pair(source, consumer, at);
    if (!connection) continue;
    record ??= target.outcomeRecord(at, success);
    appendConnectionOutcome(connection, record, rules);
    // The producer's bandit clock: one step per judged output (a corrupted count restarts at 0).
    const steps = Number.isSafeInteger(source.producerSteps) && (source.producerSteps ?? 0) >= 0 ? (source.producerSteps ?? 0) : 0;
    source.producerSteps = steps + 1;
    connection.posterior = updatePosterior(connection.posterior, steps + 1, success, rules.banditDiscount);
  }

  if (success) state.counters.tasksCompleted += 1;
  else state.counters.tasksFailed += 1;
  // A duration that would make the total overflow to Infinity is left out of the mean.
  const duration = outcome.durationMs;
  if (duration !== undefined && Number.isFinite(duration) && duration >= 0 && Number.isFinite(state.counters.taskDurationMsTotal + duration)) {
    state.counters.taskDurationMsTotal += duration;
    state.counters.tasksWithDuration += 1;
  }
}

/**
 * Keeps a producer under `MAX_PAIRS_PER_PRODUCER` connections before a new one: at the cap,
 * the `PAIRS_DROPPED_AT_CAP` pairs with the least evidence left go (they read closest to the
 * prior, so routing loses the least).
 */
function makeRoomForPair(state: SwarmState, producer: SwarmNeuron): void {
  for (const weak of pairsToDropFor(state, producer)) disconnect(state, producer.agentId, weak.target);
}

/** A pair {@link pairsToDropFor} chose. */
interface PairToDrop {
  readonly target: string;
  readonly connectionId: string | undefined;
}

/**
 * The pairs {@link makeRoomForPair} drops before the producer gets a new one, least
 * evidence first (ties in the order of the producer's pair index): none while it has fewer
 * than `MAX_PAIRS_PER_PRODUCER`.
 */
function pairsToDropFor(state: SwarmSnapshot, producer: Immutable<SwarmNeuron>): readonly PairToDrop[] {
  if (producer.outgoingCount < MAX_PAIRS_PER_PRODUCER) return [];
  const discount = state.rules.banditDiscount;
  const now = producer.producerSteps ?? 0;
  // The weakest so far, ascending by evidence held; a later pair enters only when strictly weaker.
  const weakest: PairToDrop[] = [];
  const held: number[] = [];
  for (const [target, connectionId] of pairsOf(producer.outgoing)) {
    const evidence = evidenceAt(connectionId === undefined ? undefined : connectionOf(state, connectionId)?.posterior, now, discount);
    if (weakest.length === PAIRS_DROPPED_AT_CAP && !(evidence < (held[PAIRS_DROPPED_AT_CAP - 1] as number))) continue;
    let at = Math.min(weakest.length, PAIRS_DROPPED_AT_CAP - 1);
    while (at > 0 && evidence < (held[at - 1] as number)) at--;
    if (weakest.length === PAIRS_DROPPED_AT_CAP) {
      weakest.pop();
      held.pop();
    }
    weakest.splice(at, 0, { target, connectionId });
    held.splice(at, 0, evidence);
  }
  return weakest;
}

/** Task outcomes observed together, at `at` (the time of the event that carried them). */
export interface TaskOutcomeBatch {
  readonly outcomes: readonly { readonly outcome: TaskOutcome; readonly success: boolean }[];
  readonly at?: number;
}

/**
 * Learns from batches of finished tasks, in order, and returns the next state; `state` is
 * not changed. Each batch is what one `TASK_OUTCOMES_OBSERVED` event did: the state's time
 * becomes `max(now, batch.at)`, and each outcome learns at `max(that, outcome.at)`. The
 * result is what {@link learnFromTask} on an immer draft gives for the same batches (same
 * rules, same order, the same arithmetic: equal to the last bit), at a fraction of the
 * cost: instead of immer drafts, a {@link SwarmWorkingCopy} copies each neuron, connection
 * and shard the batches change once, and the result is frozen once.
 *
 * `state` is taken as the swarm actor holds it: deeply frozen (any earlier result, any immer
 * result), or never frozen at all (an initial state, a snapshot parsed from JSON), which is
 * then frozen in place first, as its publication would freeze it. What is not frozen is taken
 * as this step's own: a state frozen only on its outside with writable parts inside would have
 * those parts changed.
 *
 * @example
 * ```ts
 * const next = learnFromTasks(state, [{ outcomes: [{ outcome: { taskId: 't2', agentId: 'trader', producerAgentIds: ['analyst'] }, success: true }], at: now }]);
 * ```
 */
export function learnFromTasks(state: SwarmState, batches: readonly TaskOutcomeBatch[]): SwarmState {
  const copy = new SwarmWorkingCopy(state);
  const target = new CopyTarget(copy);
  for (const batch of batches) {
    const now = Math.max(copy.state.now, batch.at ?? copy.state.now);
    copy.state.now = now;
    for (const { outcome, success } of batch.outcomes) learnInto(target, outcome, success, Math.max(now, outcome.at ?? now));
  }
  return copy.publish();
}

/**
 * The rules' view of a {@link SwarmWorkingCopy}: each neuron and connection an outcome
 * changes is made writable where the rules first need it, and what they create is adopted
 * at once, in one pass (a pass beforehand to make things writable and one afterwards to
 * adopt looked every neuron and pair up three times).
 */
class CopyTarget implements OutcomeTarget {
  // The last pattern key and outcome records made: a batch's outcomes mostly share a task
  // type and finish in the same millisecond (a string and an object per outcome otherwise).
  private lastTaskType: string | undefined = undefined;
  private lastPatternKey = taskPatternKey(undefined);
  private readonly lastRecords: [ConnectionOutcome | undefined, ConnectionOutcome | undefined] = [undefined, undefined];

  constructor(private readonly copy: SwarmWorkingCopy) {}

  patternKey(taskType: string | undefined): string {
    if (taskType !== this.lastTaskType) {
      this.lastTaskType = taskType;
      this.lastPatternKey = taskPatternKey(taskType);
    }
    return this.lastPatternKey;
  }

  outcomeRecord(at: number, success: boolean): ConnectionOutcome {
    const slot = success ? 1 : 0;
    const last = this.lastRecords[slot];
    // Object.is: a NaN time (a hostile outcome) is one time, and −0 is not +0.
    if (last !== undefined && Object.is(last.at, at)) return last;
    // Frozen now: it is shared from the start (the working copy freezes a window's new records from its end back to the first frozen one).
    return (this.lastRecords[slot] = Object.freeze({ at, success }));
  }

  get state(): SwarmState {
    return this.copy.state;
  }

  neuron(agentId: string): SwarmNeuron {
    const existing = this.copy.writableNeuron(agentId);
    if (existing !== undefined) return existing;
    // writableNeuron made the shard it goes in writable.
    const created = addNeuron(this.copy.state, agentId);
    this.copy.adopt(created);
    return created;
  }

  pair(producer: SwarmNeuron, consumer: SwarmNeuron, at: number): SwarmConnection | undefined {
    const { copy } = this;
    const connectionId = pairOf(producer.outgoing, consumer.agentId);
    const existing = connectionId === undefined ? undefined : copy.writableConnection(connectionId);
    if (existing !== undefined) return existing;
    // A new pair: both ends' pair indexes change (and the dropped pair's, if any).
    copy.writablePair(producer.agentId, 'outgoing', consumer.agentId);
    copy.writablePair(consumer.agentId, 'incoming', producer.agentId);
    for (const dropped of pairsToDropFor(copy.state, producer)) {
      copy.writablePair(producer.agentId, 'outgoing', dropped.target);
      copy.writablePair(dropped.target, 'incoming', producer.agentId);
      if (dropped.connectionId !== undefined) copy.writableShard('connections', dropped.connectionId);
      disconnect(copy.state, producer.agentId, dropped.target);
    }
    // `connect` numbers the new pair `conn-<nextConnectionSeq>`.
    copy.writableShard('connections', `conn-${copy.state.nextConnectionSeq}`);
    const created = connect(copy.state, producer.agentId, consumer.agentId, undefined, at);
    copy.adopt(created);
    return created;
  }
}

/**
 * Learns from a consensus whose true outcome is known, mutating `state` (an immer
 * draft): each voter's performance moves toward 1 (correct) or 0 (wrong), EMA alpha
 * 0.1; its decision pattern for the conflict type is counted; the outcome joins the
 * consensus history that consensus patterns are detected from.
 *
 * @example
 * ```ts
 * produce(state, (draft) => learnFromConsensus(draft, {
 *   conflictId: 'c1', conflictType: 'signal_conflict',
 *   voters: [{ agentId: 'a', decision: 'BUY', correct: true }, { agentId: 'b', decision: 'SELL', correct: false }],
 * }, now));
 * ```
 */
export function learnFromConsensus(state: SwarmState, outcome: ConsensusOutcome, at: number): void {
  const { rules } = state;
  const seen = new Set<string>();
  const voters = outcome.voters.filter((v) => !seen.has(v.agentId) && seen.add(v.agentId));
  for (const voter of voters) {
    const neuron = addNeuron(state, voter.agentId);
    updatePerformance(neuron, voter.correct ? 1 : 0, rules.performanceAlpha);
    recordDecision(neuron, consensusPatternKey(outcome.conflictType), voter.correct);
    if (voter.correct) state.counters.correctVotes += 1;
    else state.counters.wrongVotes += 1;
  }
  const record: ConsensusRecord = {
    conflictId: outcome.conflictId,
    conflictType: outcome.conflictType,
    voters: voters.map((v) => ({ agentId: v.agentId, decision: v.decision, correct: v.correct })),
    at,
  };
  state.consensusHistory = appendBounded(state.consensusHistory, record, rules.consensusHistorySize);
  state.counters.consensusOutcomes += 1;
}
