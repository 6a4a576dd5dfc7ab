import { idRecord } from '../../idRecord';
import { copyConnection } from './connection';
import { copyEntries, keyPosition, type PackedEntries, type ReadonlyPackedEntries } from './packedEntries';
import { pairShard, type PairIndex } from './pairIndex';
import { emptySlots, groupOf, keyHash, shardAt, shardInGroupOf, type ReadonlyShardedRecord, type Shard, type ShardGroup, type ShardedRecord } from './shardedRecord';
import type { DecisionPattern, SwarmConnection, SwarmNeuron, SwarmState } from './swarmTypes';

/**
 * A copy-on-write working copy of a swarm state, for applying a batch of task outcomes
 * without immer. The state's rules (`neuronOf`, `connect`, `recordConnectionOutcome`...)
 * mutate what they are given; on an immer draft every read and write goes through a proxy
 * and the finalize step walks every property of each drafted shard (a shard of connections
 * holds ~115 entries at 7 300 connections). In the 10 000-task layered DAG that was 36 %
 * of the run's CPU profile for 154 batches (~230 µs per outcome).
 *
 * Here what an outcome changes is made writable before the rules change it
 * ({@link writableNeuron}, {@link writableConnection}, {@link writablePair},
 * {@link writableShard}), and what they create is adopted ({@link adopt}): each is copied once
 * per batch (plain object copies, no proxy), and the rules run on {@link state} as on a draft.
 * {@link publish} freezes what the batch created and returns the next state: the state given
 * to the constructor and everything reachable from it are never changed, so earlier
 * snapshots stay as they were, and the next state shares every untouched shard, neuron and
 * connection with them.
 *
 * What a batch costs follows what it changes: the copy keeps a list of what it owns and
 * freezes only that (it used to walk every entry of each copied shard: 22 % of the learning
 * on 1 000 agents), and of a neuron's pair indexes (`outgoing`, `incoming`: hundreds of
 * entries) only the shard of a pair added or dropped is copied ({@link writablePair}), not
 * whenever the neuron learns. What it owns is what is not frozen: everything reachable from
 * the base is (earlier publications and immer freeze deeply; a base never frozen is frozen by
 * the constructor), and what the copy makes stays extensible until {@link publish}. One
 * `Object.isExtensible` test replaced the maps of the groups, shards, neurons and connections
 * it copied (by position and id), which were 7 % of what a 10 000-task DAG allocates in
 * learning (docs/benchmarks.md, round 9). Shards are packed arrays ({@link PackedEntries}):
 * copied by spread and frozen in ~50 ns, where the prototype-less records they were took
 * 0.5 – 2.3 µs (round 10); each lookup finds a key's position once and writes the copy there.
 */
export class SwarmWorkingCopy {
  /** The next state while the batch runs: write only what was made writable. */
  readonly state: SwarmState;
  /** Owned records and groups: frozen shallowly (their entries are shared, or owned and frozen themselves). */
  private readonly containers: object[] = [];
  /** Where the owned shards are: their group, their slot in it, and their length when copied (same positions). See {@link publish}. */
  private readonly shardGroups: ShardGroup<unknown>[] = [];
  private readonly shardSlots: number[] = [];
  private readonly shardLengths: number[] = [];
  /** Owned neurons and connections: frozen with whatever new they hold (patterns, windows, posteriors). */
  private readonly entities: object[] = [];
  /** Neurons and connections the rules created in this batch (their shard may have been made again: see {@link publish}). */
  private readonly created: (SwarmNeuron | SwarmConnection)[] = [];
  /** Owned pair indexes: frozen with the shards in them that are new. */
  private readonly indexes: PairIndex[] = [];

  constructor(base: SwarmState) {
    // What this copy owns is what is not frozen (see the class comment): a base never frozen
    // (an initial state, a state restored from a store) is frozen first, as publishing it
    // would have (immer freezes what a result shares with its base too).
    if (!Object.isFrozen(base.neurons) || !Object.isFrozen(base.connections)) {
      freezeNew(base.neurons);
      freezeNew(base.connections);
    }
    // The shard indexes are copied when a shard is first written: a batch that changes no
    // neuron keeps `neurons` itself, as immer would.
    this.state = { ...base, counters: { ...base.counters } };
  }

  /**
   * The shard of `state[records]` that holds `key`, owned by this copy with its group and the
   * record (each copied on the first call in the batch, created when absent) so that entries
   * can be set or deleted in it (and an emptied shard or group dropped).
   */
  writableShard(records: 'neurons', key: string): Shard<SwarmNeuron>;
  writableShard(records: 'connections', key: string): Shard<SwarmConnection>;
  writableShard(records: 'neurons' | 'connections', key: string): Shard<SwarmNeuron | SwarmConnection> {
    return this.ownedShard(records, keyHash(key));
  }

  /** {@link writableShard} by the key's hash (computed once per lookup, not per step of it). */
  private ownedShard(records: 'neurons' | 'connections', hash: number): Shard<SwarmNeuron | SwarmConnection> {
    let record = this.state[records] as ShardedRecord<SwarmNeuron | SwarmConnection>;
    if (!Object.isExtensible(record)) {
      record = [...record];
      (this.state[records] as ShardedRecord<SwarmNeuron | SwarmConnection>) = record;
      this.containers.push(record);
    }
    const groupId = groupOf(hash);
    let group = record[groupId];
    // `null` is an empty slot of a snapshot that went through JSON.
    if (group == null || !Object.isExtensible(group)) {
      group = group == null ? emptySlots() : [...group];
      record[groupId] = group;
      this.containers.push(group);
    }
    const shardId = shardInGroupOf(hash);
    const shard = group[shardId];
    if (shard != null && Object.isExtensible(shard) && Array.isArray(shard)) return shard;
    // By spread: `slice` of a frozen array takes V8's slow path (packedEntries.ts).
    const copy = shard == null ? [] : copyEntries(shard);
    group[shardId] = copy;
    this.shardGroups.push(group);
    this.shardSlots.push(shardId);
    this.shardLengths.push(copy.length);
    return copy;
  }

  /**
   * The neuron of `agentId`, owned by this copy: its fields and decision patterns (each one
   * too) can be changed; its outgoing and incoming connection ids only after
   * {@link writablePair}. For an agent not in the network, its shard is made writable (so
   * that `addNeuron` can add it) and the result is `undefined`.
   */
  writableNeuron(agentId: string): SwarmNeuron | undefined {
    return this.writableEntry('neurons', agentId, copyNeuron);
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
    if (!Object.isExtensible(index)) {
      index = [...index];
      neuron[side] = index;
      this.indexes.push(index);
    }
    const at = pairShard(otherAgentId);
    const shard = index[at];
    if (shard == null) index[at] = [];
    else if (!Object.isExtensible(shard) || !Array.isArray(shard)) index[at] = copyEntries(shard);
    return neuron;
  }

  /**
   * The connection `connectionId`, owned by this copy (its shard too, so that it can be
   * deleted); `undefined` when there is none (its shard is made writable all the same, so
   * that a connection can be created under that id).
   */
  writableConnection(connectionId: string): SwarmConnection | undefined {
    // Shallow: the rules replace `posterior` and `outcomes` (a new window each time), never
    // change them.
    return this.writableEntry('connections', connectionId, copyConnection);
  }

  /**
   * {@link writableNeuron} and {@link writableConnection}: the entry of `key` in
   * `state[records]`, owned (copied by `copy` on first use in the batch) with its shard, or
   * `undefined` with its shard made writable all the same. The key is hashed and found once.
   */
  private writableEntry<T extends SwarmNeuron | SwarmConnection>(records: 'neurons' | 'connections', key: string, copy: (entry: T) => T): T | undefined {
    const hash = keyHash(key);
    let found = shardAt(this.state[records] as ReadonlyShardedRecord<T>, hash);
    // A shard an older snapshot left a record is made this copy's, packed, before the lookup.
    if (found != null && !Array.isArray(found)) found = this.ownedShard(records, hash) as ReadonlyPackedEntries<T>;
    const at = found == null ? -1 : keyPosition(found, key);
    const current = at < 0 ? undefined : (found![at + 1] as T);
    if (current !== undefined && Object.isExtensible(current)) return current;
    // The owned shard is `found` or a copy of it: the entry is at the same position.
    const shard = this.ownedShard(records, hash);
    if (current === undefined) return undefined;
    const owned = copy(current);
    shard[at + 1] = owned;
    this.entities.push(owned);
    return owned;
  }

  /** Marks a neuron or connection the rules created in this batch as this copy's (its parts too). */
  adopt(created: SwarmNeuron | SwarmConnection | undefined): void {
    if (created === undefined) return;
    // Every shard of a new neuron's indexes is new: all are frozen at publication.
    if ('outgoing' in created) this.indexes.push(created.outgoing, created.incoming);
    this.entities.push(created);
    this.created.push(created);
  }

  /**
   * The next state, frozen as immer freezes its results: every object this batch created
   * is frozen, deeply; what it shares with earlier states already is (immer and earlier
   * publications freeze deeply; a base never frozen was frozen by the constructor). Only
   * what this copy owns is visited: the shards and indexes it copied are frozen shallowly
   * (their other entries are shared, so frozen), the neurons and connections it copied or
   * adopted deeply, where the rules put new windows, posteriors and patterns. Call once, at
   * the end of the batch.
   */
  publish(): SwarmState {
    // Shards first, while their groups can still take exact copies of those that grew (see freezeShardAt).
    for (let i = 0; i < this.shardGroups.length; i++) freezeShardAt(this.shardGroups[i]!, this.shardSlots[i]!, this.shardLengths[i]);
    // A shard or group emptied and made again in this batch (a pair dropped, then one
    // created under an id of the same shard by `setEntry`) is new and not listed above.
    for (const entity of this.created) {
      if ('connectionId' in entity) freezePath(this.state.connections, entity.connectionId);
      else freezePath(this.state.neurons, entity.agentId);
    }
    for (const container of this.containers) Object.freeze(container);
    for (const entity of this.entities) freezeEntity(entity);
    for (const index of this.indexes) freezeIndex(index);
    // The top level: XState's `assign` hands the machine an unfrozen copy of the context it
    // was given, so the base's own top level is not frozen; its fields are.
    return freezeNew(this.state);
  }
}

/** A neuron's copy for the batch: its decision patterns copied too (the rules count into them). */
function copyNeuron(neuron: SwarmNeuron): SwarmNeuron {
  return { ...neuron, patterns: copyPatterns(neuron.patterns) };
}

function copyPatterns(patterns: Readonly<Record<string, DecisionPattern>>): Record<string, DecisionPattern> {
  const copy = idRecord<DecisionPattern>();
  for (const key of Object.keys(patterns)) copy[key] = { ...patterns[key]! };
  return copy;
}

/**
 * Freezes the shard in `slots[at]` if it is new; one longer than `copiedLength` is replaced by
 * an exact copy first: an array that grew by `push` keeps V8's spare capacity (a shard of one
 * entry that took a second holds 22 slots, 192 bytes where 48 do) for as long as the state
 * keeps it. A copy by spread is ~25 ns.
 */
function freezeShardAt<T>(slots: (PackedEntries<T> | undefined)[], at: number, copiedLength = 0): void {
  const shard = slots[at];
  if (shard === undefined || !Object.isExtensible(shard)) return;
  slots[at] = Object.freeze(shard.length > copiedLength ? [...shard] : shard) as PackedEntries<T>;
}

/** Freezes the group and shard that hold `key` (their entries are frozen entities). */
function freezePath<T>(record: ShardedRecord<T>, key: string): void {
  const hash = keyHash(key);
  const group = record[groupOf(hash)];
  if (group === undefined) return;
  if (Object.isExtensible(group)) freezeShardAt(group, shardInGroupOf(hash));
  Object.freeze(group);
}

/**
 * Freezes an owned pair index and the shards in it that are new (the others are shared, so
 * frozen), as exact copies: a pair index's shard is made writable for a pair added or dropped.
 */
function freezeIndex(index: PairIndex): void {
  for (let at = 0; at < index.length; at++) freezeShardAt(index, at);
  Object.freeze(index);
}

/**
 * Freezes a neuron or connection and what is new in it. A neuron's pair indexes (connection
 * ids, up to hundreds) are not visited: the copy freezes those it owns as containers, and
 * the others are shared, so frozen.
 */
function freezeEntity(entity: object): void {
  if ('connectionId' in entity) return freezeConnection(entity as SwarmConnection);
  const fields = entity as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key === 'outgoing' || key === 'incoming') continue;
    const value = fields[key];
    if (typeof value === 'object' && value !== null) freezeNew(value);
  }
  Object.freeze(entity);
}

/**
 * {@link freezeEntity} for a connection, without walking its fields: of them only `outcomes`
 * and `posterior` are objects, and the rules replace them (a new window each time, the
 * earlier outcomes and one new at its end, never changing an outcome; the batch's outcome
 * records are frozen when made), so what is new in the window is at its end. Freezing by the
 * generic walk was a third of what learning a DAG's outcome cost (bench/profiles/
 * swarmLearningReplayAB.ts: 18 → 12 µs an outcome with no freezing at all); the deep-freeze
 * property test of test/swarmBatchLearning.test.ts holds this to the whole state.
 */
function freezeConnection(connection: SwarmConnection): void {
  const { outcomes, posterior } = connection;
  if (!Object.isFrozen(outcomes)) {
    Object.freeze(outcomes);
    for (let i = outcomes.length - 1; i >= 0 && !Object.isFrozen(outcomes[i]); i--) Object.freeze(outcomes[i]);
  }
  if (posterior !== undefined && !Object.isFrozen(posterior)) Object.freeze(posterior);
  Object.freeze(connection);
}

/**
 * Freezes `value` and, below it, every plain object or array not frozen yet. A frozen
 * object is where the walk stops: the batch shares it with an earlier state, whose
 * publication (or immer) froze all of it.
 */
function freezeNew<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  // An array by index: Object.keys makes a string per element (a connection's window holds up to 20).
  if (Array.isArray(value)) {
    Object.freeze(value);
    for (let i = 0; i < value.length; i++) freezeNew(value[i] as unknown);
    return value;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) freezeNew((value as Record<string, unknown>)[key]);
  return value;
}
