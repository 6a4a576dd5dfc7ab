import { idRecord } from '../../idRecord';
import { pairShard, type PairIndex } from './pairIndex';
import { emptySlots, getEntry, shardPath, type ShardedRecord } from './shardedRecord';
import type { DecisionPattern, SwarmConnection, SwarmNeuron, SwarmState } from './swarmTypes';

/**
 * A copy-on-write working copy of a swarm state, for applying a batch of task outcomes
 * without immer. The state's rules (`neuronOf`, `connect`, `recordConnectionOutcome`...)
 * mutate what they are given; on an immer draft every read and write goes through a proxy
 * and the finalize step walks every property of each drafted shard (a shard of connections
 * holds ~115 entries at 7 300 connections). In the 10 000-task layered DAG that was 36 %
 * of the run's CPU profile for 154 batches (~230 µs per outcome).
 *
 * Here the caller says beforehand what an outcome will change ({@link writableNeuron},
 * {@link writableConnection}, {@link writableShard}): each of those is copied once per
 * batch (plain object copies, no proxy), and the rules then run on {@link state} as on a
 * draft. {@link publish} freezes what the batch created and returns the next state: the
 * state given to the constructor and everything reachable from it are never changed, so
 * earlier snapshots stay as they were, and the next state shares every untouched shard,
 * neuron and connection with them.
 *
 * What a batch costs follows what it changes: the copy keeps a list of what it owns and
 * freezes only that (it used to walk every entry of each copied shard: 22 % of the learning
 * on 1 000 agents), and of a neuron's pair indexes (`outgoing`, `incoming`: hundreds of
 * entries) only the shard of a pair added or dropped is copied ({@link writablePair}), not
 * whenever the neuron learns.
 */
export class SwarmWorkingCopy {
  /** The next state while the batch runs: write only what was made writable. */
  readonly state: SwarmState;
  /** Objects this copy owns (copied or created in this batch): written in place. */
  private readonly owned = new WeakSet();
  /**
   * Owned shards, shard indexes and neurons' pair indexes: frozen shallowly (their entries
   * are shared, listed in {@link entities}, or connection ids).
   */
  private readonly containers: object[] = [];
  /** Owned neurons and connections: frozen with whatever new they hold (patterns, windows, posteriors). */
  private readonly entities: object[] = [];
  /**
   * The base's records were never frozen (an initial state): everything is frozen at
   * publication, once. Not the base's own top level: see {@link publish}.
   */
  private readonly baseUnfrozen: boolean;

  constructor(base: SwarmState) {
    this.baseUnfrozen = !Object.isFrozen(base.neurons) || !Object.isFrozen(base.connections);
    // The shard indexes are copied when a shard is first written: a batch that changes no
    // neuron keeps `neurons` itself, as immer would.
    this.state = { ...base, counters: { ...base.counters } };
  }

  /**
   * The shard of `state[records]` that holds `key`, owned by this copy with its group and the
   * record (each copied on the first call in the batch, created when absent) so that entries
   * can be set or deleted in it (and an emptied shard or group dropped).
   */
  writableShard(records: 'neurons', key: string): Record<string, SwarmNeuron>;
  writableShard(records: 'connections', key: string): Record<string, SwarmConnection>;
  writableShard(records: 'neurons' | 'connections', key: string): Record<string, SwarmNeuron | SwarmConnection> {
    let record: ShardedRecord<SwarmNeuron | SwarmConnection> = this.state[records];
    if (!this.owned.has(record)) {
      record = [...record];
      this.state[records] = record as ShardedRecord<never>;
      this.own(record, this.containers);
    }
    return this.writableShardOf(record, key);
  }

  private writableShardOf<T>(record: ShardedRecord<T>, key: string): Record<string, T> {
    const [groupId, shardId] = shardPath(key);
    let group = record[groupId];
    if (group === undefined || !this.owned.has(group)) {
      group = group === undefined ? emptySlots() : [...group];
      record[groupId] = group;
      this.own(group, this.containers);
    }
    const shard = group[shardId];
    if (shard !== undefined && this.owned.has(shard)) return shard;
    // Object.assign onto a prototype-less record keeps a `__proto__` key as an own key.
    const copy = shard === undefined ? idRecord<T>() : Object.assign(idRecord<T>(), shard);
    group[shardId] = copy;
    this.own(copy, this.containers);
    return copy;
  }

  /**
   * The neuron of `agentId`, owned by this copy: its fields and decision patterns (each one
   * too) can be changed; its outgoing and incoming connection ids only after
   * {@link writablePair}. For an agent not in the network, its shard is made writable (so
   * that `addNeuron` can add it) and the result is `undefined`.
   */
  writableNeuron(agentId: string): SwarmNeuron | undefined {
    const current = getEntry(this.state.neurons, agentId);
    if (current !== undefined && this.owned.has(current)) return current;
    const shard = this.writableShard('neurons', agentId);
    if (current === undefined) return undefined;
    const copy: SwarmNeuron = { ...current, patterns: copyPatterns(current.patterns) };
    shard[agentId] = copy;
    this.own(copy, this.entities);
    this.owned.add(copy.patterns);
    return copy;
  }

  /**
   * The neuron of `agentId` as {@link writableNeuron} gives it, with the shard of its `side`
   * pair index that holds `otherAgentId` writable too (for that pair added or dropped): the
   * index (16 slots) and that shard are copied, not the other pairs. `undefined` for an agent
   * not in the network.
   */
  writablePair(agentId: string, side: 'outgoing' | 'incoming', otherAgentId: string): SwarmNeuron | undefined {
    const neuron = this.writableNeuron(agentId);
    if (neuron === undefined) return undefined;
    let index = neuron[side];
    if (!this.owned.has(index)) {
      index = [...index];
      neuron[side] = index;
      this.own(index, this.containers);
    }
    const at = pairShard(otherAgentId);
    const shard = index[at];
    if (shard === undefined || !this.owned.has(shard)) {
      // Object.assign onto a prototype-less record keeps a `__proto__` key as an own key.
      const copy = shard === undefined ? idRecord<string>() : Object.assign(idRecord<string>(), shard);
      index[at] = copy;
      this.own(copy, this.containers);
    }
    return neuron;
  }

  /**
   * The connection `connectionId`, owned by this copy (its shard too, so that it can be
   * deleted); `undefined` when there is none (its shard is made writable all the same, so
   * that a connection can be created under that id).
   */
  writableConnection(connectionId: string): SwarmConnection | undefined {
    const current = getEntry(this.state.connections, connectionId);
    if (current !== undefined && this.owned.has(current)) return current;
    const shard = this.writableShard('connections', connectionId);
    if (current === undefined) return undefined;
    // Shallow is enough: the rules replace `outcomes` and `posterior`, never change them in place.
    const copy: SwarmConnection = { ...current };
    shard[connectionId] = copy;
    this.own(copy, this.entities);
    return copy;
  }

  /** Marks a neuron or connection the rules created in this batch as this copy's (its parts too). */
  adopt(created: SwarmNeuron | SwarmConnection | undefined): void {
    if (created === undefined || this.owned.has(created)) return;
    this.own(created, this.entities);
    if ('outgoing' in created) {
      this.owned.add(created.patterns);
      for (const index of [created.outgoing, created.incoming]) {
        this.own(index, this.containers);
        for (const shard of index) if (shard !== undefined) this.own(shard, this.containers);
      }
    }
  }

  private own(value: object, list: object[]): void {
    this.owned.add(value);
    list.push(value);
  }

  /**
   * The next state, frozen as immer freezes its results: every object this batch created
   * is frozen, deeply; what it shares with earlier states already is (immer and earlier
   * publications freeze deeply; a state never frozen, the initial one, is frozen here
   * once, as immer would). Only what this copy owns is visited: the shards and indexes it
   * copied are frozen shallowly (their other entries are shared, so frozen), the neurons and
   * connections it copied or adopted deeply, where the rules put new windows, posteriors and
   * patterns. Call once, at the end of the batch.
   */
  publish(): SwarmState {
    if (this.baseUnfrozen) return freezeNew(this.state);
    for (const entity of this.entities) {
      freezeEntity(entity);
      // A shard, group or pair-index shard emptied and made again in this batch (a pair dropped,
      // then one created under an id of the same shard) is a new object nobody owns.
      if ('connectionId' in entity) freezePath(this.state.connections, (entity as SwarmConnection).connectionId);
      else {
        const neuron = entity as SwarmNeuron;
        freezePath(this.state.neurons, neuron.agentId);
        freezeIndex(neuron.outgoing);
        freezeIndex(neuron.incoming);
      }
    }
    for (const container of this.containers) Object.freeze(container);
    // The top level: XState's `assign` hands the machine an unfrozen copy of the context it
    // was given, so the base's own top level is not frozen; its fields are.
    return freezeNew(this.state);
  }
}

function copyPatterns(patterns: Readonly<Record<string, DecisionPattern>>): Record<string, DecisionPattern> {
  const copy = idRecord<DecisionPattern>();
  for (const key of Object.keys(patterns)) copy[key] = { ...patterns[key]! };
  return copy;
}

/** Freezes the group and shard that hold `key` (their entries are frozen entities). */
function freezePath<T>(record: ShardedRecord<T>, key: string): void {
  const [groupId, shardId] = shardPath(key);
  const group = record[groupId];
  if (group === undefined) return;
  const shard = group[shardId];
  if (shard !== undefined && !Object.isFrozen(shard)) Object.freeze(shard);
  if (!Object.isFrozen(group)) Object.freeze(group);
}

/** Freezes a pair index and its shards (connection ids). */
function freezeIndex(index: PairIndex): void {
  for (const shard of index) if (shard !== undefined && !Object.isFrozen(shard)) Object.freeze(shard);
  if (!Object.isFrozen(index)) Object.freeze(index);
}

/**
 * Freezes a neuron or connection and what is new in it. A neuron's pair indexes (connection
 * ids, up to hundreds) are not visited: the copy freezes those it owns as containers, and
 * the others are shared, so frozen.
 */
function freezeEntity(entity: object): void {
  const fields = entity as Record<string, unknown>;
  for (const key of Object.keys(fields)) if (key !== 'outgoing' && key !== 'incoming') freezeNew(fields[key]);
  Object.freeze(entity);
}

/**
 * Freezes `value` and, below it, every plain object or array not frozen yet. A frozen
 * object is where the walk stops: the batch shares it with an earlier state, whose
 * publication (or immer) froze all of it.
 */
function freezeNew<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) freezeNew((value as Record<string, unknown>)[key]);
  return value;
}
