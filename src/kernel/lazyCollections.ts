/**
 * A `Set` that allocates its table on the first `add`. V8 gives every `new Set()` a hash
 * table for four entries (~150 bytes, heap snapshot) even when nothing is ever added; an
 * actor nobody subscribes to keeps that table for its life. This holds one field until used.
 * Only what XState 5.33 calls on an actor's `observers` is provided (test/xstateContract.test.ts).
 * @internal
 */
export class LazySet<T> implements Iterable<T> {
  private set: Set<T> | undefined;

  get size(): number {
    return this.set === undefined ? 0 : this.set.size;
  }

  add(value: T): this {
    (this.set ??= new Set()).add(value);
    return this;
  }

  has(value: T): boolean {
    return this.set !== undefined && this.set.has(value);
  }

  delete(value: T): boolean {
    return this.set !== undefined && this.set.delete(value);
  }

  clear(): void {
    this.set = undefined;
  }

  forEach(callback: (value: T, same: T, set: Set<T>) => void): void {
    this.set?.forEach(callback);
  }

  values(): IterableIterator<T> {
    return (this.set ?? NO_VALUES).values() as IterableIterator<T>;
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.values();
  }
}

/**
 * A `Map` that allocates its table on the first `set`, for the same reason as
 * {@link LazySet} (an actor's `eventListeners`, used only by `actor.on`).
 * @internal
 */
export class LazyMap<K, V> implements Iterable<[K, V]> {
  private map: Map<K, V> | undefined;

  get size(): number {
    return this.map === undefined ? 0 : this.map.size;
  }

  get(key: K): V | undefined {
    return this.map?.get(key);
  }

  set(key: K, value: V): this {
    (this.map ??= new Map()).set(key, value);
    return this;
  }

  has(key: K): boolean {
    return this.map !== undefined && this.map.has(key);
  }

  delete(key: K): boolean {
    return this.map !== undefined && this.map.delete(key);
  }

  clear(): void {
    this.map = undefined;
  }

  forEach(callback: (value: V, key: K, map: Map<K, V>) => void): void {
    this.map?.forEach(callback);
  }

  keys(): IterableIterator<K> {
    return (this.map ?? NO_ENTRIES).keys() as IterableIterator<K>;
  }

  values(): IterableIterator<V> {
    return (this.map ?? NO_ENTRIES).values() as IterableIterator<V>;
  }

  entries(): IterableIterator<[K, V]> {
    return (this.map ?? NO_ENTRIES).entries() as IterableIterator<[K, V]>;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}

/** Iterated when a lazy collection is empty; never written. */
const NO_VALUES: ReadonlySet<never> = new Set<never>();
const NO_ENTRIES: ReadonlyMap<never, never> = new Map<never, never>();
