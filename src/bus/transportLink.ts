// The ports between a bus and its transport are the bus's: it defines what it calls and
// what it offers, so the bus compiles without the transport layer above it.
import type { DeadLetter } from './deadLetter';
import type { Message } from './message';

/**
 * What the bus tells its transport. `forward` receives messages that must leave this
 * process: direct messages and responses with no local recipient (returns true when it took
 * them), and every locally published event and broadcast. Frames from the network come back
 * through {@link BusPort.acceptFrame} and are never forwarded again.
 * @internal
 */
export interface TransportLink {
  forward(message: Message): boolean;
  agentAdded(agentId: string): void;
  agentRemoved(agentId: string): void;
  subscribed(pattern: string): void;
  unsubscribed(pattern: string): void;
}

/**
 * What a transport learns about a frame it handed in with `acceptFrame(frame, receipt)`
 * (durable traffic, acknowledged once settled). While a receipt is held the bus does not
 * retry the message itself: redelivery is the transport's.
 * @internal
 */
export interface FrameReceipt {
  /** The handler finished without error. */
  handled(): void;
  /** The handler failed. True: the transport redelivers it (the bus neither retries nor dead-letters it). */
  failed(error: string): boolean;
  /**
   * The bus is giving up on it (`no_route`, `queue_full`, `expired`, `max_retries`). True:
   * the transport takes it back for a later delivery and no dead letter is recorded.
   */
  abandoned(letter: DeadLetter): boolean;
}

/**
 * The part of a bus a transport may use, and nothing else: a transport cannot send as a
 * local agent, read mailboxes or stop the bus. `CommunicationBus` implements it.
 */
export interface BusPort {
  /**
   * Connects a transport (one at a time): it is told of every agent and subscription,
   * present and future. Returns a function that detaches it.
   */
  attachTransport(link: TransportLink): () => void;
  /**
   * Entry point for frames from the network: never throws. An invalid frame is
   * dead-lettered with reason `invalid`; a valid one is routed like `sendMessage`.
   */
  acceptFrame(frame: unknown, receipt?: FrameReceipt): Message | undefined;
  /** Records a dead letter for a frame the transport gave up on before or outside delivery. Never throws. */
  deadLetterFrame(frame: unknown, reason: 'unauthenticated' | 'max_retries' | 'no_route', detail: string, agentId?: string): void;
  /** Ids of the agents registered on the bus (a starting transport listens for each). */
  getAgentIds(): string[];
}
