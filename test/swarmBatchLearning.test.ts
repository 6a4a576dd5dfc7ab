import fc from 'fast-check';
import { produce, type Draft } from 'immer';
import { SimulatedClock } from 'xstate';
import { MAX_HELD_OUTCOMES, NeuralSwarmNetwork } from '../src/swarm/neuralSwarmNetwork';
import { recordConnectionOutcome } from '../src/swarm/model/connection';
import { recordDecision, updatePerformance } from '../src/swarm/model/neuron';
import { learnFromTasks } from '../src/swarm/model/outcomeLearning';
import { evidenceAt, updatePosterior } from '../src/swarm/model/routingBandit';
import { MAX_PAIRS_PER_PRODUCER, MAX_PRODUCERS_PER_OUTCOME, PAIRS_DROPPED_AT_CAP } from '../src/swarm/model/swarmSchemas';
import { pairCount, pairOf, pairShard, pairsOf } from '../src/swarm/model/pairIndex';
import { keysOf } from '../src/swarm/model/packedEntries';
import { shardPath } from '../src/swarm/model/shardedRecord';
import { addNeuron, connect, connectionOf, disconnect, findConnection, initialSwarmState, listConnections, listNeurons, neuronOf } from '../src/swarm/model/swarmState';
import { TASK_FAILURE_CAUSES } from '../src/swarm/model/failureAttribution';
import type { SwarmNeuron, SwarmState, TaskOutcome } from '../src/swarm/model/swarmTypes';

/**
 * The batch learner (`learnFromTasks`: a copy-on-write working copy, no immer) against the
 * implementation it replaced, copied here as the reference: `learnFromTask` on an immer
 * draft, one `produce` per batch, as `machines/swarm.machine.ts` did before. Same outcomes,
 * same batches: the states must be equal to the last bit, earlier states must not change,
 * and the result must be frozen like immer's.
 */

type Batch = readonly { readonly outcome: TaskOutcome; readonly success: boolean }[];

// ---- Reference: the code before the working copy (src/swarm/model/outcomeLearning.ts, machine action) ----

function referenceLearnFromTask(state: SwarmState, outcome: TaskOutcome, success: boolean, at: number): void {
  const { rules } = state;
  if (!success && (outcome.failureCause ?? 'pair') !== 'pair') {
    state.counters.failuresNotAttributed = (state.counters.failuresNotAttributed ?? 0) + 1;
    return;
  }
  const consumer = addNeuron(state, outcome.agentId);
  updatePerformance(consumer, success ? 1 : 0, rules.performanceAlpha);
  recordDecision(consumer, `task:${outcome.taskType ?? 'untyped'}`, success);
  const producers = new Set(outcome.producerAgentIds);
  producers.delete(outcome.agentId);
  for (const producer of producers) {
    const source = addNeuron(state, producer);
    let connection = findConnection(state, producer, outcome.agentId);
    if (!connection) {
      referenceMakeRoomForPair(state, source);
      connection = connect(state, producer, outcome.agentId, undefined, at);
    }
    if (!connection) continue;
    recordConnectionOutcome(connection, success, at, rules);
    const steps = Number.isSafeInteger(source.producerSteps) && (source.producerSteps ?? 0) >= 0 ? (source.producerSteps ?? 0) : 0;
    source.producerSteps = steps + 1;
    connection.posterior = updatePosterior(connection.posterior, steps + 1, success, rules.banditDiscount);
  }
  if (success) state.counters.tasksCompleted += 1;
  else state.counters.tasksFailed += 1;
  const duration = outcome.durationMs;
  if (duration !== undefined && Number.isFinite(duration) && duration >= 0 && Number.isFinite(state.counters.taskDurationMsTotal + duration)) {
    state.counters.taskDurationMsTotal += duration;
    state.counters.tasksWithDuration += 1;
  }
}

function referenceMakeRoomForPair(state: SwarmState, producer: SwarmNeuron): void {
  const pairs = pairsOf(producer.outgoing);
  if (pairs.length < MAX_PAIRS_PER_PRODUCER) return;
  const discount = state.rules.banditDiscount;
  const now = producer.producerSteps ?? 0;
  // Written differently from the runtime's selection: a stable sort of every pair by evidence.
  const weakest = pairs
    .map(([target, connectionId], index) => ({ target, index, held: evidenceAt(connectionOf(state, connectionId)?.posterior, now, discount) }))
    .sort((a, b) => a.held - b.held || a.index - b.index)
    .slice(0, PAIRS_DROPPED_AT_CAP);
  for (const { target } of weakest) disconnect(state, producer.agentId, target);
}

/** The old `learnFromTasks` machine action: one immer update per batch. */
function referenceBatch(context: SwarmState, outcomes: Batch, time: number | undefined): SwarmState {
  return produce(context, (draft: Draft<SwarmState>) => {
    const now = Math.max(draft.now, time ?? draft.now);
    draft.now = now;
    for (const { outcome, success } of outcomes) referenceLearnFromTask(draft, outcome, success, Math.max(now, outcome.at ?? now));
  });
}

// ---- Helpers ----

function newBatch(context: SwarmState, outcomes: Batch, time: number | undefined): SwarmState {
  return learnFromTasks(context, [{ outcomes, ...(time !== undefined && { at: time }) }]);
}

/** Every plain object and array reachable from `value` is frozen. */
function deeplyFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (!Object.isFrozen(value)) return false;
  return Object.values(value).every(deeplyFrozen);
}

/** A base state built through immer (frozen, as the actor's context is after any event). */
function seededBase(agents: readonly string[], links: readonly (readonly [number, number])[]): SwarmState {
  return produce(initialSwarmState({ networkId: 'n', seed: 1, rules: { successWindowSize: 3 } }), (draft) => {
    for (const agent of agents) addNeuron(draft, agent);
    for (const [from, to] of links) connect(draft, agents[from % agents.length]!, agents[to % agents.length]!, undefined, 0);
  });
}

const AGENTS = ['a', 'b', 'c', 'd', 'e', '__proto__', 'toString'] as const;

const outcomeArb: fc.Arbitrary<{ outcome: TaskOutcome; success: boolean }> = fc.record({
  success: fc.boolean(),
  outcome: fc.record(
    {
      taskId: fc.string({ maxLength: 3 }),
      agentId: fc.constantFrom(...AGENTS),
      taskType: fc.constantFrom('x', 'y', '__proto__'),
      producerAgentIds: fc.array(fc.constantFrom(...AGENTS), { maxLength: 4 }),
      durationMs: fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.constant(Number.MAX_VALUE), fc.constant(Number.NaN)),
      at: fc.integer({ min: 0, max: 100 }),
      failureCause: fc.constantFrom(...TASK_FAILURE_CAUSES),
    },
    { requiredKeys: ['taskId', 'agentId', 'producerAgentIds'] },
  ),
});

const batchesArb = fc.array(fc.record({ at: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }), outcomes: fc.array(outcomeArb, { maxLength: 8 }) }), {
  maxLength: 8,
});

describe('swarm batch learning (working copy) against the immer implementation it replaced', () => {
  test('same states after every batch, earlier states unchanged, results deeply frozen', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.array(fc.tuple(fc.nat(6), fc.nat(6)), { maxLength: 10 }), batchesArb, (fromInitial, topCopied, links, batches) => {
        // From the initial state (never frozen) or from one immer made (frozen, sharing with earlier states).
        let reference = fromInitial ? initialSwarmState({ networkId: 'n', seed: 1, rules: { successWindowSize: 3 } }) : seededBase(AGENTS, links);
        let next = fromInitial ? initialSwarmState({ networkId: 'n', seed: 1, rules: { successWindowSize: 3 } }) : reference;
        const start = next;
        for (const { at, outcomes } of batches) {
          const before = structuredClone(next);
          const previous = next;
          reference = referenceBatch(reference, outcomes, at);
          // XState's `assign` gives the machine an unfrozen copy of the context's top level.
          next = newBatch(topCopied ? { ...next } : next, outcomes, at);
          expect(next).toEqual(reference);
          expect(previous).toEqual(before);
          expect(deeplyFrozen(next)).toBe(true);
          for (const neuron of listNeurons(next)) expect(neuron.outgoingCount).toBe(pairCount(neuron.outgoing));
        }
        // All the batches in one step (what the facade sends when it publishes held outcomes): the same state.
        expect(learnFromTasks(start, batches)).toEqual(reference);
      }),
      { numRuns: 60 },
    );
  });

  test(`a producer at ${MAX_PAIRS_PER_PRODUCER} pairs drops its ${PAIRS_DROPPED_AT_CAP} weakest pairs the same way`, () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let reference = initialSwarmState({ networkId: 'n', seed: 1 });
    let next = reference;
    const consumers = MAX_PAIRS_PER_PRODUCER + 60;
    let task = 0;
    for (let round = 0; round < 40; round++) {
      const batch = Array.from({ length: 25 }, () => ({
        outcome: { taskId: `t${task++}`, agentId: `c${Math.floor(random() * consumers)}`, producerAgentIds: ['p', `q${Math.floor(random() * 3)}`], at: task },
        success: random() < 0.7,
      }));
      const previous = next;
      const before = round % 10 === 9 ? structuredClone(previous) : undefined;
      reference = referenceBatch(reference, batch, undefined);
      next = newBatch(next, batch, undefined);
      if (before) expect(previous).toEqual(before);
    }
    expect(next).toEqual(reference);
    const producer = neuronOf(next, 'p')!;
    expect(pairCount(producer.outgoing)).toBeGreaterThan(MAX_PAIRS_PER_PRODUCER - PAIRS_DROPPED_AT_CAP);
    expect(pairCount(producer.outgoing)).toBeLessThanOrEqual(MAX_PAIRS_PER_PRODUCER);
    // Pairs were dropped on the way: more were created than are left.
    expect(next.nextConnectionSeq).toBeGreaterThan(listConnections(next).length);
  });

  test(`an outcome with more than ${MAX_PRODUCERS_PER_OUTCOME} producers, duplicates and the consumer among them, given to learnFromTasks directly`, () => {
    // Past the schema's bound the producers are deduplicated by a Set, below it by a scan.
    const producerAgentIds = [...Array.from({ length: 150 }, (_, i) => `p${i % 100}`), 'c', '__proto__', '__proto__'];
    for (const ids of [producerAgentIds, producerAgentIds.slice(0, 40).concat('c', 'p0')]) {
      const batch = [{ outcome: { taskId: 't', agentId: 'c', producerAgentIds: ids }, success: true }];
      const start = initialSwarmState({ networkId: 'n', seed: 1 });
      const next = newBatch(start, batch, 1);
      expect(next).toEqual(referenceBatch(initialSwarmState({ networkId: 'n', seed: 1 }), batch, 1));
      const distinct = new Set(ids);
      distinct.delete('c');
      expect(listConnections(next)).toHaveLength(distinct.size);
      for (const connection of listConnections(next)) expect(connection.activationCount).toBe(1);
      expect(pairCount(neuronOf(next, 'c')!.incoming)).toBe(distinct.size);
    }
  });

  test('a shard emptied by a dropped pair and made again by the new pair in the same batch is frozen too', () => {
    // The producer at the pair cap drops its first pairs (all hold the same evidence: the
    // first in index order go); the new pair's id is chosen to land in the first dropped
    // pair's shard, which the drop emptied (and so removed).
    let state = produce(initialSwarmState({ networkId: 'n', seed: 1 }), (draft) => {
      addNeuron(draft, 'P');
      for (let i = 0; i < MAX_PAIRS_PER_PRODUCER; i++) {
        addNeuron(draft, `C${i}`);
        connect(draft, 'P', `C${i}`, undefined, 0);
      }
    });
    const dropped = learnFromTasks(state, [{ outcomes: [{ outcome: { taskId: 'probe', agentId: 'NEW', producerAgentIds: ['P'] }, success: true }], at: 1 }]);
    const droppedId = pairsOf(neuronOf(state, 'P')!.outgoing).find(([target]) => pairOf(neuronOf(dropped, 'P')!.outgoing, target) === undefined)![1];
    const [group, shard] = shardPath(droppedId);
    expect(keysOf(state.connections[group]![shard]!)).toEqual([droppedId]);
    let seq = state.nextConnectionSeq;
    while (shardPath(`conn-${seq}`).join() !== [group, shard].join()) seq++;
    state = produce(state, (draft) => {
      draft.nextConnectionSeq = seq;
    });
    // As the machine gets it: XState's assign hands over a copy of the top level.
    const next = learnFromTasks({ ...state }, [{ outcomes: [{ outcome: { taskId: 't', agentId: 'NEW', producerAgentIds: ['P'] }, success: true }], at: 1 }]);
    expect(keysOf(next.connections[group]![shard]!)).toEqual([`conn-${seq}`]);
    expect(deeplyFrozen(next)).toBe(true);
  });

  test("a producer's pair-index shard emptied by the dropped pair and made again by the new one is frozen, the base's left alone", () => {
    // The weakest pairs go first in shard order (all hold the same evidence): the first is the
    // only target in pair shard 0, and the new consumer's pair lands in that shard too.
    const named = (prefix: string, wanted: (shard: number) => boolean, count: number): string[] => {
      const names: string[] = [];
      for (let i = 0; names.length < count; i++) if (wanted(pairShard(`${prefix}${i}`))) names.push(`${prefix}${i}`);
      return names;
    };
    const [alone] = named('A', (shard) => shard === 0, 1);
    const others = named('C', (shard) => shard !== 0, MAX_PAIRS_PER_PRODUCER - 1);
    const [newcomer] = named('N', (shard) => shard === 0, 1);
    const state = produce(initialSwarmState({ networkId: 'n', seed: 1 }), (draft) => {
      addNeuron(draft, 'P');
      for (const target of [alone!, ...others]) {
        addNeuron(draft, target);
        connect(draft, 'P', target, undefined, 0);
      }
    });
    const baseShard = neuronOf(state, 'P')!.outgoing[0]!;
    const batch = [{ outcome: { taskId: 't', agentId: newcomer!, producerAgentIds: ['P'] }, success: true }];
    const before = structuredClone(state);
    const next = newBatch({ ...state }, batch, 1);
    expect(next).toEqual(referenceBatch(state, batch, 1));
    expect(keysOf(neuronOf(next, 'P')!.outgoing[0]!)).toEqual([newcomer]);
    expect(keysOf(baseShard)).toEqual([alone]);
    expect(state).toEqual(before);
    expect(deeplyFrozen(next)).toBe(true);
  });

  test('the pairs of outcomes finishing together share one frozen window record; a time or a result apart, their own', () => {
    const state = initialSwarmState({ networkId: 'n', seed: 1 });
    const batch = [
      { outcome: { taskId: 't1', agentId: 'c', producerAgentIds: ['p', 'q'], at: 5 }, success: true },
      { outcome: { taskId: 't2', agentId: 'd', producerAgentIds: ['p'], at: 5 }, success: true },
      { outcome: { taskId: 't3', agentId: 'e', producerAgentIds: ['p'], at: 5 }, success: false },
      { outcome: { taskId: 't4', agentId: 'f', producerAgentIds: ['p'], at: 6 }, success: true },
      { outcome: { taskId: 't5', agentId: 'g', producerAgentIds: ['p'], at: 5 }, success: true },
    ];
    const next = newBatch(state, batch, 1);
    expect(next).toEqual(referenceBatch(state, batch, 1));
    const record = (source: string, target: string) => findConnection(next, source, target)!.outcomes[0]!;
    expect(record('p', 'c')).toBe(record('q', 'c'));
    expect(record('p', 'c')).toBe(record('p', 'd'));
    expect(record('p', 'e')).toEqual({ at: 5, success: false });
    expect(record('p', 'f')).toEqual({ at: 6, success: true });
    expect(record('p', 'g')).toEqual({ at: 5, success: true });
    expect(Object.isFrozen(record('p', 'c'))).toBe(true);
    expect(deeplyFrozen(next)).toBe(true);
  });

  test("the facade's snapshots: one taken before a batch does not change, the next one is frozen", () => {
    const swarm = new NeuralSwarmNetwork({ networkId: 'snapshots', seed: 1 });
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't0', agentId: 'c', producerAgentIds: ['p'], at: 1 }, success: true }]);
    const earlier = swarm.getNetworkState();
    const copy = structuredClone(earlier);
    swarm.recordTaskOutcomes([
      { outcome: { taskId: 't1', agentId: 'c', producerAgentIds: ['p', 'q'], at: 2 }, success: false },
      { outcome: { taskId: 't2', agentId: 'p', producerAgentIds: ['c'], at: 3 }, success: true },
    ]);
    swarm.recordTaskCompleted({ taskId: 't3', agentId: 'c', producerAgentIds: ['p'], at: 4 });
    expect(earlier).toEqual(copy);
    const later = swarm.getNetworkState();
    // XState's assign spreads the returned context into a new, unfrozen root: the facade returns a frozen copy of it.
    expect(Object.isFrozen(later)).toBe(true);
    expect(Object.values(later).every(deeplyFrozen)).toBe(true);
    expect(findConnection(later, 'p', 'c')!.outcomes.map((o) => o.success)).toEqual([true, false, true]);
    expect(later.counters).toMatchObject({ tasksCompleted: 3, tasksFailed: 1 });
    void swarm.stop();
  });

  test('held outcomes reach the actor at the first read, before any other event, and by themselves at MAX_HELD_OUTCOMES', () => {
    const swarm = new NeuralSwarmNetwork({ networkId: 'held', seed: 1 });
    const counted = () => swarm.actor.getSnapshot().context.counters.tasksCompleted;
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't0', agentId: 'c', producerAgentIds: ['p'], at: 1 }, success: true }]);
    expect(counted()).toBe(0);
    expect(swarm.getNetworkState().counters.tasksCompleted).toBe(1);
    // Held, then an event through the facade: the outcome is learned first (the pair exists to remove).
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't1', agentId: 'd', producerAgentIds: ['p'], at: 2 }, success: true }]);
    expect(swarm.removeConnection('p', 'd')).toBe(true);
    expect(swarm.getConnection('p', 'd')).toBeUndefined();
    swarm.flushTaskOutcomes();
    const before = counted();
    const outcome = { outcome: { taskId: 't', agentId: 'c', producerAgentIds: ['p'] }, success: true };
    for (let i = 0; i < MAX_HELD_OUTCOMES / 4; i++) swarm.recordTaskOutcomes([outcome, outcome, outcome, outcome]);
    expect(counted()).toBe(before + MAX_HELD_OUTCOMES);
    void swarm.stop();
  });

  test('outcomes held when the actor stops under the facade (its runtime stopped) still show in reads', () => {
    const swarm = new NeuralSwarmNetwork({ networkId: 'stopped', seed: 1 });
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't0', agentId: 'c', producerAgentIds: ['p'], at: 1 }, success: true }]);
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't1', agentId: 'c', producerAgentIds: ['p'], at: 2 }, success: false }]);
    swarm.actor.stop();
    const state = swarm.getNetworkState();
    expect(state.counters).toMatchObject({ tasksCompleted: 1, tasksFailed: 1 });
    expect(findConnection(state, 'p', 'c')!.outcomes.map((o) => o.success)).toEqual([true, false]);
    expect(swarm.agentPerformance('c')).toBeCloseTo(0.1 * 0 + 0.9 * 0.55, 12);
  });

  test('held outcomes are learned before a periodic cycle that falls due after them', async () => {
    const clock = new SimulatedClock();
    const swarm = new NeuralSwarmNetwork({ networkId: 'cycle', seed: 1, clock, cycleIntervalMs: 1000 });
    await swarm.initialize();
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't0', agentId: 'c', producerAgentIds: ['p'] }, success: true }]);
    clock.increment(1000);
    const { context } = swarm.actor.getSnapshot();
    expect(context.counters.cycles).toBe(1);
    expect(context.counters.tasksCompleted).toBe(1);
    // The cycle ran after the outcome: it saw (and decayed from) the pair's use at t=0.
    expect(findConnection(context, 'p', 'c')?.decayedAt).toBe(1000);
    await swarm.stop();
  });
});
