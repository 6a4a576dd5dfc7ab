/**
 * Hostile NATS frames for the network fuzzer: random bytes, random JSON, and frames captured
 * from a real run mutated field by field (hostile ids, huge numbers, wrong types, broken
 * headers), all from one seeded generator so that a failing run can be replayed.
 */
import { gunzipSync } from 'node:zlib';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { nextRandom } from '../../src/swarm/model/seededRandom';

/** A frame seen on the wire: subject, headers and body. */
export interface CapturedFrame {
  readonly subject: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly data: Uint8Array;
}

/** What the fuzzer publishes: one frame, and the kind of mutation that made it. */
export interface FuzzFrame {
  readonly subject: string;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
  readonly kind: 'random_bytes' | 'random_json' | 'mutated' | 'replayed' | 'header_mutated';
}

/** Names a hostile id can take: every own name of `Object.prototype`, and some odd strings. */
export const HOSTILE_IDS: readonly string[] = [...Object.getOwnPropertyNames(Object.prototype), '', ' ', '.', '*', '>', 'a.b.c', '~', '\u0000', 'x'.repeat(5000), '🙂'];

/** Hostile JSON values, as text: each use parses a fresh copy (mutations never touch a shared object). */
const HOSTILE_JSON: readonly string[] = [
  'null',
  'true',
  '0',
  '-1',
  '1.5',
  String(2 ** 53 - 1),
  String(2 ** 53 + 2),
  String(-(2 ** 53)),
  '1e308',
  '-1e308',
  '""',
  JSON.stringify('x'.repeat(10_000)),
  '[]',
  '{}',
  '[[[[[[]]]]]]',
  '{"__proto__":"p"}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  ...HOSTILE_IDS.map((id) => JSON.stringify(id)),
];

/** A seeded generator (the swarm's mulberry32): the same seed gives the same frames. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    const draw = nextRandom(state);
    state = draw.state;
    return draw.value;
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Generates hostile frames for `subjects` (concrete subjects the runtime listens on),
 * drawing on `captured` frames for realistic shapes.
 */
export class FrameFuzzer {
  private readonly random: () => number;

  constructor(
    seed: number,
    private readonly subjects: readonly string[],
    private readonly captured: readonly CapturedFrame[],
  ) {
    this.random = seededRandom(seed);
  }

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** The next hostile frame. */
  next(): FuzzFrame {
    const roll = this.random();
    if (roll < 0.15 || this.captured.length === 0) return { subject: this.pick(this.subjects), headers: undefined, data: this.randomBytes(), kind: 'random_bytes' };
    if (roll < 0.3) return { subject: this.pick(this.subjects), headers: undefined, data: encoder.encode(JSON.stringify(this.randomJson(3))), kind: 'random_json' };
    const original = this.pick(this.captured);
    if (roll < 0.4) return { subject: original.subject, headers: toHeaders(original.headers), data: original.data, kind: 'replayed' };
    if (roll < 0.5)
      return {
        subject: this.random() < 0.5 ? original.subject : this.pick(this.subjects),
        headers: this.mutatedHeaders(original.headers),
        data: this.maybeFlip(original.data),
        kind: 'header_mutated',
      };
    return {
      subject: this.random() < 0.7 ? original.subject : this.pick(this.subjects),
      headers: toHeaders(original.headers),
      data: this.mutatedBody(original.data),
      kind: 'mutated',
    };
  }

  private randomBytes(): Uint8Array {
    const bytes = new Uint8Array(this.int(this.random() < 0.9 ? 200 : 5000));
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.int(256);
    return bytes;
  }

  private randomJson(depth: number): unknown {
    const roll = this.int(depth > 0 ? 8 : 5);
    switch (roll) {
      case 0:
        return JSON.parse(this.pick(HOSTILE_JSON)) as unknown;
      case 1:
        return this.random() * 2 ** this.int(70) * (this.random() < 0.5 ? -1 : 1);
      case 2:
        return this.pick(HOSTILE_IDS);
      case 3:
        return this.random() < 0.5;
      case 4:
        return null;
      case 5:
        return Array.from({ length: this.int(4) }, () => this.randomJson(depth - 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(5); i > 0; i--)
          Object.defineProperty(o, this.pick(HOSTILE_IDS), { value: this.randomJson(depth - 1), enumerable: true, writable: true, configurable: true });
        return o;
      }
    }
  }

  private maybeFlip(data: Uint8Array): Uint8Array {
    if (data.length === 0 || this.random() < 0.5) return data;
    const copy = Uint8Array.from(data);
    const at = this.int(copy.length);
    copy[at] = (copy[at] as number) ^ (1 << this.int(8));
    return copy;
  }

  private mutatedHeaders(original: Readonly<Record<string, string>>): MsgHdrs {
    const h: Record<string, string> = { ...original };
    const names = ['Nf-Batch', 'Nf-Encoding', 'Nf-Signature', 'Nats-Msg-Id', 'Nf-Dispatch'];
    const values = ['', '0', '-1', '2', '999999', 'gzip', 'deflate', 'x'.repeat(300), 'NaN', '1e9'];
    for (let i = 1 + this.int(3); i > 0; i--) {
      const name = this.pick(names);
      if (this.random() < 0.3) delete h[name];
      else h[name] = this.pick(values);
    }
    return toHeaders(h) ?? natsHeaders();
  }

  private mutatedBody(data: Uint8Array): Uint8Array {
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(data));
    } catch {
      return this.maybeFlip(data);
    }
    for (let i = 1 + this.int(3); i > 0; i--) value = this.mutateValue(value, 4);
    // A fresh id now and then, so de-duplication by id is not the only defence exercised.
    if (isRecord(value) && this.random() < 0.5) value.messageId = `fuzz-${this.int(1e9)}`;
    const text = JSON.stringify(value) ?? 'null';
    return this.random() < 0.05 ? encoder.encode(text.slice(0, this.int(text.length))) : encoder.encode(text);
  }

  /** Replaces, removes or adds one field somewhere inside `value`. */
  private mutateValue(value: unknown, depth: number): unknown {
    // Into arrays too: a batch body and each of its compact elements are arrays.
    if (depth > 0 && Array.isArray(value) && value.length > 0 && this.random() >= 0.15) {
      const at = this.int(value.length);
      const roll = this.random();
      if (roll < 0.6) value[at] = this.mutateValue(value[at], depth - 1);
      else if (roll < 0.75) value.splice(at, 1);
      else value.splice(at, 0, this.randomJson(2));
      return value;
    }
    if (depth === 0 || !isRecord(value) || this.random() < 0.15) return this.randomJson(2);
    const keys = Object.keys(value);
    const roll = this.random();
    if (keys.length > 0 && roll < 0.6) {
      const key = this.pick(keys);
      value[key] = this.mutateValue(value[key], depth - 1);
    } else if (keys.length > 0 && roll < 0.75) {
      delete value[this.pick(keys)];
    } else {
      Object.defineProperty(value, this.pick(HOSTILE_IDS), { value: this.randomJson(2), enumerable: true, writable: true, configurable: true });
    }
    return value;
  }
}

/**
 * The message ids a captured frame carries: one for a single frame, one per element of a batch
 * (a compact element's id is its first entry; an object element's, its `messageId`).
 */
export function messageIdsOf(frame: CapturedFrame): string[] {
  let value: unknown;
  try {
    const body = frame.headers['Nf-Encoding'] === 'gzip' ? gunzipSync(frame.data) : frame.data;
    value = JSON.parse(decoder.decode(body));
  } catch {
    return [];
  }
  const elements = frame.headers['Nf-Batch'] !== undefined && Array.isArray(value) ? (value as unknown[]) : [value];
  return elements.flatMap((e) => {
    const id: unknown = Array.isArray(e) ? (e as unknown[])[0] : isRecord(e) ? e.messageId : undefined;
    return typeof id === 'string' ? [id] : [];
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toHeaders(record: Readonly<Record<string, string>>): MsgHdrs | undefined {
  const names = Object.keys(record);
  if (names.length === 0) return undefined;
  const h = natsHeaders();
  for (const name of names) h.set(name, record[name] as string);
  return h;
}

/** Turns a subscription's subject into a concrete one: each wildcard becomes a random token. */
export function concreteSubject(subject: string, random: () => number): string {
  const tokens = ['x', '__proto__', 'constructor', 'critical', 'low', 'task_result', 'agent_presence'];
  return subject
    .split('.')
    .map((t) => (t === '*' || t === '>' ? (tokens[Math.floor(random() * tokens.length)] as string) : t))
    .join('.');
}
