import { MessageType, type Message } from '../bus/message';
import type { ReplyMemory } from './replyMemory';
import type { Subjects } from './subjects';

/** Where a transport puts an outbound message once {@link routeMessage} chose (its adapter to its broker). @internal */
export interface RouteSink {
  /** A core frame on `subject` (with `reply` for a request). */
  core(subject: string, message: Message, reply: string | undefined): void;
  /** A durable (work-queue) message on `subject`, de-duplicated by its message id. */
  durable(subject: string, message: Message): void;
}

/**
 * The routing choice of every transport, one implementation: a topic event or broadcast to
 * nobody in particular on its topic or broadcast subject; a response to a remembered request
 * on its reply subject; a durable type to the recipient's work-queue subject; anything else
 * (requests with this process's `inbox` as reply subject, direct events) on the recipient's
 * agent subject. Plain calls into the sink: no allocation per message. @internal
 */
export function routeMessage(message: Message, subjects: Subjects, durableTypes: ReadonlySet<string>, replies: ReplyMemory, inbox: string, sink: RouteSink): void {
  const type = message.messageType;
  // An event or broadcast addressed to one agent goes to that agent's subject below.
  if ((type === MessageType.EVENT || type === MessageType.BROADCAST) && message.recipientId === null) {
    sink.core(type === MessageType.EVENT ? subjects.topic(message.topic) : subjects.broadcast(), message, undefined);
    return;
  }
  if (type === MessageType.RESPONSE) {
    const reply = replies.take(message);
    if (reply !== undefined) {
      sink.core(reply, message, undefined);
      return;
    }
  }
  const recipient = message.recipientId as string;
  if (durableTypes.has(type)) {
    sink.durable(subjects.durable(recipient, message.priority), message);
    return;
  }
  sink.core(subjects.agent(recipient, message.priority), message, type === MessageType.REQUEST ? inbox : undefined);
}
