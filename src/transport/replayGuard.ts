/** Why the guard refused a signed frame. @internal */
export type ReplayRefusal = 'replayed' | 'stale' | 'future';

interface Remembered {
  readonly key: string;
  readonly forgetAt: number;
}

/**
 * Refuses signed frames sent again: a frame is accepted once, and only while it is fresh.
 *
 * Fresh: signed at most `windowMs + maxClockSkewMs` before the reference time and at most
 * `maxClockSkewMs` after it. Within that time the frame's signature (which covers its body,
 * subject, reply subject and send time, so it names the frame) is remembered; a second
 * frame with it is `replayed`. Past it the frame is `stale` whatever its messages' TTLs
 * claim: the window caps how long anything is remembered, so memory is bounded by the
 * frames accepted per `windowMs + maxClockSkewMs` (about 100 B each: 103 B measured).
 *
 * JetStream frames are checked against the time the server stored them (a message may wait
 * in the stream for its agent far longer than the window) and may come again under the same
 * stream sequence (a redelivery, not a replay).
 * @internal
 */
export class ReplayGuard {
  /** Signature key → the stream sequence it was accepted with (0 for core frames). */
  private readonly accepted = new Map<string, number>();
  /** In the order accepted; forgotten from the front (a later entry may expire first: it waits its turn, within the window). */
  private readonly order: Remembered[] = [];
  private head = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxClockSkewMs: number,
  ) {}

  /** Frames remembered now. */
  get size(): number {
    return this.accepted.size;
  }

  /**
   * Admits a frame signed at `sentAt` with `signature`, or says why not. `reference` is the
   * receiver's clock for core frames, the server's storage time for JetStream ones; `now`
   * is the receiver's clock (forgetting runs on it); `sequence` is the JetStream stream
   * sequence (0 for core frames).
   */
  admit(signature: string, sentAt: number, reference: number, now: number, sequence = 0): ReplayRefusal | undefined {
    this.forget(now);
    if (sentAt > reference + this.maxClockSkewMs) return 'future';
    if (sentAt < reference - this.windowMs - this.maxClockSkewMs) return 'stale';
    // Half of an HMAC-SHA256 is plenty to tell frames apart, and halves the memory.
    const key = signature.slice(0, 32);
    const seen = this.accepted.get(key);
    if (seen !== undefined) return seen === sequence && sequence !== 0 ? undefined : 'replayed';
    this.accepted.set(key, sequence);
    // A core frame is stale from sentAt + window + skew on: no need to remember it longer.
    // A JetStream frame may be delivered late; its twin, stored within the window, right after.
    const forgetAt = (sequence === 0 ? sentAt : now) + this.windowMs + 2 * this.maxClockSkewMs;
    this.order.push({ key, forgetAt });
    return undefined;
  }

  private forget(now: number): void {
    const order = this.order;
    while (this.head < order.length && (order[this.head] as Remembered).forgetAt < now) {
      this.accepted.delete((order[this.head] as Remembered).key);
      this.head++;
    }
    // Compact now and then rather than shifting per entry.
    if (this.head > 1024 && this.head * 2 > order.length) {
      order.splice(0, this.head);
      this.head = 0;
    }
  }
}
