/**
 * One string per tuple of strings, a different one for each different tuple: every part is
 * written after its length (`['ab', 'c']` → `2:ab1:c`), so the parts can be read back and
 * no two tuples meet. A separator is not enough where the parts are ids or capability names
 * from users, which may hold any character: joined with `,`, the capabilities `['a,b']` and
 * `['a', 'b']` made one key, and a task that needs `a,b` ran on an agent that has only `a`
 * and `b`; joined with `\u0000`, a task depending on `'a\u0000b'` was given the dependencies
 * `['a', 'b']`.
 *
 * @example
 * ```ts
 * compositeKey(['a,b']) !== compositeKey(['a', 'b']); // '3:a,b' and '1:a1:b'
 * ```
 * @internal
 */
export function compositeKey(parts: readonly string[]): string {
  let key = '';
  for (const part of parts) key += `${part.length}:${part}`;
  return key;
}
