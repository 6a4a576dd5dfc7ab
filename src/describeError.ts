/**
 * Longest text kept: a thrown value's text goes into dead letters, task records and
 * stored state, and a handler that throws a megabyte string must not copy it there.
 */
const MAX_DESCRIPTION_CHARS = 2000;

/**
 * The text of a thrown value, for dead letters, task errors and events. Never throws,
 * whatever was thrown: an `Error` gives its message, a string itself, and anything else
 * the best text that can be had without trusting it. `String(value)` alone throws for a
 * null-prototype object, `{ toString: 1 }`, a Proxy whose traps throw, or an object whose
 * `toString` throws; a template literal throws for a Symbol too.
 *
 * @example
 * ```ts
 * try { handler(message); }
 * catch (error) { deadLetter(message, describeError(error)); }
 * describeError(new Error('boom'));       // "boom"
 * describeError(Object.create(null));     // "[object Object]"
 * describeError(Symbol('x'));             // "Symbol(x)"
 * ```
 */
export function describeError(value: unknown): string {
  const text = describe(value);
  return text.length > MAX_DESCRIPTION_CHARS ? `${text.slice(0, MAX_DESCRIPTION_CHARS)}…` : text;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' && typeof value !== 'function') {
    // number, boolean, bigint, symbol, undefined: String() converts all of them (a
    // template literal would throw for a symbol).
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- only primitives reach here; String() is the point
    return attempt(() => String(value)) ?? typeof value;
  }
  if (value === null) return 'null';
  // Every step reads through the value, which may be a Proxy whose traps throw, or have
  // getters that throw: each is tried on its own and the next is the fallback.
  const message = attempt(() => (value as { message?: unknown }).message);
  if (typeof message === 'string' && attempt(() => value instanceof Error) === true) return message;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- arbitrary thrown values; '[object Object]' is rejected just below
  const converted = attempt(() => String(value));
  if (converted !== undefined && converted !== '[object Object]') return converted;
  if (typeof message === 'string' && message !== '') return message;
  return converted ?? attempt(() => Object.prototype.toString.call(value)) ?? `[${typeof value}]`;
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
