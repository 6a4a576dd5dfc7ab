import type { Message } from '../bus/message';
import { requestCorrelationId } from './inboundFrame';
import { RecentMap } from '../kernel/recentIds';
import type { Subjects } from './subjects';

/** Requests from other processes whose reply subject is remembered, at most. */
const REPLY_MEMORY = 10_000;

/**
 * Where the responses to requests from other processes go (both transports): correlation
 * id → the reply subject, under this process's prefix (never a subject the request names
 * freely), the last 10 000 remembered. @internal
 */
export class ReplyMemory {
  private readonly replyTo = new RecentMap<string>(REPLY_MEMORY);

  constructor(private readonly subjects: Subjects) {}

  /**
   * Before the bus sees a received frame: when it claims to be a request and came with a
   * reply subject, remembers where its response goes (the bus may dead-letter it at once,
   * and the failure response goes there). Returns the correlation id remembered, for
   * {@link forget} when the bus refuses the frame.
   */
  remember(frame: unknown, reply: string | undefined): string | undefined {
    const response = reply ? this.subjects.response(reply) : undefined;
    if (response === undefined) return undefined;
    const correlationId = requestCorrelationId(frame);
    if (correlationId !== undefined) this.replyTo.set(correlationId, response);
    return correlationId;
  }

  forget(correlationId: string): void {
    this.replyTo.delete(correlationId);
  }

  /** The reply subject of a response to a remembered request (then forgotten), or undefined. */
  take(message: Message): string | undefined {
    if (message.correlationId === undefined) return undefined;
    const reply = this.replyTo.get(message.correlationId);
    if (reply !== undefined) this.replyTo.delete(message.correlationId);
    return reply;
  }
}
