import { jsonSyntaxErrorOffset } from './jsonSyntaxError';
import { scanJsonKeys } from './jsonKeyScan';
import type * as Yaml from 'yaml';
import { loadOptional } from '../optionalDependency';
import type { Document, Node } from 'yaml';

/** The YAML parser: 72 modules, loaded when a workflow file is parsed, not by `require('neuroflux')` (issue #16). */
function yaml(): typeof Yaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return loadOptional('yaml', 'reading a workflow file', () => require('yaml') as typeof Yaml);
}

/** A place in a file: 1-based line and column. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** A problem of the file's text itself (not UTF-8, bad syntax), where it is when known. @internal */
export interface SyntaxProblem {
  readonly position?: SourcePosition;
  readonly message: string;
}

/** A workflow file's text parsed: its value and where each part of it is. @internal */
export interface ParsedSource {
  /** The value, or undefined when `problems` is not empty. */
  readonly value: unknown;
  readonly problems: readonly SyntaxProblem[];
  /** Where the value (or with `atKey` the key) at `path` starts; the nearest existing parent when it is missing. */
  locate: (path: readonly (string | number)[], atKey?: boolean) => SourcePosition | undefined;
}

/**
 * Aliases a YAML file may expand. A few levels of anchors referencing anchors expand a
 * kilobyte into gigabytes (the "billion laughs"); a workflow file has no need for more.
 */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses the text of a workflow file, JSON or YAML, keeping the position of every node.
 * JSON is parsed by `JSON.parse` (its syntax is the authority) and, only when a problem
 * is to be placed, located with the YAML parser, since JSON is YAML 1.2. Duplicate keys are problems in both formats
 * (JSON.parse would silently keep the last). Never throws.
 * @internal
 */
export function parseWorkflowSource(bytes: Buffer, format: 'json' | 'yaml'): ParsedSource {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return failed([{ message: 'not UTF-8 text (is it a binary file?)' }]);
  }
  // A control character never belongs in YAML or in JSON outside a string's escapes.
  const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
  if (text.trim() === '') return failed([{ position: { line: 1, column: 1 }, message: 'the file is empty: expected an object with `tasks`' }]);
  if (format === 'json') return parseJsonSource(text, control);
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  } catch (error) {
    return failed([{ message: `cannot parse it: ${error instanceof Error ? error.message : String(error)}` }]);
  }
  // The parser recurses: a few thousand nested brackets overflow its stack (caught, at every level).
  const tooDeep = doc.errors.find((e) => /call stack/i.test(e.message));
  if (tooDeep) return failed([{ position: at(tooDeep.pos[0]), message: 'nested too deeply to parse' }]);
  if (control) return failed([controlProblem(control, at)]);
  const locate = (path: readonly (string | number)[], atKey = false) => {
    const offset = locateOffset(doc, path, atKey);
    return offset === undefined ? undefined : at(offset);
  };
  const problemOf = (error: { pos: [number, number]; code: string; message: string }): SyntaxProblem => ({
    position: at(error.pos[0]),
    message: SYNTAX_MESSAGES[error.code] ?? error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'syntax error',
  });
  // An unknown tag (`!foo`) is only a warning to the parser, which then drops it silently.
  const unresolvedTags = doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (doc.errors.length > 0 || unresolvedTags.length > 0) return failed([...doc.errors, ...unresolvedTags].map(problemOf), locate);
  try {
    const value: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    const binary = binaryPaths(value);
    if (binary.length > 0)
      return failed(
        binary.map((path) => ({ ...positionOf(locate(path)), message: 'binary data (`!!binary`) is not JSON: a workflow file holds JSON values (use a base64 string)' })),
        locate,
      );
    return { value, problems: [], locate };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return failed(
      [
        {
          position: { line: 1, column: 1 },
          message: /alias/i.test(message) ? `more than ${MAX_ALIAS_COUNT} aliases expanded (a YAML alias bomb?)` : `cannot read its value: ${message}`,
        },
      ],
      locate,
    );
  }
}

/**
 * Nesting a JSON workflow file may have: the YAML parser that places problems recurses, and
 * overflowed its stack at a few thousand levels; no workflow needs more than a few dozen.
 */
const MAX_JSON_DEPTH = 1000;

function controlProblem(control: RegExpExecArray, at: (offset: number) => SourcePosition): SyntaxProblem {
  return { position: at(control.index), message: `control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()} (is it a binary file?)` };
}

/**
 * JSON: `JSON.parse` is the authority on syntax and gives the value; a token scan finds what
 * it would hide (duplicate keys, nesting too deep to place). The YAML parser (JSON is YAML
 * 1.2) runs only when `locate` is called: when there is a problem to place.
 */
function parseJsonSource(text: string, control: RegExpExecArray | null): ParsedSource {
  let lineStarts: number[] | undefined;
  const at = (offset: number): SourcePosition => {
    if (lineStarts === undefined) {
      lineStarts = [0];
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
    }
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (lineStarts[low] as number) + 1 };
  };
  let doc: Document.Parsed | null | undefined;
  const locate = (path: readonly (string | number)[], atKey = false): SourcePosition | undefined => {
    if (doc === undefined) {
      try {
        doc = yaml().parseDocument(text, { prettyErrors: false, uniqueKeys: false, strict: true });
      } catch {
        doc = null;
      }
    }
    const offset = doc === null ? undefined : locateOffset(doc, path, atKey);
    return offset === undefined ? undefined : at(offset);
  };
  if (control) return failed([controlProblem(control, at)]);
  const bom = text.startsWith('\ufeff') ? 1 : 0;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(bom));
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error))
      .replace(/ at position \d+[\s\S]*$/, '')
      .replace(/ in JSON$/, '')
      .replace(/, (\.\.\.)?"[\s\S]*"(\.\.\.)? is not valid JSON$/, '');
    // JSON.parse names a position for some mistakes only: find it ourselves.
    const offset = jsonSyntaxErrorOffset(text.slice(bom));
    return failed([{ position: at(Math.max(0, offset) + bom), message: `not valid JSON: ${message}` }], locate);
  }
  const scan = scanJsonKeys(text, MAX_JSON_DEPTH);
  if (scan.tooDeepOffset >= 0) return failed([{ position: at(scan.tooDeepOffset), message: 'nested too deeply to parse' }]);
  if (scan.duplicateKeyOffsets.length > 0)
    return failed(
      scan.duplicateKeyOffsets.map((offset) => ({ position: at(offset), message: SYNTAX_MESSAGES['DUPLICATE_KEY'] as string })),
      locate,
    );
  return { value, problems: [], locate };
}

function positionOf(position: SourcePosition | undefined): { position?: SourcePosition } {
  return position === undefined ? {} : { position };
}

/** Where a YAML value holds bytes (`!!binary` becomes a Uint8Array): iterative, at most 50. */
function binaryPaths(value: unknown): (string | number)[][] {
  const found: (string | number)[][] = [];
  const stack: [unknown, (string | number)[]][] = [[value, []]];
  while (stack.length > 0 && found.length < 50) {
    const [node, path] = stack.pop() as [unknown, (string | number)[]];
    if (node === null || typeof node !== 'object') continue;
    if (ArrayBuffer.isView(node) || node instanceof ArrayBuffer) found.push(path);
    else if (Array.isArray(node)) node.forEach((item, i) => stack.push([item, [...path, i]]));
    else for (const [key, item] of Object.entries(node)) stack.push([item, [...path, key]]);
  }
  return found.reverse();
}

/** The parser's messages a workflow author may not follow, by error code. */
const SYNTAX_MESSAGES: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: 'duplicate key (only one of them would count)',
  MULTIPLE_DOCS: 'a second YAML document (`---`): a workflow file holds one',
  TAG_RESOLVE_FAILED: 'unknown tag: a workflow file holds JSON values (remove the `!tag`)',
};

function failed(problems: SyntaxProblem[], locate: ParsedSource['locate'] = () => undefined): ParsedSource {
  return { value: undefined, problems, locate };
}

/** Walks the document's nodes along `path`; stops at the deepest node that exists. */
function locateOffset(doc: Document.Parsed, path: readonly (string | number)[], atKey: boolean): number | undefined {
  const { isAlias, isMap, isScalar, isSeq } = yaml();
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  let reached = 0;
  for (const key of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(key));
      if (pair === undefined) break;
      keyNode = isScalar(pair.key) ? pair.key : undefined;
      // `key:` with no value has no value node: point at the key.
      node = pair.value ?? keyNode;
    } else if (isSeq(node) && typeof key === 'number' && node.items[key] !== undefined) {
      keyNode = undefined;
      node = node.items[key];
    } else break;
    reached++;
  }
  const target = atKey && reached === path.length && keyNode !== undefined ? keyNode : node;
  const range = (target as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
