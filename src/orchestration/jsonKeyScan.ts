/** What {@link scanJsonKeys} found in a valid JSON text. @internal */
export interface JsonKeyScan {
  /** Offsets of the keys that repeat an earlier key of the same object (the later ones). */
  readonly duplicateKeyOffsets: readonly number[];
  /** Offset of the first bracket nested deeper than the limit, or -1. */
  readonly tooDeepOffset: number;
}

/**
 * One pass over a text that `JSON.parse` accepted: the duplicate keys it silently merged
 * and whether it nests deeper than `maxDepth`. Checking these with the YAML parser took
 * 4.7 s for a 10 000-task file, this scan a few milliseconds; the YAML parser then only
 * runs when there is a problem to place. Iterative: any nesting depth.
 * @internal
 */
export function scanJsonKeys(text: string, maxDepth: number): JsonKeyScan {
  const duplicateKeyOffsets: number[] = [];
  // The keys seen in each open object; null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  let tooDeepOffset = -1;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      let escaped = false;
      for (i++; i < n && text.charCodeAt(i) !== 0x22; i++) {
        if (text.charCodeAt(i) === 0x5c) {
          escaped = true;
          i++;
        }
      }
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        if (keys.has(key)) duplicateKeyOffsets.push(start);
        else keys.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b || c === 0x5b) {
      stack.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
      if (stack.length > maxDepth && tooDeepOffset < 0) tooDeepOffset = i;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = (stack[stack.length - 1] ?? null) !== null;
    }
  }
  return { duplicateKeyOffsets, tooDeepOffset };
}
