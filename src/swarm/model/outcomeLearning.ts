import { appendBounded } from './boundedHistory';
import { recordConnectionOutcome } from './connection';
import { recordDecision, updatePerformance } from './neuron';
import { evidenceAt, updatePosterior } from './routingBandit';
import { MAX_PAIRS_PER_PRODUCER } from './swarmSchemas';
import { addNeuron, connect, connectionOf, disconnect, findConnection } from './swarmState';
import type { SwarmNeuron } from './swarmTypes';
import type { ConsensusOutcome, ConsensusRecord, SwarmState, TaskOutcome } from './swarmTypes';

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
  const { rules } = state;
  if (!success && (outcome.failureCause ?? 'pair') !== 'pair') {
    state.counters.failuresNotAttributed = (state.counters.failuresNotAttributed ?? 0) + 1;
    return;
  }
  const consumer = addNeuron(state, outcome.agentId);
  updatePerformance(consumer, success ? 1 : 0, rules.performanceAlpha);
  recordDecision(consumer, taskPatternKey(outcome.taskType), success);

  const producers = new Set(outcome.producerAgentIds);
  producers.delete(outcome.agentId);
  for (const producer of producers) {
    const source = addNeuron(state, producer);
    let connection = findConnection(state, producer, outcome.agentId);
    if (!connection) {
      makeRoomForPair(state, source);
      connection = connect(state, producer, outcome.agentId, undefined, at);
    }
    if (!connection) continue;
    recordConnectionOutcome(connection, success, at, rules);
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
 * Keeps a producer under `MAX_PAIRS_PER_PRODUCER` connections before a new one: the pair
 * with the least evidence left goes (it reads closest to the prior, so routing loses the
 * least).
 */
function makeRoomForPair(state: SwarmState, producer: SwarmNeuron): void {
  const targets = Object.keys(producer.outgoing);
  if (targets.length < MAX_PAIRS_PER_PRODUCER) return;
  const discount = state.rules.banditDiscount;
  const now = producer.producerSteps ?? 0;
  let weakest: string | undefined;
  let least = Infinity;
  for (const target of targets) {
    const connectionId = producer.outgoing[target];
    const held = evidenceAt(connectionId === undefined ? undefined : connectionOf(state, connectionId)?.posterior, now, discount);
    if (held < least) {
      least = held;
      weakest = target;
    }
  }
  if (weakest !== undefined) disconnect(state, producer.agentId, weakest);
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
