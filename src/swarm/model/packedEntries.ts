/**
 * A small map kept as one packed array, keys and values alternating (`[key, value, key,
 * value, …]`, keys in the order they were first set): the shards of the swarm's sharded
 * records and pair indexes. The swarm's state is frozen and updated by copying what changes,
 * and its shards are copied and frozen thousands of times per learning step; as packed arrays
 * a copy and its freezing take ~40 – 50 ns for 1 – 16 entries, against 550 – 2 300 ns for
 * prototype-less records (V8 keeps those as dictionaries: copying one walks a hash table, and
 * freezing one rewrites every entry's attributes). A lookup is a scan, as fast as a dictionary
 * lookup up to a few entries and ~75 ns at 16 (docs/benchmarks.md, round 10): the records
 * that use them keep shards that small. Keys are compared with `===`, so `__proto__` is a key
 * like any other.
 *
 * Copy a frozen one by spread (`[...entries]`): `slice` and `concat` of a frozen array take
 * V8's slow path (~400 ns for four entries).
 */

/** Keys and values alternating, in the order the keys were first set. */
export type PackedEntries<T> = (string | T)[];

/** {@link PackedEntries} as read from a frozen snapshot. */
export type ReadonlyPackedEntries<T> = readonly (string | T)[];

/** The position of `key` in `entries` (the value is at the next one), or −1. */
export function keyPosition<T>(entries: ReadonlyPackedEntries<T>, key: string): number {
  for (let at = 0; at < entries.length; at += 2) if (entries[at] === key) return at;
  return -1;
}

/**
 * `entries` as packed entries: itself, or, for a shard of a snapshot from a version before
 * packed entries (a record keyed by id: prototype-less, or a plain object once through JSON),
 * its own entries packed into a new array. Readers take both forms through this (a snapshot
 * persisted then reads and learns as before), and writers convert such a shard before they
 * change it.
 */
export function packedFrom<T>(entries: ReadonlyPackedEntries<T>): ReadonlyPackedEntries<T> {
  if (Array.isArray(entries)) return entries as ReadonlyPackedEntries<T>;
  const legacy = entries as unknown as { readonly [key: string]: T };
  const packed: (string | T)[] = [];
  for (const key of Object.keys(legacy)) packed.push(key, legacy[key] as T);
  return packed;
}

/**
 * The shard in `slots[at]` (a group of a sharded record, or a pair index), for a writer: an
 * absent one (`undefined`, or `null` once through JSON) is created, and one an older snapshot
 * left a record is converted in place ({@link packedFrom}). Mutates `slots`.
 */
export function packedSlot<T>(slots: (ReadonlyPackedEntries<T> | undefined)[], at: number): PackedEntries<T> {
  const shard = slots[at];
  if (Array.isArray(shard)) return shard as PackedEntries<T>;
  const packed = shard == null ? [] : (packedFrom(shard) as PackedEntries<T>);
  slots[at] = packed;
  return packed;
}

/** A writable copy of `entries` (by spread: see the module comment), from either form ({@link packedFrom}). */
export function copyEntries<T>(entries: ReadonlyPackedEntries<T>): PackedEntries<T> {
  return Array.isArray(entries) ? [...(entries as ReadonlyPackedEntries<T>)] : (packedFrom(entries) as PackedEntries<T>);
}

/**
 * The value of `key`, if `entries` holds it (either form, see {@link packedFrom}).
 *
 * @example
 * ```ts
 * valueOf(['a', 1, 'b', 2], 'b'); // 2
 * ```
 */
export function valueOf<T>(entries: ReadonlyPackedEntries<T> | undefined, key: string): T | undefined {
  // `null` too: a snapshot through JSON has `null` where a slot was empty.
  if (entries == null) return undefined;
  if (!Array.isArray(entries)) {
    const legacy = entries as unknown as { readonly [key: string]: T };
    return Object.hasOwn(legacy, key) ? legacy[key] : undefined;
  }
  const at = keyPosition(entries, key);
  return at < 0 ? undefined : (entries[at + 1] as T);
}

/** Sets the value of `key`: in its place when present, at the end otherwise (mutates). */
export function setValue<T>(entries: PackedEntries<T>, key: string, value: T): void {
  const at = keyPosition(entries, key);
  if (at < 0) entries.push(key, value);
  else entries[at + 1] = value;
}

/** Removes `key` and its value, the others keeping their order; false when absent (mutates). */
export function deleteKey<T>(entries: PackedEntries<T>, key: string): boolean {
  const at = keyPosition(entries, key);
  if (at < 0) return false;
  entries.splice(at, 2);
  return true;
}

/** How many keys `entries` holds. */
export function entryCount<T>(entries: ReadonlyPackedEntries<T>): number {
  return entries.length >>> 1;
}

/** The keys of `entries`, in order. */
export function keysOf<T>(entries: ReadonlyPackedEntries<T>): string[] {
  const keys: string[] = [];
  for (let at = 0; at < entries.length; at += 2) keys.push(entries[at] as string);
  return keys;
}
