/**
 * The allowed key a mistyped one most likely meant, or undefined when none is close:
 * the same key in another case (`dependsOn` → none, `Dependencies` → `dependencies`), a
 * key a few edits away (`dependecies`, `maxRetires`), or one sharing a long prefix
 * (`dependson` → `dependencies`, `retries` → `retryPolicy`) or containing it
 * (`capabilities` → `requiredCapabilities`).
 *
 * @example
 * ```ts
 * suggestKey('dependson', ['taskId', 'dependencies', 'priority']); // "dependencies"
 * suggestKey('colour', ['taskId', 'priority']);                   // undefined
 * ```
 * @internal
 */
export function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameCase = allowed.find((a) => a.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: { key: string; score: number } | undefined;
  for (const candidate of allowed) {
    const other = candidate.toLowerCase();
    const distance = editDistance(lower, other);
    // A third of the length in edits: `maxRetires` (2 edits) yes, `name` for `type` (2 of 4) no.
    const close = distance <= Math.max(1, Math.floor(Math.min(lower.length, other.length) / 3));
    const prefix = commonPrefix(lower, other);
    const sharesStem = prefix >= 4 && prefix * 2 >= Math.min(lower.length, other.length);
    const contained = lower.length >= 5 && other.includes(lower);
    if (!close && !sharesStem && !contained) continue;
    // Closer in edits first; a shared stem or a containing key counts as the characters past it.
    const score = close ? distance : Math.max(lower.length, other.length) - (sharesStem ? prefix : lower.length);
    if (best === undefined || score < best.score) best = { key: candidate, score };
  }
  return best?.key;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Levenshtein distance with adjacent transpositions (optimal string alignment). */
function editDistance(a: string, b: string): number {
  // Keys longer than this are not typos of a schema key; the table stays small.
  if (a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = value;
    }
  }
  return d[rows * cols - 1]!;
}
