import { deleteKey, packedFrom, packedSlot, setValue, valueOf, type PackedEntries, type ReadonlyPackedEntries } from './packedEntries';

/**
 * A record split by key hash into shards two levels deep: {@link SHARD_COUNT} groups of
 * {@link SHARD_COUNT} shards (4 096 in all). The swarm's context is updated immutably (and
 * frozen, as immer freezes), and an immutable update copies every object on the path to the
 * change: the record, a group and a shard. So each must copy cheaply once frozen:
 * - the record and its groups are arrays of 64 slots (`undefined` where empty): V8 copies a
 *   frozen array of 64 by spread in ~0.1 µs, where a frozen object keyed `'0'`…`'63'`
 *   took ~8.5 µs (its elements turn into a dictionary when frozen);
 * - a shard is a packed array of keys and entries alternating ({@link PackedEntries}), copied
 *   and frozen in ~50 ns; it was a prototype-less record, which V8 keeps as a dictionary:
 *   0.5 – 2.3 µs to copy and freeze one of 2 – 16 entries, a third of what learning a DAG's
 *   outcomes cost (docs/benchmarks.md, round 10). A lookup scans it: shards must stay small.
 * One level of 64 shards did not: at 30 000 pairs a shard held ~470, and a task
 * outcome learned on its own (a task finishing alone in its turn) copied 2–4 of them, 0.9 ms
 * an outcome (bench/profiles/swarmLearningAlone.ts, `PER_BATCH=1`). With two levels a shard
 * holds N / 4 096 entries: an update's cost follows what it changes, not the size of the
 * network, up to hundreds of thousands of entries.
 */

/** One shard: keys and entries alternating, `[key, entry, key, entry, …]` (see {@link PackedEntries}). */
export type Shard<T> = PackedEntries<T>;
/** {@link SHARD_COUNT} shards, `undefined` where empty. */
export type ShardGroup<T> = (Shard<T> | undefined)[];
/** Entries by group, then shard (see {@link shardPath}), then key. */
export type ShardedRecord<T> = (ShardGroup<T> | undefined)[];

/** A sharded record as read from a frozen snapshot. */
export type ReadonlyShardedRecord<T> = readonly (readonly (ReadonlyPackedEntries<T> | undefined)[] | undefined)[];

/** Groups in a sharded record, and shards in a group. */
export const SHARD_COUNT = 64;
/** log2 of {@link SHARD_COUNT}: a key's group is the low bits of its hash, its shard in the group the next ones. */
const SHARD_BITS = Math.log2(SHARD_COUNT);

/**
 * Where a key lives: its group and its shard in the group (FNV-1a of the key: the low six
 * bits, then the next six).
 *
 * @example
 * ```ts
 * const [group, shard] = shardPath('risk');
 * state.neurons[group]?.[shard]?.risk; // same as getEntry(state.neurons, 'risk')
 * ```
 */
export function shardPath(key: string): readonly [group: number, shard: number] {
  const hash = keyHash(key);
  return [groupOf(hash), shardInGroupOf(hash)];
}

/** The group of a key whose {@link keyHash} is `hash`. @internal */
export function groupOf(hash: number): number {
  return hash % SHARD_COUNT;
}

/** The shard, in its group, of a key whose {@link keyHash} is `hash`. @internal */
export function shardInGroupOf(hash: number): number {
  return (hash >>> SHARD_BITS) % SHARD_COUNT;
}

/** FNV-1a of a key's UTF-16 code units, as an unsigned 32-bit integer. @internal */
export function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** {@link SHARD_COUNT} empty slots, as a packed array (a holey one copies slowly once frozen). */
export function emptySlots<T>(): (T | undefined)[] {
  const slots: (T | undefined)[] = [];
  for (let i = 0; i < SHARD_COUNT; i++) slots.push(undefined);
  return slots;
}

/** The shard that holds `key`, if it exists. */
export function shardOf<T>(record: ReadonlyShardedRecord<T>, key: string): ReadonlyPackedEntries<T> | undefined {
  // Not through shardPath: its tuple is an allocation per lookup, and learning looks up tens per outcome.
  return shardAt(record, keyHash(key));
}

/** The shard of a key whose {@link keyHash} is `hash`, if it exists. @internal */
export function shardAt<T>(record: ReadonlyShardedRecord<T>, hash: number): ReadonlyPackedEntries<T> | undefined {
  return record[groupOf(hash)]?.[shardInGroupOf(hash)];
}

/**
 * The entry of `key`, if any.
 *
 * @example
 * ```ts
 * const neuron = getEntry(state.neurons, 'risk_agent_1');
 * ```
 */
export function getEntry<T>(record: ReadonlyShardedRecord<T>, key: string): T | undefined {
  return valueOf(shardOf(record, key), key);
}

/** Sets the entry of `key` (mutates: call on an immer draft or on a working copy's writable path). */
export function setEntry<T>(record: ShardedRecord<T>, key: string, value: T): void {
  const hash = keyHash(key);
  setValue(packedSlot((record[groupOf(hash)] ??= emptySlots()), shardInGroupOf(hash)), key, value);
}

/** Deletes the entry of `key`; an emptied shard and an emptied group go too (mutates, as {@link setEntry}). */
export function deleteEntry<T>(record: ShardedRecord<T>, key: string): boolean {
  const [group, shard] = shardPath(key);
  const shards = record[group];
  if (!shards || shards[shard] == null) return false;
  const entries = packedSlot(shards, shard);
  if (!deleteKey(entries, key)) return false;
  if (entries.length === 0) {
    shards[shard] = undefined;
    if (shards.every((slot) => slot === undefined)) record[group] = undefined;
  }
  return true;
}

/** An empty sharded record. */
export function emptyShardedRecord<T>(): ShardedRecord<T> {
  return emptySlots<ShardGroup<T>>();
}

/**
 * Every entry, group by group and shard by shard (deterministic for a given history of updates).
 *
 * @example
 * ```ts
 * const strengths = entriesOf(state.connections).map((c) => c.strength);
 * ```
 */
export function entriesOf<T>(record: ReadonlyShardedRecord<T>): T[] {
  const all: T[] = [];
  for (const shards of record) {
    if (!shards) continue;
    for (const shard of shards) {
      if (!shard) continue;
      const entries = packedFrom(shard);
      for (let at = 1; at < entries.length; at += 2) all.push(entries[at] as T);
    }
  }
  return all;
}
