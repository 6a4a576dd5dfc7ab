import { deleteKey, entryCount, packedFrom, packedSlot, setValue, valueOf, type PackedEntries, type ReadonlyPackedEntries } from './packedEntries';
import { keyHash } from './shardedRecord';

/**
 * A neuron's pairs: connection ids by the agent at the other end (`outgoing`: by target,
 * `incoming`: by source), split by key hash into {@link PAIR_SHARDS} shards. A producer
 * holds up to `MAX_PAIRS_PER_PRODUCER` (256) outgoing pairs and a consumer one incoming pair
 * per producer it has worked with, and the swarm's immutable updates copy what they change:
 * one record of them copied whole for every new pair cost ~0.5 µs an entry once frozen, most
 * of a task outcome's learning in a network of many pairs (bench/profiles/swarmLearningAlone.ts).
 * A new pair now copies the index (16 slots) and one shard, a packed array of agent ids and
 * connection ids alternating ({@link PackedEntries}: ~50 ns to copy and freeze at 16 pairs,
 * where a prototype-less record took ~2.3 µs).
 */

/** Shards in a pair index. */
export const PAIR_SHARDS = 16;

/** A pair index as the rules change it (on an immer draft or a working copy's owned index). */
export type PairIndex = (PackedEntries<string> | undefined)[];

/** A pair index as read from a frozen snapshot. */
export type ReadonlyPairIndex = readonly (ReadonlyPackedEntries<string> | undefined)[];

/** The shard of `agentId` in a pair index. */
export function pairShard(agentId: string): number {
  return keyHash(agentId) % PAIR_SHARDS;
}

/** An empty pair index (a packed array: a holey one copies slowly once frozen). */
export function emptyPairIndex(): PairIndex {
  const index: PairIndex = [];
  for (let i = 0; i < PAIR_SHARDS; i++) index.push(undefined);
  return index;
}

/**
 * The connection id paired with `agentId`, if any.
 *
 * @example
 * ```ts
 * const connectionId = pairOf(neuronOf(state, 'analyst')!.outgoing, 'trader');
 * ```
 */
export function pairOf(index: ReadonlyPairIndex | undefined, agentId: string): string | undefined {
  return valueOf(index?.[pairShard(agentId)], agentId);
}

/**
 * Every pair as `[agentId, connectionId]`, shard by shard (deterministic for a given history).
 *
 * @example
 * ```ts
 * const targets = pairsOf(neuronOf(state, 'analyst')!.outgoing).map(([target]) => target);
 * ```
 */
export function pairsOf(index: ReadonlyPairIndex): [agentId: string, connectionId: string][] {
  const pairs: [string, string][] = [];
  for (const shard of index) {
    if (!shard) continue;
    const entries = packedFrom(shard);
    for (let at = 0; at < entries.length; at += 2) pairs.push([entries[at] as string, entries[at + 1] as string]);
  }
  return pairs;
}

/** How many pairs the index holds. */
export function pairCount(index: ReadonlyPairIndex): number {
  let count = 0;
  for (const shard of index) if (shard) count += entryCount(packedFrom(shard));
  return count;
}

/** Pairs `agentId` with `connectionId` (mutates: the shard must be writable). */
export function setPair(index: PairIndex, agentId: string, connectionId: string): void {
  setValue(packedSlot(index, pairShard(agentId)), agentId, connectionId);
}

/** Removes the pair with `agentId`; an emptied shard goes too (mutates, as {@link setPair}). */
export function deletePair(index: PairIndex, agentId: string): boolean {
  const at = pairShard(agentId);
  if (index[at] == null) return false;
  const shard = packedSlot(index, at);
  if (!deleteKey(shard, agentId)) return false;
  if (shard.length === 0) index[at] = undefined;
  return true;
}
