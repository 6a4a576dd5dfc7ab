import type { Decision } from './conflictTypes';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    // fromEntries keeps an own `__proto__` key (from JSON) as a key: assigning it would set the prototype and drop it.
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .flatMap((key) => {
          const field = (value as Record<string, unknown>)[key];
          return field === undefined ? [] : [[key, canonical(field)]];
        }),
    );
  }
  // -0 and 0 are one decision; JSON already prints both as "0".
  return value;
}

/**
 * A string that is equal for equal decisions: objects compare by value whatever their
 * key order, and `'1'` differs from `1`. Votes are grouped by this key.
 *
 * @example
 * ```ts
 * decisionKey({ signal: 'BUY', symbol: 'BTC' }) === decisionKey({ symbol: 'BTC', signal: 'BUY' }); // true
 * ```
 */
export function decisionKey(decision: Decision): string {
  return JSON.stringify(canonical(decision));
}

/**
 * True when two decisions are the same by value.
 *
 * @example
 * ```ts
 * sameDecision('BUY', 'BUY'); // true
 * ```
 */
export function sameDecision(a: Decision | null, b: Decision | null): boolean {
  if (a === null || b === null) return a === b;
  return decisionKey(a) === decisionKey(b);
}
