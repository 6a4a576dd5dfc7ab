import { z } from 'zod';
import { ReplayGuard } from './replayGuard';

/**
 * The frame-check options every transport takes (NATS and loopback validate the same
 * fields with the same bounds and defaults, so a test over the loopback refuses what the
 * wire would). Spread into each transport's schema. @internal
 */
export const FrameCheckOptionsShape = {
  /**
   * Signs every frame with HMAC-SHA256 (over its body, subject, reply subject and send time)
   * and refuses unsigned, tampered, replayed, stale and future-dated ones. See docs/security.md.
   */
  hmacSecret: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * With `hmacSecret`: how long a signed frame stays acceptable after it was signed, ms
   * (default 120 s), and so how long its signature is remembered to refuse it a second
   * time. It caps the TTLs messages claim: a frame older than this is refused as `stale`.
   * Durable frames count from the time they were stored.
   */
  replayWindowMs: z.number().int().min(1000).max(3_600_000).default(120_000),
  /** With `hmacSecret`: how far the clocks of senders and receivers may disagree, ms (default 30 s). */
  maxClockSkewMs: z.number().int().nonnegative().max(600_000).default(30_000),
  /** Largest frame accepted, before and after decompression (default 1 MiB). */
  maxFrameBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
} as const;

/** The replay guard the options ask for: none without a secret. @internal */
export function replayGuardFor(options: { readonly hmacSecret?: string | undefined; readonly replayWindowMs: number; readonly maxClockSkewMs: number }): ReplayGuard | undefined {
  return options.hmacSecret === undefined ? undefined : new ReplayGuard(options.replayWindowMs, options.maxClockSkewMs);
}
