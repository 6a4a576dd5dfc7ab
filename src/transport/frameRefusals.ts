import { Subject, type Observable } from 'rxjs';
import type { BusPort } from '../bus/transportLink';
import type { FrameRejection } from './envelope';
import { claimedFrames } from './inboundFrame';

/** A frame refused by a transport before it reached the bus. */
export interface TransportRejection {
  readonly reason: FrameRejection;
  readonly subject: string;
  readonly detail: string;
  /** When it was refused (the transport's clock), ms. */
  readonly at: number;
}

/** Refusals kept for `lastRejections`. */
const REJECTIONS_KEPT = 100;

/**
 * Refusal accounting, one implementation for every transport: counted by reason, emitted on
 * `rejected$`, the last 100 kept, and an unauthenticated frame dead-lettered on the bus
 * (each message it claims, decoded without the signature check, never routed). @internal
 */
export class FrameRefusals {
  readonly counts: Record<FrameRejection, number> = { unauthenticated: 0, oversized: 0, undecodable: 0, replayed: 0, stale: 0, future: 0 };
  private readonly subject = new Subject<TransportRejection>();
  private readonly kept: TransportRejection[] = [];
  readonly rejected$: Observable<TransportRejection> = this.subject.asObservable();

  constructor(private readonly maxFrameBytes: number) {}

  /** The last refusals (at most 100), oldest first. */
  get last(): readonly TransportRejection[] {
    return this.kept;
  }

  refuse(
    bus: BusPort | undefined,
    subject: string,
    body: Uint8Array,
    reason: FrameRejection,
    detail: string,
    encoding: string | undefined,
    batch: string | undefined,
    at: number,
  ): void {
    this.counts[reason]++;
    const rejection: TransportRejection = { reason, subject, detail, at };
    if (this.kept.length >= REJECTIONS_KEPT) this.kept.shift();
    this.kept.push(rejection);
    this.subject.next(rejection);
    if (reason === 'unauthenticated') {
      const why = `${detail} on ${subject}`;
      for (const f of claimedFrames(body, encoding, batch, this.maxFrameBytes)) bus?.deadLetterFrame(f, 'unauthenticated', why);
    }
  }

  /** Completes `rejected$` (the transport closed). */
  complete(): void {
    this.subject.complete();
  }
}
