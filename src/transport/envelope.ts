import { createHmac, timingSafeEqual } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Message } from '../bus/message';

/** Payloads whose JSON exceeds this many bytes are gzip-compressed (guide: 1000 characters). */
export const COMPRESSION_THRESHOLD_BYTES = 1024;

/** Header names of the envelope. */
export const EnvelopeHeader = {
  ENCODING: 'Nf-Encoding',
  SIGNATURE: 'Nf-Signature',
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
}

/** Why a frame was refused before validation. */
export type FrameRejection = 'unauthenticated' | 'oversized' | 'undecodable';

/** A checked and decoded frame (still to be validated as a message), or why it was refused. */
export type DecodedFrame = { ok: true; frame: unknown } | { ok: false; reason: FrameRejection; detail: string };

// Keeps a leading BOM, as Buffer#toString does: such a frame is not JSON and is refused as invalid.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** @internal HMAC-SHA256 of the body, hex. */
export function sign(secret: string, body: Uint8Array): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Encodes a validated message: JSON, gzip over {@link COMPRESSION_THRESHOLD_BYTES},
 * HMAC-SHA256 over the bytes sent when a secret is set. @internal
 */
export function encodeFrame(message: Message, hmacSecret: string | undefined): EncodedFrame {
  let body: Uint8Array = Buffer.from(JSON.stringify(message), 'utf8');
  const gzip = body.byteLength > COMPRESSION_THRESHOLD_BYTES;
  if (gzip) body = gzipSync(body);
  return { body, gzip, signature: hmacSecret === undefined ? undefined : sign(hmacSecret, body) };
}

/**
 * Encodes a validated message: JSON, gzip over {@link COMPRESSION_THRESHOLD_BYTES}
 * (flagged in `Nf-Encoding`), HMAC-signed over the bytes sent when a secret is set.
 *
 * @example
 * ```ts
 * const { body, headers } = encodeEnvelope(message, { hmacSecret: 'k' });
 * ```
 */
export function encodeEnvelope(message: Message, options: { hmacSecret?: string | undefined }): Envelope {
  const frame = encodeFrame(message, options.hmacSecret);
  const headers: Record<string, string> = {};
  if (frame.gzip) headers[EnvelopeHeader.ENCODING] = 'gzip';
  if (frame.signature !== undefined) headers[EnvelopeHeader.SIGNATURE] = frame.signature;
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
): DecodedFrame {
  if (body.byteLength > options.maxFrameBytes) return { ok: false, reason: 'oversized', detail: `${body.byteLength} bytes` };
  if (options.hmacSecret !== undefined) {
    if (!signature) return { ok: false, reason: 'unauthenticated', detail: 'unsigned frame' };
    const expected = Buffer.from(sign(options.hmacSecret, body), 'hex');
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
      const detail = String((error as Error).message);
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
 * Checks and decodes a frame: signature (when a secret is set), size (before and after
 * decompression), gzip, JSON. The result still has to pass the message schema
 * (`bus.acceptFrame` does that).
 *
 * @example
 * ```ts
 * const decoded = decodeEnvelope(msg.data, (name) => msg.headers?.get(name), { hmacSecret: 'k', maxFrameBytes: 1 << 20 });
 * ```
 */
export function decodeEnvelope(
  body: Uint8Array,
  header: (name: string) => string | undefined,
  options: { hmacSecret?: string | undefined; maxFrameBytes: number },
): DecodedFrame {
  return decodeFrame(body, header(EnvelopeHeader.SIGNATURE), header(EnvelopeHeader.ENCODING), options);
}
