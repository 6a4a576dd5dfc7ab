import { parseSentAt, type FrameRejection } from './envelope';
import type { ReplayGuard } from './replayGuard';

/** Why a signed frame was refused as not fresh, and the detail to report. @internal */
export interface StaleFrame {
  readonly reason: FrameRejection;
  readonly detail: string;
}

/**
 * Replay admission of a signed frame whose signature checked out (both transports): undefined
 * when fresh and new; otherwise why not. `sequence`: the durable message's sequence in its
 * work queue (a redelivery has the same one: no replay), 0 for core frames. `reference`: when
 * the frame counts as received (a durable one: when it was stored). Allocates only on refusal.
 * @internal
 */
export function frameFreshness(
  guard: ReplayGuard,
  signature: string | undefined,
  sent: string | undefined,
  reference: number,
  now: number,
  sequence: number,
): StaleFrame | undefined {
  const sentAt = parseSentAt(sent) ?? 0;
  const refusal = guard.admit(signature ?? '', sentAt, reference, now, sequence);
  return refusal === undefined ? undefined : { reason: refusal, detail: `signed at ${sentAt}, received at ${reference}` };
}
