/**
 * JSON-safe summaries of values found in snapshots and events. Contexts hold actor refs,
 * machines, functions, cycles and arbitrarily large collections; the inspector shows a
 * bounded glimpse of them, never the whole.
 */

/** How much of a value a summary keeps. */
export interface SummaryLimits {
  /** Levels of objects and arrays opened. */
  readonly depth: number;
  /** Keys kept per object. */
  readonly keys: number;
  /** Items kept per array. */
  readonly items: number;
  /** Characters kept per string. */
  readonly chars: number;
}

/** Limits for contexts and event payloads. */
export const CONTEXT_LIMITS: SummaryLimits = { depth: 2, keys: 16, items: 8, chars: 120 };

function isActorRefLike(value: object): value is { sessionId: string; id: string } {
  const v = value as { sessionId?: unknown; send?: unknown };
  return typeof v.sessionId === 'string' && typeof v.send === 'function';
}

function truncate(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars)}…`;
}

function className(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'Object';
}

/**
 * A JSON-safe summary of `value` within `limits`: actor refs become `{ $actor }`,
 * functions `'[Function name]'`, collections past the limits are cut with a count of
 * what was left out, and cycles cannot recur past the depth limit.
 *
 * @example
 * ```ts
 * summarizeValue({ agent: actorRef, items: [1, 2, 3] }); // { agent: { $actor: 'x:0', id: 'a' }, items: [1, 2, 3] }
 * ```
 */
export function summarizeValue(value: unknown, limits: SummaryLimits = CONTEXT_LIMITS): unknown {
  return summarize(value, limits, limits.depth);
}

function summarize(value: unknown, limits: SummaryLimits, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return truncate(value, limits.chars);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'undefined':
      return null;
    case 'bigint':
      return `${value.toString()}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function ${value.name || 'anonymous'}]`;
  }
  if (value === null) return null;
  const object = value as object;
  if (isActorRefLike(object)) return { $actor: object.sessionId, id: object.id };
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  if (object instanceof Error) return { $error: object.name, message: truncate(object.message, limits.chars) };
  if (object instanceof Map || object instanceof Set) return `[${className(object)}(${object.size})]`;
  if (Array.isArray(object)) {
    if (depth <= 0) return `[Array(${object.length})]`;
    const kept = object.slice(0, limits.items).map((item) => summarize(item, limits, depth - 1));
    if (object.length > limits.items) kept.push(`…${object.length - limits.items} more`);
    return kept;
  }
  if (ArrayBuffer.isView(object)) return `[${className(object)}]`;
  const plain = Object.getPrototypeOf(object) === Object.prototype || Object.getPrototypeOf(object) === null;
  if (depth <= 0) return plain ? '{…}' : `[${className(object)}]`;
  const result: Record<string, unknown> = plain ? {} : { $class: className(object) };
  let count = 0;
  let more = 0;
  for (const key in object) {
    if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
    if (count >= limits.keys) {
      more++;
      continue;
    }
    count++;
    let field: unknown;
    try {
      field = (object as Record<string, unknown>)[key];
    } catch {
      field = '[unreadable]';
    }
    result[key] = summarize(field, limits, depth - 1);
  }
  if (more > 0) result['…'] = `${more} more keys`;
  return result;
}

/**
 * A machine's state value as JSON (it is strings and objects of strings, but nothing
 * guarantees that a custom logic's `value` is).
 *
 * @example
 * ```ts
 * stateValueOf({ open: 'collectingVotes' }); // { open: 'collectingVotes' }
 * ```
 */
export function stateValueOf(value: unknown): unknown {
  return summarize(value, { depth: 16, keys: 64, items: 64, chars: 200 }, 16);
}

/**
 * An event as `{ type, ...payload summary }`.
 *
 * @example
 * ```ts
 * summarizeEvent({ type: 'VOTE_RECEIVED', vote }); // { type: 'VOTE_RECEIVED', vote: { ... } }
 * ```
 */
export function summarizeEvent(event: unknown, limits: SummaryLimits = { depth: 1, keys: 8, items: 4, chars: 80 }): { type: string } {
  if (typeof event !== 'object' || event === null) return { type: String(event) };
  const summary = summarize(event, limits, limits.depth) as Record<string, unknown>;
  const type = (event as { type?: unknown }).type;
  return { ...summary, type: typeof type === 'string' ? type : '(no type)' };
}
