/**
 * The offset of the first character that makes `text` invalid JSON (`text.length` when it
 * ends too early), or -1 when it is valid. `JSON.parse` names a position for most mistakes
 * but not all (`Unexpected token '/', "// comment"... is not valid JSON`), and an error
 * without a line and column is no help in a long file. Iterative: any nesting depth.
 * @internal
 */
export function jsonSyntaxErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  // What each open bracket still waits for.
  const stack: ('object' | 'array')[] = [];
  /** The innermost container was just opened: its first entry (or its end) comes next. */
  let opened = false;
  const skipSpace = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  /** Scans one string from its opening quote; false at a bad character (i points at it). */
  const string = (): boolean => {
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i = Math.min(n, i + 2);
            return false;
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          return false;
        }
      } else i++;
    }
    return false;
  };
  /** Scans a scalar or opens a container; false at a bad character. */
  const value = (): boolean => {
    skipSpace();
    const c = text[i];
    if (c === '{' || c === '[') {
      // Its content is scanned by the loop below, not by recursion.
      stack.push(c === '{' ? 'object' : 'array');
      opened = true;
      i++;
      return true;
    }
    if (c === '"') return string();
    if (c === 't' || c === 'f' || c === 'n') {
      const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
      for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) return false;
      return true;
    }
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (number === null || number[0] === '' || number[0] === '-') return i < n && c === '-' ? (i++, false) : false;
    i += number[0].length;
    return true;
  };
  /** Scans `"key":` and the value after it. */
  const key = (): boolean => {
    skipSpace();
    if (text[i] !== '"' || !string()) return false;
    skipSpace();
    if (text[i] !== ':') return false;
    i++;
    return value();
  };
  if (!value()) return Math.min(i, n);
  for (;;) {
    skipSpace();
    const open = stack[stack.length - 1];
    if (open === undefined) return i < n ? i : -1;
    const c = text[i];
    if (opened) {
      opened = false;
      if (c !== (open === 'object' ? '}' : ']')) {
        if (!(open === 'object' ? key() : value())) return Math.min(i, n);
        continue;
      }
    }
    if (c === ',') {
      i++;
      if (!(open === 'object' ? key() : value())) return Math.min(i, n);
    } else if (c === (open === 'object' ? '}' : ']')) {
      stack.pop();
      i++;
    } else return Math.min(i, n);
  }
}
