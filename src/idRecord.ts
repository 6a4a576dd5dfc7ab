import { z } from 'zod';

/**
 * Records keyed by ids from users or the network (agent ids, task ids, knowledge keys)
 * where a Map cannot be used: state that is plain data (immer drafts, JSON snapshots) or
 * travels as JSON. Rule: build them without a prototype or with `Object.fromEntries` (both
 * make `__proto__` an own key; assigning `record['__proto__']` on a plain object replaces
 * its prototype instead), and read them with own-key checks (`toString` must be absent,
 * not inherited). Immer copies a draft of a prototype-less object into another one, so
 * the property survives updates.
 */

/**
 * An empty record with no prototype.
 *
 * @example
 * ```ts
 * const outgoing = idRecord<string>();
 * outgoing['__proto__'] = 'conn-0'; // an own key, like any other
 * ```
 */
export function idRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * The value of `key` if the record holds it itself (never an inherited member).
 *
 * @example
 * ```ts
 * ownValue({}, 'toString'); // undefined
 * ```
 */
export function ownValue<T>(record: { readonly [key: string]: T } | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * True when the record has no enumerable key (own or inherited: for the prototype-less and
 * plain records this is used on, its own). Without building a key array, as
 * `Object.keys(record).length === 0` does.
 *
 * @example
 * ```ts
 * isEmptyRecord(idRecord()); // true
 * ```
 * @internal
 */
export function isEmptyRecord(record: object): boolean {
  for (const _ in record) return false;
  return true;
}

/**
 * Like `z.record(z.string(), value)`, but keeps every own key of the input, `__proto__`
 * included (zod drops that key silently: a task `__proto__`'s result, or a voter
 * `__proto__`'s stake, would vanish on the way through). The output is a plain object
 * built with `Object.fromEntries`.
 *
 * @example
 * ```ts
 * idRecordSchema(z.number()).parse(JSON.parse('{"__proto__": 1}')); // { ['__proto__']: 1 } as an own key
 * ```
 */
export function idRecordSchema<V extends z.ZodType>(value: V): z.ZodType<Record<string, z.output<V>>, Record<string, z.input<V>>> {
  return z
    .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'expected an object')
    .transform((v, ctx) => {
      const out: [string, z.output<V>][] = [];
      for (const [key, item] of Object.entries(v)) {
        const parsed = value.safeParse(item);
        if (parsed.success) out.push([key, parsed.data]);
        else for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: [key, ...issue.path], message: issue.message });
      }
      return Object.fromEntries(out);
    }) as unknown as z.ZodType<Record<string, z.output<V>>, Record<string, z.input<V>>>;
}
