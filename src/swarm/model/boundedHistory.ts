import { current, isDraft } from 'immer';

/**
 * Appends to a history kept at most `limit` long, dropping the oldest entries. Returns
 * a new array to assign in place of the old one: shifting a drafted array element by
 * element goes through immer's proxy for every entry, a fresh array costs one copy.
 *
 * @example
 * ```ts
 * draft.history = appendBounded(draft.history, record, draft.rules.historySize);
 * ```
 */
export function appendBounded<T>(history: readonly T[], entry: T, limit: number): T[] {
  const base = isDraft(history) ? current<readonly T[]>(history) : history;
  const keep = Math.max(0, Math.floor(limit) - 1);
  const next = base.length > keep ? base.slice(base.length - keep) : base.slice();
  next.push(entry);
  return next;
}
