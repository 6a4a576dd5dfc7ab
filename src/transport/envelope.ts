import { createHmac, timingSafeEqual } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Message } from '../bus/message';
import { ValidationError } from '../errors';
import { describeError } from '../describeError';
import { expandBatchElement } from './batchElement';

/** Payloads whose JSON exceeds this many bytes are gzip-compressed (guide: 1000 characters). */
export const COMPRESSION_THRESHOLD_BYTES = 1024;

/**
 * Most messages one batch frame carries. Receivers refuse more, so that one frame cannot
 * make a receiver validate (or dead-letter) an unbounded number of elements.
 */
export const BATCH_MAX_MESSAGES = 64;

/** Header names of the envelope. */
export const EnvelopeHeader = {
  ENCODING: 'Nf-Encoding',
  SIGNATURE: 'Nf-Signature',
  /** On a batch frame: how many messages its JSON array holds. */
  BATCH: 'Nf-Batch',
  /** On a signed frame: when it was signed (ms since the epoch), covered by the signature. */
  SENT: 'Nf-Sent',
  MESSAGE_ID: 'Nats-Msg-Id',
} as const;

/** An encoded frame: body bytes and the headers that go with it. */
export interface Envelope {
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * An encoded frame as the transport sends it: the body, and the values of the only two
 * headers a frame can need. Most frames need neither, and a frame without headers takes
 * the NATS client's header-less fast path. @internal
 */
export interface EncodedFrame {
  readonly body: Uint8Array;
  /** The body is gzip-compressed (`Nf-Encoding: gzip`). */
  readonly gzip: boolean;
  /** `Nf-Signature`, when a secret is set. */
  readonly signature: string | undefined;
  /** `Nf-Sent`, on a signed frame. */
  readonly sentAt?: number;
  /** `Nf-Batch`: the body is a JSON array of this many messages (undefined: one message). */
  readonly batch?: number;
}

/**
 * Why a frame was refused before validation. With a secret also: `replayed` (a signed frame
 * accepted before, sent again), `stale` (signed longer ago than the replay window) and
 * `future` (signed later than the receiver's clock plus the skew allowed).
 */
export type FrameRejection = 'unauthenticated' | 'oversized' | 'undecodable' | 'replayed' | 'stale' | 'future';

/**
 * What a signature binds a frame's body to besides its bytes: the subject it was published
 * on (which names the sender's identity and the recipient), the reply subject (empty when
 * none; JetStream frames are signed with none) and when it was signed. A frame moved to
 * another subject, given another reply subject or re-dated fails the signature.
 */
export interface FrameBinding {
  readonly subject: string;
  readonly reply: string;
  /** `Nf-Sent` as received (a decimal number of ms), undefined when the frame has none. */
  readonly sent: string | undefined;
}

/** A checked and decoded frame (still to be validated as a message), or why it was refused. */
export type DecodedFrame = { ok: true; frame: unknown } | { ok: false; reason: FrameRejection; detail: string };

// Keeps a leading BOM, as Buffer#toString does: such a frame is not JSON and is refused as invalid.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Versions the signed layout: a signature of another layout never verifies as this one. */
const SIGNATURE_CONTEXT = Buffer.from('neuroflux frame v2\n', 'utf8');

/** A field of the signed layout, netstring-like: its UTF-8 length in decimal, `:`, its text. */
function lengthPrefixed(text: string): string {
  return `${Buffer.byteLength(text, 'utf8')}:${text}`;
}

/**
 * HMAC-SHA256 (hex) of a frame: a fixed context, then subject, reply subject and send time
 * each length-prefixed (so no two different bindings encode alike), then the body.
 * @internal
 */
export function signFrame(secret: string, binding: { subject: string; reply: string; sentAt: number }, body: Uint8Array): string {
  // One string update for the binding: a buffer per field cost as much as the HMAC itself.
  return createHmac('sha256', secret)
    .update(SIGNATURE_CONTEXT)
    .update(lengthPrefixed(binding.subject) + lengthPrefixed(binding.reply) + lengthPrefixed(String(binding.sentAt)), 'utf8')
    .update(body)
    .digest('hex');
}

/** An encoded frame signed for `subject` (and `reply`) at `sentAt`. @internal */
export function signEncoded(frame: EncodedFrame, secret: string, subject: string, reply: string | undefined, sentAt: number): EncodedFrame {
  return { ...frame, sentAt, signature: signFrame(secret, { subject, reply: reply ?? '', sentAt }, frame.body) };
}

/** `Nf-Sent` as a time, or undefined when it is not a plain non-negative integer of ms. */
export function parseSentAt(sent: string | undefined): number | undefined {
  if (sent === undefined || !/^\d{1,15}$/.test(sent)) return undefined;
  return Number(sent);
}

/**
 * Encodes a validated message: JSON, gzip over {@link COMPRESSION_THRESHOLD_BYTES}. Not
 * signed yet: the transport signs it with {@link signEncoded} once it knows the subject.
 * @internal
 */
export function encodeFrame(message: Message): EncodedFrame {
  return encodeJsonFrame(JSON.stringify(message));
}

/** {@link encodeFrame} for a message already serialized to JSON. @internal */
export function encodeJsonFrame(json: string): EncodedFrame {
  let body: Uint8Array = Buffer.from(json, 'utf8');
  const gzip = body.byteLength > COMPRESSION_THRESHOLD_BYTES;
  if (gzip) body = gzipSync(body);
  return { body, gzip, signature: undefined };
}

/**
 * True when a message's JSON is over {@link COMPRESSION_THRESHOLD_BYTES} in UTF-8, i.e. it
 * travels alone and compressed. A string of n UTF-16 units takes n to 3n UTF-8 bytes, so
 * most messages are decided without counting their bytes. @internal
 */
export function isCompressedAlone(json: string): boolean {
  if (json.length > COMPRESSION_THRESHOLD_BYTES) return true;
  return json.length * 3 > COMPRESSION_THRESHOLD_BYTES && Buffer.byteLength(json, 'utf8') > COMPRESSION_THRESHOLD_BYTES;
}

/**
 * A batch frame: the JSON array of several messages' JSON (each at most
 * {@link COMPRESSION_THRESHOLD_BYTES}, so never compressed), flagged `Nf-Batch: <count>`;
 * signed once over the whole body by the transport when a secret is set. @internal
 */
export function encodeBatchFrame(jsons: readonly string[]): EncodedFrame {
  const body = Buffer.from(`[${jsons.join(',')}]`, 'utf8');
  return { body, gzip: false, signature: undefined, batch: jsons.length };
}

/**
 * The frames of a decoded batch body, or undefined when the body is not a JSON array of
 * exactly as many elements as its `Nf-Batch` header says, 1 to {@link BATCH_MAX_MESSAGES}.
 * Compact elements are expanded to message-shaped objects ({@link expandBatchElement}); each
 * still has to pass the message schema, like a single frame. @internal
 */
export function batchElements(frame: unknown, count: string): readonly unknown[] | undefined {
  if (!Array.isArray(frame) || frame.length === 0 || frame.length > BATCH_MAX_MESSAGES) return undefined;
  if (String(frame.length) !== count) return undefined;
  const elements = frame as unknown[];
  // The body was just parsed: its elements are expanded in place (see batchElementJson).
  for (let i = 0; i < elements.length; i++) elements[i] = expandBatchElement(elements[i]);
  return elements;
}

/**
 * Encodes a validated message: JSON, gzip over {@link COMPRESSION_THRESHOLD_BYTES}
 * (flagged in `Nf-Encoding`) and, when a secret is set, HMAC-signed together with the
 * subject it is for, its reply subject and the send time (`Nf-Signature`, `Nf-Sent`; see
 * {@link FrameBinding}).
 *
 * @example
 * ```ts
 * const { body, headers } = encodeEnvelope(message, { hmacSecret: 'k', subject: 'nf.prod.from.host-1.broadcast' });
 * ```
 */
export function encodeEnvelope(message: Message, options: { hmacSecret?: string | undefined; subject?: string; reply?: string; sentAt?: number }): Envelope {
  let frame = encodeFrame(message);
  if (options.hmacSecret !== undefined) {
    if (options.subject === undefined) throw new ValidationError('envelope options', [{ path: 'subject', message: 'a signed frame is bound to its subject: give it' }]);
    frame = signEncoded(frame, options.hmacSecret, options.subject, options.reply, options.sentAt ?? Date.now());
  }
  const headers: Record<string, string> = {};
  if (frame.gzip) headers[EnvelopeHeader.ENCODING] = 'gzip';
  if (frame.signature !== undefined) headers[EnvelopeHeader.SIGNATURE] = frame.signature;
  if (frame.sentAt !== undefined) headers[EnvelopeHeader.SENT] = String(frame.sentAt);
  return { body: frame.body, headers };
}

/**
 * {@link decodeEnvelope} with the two header values given directly (undefined when the
 * frame has no headers), so a receive needs no header lookups and no closure. @internal
 */
export function decodeFrame(
  body: Uint8Array,
  signature: string | undefined,
  encoding: string | undefined,
  options: { hmacSecret?: string | undefined; maxFrameBytes: number },
  binding?: FrameBinding,
): DecodedFrame {
  if (body.byteLength > options.maxFrameBytes) return { ok: false, reason: 'oversized', detail: `${body.byteLength} bytes` };
  if (options.hmacSecret !== undefined) {
    if (!signature) return { ok: false, reason: 'unauthenticated', detail: 'unsigned frame' };
    const sentAt = parseSentAt(binding?.sent);
    if (binding === undefined || sentAt === undefined) return { ok: false, reason: 'unauthenticated', detail: `no valid ${EnvelopeHeader.SENT}` };
    const expected = Buffer.from(signFrame(options.hmacSecret, { subject: binding.subject, reply: binding.reply, sentAt }, body), 'hex');
    const actual = Buffer.from(signature, 'hex');
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      return { ok: false, reason: 'unauthenticated', detail: 'bad signature' };
    }
  }
  let bytes = body;
  if (encoding === 'gzip') {
    try {
      bytes = gunzipSync(body, { maxOutputLength: options.maxFrameBytes });
    } catch (error) {
      const detail = describeError(error);
      return { ok: false, reason: /buffer|length/i.test(detail) ? 'oversized' : 'undecodable', detail };
    }
  }
  const text = utf8.decode(bytes);
  try {
    return { ok: true, frame: JSON.parse(text) };
  } catch {
    // Not JSON: the raw text goes on, so the bus dead-letters it as `invalid`.
    return { ok: true, frame: text };
  }
}

/**
 * Checks and decodes a frame: signature (when a secret is set: over the subject it came on,
 * its reply subject and `Nf-Sent` too), size (before and after decompression), gzip, JSON.
 * The result still has to pass the message schema (`bus.acceptFrame` does that). Freshness
 * and replays are the transport's to check (it remembers what it accepted).
 *
 * @example
 * ```ts
 * const decoded = decodeEnvelope(msg.data, (name) => msg.headers?.get(name), { hmacSecret: 'k', maxFrameBytes: 1 << 20, subject: msg.subject });
 * ```
 */
export function decodeEnvelope(
  body: Uint8Array,
  header: (name: string) => string | undefined,
  options: { hmacSecret?: string | undefined; maxFrameBytes: number; subject?: string; reply?: string },
): DecodedFrame {
  const binding = { subject: options.subject ?? '', reply: options.reply ?? '', sent: header(EnvelopeHeader.SENT) };
  return decodeFrame(body, header(EnvelopeHeader.SIGNATURE), header(EnvelopeHeader.ENCODING), options, binding);
}
