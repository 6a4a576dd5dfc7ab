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

/** @internal HMAC-SHA256 of the body, hex. */
export function sign(secret: string, body: Uint8Array): string {
  return createHmac('sha256', secret).update(body).digest('hex');
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
  let body: Uint8Array = Buffer.from(JSON.stringify(message), 'utf8');
  // No header unless needed: header-less frames take the NATS client's fast path (the
  // priority is in the subject and the body).
  const headers: Record<string, string> = {};
  if (body.byteLength > COMPRESSION_THRESHOLD_BYTES) {
    body = gzipSync(body);
    headers[EnvelopeHeader.ENCODING] = 'gzip';
  }
  if (options.hmacSecret !== undefined) headers[EnvelopeHeader.SIGNATURE] = sign(options.hmacSecret, body);
  return { body, headers };
}

/** Why a frame was refused before validation. */
export type FrameRejection = 'unauthenticated' | 'oversized' | 'undecodable';

/**
 * Checks and decodes a frame: signature (when a secret is set), size (before and after
 * decompression), gzip, JSON. The result still has to pass the message schema
 * (`bus.acceptFrame` does that).
 */
export function decodeEnvelope(
  body: Uint8Array,
  header: (name: string) => string | undefined,
  options: { hmacSecret?: string | undefined; maxFrameBytes: number },
): { ok: true; frame: unknown } | { ok: false; reason: FrameRejection; detail: string } {
  if (body.byteLength > options.maxFrameBytes) return { ok: false, reason: 'oversized', detail: `${body.byteLength} bytes` };
  if (options.hmacSecret !== undefined) {
    const given = header(EnvelopeHeader.SIGNATURE);
    if (!given) return { ok: false, reason: 'unauthenticated', detail: 'unsigned frame' };
    const expected = Buffer.from(sign(options.hmacSecret, body), 'hex');
    const actual = Buffer.from(given, 'hex');
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      return { ok: false, reason: 'unauthenticated', detail: 'bad signature' };
    }
  }
  let bytes = body;
  if (header(EnvelopeHeader.ENCODING) === 'gzip') {
    try {
      bytes = gunzipSync(body, { maxOutputLength: options.maxFrameBytes });
    } catch (error) {
      const detail = String((error as Error).message);
      return { ok: false, reason: /buffer|length/i.test(detail) ? 'oversized' : 'undecodable', detail };
    }
  }
  try {
    return { ok: true, frame: JSON.parse(Buffer.from(bytes).toString('utf8')) };
  } catch {
    // Not JSON: the raw text goes on, so the bus dead-letters it as `invalid`.
    return { ok: true, frame: Buffer.from(bytes).toString('utf8') };
  }
}
