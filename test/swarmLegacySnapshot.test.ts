import { produce } from 'immer';
import { learnFromTask, learnFromTasks, type TaskOutcomeBatch } from '../src/swarm/model/outcomeLearning';
import { pairCount, pairsOf, type PairIndex } from '../src/swarm/model/pairIndex';
import type { ShardedRecord } from '../src/swarm/model/shardedRecord';
import { connectionOf, disconnect, initialSwarmState, listConnections, listNeurons, neuronOf, removeNeuron } from '../src/swarm/model/swarmState';
import type { SwarmState } from '../src/swarm/model/swarmTypes';

/**
 * Snapshots persisted before shards were packed arrays hold each shard as a record keyed by
 * id (prototype-less in memory, a plain object once through JSON). Such a snapshot must read
 * and learn as the same state in the packed layout does: nothing lost, nothing thrown.
 */

const agents = ['a', 'b', 'c', '__proto__', 'toString', '7', 'd'];
const batch = (round: number, at: number): TaskOutcomeBatch => ({
  at,
  outcomes: agents.map((agentId, i) => ({
    outcome: { taskId: `t${round}-${i}`, agentId, taskType: 'work', producerAgentIds: [agents[(i + 1 + round) % agents.length]!, agents[(i + 3) % agents.length]!] },
    success: (i + round) % 3 !== 0,
  })),
});

/** The state in the old layout: every shard a record of its entries, as the old code kept it. */
function legacy(state: SwarmState, viaJson: boolean): SwarmState {
  const record = <T>(entries: readonly (string | T)[]): Record<string, T> => {
    const out = viaJson ? ({} as Record<string, T>) : (Object.create(null) as Record<string, T>);
    for (let at = 0; at < entries.length; at += 2)
      Object.defineProperty(out, entries[at] as string, { value: entries[at + 1], enumerable: true, writable: true, configurable: true });
    return out;
  };
  const index = (pairs: PairIndex) => pairs.map((shard) => (shard === undefined ? undefined : record(shard)));
  const sharded = <T>(groups: ShardedRecord<T>, map: (entry: T) => unknown) =>
    groups.map((group) => group?.map((shard) => (shard === undefined ? undefined : record<unknown>(shard.map((item, i) => (i % 2 === 1 ? map(item as T) : item))))));
  const old = {
    ...state,
    neurons: sharded(state.neurons, (n) => ({ ...n, outgoing: index(n.outgoing), incoming: index(n.incoming) })),
    connections: sharded(state.connections, (c) => c),
  } as unknown as SwarmState;
  return viaJson ? (JSON.parse(JSON.stringify(old)) as SwarmState) : old;
}

/** What a state says, whatever its layout: neurons with their pairs, connections, counters. */
function reading(state: SwarmState) {
  const byId = <T>(items: T[], id: (item: T) => string) => [...items].sort((x, y) => (id(x) < id(y) ? -1 : 1));
  return {
    neurons: byId(listNeurons(state), (n) => n.agentId).map(({ outgoing, incoming, ...rest }) => ({
      ...rest,
      outgoing: byId(pairsOf(outgoing), ([id]) => id),
      incoming: byId(pairsOf(incoming), ([id]) => id),
      outgoingPairs: pairCount(outgoing),
    })),
    connections: byId(listConnections(state), (c) => c.connectionId),
    counters: state.counters,
  };
}

describe('a swarm snapshot persisted before packed shards', () => {
  const base = learnFromTasks(initialSwarmState({ networkId: 'old', seed: 1 }), [batch(0, 1), batch(1, 2)]);

  test.each([false, true])('reads as the same state (through JSON: %s)', (viaJson) => {
    const old = legacy(base, viaJson);
    expect(reading(old)).toEqual(reading(base));
    expect(neuronOf(old, '__proto__')?.agentId).toBe('__proto__');
    const id = listConnections(base)[0]!.connectionId;
    expect(connectionOf(old, id)).toEqual(connectionOf(base, id));
  });

  test.each([false, true])('learns in batches and on immer drafts as the same state does (through JSON: %s)', (viaJson) => {
    const old = legacy(base, viaJson);
    const batches = [batch(2, 3), batch(3, 4)];
    expect(reading(learnFromTasks(old, batches))).toEqual(reading(learnFromTasks(base, batches)));
    const onDraft = (state: SwarmState) =>
      produce(state, (draft) => {
        for (const { outcome, success } of batch(4, 5).outcomes) learnFromTask(draft, outcome, success, 5);
        disconnect(draft, 'a', 'c');
        removeNeuron(draft, 'toString');
      });
    expect(reading(onDraft(old))).toEqual(reading(onDraft(base)));
  });
});
