import { z } from 'zod';
import { suggestKey } from './keySuggestion';

/** One problem of a workflow file's content, where it is as keys and indices. @internal */
export interface ContentIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** Point at the key itself (an unknown key) rather than its value. */
  readonly atKey?: boolean;
}

type Issue = z.core.$ZodIssue;

/**
 * The problems zod found in a workflow file, worded for the person who wrote it: an
 * unknown key with the key it probably meant, a number with the bound it broke and the
 * value it had, a union by the branch the value was meant for. One issue per unknown key.
 * @internal
 */
export function describeContentIssues(schema: z.ZodType, raw: unknown, issues: readonly Issue[], base: readonly (string | number)[] = []): ContentIssue[] {
  const out: ContentIssue[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key))];
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(schema, path);
      for (const key of issue.keys) {
        const suggestion = suggestKey(key, allowed);
        out.push({
          path: [...path, key],
          atKey: true,
          message: suggestion !== undefined ? `unknown key; did you mean \`${suggestion}\`?` : `unknown key (allowed: ${allowed.join(', ')})`,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_union') {
      // The branch the value was meant for: the one that got past the value's own type.
      const meant = issue.errors.filter((branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0));
      if (meant.length === 1) {
        out.push(...describeContentIssues(schema, raw, meant[0] as Issue[], path));
        continue;
      }
      const expected = issue.errors.flatMap((branch) => branch.flatMap((i) => (i.code === 'invalid_type' && i.path.length === 0 ? [noun(i.expected)] : [])));
      out.push({ path, message: `expected ${expected.join(' or ') || 'another value'}, got ${describeValue(valueAt(raw, path))}` });
      continue;
    }
    out.push({ path, message: describeIssue(issue, valueAt(raw, path), isInteger(schema, path)) });
  }
  // `simulate: {}` is one mistake: its "did you mean `simulated`?" says it all, not also "simulated: missing".
  const meant = new Set(out.flatMap((i) => (i.atKey ? [/`(.+)`\?$/.exec(i.message)?.[1]].filter((k) => k !== undefined).map((k) => pathKey([...i.path.slice(0, -1), k])) : [])));
  return out.filter((i) => !(i.message.startsWith('missing:') && meant.has(pathKey(i.path))));
}

function pathKey(path: readonly (string | number)[]): string {
  return JSON.stringify(path);
}

function describeIssue(issue: Issue, value: unknown, integer: boolean): string {
  const got = `got ${describeValue(value)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return `missing: expected ${noun(issue.expected)}`;
      if (typeof value === 'number' && !Number.isFinite(value)) return `expected a finite number, ${got}`;
      if (issue.expected === 'int' && typeof value === 'number') {
        return Number.isInteger(value) ? `expected an integer no larger than 2^53 − 1, ${got}` : `expected an integer, ${got}`;
      }
      return `expected ${noun(issue.expected)}, ${got}`;
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      if (issue.origin === 'array') return small ? `expected at least ${count(bound, 'item')}, got ${count(lengthOf(value), 'item')}` : `expected at most ${count(bound, 'item')}`;
      if (issue.origin === 'string')
        return small ? (bound === 1 ? 'expected a non-empty string' : `expected at least ${count(bound, 'character')}`) : `expected at most ${count(bound, 'character')}`;
      const kind = integer ? 'integer' : 'number';
      if (small && bound === 0) return `expected a ${issue.inclusive ? 'non-negative' : 'positive'} ${kind}, ${got}`;
      return `expected ${integer ? 'an' : 'a'} ${kind} ${small ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<'} ${bound}, ${got}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}; ${got}`;
    case 'invalid_format':
      return `${issue.message}, ${got}`;
    default:
      return issue.message;
  }
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function lengthOf(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

/** What zod expected, as a noun a YAML or JSON author knows. */
function noun(expected: string): string {
  switch (expected) {
    case 'object':
      return 'an object (a mapping of keys)';
    case 'array':
      return 'a list';
    case 'int':
      return 'an integer';
    case 'boolean':
      return 'true or false';
    default:
      return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}

/** A short, safe description of a value from the file (never its whole text). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value.length > 40 ? `"${value.slice(0, 40)}…"` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value;
}

function valueAt(raw: unknown, path: readonly (string | number)[]): unknown {
  let value = raw;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    // Own properties only: a key `__proto__` or `constructor` must not read the prototype.
    if (!Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** The schemas that can apply at `path` (several below a union). */
function schemasAt(schema: z.ZodType, path: readonly (string | number)[]): z.ZodType[] {
  let current = unwrap(schema);
  for (const key of path) {
    const next: z.ZodType[] = [];
    for (const s of current) {
      if (s instanceof z.ZodObject && typeof key === 'string' && Object.hasOwn(s.shape, key)) next.push(...unwrap(s.shape[key] as z.ZodType));
      else if (s instanceof z.ZodArray && typeof key === 'number') next.push(...unwrap(s.element as z.ZodType));
    }
    current = next;
  }
  return current;
}

function unwrap(schema: z.ZodType): z.ZodType[] {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) return unwrap(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodDefault) return unwrap(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodUnion) return (schema.options as z.ZodType[]).flatMap(unwrap);
  return [schema];
}

function allowedKeys(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  return [...new Set(schemasAt(schema, path).flatMap((s) => (s instanceof z.ZodObject ? Object.keys(s.shape) : [])))];
}

function isInteger(schema: z.ZodType, path: readonly (string | number)[]): boolean {
  return schemasAt(schema, path).some((s) => s instanceof z.ZodNumber && s.isInt);
}
