import { MessageType } from '../bus/message';
import { ORIGIN_HEADER } from '../bus/messageOrigin';
import { BATCH_MAX_MESSAGES, batchElements, decodeFrame, EnvelopeHeader, type FrameBinding, type FrameRejection } from './envelope';

/**
 * The checks every transport runs on a frame from the network before the bus validates it
 * as a message (NATS and loopback alike, so a forged frame meets the same refusals in a
 * test without a server as on the wire).
 */

/**
 * A frame past the envelope checks: `frame` is the decoded body; `frames` is set for a batch
 * frame (its elements, each still a frame to validate). Or why it was refused. @internal
 */
export type OpenedFrame =
  { readonly ok: true; readonly frame: unknown; readonly frames?: readonly unknown[] } | { readonly ok: false; readonly reason: FrameRejection; readonly detail: string };

/**
 * Header values are passed one by one (undefined: absent), not as an object: no allocation
 * per received frame. Size, signature (with `hmacSecret`: bound to `binding`), encoding and JSON checks, then for
 * a batch frame (`Nf-Batch`) the array of as many frames as it says. `batches` false: a batch
 * frame is refused (durable traffic is acknowledged message by message, never batched).
 * @internal
 */
export function openFrame(
  body: Uint8Array,
  signature: string | undefined,
  encoding: string | undefined,
  batch: string | undefined,
  options: { readonly hmacSecret: string | undefined; readonly maxFrameBytes: number },
  binding: FrameBinding | undefined,
  batches: boolean,
): OpenedFrame {
  const decoded = decodeFrame(body, signature, encoding, options, binding);
  if (!decoded.ok || batch === undefined) return decoded;
  if (!batches) return { ok: false, reason: 'undecodable', detail: 'batch frame on a durable subject' };
  const frames = batchElements(decoded.frame, batch);
  if (frames === undefined) {
    return { ok: false, reason: 'undecodable', detail: `${EnvelopeHeader.BATCH}: ${batch} but the body is not a JSON array of as many frames (at most ${BATCH_MAX_MESSAGES})` };
  }
  return { ok: true, frame: decoded.frame, frames };
}

/**
 * What an unauthenticated frame claims, for the dead-letter record (never routed): decoded
 * without the signature check, one entry per message it claims to carry. @internal
 */
export function claimedFrames(body: Uint8Array, encoding: string | undefined, batch: string | undefined, maxFrameBytes: number): readonly unknown[] {
  const claimed = decodeFrame(body, undefined, encoding, { hmacSecret: undefined, maxFrameBytes });
  const frame = claimed.ok ? claimed.frame : undefined;
  const frames = batch === undefined ? undefined : batchElements(frame, batch);
  return frames ?? [frame];
}

/**
 * Writes who published a frame (read from its subject) into its `nf-origin` header, over
 * whatever the frame claims there. A frame whose headers are not an object is left as it
 * is: the bus refuses it as invalid. @internal
 */
export function stampOrigin(frame: unknown, origin: string): void {
  if (typeof frame !== 'object' || frame === null) return;
  const f = frame as { headers?: unknown };
  const h = f.headers;
  if (h === undefined) f.headers = { [ORIGIN_HEADER]: origin };
  else if (typeof h === 'object' && h !== null && !Array.isArray(h)) (h as Record<string, unknown>)[ORIGIN_HEADER] = origin;
}

/** The correlation id a frame claims when it claims to be a request (checked by the bus right after). @internal */
export function requestCorrelationId(frame: unknown): string | undefined {
  if (typeof frame !== 'object' || frame === null) return undefined;
  const { messageType, correlationId } = frame as { messageType?: unknown; correlationId?: unknown };
  return messageType === MessageType.REQUEST && typeof correlationId === 'string' ? correlationId : undefined;
}
