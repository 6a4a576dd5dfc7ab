import { idRecord, ownValue } from '../../idRecord';

/**
 * A record split into a fixed number of shards by key hash. The swarm's context is
 * updated immutably (immer), and an immutable update copies every object on the path to
 * the change: with one flat record of N neurons, each event would copy N entries. Two
 * levels of at most `SHARD_COUNT` shards make an update copy the shard index plus one
 * shard, about `64 + N / 64` entries: an event's cost follows what it changes, not the
 * size of the network, for networks up to tens of thousands of agents.
 */

/** Entries by shard key, then by key. */
export type ShardedRecord<T> = Record<string, Record<string, T>>;

/** A sharded record as read from a frozen snapshot. */
export type ReadonlyShardedRecord<T> = { readonly [shard: string]: { readonly [key: string]: T } | undefined };

/** Number of shards of a sharded record. */
export const SHARD_COUNT = 64;

/**
 * The shard of a key (FNV-1a of the key, modulo {@link SHARD_COUNT}).
 *
 * @example
 * ```ts
 * state.neurons[shardKey('risk')]?.risk; // same as getEntry(state.neurons, 'risk')
 * ```
 */
export function shardKey(key: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return String((hash >>> 0) % SHARD_COUNT);
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
  return ownValue(record[shardKey(key)], key);
}

/** Sets the entry of `key` (mutates: call on an immer draft). */
export function setEntry<T>(record: ShardedRecord<T>, key: string, value: T): void {
  const shard = shardKey(key);
  (record[shard] ??= idRecord<T>())[key] = value;
}

/** Deletes the entry of `key`; an emptied shard goes too (mutates: call on an immer draft). */
export function deleteEntry<T>(record: ShardedRecord<T>, key: string): boolean {
  const shard = shardKey(key);
  const entries = record[shard];
  if (!entries || !Object.hasOwn(entries, key)) return false;
  delete entries[key];
  if (Object.keys(entries).length === 0) delete record[shard];
  return true;
}

/**
 * Every entry, shard by shard (deterministic for a given history of updates).
 *
 * @example
 * ```ts
 * const strengths = entriesOf(state.connections).map((c) => c.strength);
 * ```
 */
export function entriesOf<T>(record: ReadonlyShardedRecord<T>): T[] {
  const all: T[] = [];
  for (const entries of Object.values(record)) if (entries) all.push(...Object.values(entries));
  return all;
}
