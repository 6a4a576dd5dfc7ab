import type { Decision } from './conflictTypes';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[key];
      if (field !== undefined) sorted[key] = canonical(field);
    }
    return sorted;
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
