import { QueueFullError, UnknownAgentError } from '../errors';
import { parseOrThrow, PatternArgsSchema } from './busArguments';
import type { BusCounters } from './busStats';
import type { DeadLetter } from './deadLetter';
import type { DeliveryLoop } from './deliveryLoop';
import { isExpired, MessageType, type Message } from './message';
import type { RegisteredAgent } from './registeredAgent';
import type { RequestReply } from './requestReply';
import { SubscriptionIndex } from './topicPattern';
import type { TransportLink } from './transportLink';

/**
 * What the router hands back to its bus, one object per bus. Plain method calls, not actor
 * events or per-message closures: `route` runs for every message (bench/bus.ts: 40 000 –
 * 170 000 messages/s on the reference machine, 6 – 25 µs each, where one XState event costs
 * ≈ 2 µs). Enqueueing is the router's own (`enqueue`), not a call back: it runs once per
 * recipient, and a call back through this port measured 0.79 – 0.91× on a fan-out to 100
 * subscribers (paired runs against the bus before the split, same process).
 * @internal
 */
export interface RoutedMessageSink {
  /** The message is accepted (counted, observed): from here on it is handled or dead-lettered. */
  accept(message: Message): void;
  deadLetter(reason: DeadLetter['reason'], message: Message, agentId?: string, error?: string): void;
}

/**
 * The routing table of a bus and the decision where each message goes: agents by id (the
 * bus's map, read here), subscriptions by topic pattern, broadcast fan-out to every other
 * agent, responses to their waiter or requester, and the transport link for whatever has no
 * recipient in this process (told of every agent and subscription, too).
 * @internal
 */
export class MessageRouter {
  private readonly subscriptions = new SubscriptionIndex();
  private remote: TransportLink | undefined;

  constructor(
    private readonly agents: ReadonlyMap<string, RegisteredAgent>,
    private readonly counters: BusCounters,
    private readonly requests: RequestReply,
    private readonly delivery: DeliveryLoop,
    private readonly sink: RoutedMessageSink,
  ) {}

  /** Number of (agent, pattern) subscriptions. */
  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  /** True when a transport is attached. */
  get hasRemote(): boolean {
    return this.remote !== undefined;
  }

  /**
   * Connects a transport (one at a time): it is told of every agent and subscription,
   * present and future. Returns a function that detaches it.
   */
  attach(link: TransportLink): () => void {
    this.remote = link;
    for (const agent of this.agents.values()) {
      link.agentAdded(agent.agentId);
      for (const pattern of agent.subscriptions) link.subscribed(pattern);
    }
    return () => {
      if (this.remote === link) this.remote = undefined;
    };
  }

  /** An agent joined the bus's map: the transport learns of it, and its topics are subscribed. */
  added(agentId: string, topics: readonly string[]): void {
    this.remote?.agentAdded(agentId);
    for (const topic of topics) this.subscribe(agentId, topic);
  }

  /** An agent left the bus's map: its subscriptions go, and the transport learns of it. */
  removed(agent: RegisteredAgent): void {
    for (const pattern of agent.subscriptions) {
      this.subscriptions.remove(agent.agentId, pattern);
      this.remote?.unsubscribed(pattern);
    }
    this.remote?.agentRemoved(agent.agentId);
  }

  /** Subscribes an agent to a topic pattern (`*` one token, `>` the rest). */
  subscribe(agentId: string, pattern: string): void {
    const a = parseOrThrow(PatternArgsSchema, 'subscription', { agentId, pattern });
    const agent = this.agents.get(a.agentId);
    if (!agent) throw new UnknownAgentError(a.agentId);
    if (this.subscriptions.add(a.agentId, a.pattern)) {
      agent.subscriptions.add(a.pattern);
      this.remote?.subscribed(a.pattern);
    }
  }

  unsubscribe(agentId: string, pattern: string): void {
    const a = parseOrThrow(PatternArgsSchema, 'subscription', { agentId, pattern });
    if (this.subscriptions.remove(a.agentId, a.pattern)) {
      this.agents.get(a.agentId)?.subscriptions.delete(a.pattern);
      this.remote?.unsubscribed(a.pattern);
    }
  }

  /**
   * Hands a message to the transport; true when it took it. Throws what the transport throws
   * (a closing connection).
   */
  forward(message: Message): boolean {
    return this.remote !== undefined && this.remote.forward(message);
  }

  /**
   * Routes one validated message: a response to its waiter or requester, a direct message to
   * its recipient, an event to the subscribers of its topic, a broadcast to every agent but
   * its sender; what has no recipient here goes to the transport (unless it came from it), or
   * is dead-lettered.
   *
   * @throws QueueFullError before acceptance when the recipient's mailbox is full under `reject`.
   */
  route(message: Message, now: number, fromRemote: boolean): void {
    const sink = this.sink;
    if (message.messageType === MessageType.RESPONSE && message.correlationId !== undefined) {
      sink.accept(message);
      if (isExpired(message, now)) return sink.deadLetter('expired', message);
      const settled = this.requests.settle(message as Message & { correlationId: string });
      if (settled !== undefined) {
        if (settled === 'resolved') this.counters.delivered++;
        return;
      }
      const requester = message.recipientId === null ? undefined : this.agents.get(message.recipientId);
      if (requester && this.requests.claimOpen(message, now)) return this.enqueue(requester, message, false);
      if (!fromRemote && this.forward(message)) return;
      return sink.deadLetter('orphan_response', message);
    }
    if (message.recipientId !== null) {
      const recipient = this.agents.get(message.recipientId);
      // Checked before acceptance so that a refused send leaves no trace but the error.
      if (recipient && recipient.overflow === 'reject' && recipient.mailbox.size >= recipient.maxQueueSize && !recipient.mailbox.holdsLessUrgentThan(message.priority)) {
        this.counters.rejected++;
        throw new QueueFullError(recipient.agentId, recipient.maxQueueSize);
      }
      sink.accept(message);
      if (isExpired(message, now)) return sink.deadLetter('expired', message);
      if (!recipient) {
        if (!fromRemote && this.forward(message)) return;
        return sink.deadLetter('no_route', message);
      }
      if (message.messageType === MessageType.REQUEST) this.requests.routed(message, now);
      return this.enqueue(recipient, message, false);
    }
    sink.accept(message);
    if (isExpired(message, now)) return sink.deadLetter('expired', message);
    const targets =
      message.messageType === MessageType.BROADCAST ? [...this.agents.keys()].filter((id) => id !== message.senderId) : this.subscriptions.subscribersOf(message.topic);
    const forwarded = !fromRemote && this.forward(message);
    if (targets.length === 0) return forwarded ? undefined : sink.deadLetter('no_route', message);
    for (const id of targets) {
      const agent = this.agents.get(id);
      if (agent) this.enqueue(agent, message, false);
    }
  }

  /**
   * Puts an accepted message in `agent`'s mailbox, under its overflow policy; `atHead` for a
   * message put back for a retry.
   */
  enqueue(agent: RegisteredAgent, message: Message, atHead: boolean): void {
    // A message put back for a retry was accepted already: it keeps its place even if new
    // arrivals filled the mailbox meanwhile (the mailbox may exceed its size by the
    // messages in flight, never more).
    if (!atHead && agent.mailbox.size >= agent.maxQueueSize) {
      // Under `reject` a more urgent message still finds room (a flood of low traffic must
      // not refuse a critical halt); an equal or less urgent one is refused.
      const evicted = agent.overflow === 'reject' ? agent.mailbox.evictNewestBelow(message.priority) : agent.mailbox.evictFor(message);
      if (evicted === undefined || evicted === message) return this.sink.deadLetter('queue_full', message, agent.agentId);
      this.counters.evicted++;
      this.sink.deadLetter('queue_full', evicted, agent.agentId, `evicted for a ${message.priority} message (mailbox full)`);
    }
    if (atHead) agent.mailbox.requeue(message);
    else agent.mailbox.enqueue(message);
    this.delivery.queued(agent);
  }
}
