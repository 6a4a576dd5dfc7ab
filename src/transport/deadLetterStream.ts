import type { JetStreamManager, JsMsg, StoredMsg } from '@nats-io/jetstream';
import type { Msg, MsgHdrs } from '@nats-io/transport-node';
import { z } from 'zod';
import type { DeadLetter } from '../bus/deadLetter';
import { decodeFrame, EnvelopeHeader } from './envelope';
import { natsCore } from './natsClient';
import type { Subjects } from './subjects';

/** Headers added to a message moved to `nf.<ns>.dlq`. */
export const DeadLetterHeader = {
  REASON: 'Nf-Dead-Reason',
  ERROR: 'Nf-Dead-Error',
  AGENT: 'Nf-Dead-Agent',
  DELIVERIES: 'Nf-Dead-Deliveries',
  SUBJECT: 'Nf-Dead-Subject',
} as const;

/** The server's advisory for a message that reached `max_deliver` unacknowledged (validated: it is outside input). */
const MaxDeliveriesAdvisorySchema = z.object({
  stream: z.string().min(1),
  consumer: z.string().min(1),
  stream_seq: z.number().int().positive(),
  deliveries: z.number().int().nonnegative(),
});

/** Why a message is moved to the dead-letter stream (its `Nf-Dead-*` headers). @internal */
export interface DeadLetterWhy {
  readonly reason: string;
  readonly error?: string | undefined;
  readonly agentId?: string | undefined;
  readonly deliveries: number;
  readonly subject: string;
}

/** What the dead-letter stream asks of its transport: one object per transport. @internal */
export interface DeadLetterStreamPort {
  /** Publishes to JetStream until the server acknowledges (the id de-duplicates retries). */
  publishDurable(subject: string, body: Uint8Array, headers: MsgHdrs | undefined, messageId: string): Promise<void>;
  /** One message was moved (counted as `deadLettered`). */
  moved(): void;
  /** The bus records the moved message as a dead letter (the process whose delete succeeded). */
  deadLetterFrame(frame: unknown, reason: 'max_retries' | 'no_route', detail: string): void;
}

/**
 * The dead-letter stream of a NATS transport (`nf.<ns>.dlq`): durable messages given up are
 * copied there with their original bytes and headers plus why (`Nf-Dead-*`), then removed from
 * the work queue (acknowledged, or deleted when no delivery is held), and recorded as a bus
 * dead letter by the one process that removed them.
 * @internal
 */
export class DeadLetterStream {
  constructor(
    private readonly subjects: Subjects,
    private readonly decodeOptions: { readonly hmacSecret: string | undefined; readonly maxFrameBytes: number },
    private readonly port: DeadLetterStreamPort,
  ) {}

  /** A held delivery the bus gave up on: copied, then acknowledged (the bus recorded it already). */
  async moveDelivery(m: JsMsg, letter: DeadLetter, agentId: string): Promise<void> {
    const h = deadLetterHeaders(m.headers, {
      reason: letter.reason,
      agentId: letter.agentId ?? agentId,
      error: letter.error,
      deliveries: m.info.deliveryCount,
      subject: m.subject,
    });
    await this.port.publishDurable(this.subjects.dlq(), m.data, h, `dlq-${letter.message.messageId}`);
    this.port.moved();
    m.ack();
  }

  /**
   * A stored work-queue message nobody holds (delivery cap reached, or undelivered too long):
   * copied, deleted from `stream`; true when this call deleted it (it is then recorded on the bus).
   */
  async moveStored(jsm: JetStreamManager, stream: string, stored: StoredMsg, why: DeadLetterWhy, busReason: 'max_retries' | 'no_route'): Promise<boolean> {
    const h = deadLetterHeaders(stored.header, why);
    await this.port.publishDurable(this.subjects.dlq(), stored.data, h, `dlq-${stream}-${stored.seq}`);
    if (!(await jsm.streams.deleteMessage(stream, stored.seq).catch(() => false))) return false;
    this.port.moved();
    const binding = { subject: stored.subject, reply: '', sent: stored.header.get(EnvelopeHeader.SENT) || undefined };
    const decoded = decodeFrame(
      stored.data,
      stored.header.get(EnvelopeHeader.SIGNATURE) || undefined,
      stored.header.get(EnvelopeHeader.ENCODING) || undefined,
      this.decodeOptions,
      binding,
    );
    if (decoded.ok) this.port.deadLetterFrame(decoded.frame, busReason, why.error ?? '');
    return true;
  }

  /**
   * A durable message reached `maxDeliver` without being acknowledged (its processes died
   * or lost the connection): moved to `nf.<ns>.dlq` and deleted from the work queue. Every
   * process sees the advisory; the one whose delete succeeds records the bus dead letter.
   */
  async onMaxDeliveries(msg: Pick<Msg, 'data'>, jsm: () => Promise<JetStreamManager>): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(msg.data).toString('utf8'));
    } catch {
      return;
    }
    const advisory = MaxDeliveriesAdvisorySchema.safeParse(json);
    const stream = this.subjects.stream();
    if (!advisory.success || advisory.data.stream !== stream) return;
    const manager = await jsm();
    const stored = await manager.streams.getMessage(stream, { seq: advisory.data.stream_seq }).catch(() => null);
    if (!stored) return;
    const detail = `JetStream delivery cap reached (${advisory.data.deliveries} deliveries, none acknowledged)`;
    await this.moveStored(manager, stream, stored, { reason: 'max_retries', error: detail, deliveries: advisory.data.deliveries, subject: stored.subject }, 'max_retries');
  }
}

/** The original headers (less the message id, or the copy would be taken for a duplicate) plus why. */
function deadLetterHeaders(original: MsgHdrs | undefined, why: DeadLetterWhy): MsgHdrs {
  const h = natsCore().headers();
  if (original) for (const k of original.keys()) if (k !== EnvelopeHeader.MESSAGE_ID) h.set(k, original.get(k));
  h.set(DeadLetterHeader.REASON, why.reason);
  h.set(DeadLetterHeader.DELIVERIES, String(why.deliveries));
  h.set(DeadLetterHeader.SUBJECT, why.subject);
  if (why.agentId !== undefined) h.set(DeadLetterHeader.AGENT, why.agentId);
  if (why.error !== undefined) h.set(DeadLetterHeader.ERROR, why.error.replace(/[\r\n]+/g, ' ').slice(0, 500));
  return h;
}
