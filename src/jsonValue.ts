import { z } from 'zod';

/**
 * Deepest nesting accepted. `JSON.stringify` recurses on the call stack: a value a few
 * thousand levels deep throws a RangeError in a store or transport called from deep in a
 * handler chain (measured: 5 000 levels fail under `node -e`), long after it was accepted.
 */
export const MAX_JSON_DEPTH = 512;

/**
 * Most values (array items, object properties, nested or not) looked at in one value: a
 * sparse array `a[1e9] = 1` is nine characters of code and a billion `null`s of JSON.
 */
export const MAX_JSON_VALUES = 10_000_000;

/** Where a value stops being JSON, and why. */
export interface JsonProblem {
  /** Dotted path of the offending field, from the checked value: `amount`, `items.2.price` ('' for the value itself). */
  readonly path: string;
  /** The same path as keys and indices (what zod issue paths hold). */
  readonly keys: readonly (string | number)[];
  readonly message: string;
}

/**
 * Finds the first part of `value` that would not survive `JSON.stringify` + `JSON.parse`
 * unchanged, or undefined when the whole value does. It is what every payload, message
 * metadata and task result must be: a local delivery and a delivery through a transport
 * or a store must see the same value.
 *
 * Refused: BigInt, functions, symbols, cycles, `NaN` and `±Infinity` (JSON makes them
 * `null`), `undefined` and holes inside arrays (JSON makes them `null`), `Map`, `Set`,
 * `WeakMap`, `WeakSet` and promises (JSON makes them `{}`), nesting deeper than
 * {@link MAX_JSON_DEPTH}, more than {@link MAX_JSON_VALUES} values, and anything that
 * throws when read (a getter, a Proxy trap).
 *
 * Accepted: `undefined` as the whole value (nothing to send) or as an object property
 * (the property is left out, as JSON does), values with a `toJSON` method such as `Date`
 * (sent as what `toJSON` returns, not looked into), the same object reached twice by
 * different paths (it is copied), and the own enumerable string keys of any other object
 * (class instances travel as plain objects; symbol keys are left out).
 *
 * Pure and never throws; it walks with an explicit stack, not recursion.
 *
 * @example
 * ```ts
 * findNonJson({ amount: 10n });            // { path: 'amount', keys: ['amount'], message: 'a BigInt is not JSON (send it as a string)' }
 * findNonJson({ at: new Date(), n: 1 });   // undefined
 * ```
 */
export function findNonJson(value: unknown): JsonProblem | undefined {
  if (value === undefined) return undefined;
  try {
    return walk(value);
  } catch {
    // Only a host failure (out of memory) gets here: the value is not one to accept.
    return problem([], 'cannot be checked');
  }
}

/** One object or array being walked: its keys, the next to look at, and the key it sits under. */
interface Frame {
  readonly container: object;
  readonly keys: readonly string[] | number;
  next: number;
  /** Its key in the frame below (unused for the root). */
  readonly key: string | number;
}

/** The path to `key` of the top frame: built only for a problem, so a clean walk allocates no paths. */
function pathTo(stack: readonly Frame[], key?: string | number): (string | number)[] {
  const keys: (string | number)[] = [];
  for (let i = 1; i < stack.length; i++) keys.push((stack[i] as Frame).key);
  if (key !== undefined) keys.push(key);
  return keys;
}

function walk(root: unknown): JsonProblem | undefined {
  const rootIssue = leafProblem(root, false);
  if (rootIssue !== undefined) return problem([], rootIssue);
  if (!isWalked(root)) return undefined;
  const flat = flatProblem(root);
  if (flat !== NOT_FLAT) return flat;
  const opened = open(root, '');
  if (opened === undefined) return problem([], UNREADABLE);
  const stack: Frame[] = [opened];
  const ancestors = new Set<object>([root]);
  let budget = MAX_JSON_VALUES;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    const { container, keys } = frame;
    const isArray = typeof keys === 'number';
    if (frame.next >= (isArray ? keys : keys.length)) {
      stack.pop();
      ancestors.delete(container);
      continue;
    }
    if (--budget < 0) return problem(pathTo(stack), `has more than ${MAX_JSON_VALUES} values`);
    const key: string | number = isArray ? frame.next : (keys[frame.next] as string);
    frame.next++;
    let child: unknown;
    try {
      child = (container as Record<string | number, unknown>)[key];
    } catch {
      return problem(pathTo(stack, key), 'cannot be read (its getter threw)');
    }
    // Primitives first: most of a payload, and nothing to look into.
    const type = typeof child;
    if (type === 'string' || type === 'boolean' || (type === 'number' && Number.isFinite(child)) || child === null) continue;
    if (child === undefined && !isArray) continue;
    const issue = leafProblem(child, isArray);
    if (issue !== undefined) return problem(pathTo(stack, key), issue);
    if (!isWalked(child)) continue;
    if (ancestors.has(child)) return problem(pathTo(stack, key), 'is a cycle (it contains itself)');
    if (stack.length >= MAX_JSON_DEPTH) return problem(pathTo(stack, key), `is nested deeper than ${MAX_JSON_DEPTH} levels`);
    const next = open(child, key);
    if (next === undefined) return problem(pathTo(stack, key), UNREADABLE);
    ancestors.add(child);
    stack.push(next);
  }
  return undefined;
}

const UNREADABLE = 'cannot be read (a Proxy or getter threw)';

/** {@link flatProblem}'s answer for a value that holds an object or array, or a value JSON changes: the walk decides. */
const NOT_FLAT = Symbol('not flat');

/**
 * The answer for an object or array whose values are all JSON primitives (most payloads:
 * `{ symbol, price }`), found without the walk's stack, frames and cycle set; `NOT_FLAT` as
 * soon as a value is anything else (the walk then looks again from the start, reading those
 * values a second time). The walk was 3 % of the end-to-end profile of bench/nats.ts (once
 * as the sender's handle checks a payload, once as the receiving bus checks the frame); for
 * its three-field payload a check takes 54 ns this way, 142 ns through the walk.
 */
function flatProblem(root: object): JsonProblem | undefined | typeof NOT_FLAT {
  let keys: string[];
  try {
    if (Array.isArray(root)) {
      const length = root.length;
      if (length > MAX_JSON_VALUES) return NOT_FLAT;
      for (let i = 0; i < length; i++) {
        let item: unknown;
        try {
          item = (root as unknown[])[i];
        } catch {
          return problem([i], 'cannot be read (its getter threw)');
        }
        if (!isJsonPrimitive(item) || item === undefined) return NOT_FLAT;
      }
      return undefined;
    }
    keys = Object.keys(root);
  } catch {
    return problem([], UNREADABLE);
  }
  if (keys.length > MAX_JSON_VALUES) return NOT_FLAT;
  for (const key of keys) {
    let value: unknown;
    try {
      value = (root as Record<string, unknown>)[key];
    } catch {
      return problem([key], 'cannot be read (its getter threw)');
    }
    if (!isJsonPrimitive(value)) return NOT_FLAT;
  }
  return undefined;
}

/** A string, boolean, finite number, null, or undefined (left out as a property, refused in an array by the caller). */
function isJsonPrimitive(value: unknown): boolean {
  const type = typeof value;
  return type === 'string' || type === 'boolean' || (type === 'number' && Number.isFinite(value)) || value === null || value === undefined;
}

/** Why a value cannot be JSON by itself (not looking inside it), or undefined. */
function leafProblem(value: unknown, inArray: boolean): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${String(value)} is not JSON (it would arrive as null)`;
    case 'bigint':
      return 'a BigInt is not JSON (send it as a string)';
    case 'symbol':
      return 'a Symbol is not JSON';
    case 'function':
      return 'a function is not JSON';
    case 'undefined':
      return inArray ? 'undefined in an array is not JSON (it would arrive as null)' : undefined;
    default:
      break;
  }
  if (value === null || isPlain(value as object)) return undefined;
  const kind = unconvertedKind(value as object);
  return kind === undefined ? undefined : `a ${kind} is not JSON (it would arrive as {})`;
}

/**
 * A literal object or array (or a null-prototype object): nothing to ask of it but its
 * contents. The common case, checked with one prototype read instead of five `instanceof`s
 * and a `toJSON` lookup (measured: a third of the walk on a 6 000-value payload).
 */
function isPlain(value: object): boolean {
  try {
    const prototype: unknown = Object.getPrototypeOf(value);
    return prototype === Object.prototype || prototype === Array.prototype || prototype === null;
  } catch {
    return false; // a Proxy whose getPrototypeOf trap throws: `open` reports it
  }
}

/** Objects JSON turns into `{}` whatever they hold. */
function unconvertedKind(value: object): string | undefined {
  try {
    if (value instanceof Map) return 'Map';
    if (value instanceof Set) return 'Set';
    if (value instanceof WeakMap) return 'WeakMap';
    if (value instanceof WeakSet) return 'WeakSet';
    if (value instanceof Promise) return 'Promise';
  } catch {
    // A Proxy whose getPrototypeOf trap throws: `open` reports it.
  }
  return undefined;
}

/** Objects and arrays without `toJSON`: their contents are checked. */
function isWalked(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  if (isPlain(value) && !Object.prototype.hasOwnProperty.call(value, 'toJSON')) return true;
  try {
    return typeof (value as { toJSON?: unknown }).toJSON !== 'function';
  } catch {
    return true; // `open` reports what cannot be read
  }
}

/** A frame for `container`, or undefined when its keys cannot be read (a Proxy trap threw). */
function open(container: object, key: string | number): Frame | undefined {
  try {
    if (Array.isArray(container)) return { container, keys: container.length, next: 0, key };
    return { container, keys: Object.keys(container), next: 0, key };
  } catch {
    return undefined;
  }
}

function problem(keys: readonly (string | number)[], message: string): JsonProblem {
  return { path: keys.join('.'), keys, message };
}

/** What {@link replaceNonJson} made of a value. */
export interface JsonRepair {
  /** The value with every refused part replaced by `null`. */
  readonly value: unknown;
  /** What was replaced, first found first. */
  readonly replaced: readonly JsonProblem[];
}

/**
 * A copy of `value` in which each part {@link findNonJson} refuses is `null`, for a writer
 * that must store what it can rather than nothing at all. Only the objects on the path to a
 * replaced part are copied (shallowly); everything else is shared, and `value` is not
 * modified. Undefined when there is nothing to replace, or when the value cannot be repaired:
 * more than `limit` parts to replace, or a part on the way that throws when copied.
 * Never throws.
 *
 * @example
 * ```ts
 * replaceNonJson({ a: 1, b: 2n }); // { value: { a: 1, b: null }, replaced: [{ path: 'b', ... }] }
 * ```
 */
export function replaceNonJson(value: unknown, limit = 100): JsonRepair | undefined {
  const replaced: JsonProblem[] = [];
  let current = value;
  try {
    for (let found = findNonJson(current); found !== undefined; found = findNonJson(current)) {
      if (replaced.length >= limit) return undefined;
      replaced.push(found);
      current = found.keys.length === 0 ? null : withNullAt(current as object, found.keys);
    }
  } catch {
    return undefined;
  }
  return replaced.length === 0 ? undefined : { value: current, replaced };
}

/** A copy of `root` with `null` at `keys`, copying each container on the way. */
function withNullAt(root: object, keys: readonly (string | number)[]): object {
  const copy = shallowCopy(root);
  let source: unknown = root;
  let target = copy as Record<string | number, unknown>;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i] as string | number;
    source = (source as Record<string | number, unknown>)[key];
    const next = shallowCopy(source as object);
    target[key] = next;
    target = next as Record<string | number, unknown>;
  }
  target[keys[keys.length - 1] as string | number] = null;
  return copy;
}

function shallowCopy(value: object): object {
  return Array.isArray(value) ? Array.from(value) : { ...value };
}

/**
 * A zod schema for a JSON value (see {@link findNonJson}): the issue's path names the
 * offending field inside it, e.g. `payload.items.2.price`.
 *
 * @example
 * ```ts
 * const Schema = z.object({ payload: JsonValueSchema });
 * Schema.safeParse({ payload: { n: 1n } }); // issue at ['payload', 'n']
 * ```
 */
export const JsonValueSchema = z.unknown().superRefine((value, ctx) => {
  const found = findNonJson(value);
  if (found !== undefined) ctx.addIssue({ code: 'custom', message: found.message, path: [...found.keys] });
});

/**
 * A JSON value as a transport or a store would deliver it, frozen: what `JSON.parse(JSON.stringify(value))`
 * gives (a `Date` becomes its ISO string, `undefined` properties go, an object reached twice
 * becomes two copies, `-0` becomes `0`), with every object and array in it frozen. For
 * values {@link findNonJson} accepted (so no cycle, at most {@link MAX_JSON_DEPTH} deep).
 * A task's result is kept so: whoever reads it (`getTask`, events, the dependents'
 * `dependencyResults`) gets the value a dependent on another machine gets, and no reader
 * can change it for the others, nor the executor that returned it.
 *
 * @example
 * ```ts
 * const result = frozenJsonCopy({ at: new Date(0), rows: [1, 2] }); // { at: '1970-01-01T00:00:00.000Z', rows: [1, 2] }, frozen
 * ```
 */
export function frozenJsonCopy<T>(value: T): T {
  if (value === undefined || value === null) return value;
  const type = typeof value;
  if (type === 'string' || type === 'boolean') return value;
  if (type === 'number') return (Object.is(value, -0) ? 0 : value) as T;
  // A `toJSON` is not looked into by findNonJson: it may return nothing (sent as nothing) or
  // throw (a BigInt it returns, its own error): the caller decides what a throw means.
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) return undefined as T;
  return deepFreezeJson(JSON.parse(text) as T);
}

/**
 * Deeply frozen JSON values of this process that nobody holds writable, handed on as they
 * are: an agent host's result sent to an orchestrator on the same bus, and the results an
 * orchestrator keeps (passed as dependency results in this process), so the receiver need not
 * copy them again. Module-private: a sender cannot mark its own objects.
 */
const sharedCopies = new WeakSet();

/** Marks a {@link frozenJsonCopy} of this process as safe to share (see `isSharedJsonCopy`). @internal */
export function shareJsonCopy(value: unknown): void {
  if (typeof value === 'object' && value !== null && Object.isFrozen(value)) sharedCopies.add(value);
}

/** True for a value {@link shareJsonCopy} marked: a deeply frozen JSON copy, safe to keep as it is. @internal */
export function isSharedJsonCopy(value: unknown): boolean {
  return typeof value === 'object' && value !== null && sharedCopies.has(value);
}

/**
 * Freezes a value made by `JSON.parse` (plain objects and arrays, at most
 * {@link MAX_JSON_DEPTH} + 1 deep), in place, and returns it.
 */
export function deepFreezeJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) for (const item of value) deepFreezeJson(item);
  else for (const key of Object.keys(value)) deepFreezeJson((value as Record<string, unknown>)[key]);
  return value;
}

/**
 * {@link frozenJsonCopy} that never throws: where a part cannot be written as JSON (its
 * `toJSON` throws, or returns a cycle or a BigInt) that part alone is `null`, and the rest is
 * copied as JSON would. For values that must reach a reader whole and unshared even when an
 * odd part inside them cannot be copied (an engine's events). Undefined where JSON writes
 * nothing.
 *
 * @example
 * ```ts
 * frozenJsonCopyAround({ ok: 1, bad: { toJSON() { throw new Error('no'); } } }); // { ok: 1, bad: null }, frozen
 * ```
 * @internal
 */
export function frozenJsonCopyAround(value: unknown): unknown {
  return copyAround(value, new Set());
}

/** `path`: the objects on the way here, where a cycle comes back to (it becomes `null`). */
function copyAround(value: unknown, path: Set<object>): unknown {
  try {
    return frozenJsonCopy(value);
  } catch {
    // Below: only the parts on the way to what threw are walked; each of them is tried whole first.
  }
  if (typeof value !== 'object' || value === null || path.has(value) || path.size > MAX_JSON_DEPTH) return null;
  path.add(value);
  try {
    return copyPartsAround(value, path);
  } catch {
    // What lists or sizes the parts threw (a Proxy's `ownKeys`, an array's `length` getter).
    return null;
  } finally {
    path.delete(value);
  }
}

/** What {@link readPart} gives for a part whose read threw (a getter's own error). */
const READ_THREW: unique symbol = Symbol('read threw');

function readPart(value: object, key: string | number): unknown {
  try {
    return (value as Record<string | number, unknown>)[key];
  } catch {
    return READ_THREW;
  }
}

/** A part as {@link copyAround} copies it: `null` when reading it threw. */
function partAround(value: object, key: string | number, path: Set<object>): unknown {
  const part = readPart(value, key);
  return part === READ_THREW ? null : copyAround(part, path);
}

function copyPartsAround(value: object, path: Set<object>): unknown {
  const toJSON = readPart(value, 'toJSON');
  if (toJSON === READ_THREW) return null;
  if (typeof toJSON === 'function') {
    let returned: unknown;
    try {
      returned = (toJSON as (key: string) => unknown).call(value, '');
    } catch {
      return null;
    }
    return copyAround(returned, path);
  }
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = partAround(value, i, path);
      // As JSON writes an array's undefined items.
      items.push(item === undefined ? null : item);
    }
    return Object.freeze(items);
  }
  // Prototype-less while filled, so a `__proto__` key stays an own key, as JSON.parse keeps it.
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    const item = partAround(value, key, path);
    if (item !== undefined) copy[key] = item;
  }
  return Object.freeze(Object.setPrototypeOf(copy, Object.prototype) as object);
}
