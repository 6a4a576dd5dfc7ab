import type { Message } from '../bus/message';
import { batchElementJson } from './batchElement';
import { BATCH_MAX_MESSAGES, COMPRESSION_THRESHOLD_BYTES, encodeBatchFrame, encodeJsonFrame, isCompressedAlone, type EncodedFrame } from './envelope';

/** Room kept in a batch's size budget for the NATS headers (`Nf-Batch`, `Nf-Signature`). */
const HEADER_ROOM_BYTES = 256;

/** Where the batcher hands frames over; `reply` is set when the frame carries a request. @internal */
export type FramePublisher = (subject: string, frame: EncodedFrame, reply: string | undefined) => void;

/**
 * How many messages a batch may carry so that it never exceeds `maxBytes` (the sender's own
 * `maxFrameBytes`, or the server's `max_payload`, whichever is smaller): batched messages
 * are at most {@link COMPRESSION_THRESHOLD_BYTES} each, plus a comma. 1 turns batching off.
 * @internal
 */
export function batchCapacity(maxBytes: number): number {
  const fits = Math.floor((maxBytes - HEADER_ROOM_BYTES - 2) / (COMPRESSION_THRESHOLD_BYTES + 1));
  return Math.max(1, Math.min(BATCH_MAX_MESSAGES, fits));
}

interface PendingBatch {
  readonly subject: string;
  readonly jsons: string[];
  reply: string | undefined;
}

/**
 * Core frames for the same subject published during one tick go out as one NATS message.
 * The NATS client's cost per message (protocol line, parse, a `Msg` and a callback on the
 * receiving side, a signature when signing) was what kept the transport at half the raw
 * client's rate, whatever NeuroFlux did per message.
 *
 * Frames are queued per subject and published at the end of the tick (a microtask: the NATS
 * client writes to the socket at the end of the tick anyway, so nothing waits longer than
 * before). Order is kept per subject, not across subjects. A lone frame is published exactly
 * as without batching; a message whose JSON is over {@link COMPRESSION_THRESHOLD_BYTES} is
 * compressed and published alone at once, after what was queued for its subject.
 * @internal
 */
export class FrameBatcher {
  /** By subject, in the order their first frame of the tick was queued. */
  private readonly pending = new Map<string, PendingBatch>();
  private scheduled = false;

  constructor(
    /** Signs (when the transport has a secret) and publishes: the signature covers the subject and reply subject too. */
    private readonly publish: FramePublisher,
    /** Messages per batch frame ({@link batchCapacity}); 1 publishes every frame at once. */
    private readonly capacity: number,
    /** A queued batch could not be published (the connection closed meanwhile): its messages are lost. */
    private readonly onLost: (messages: number, error: unknown) => void,
  ) {}

  /** Queues (or, when alone by nature, publishes) one message for `subject`. */
  add(subject: string, message: Message, reply: string | undefined): void {
    let batch = this.pending.get(subject);
    if (batch !== undefined && batch.jsons.length >= this.capacity) {
      this.flushSubject(subject);
      batch = undefined;
    }
    // The first message of a subject in a tick is serialized as a lone frame (most ticks
    // carry just one, which then goes out unchanged); the ones after it as batch elements.
    const json = batch === undefined ? JSON.stringify(message) : batchElementJson(message);
    if (this.capacity === 1 || isCompressedAlone(json)) {
      // Errors reach the caller, as they did before batching (e.g. over the server's max_payload).
      this.flushSubject(subject);
      this.publish(subject, encodeJsonFrame(batch === undefined ? json : JSON.stringify(message)), reply);
      return;
    }
    if (batch === undefined) {
      this.pending.set(subject, { subject, jsons: [json], reply });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(this.flushTick);
      }
    } else {
      batch.jsons.push(json);
      if (reply !== undefined) batch.reply = reply;
    }
  }

  /** Publishes everything queued (e.g. before the connection is drained). Never throws. */
  flush(): void {
    if (this.pending.size === 0) return;
    const batches = [...this.pending.values()];
    this.pending.clear();
    for (const batch of batches) this.send(batch);
  }

  private readonly flushTick = (): void => {
    this.scheduled = false;
    this.flush();
  };

  private flushSubject(subject: string): void {
    const batch = this.pending.get(subject);
    if (batch === undefined) return;
    this.pending.delete(subject);
    this.send(batch);
  }

  /** Publishes a queued batch. Never throws: its senders have returned already, so a failure is counted as lost. */
  private send(batch: PendingBatch): void {
    const { jsons } = batch;
    try {
      const frame = jsons.length === 1 ? encodeJsonFrame(jsons[0] as string) : encodeBatchFrame(jsons);
      this.publish(batch.subject, frame, batch.reply);
    } catch (error) {
      this.onLost(jsons.length, error);
    }
  }
}
