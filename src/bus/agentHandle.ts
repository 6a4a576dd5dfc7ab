import type { AnyActorRef } from 'xstate';
import type { CommunicationBus, PublishArgs, RequestArgs } from './communicationBus';
import type { Message, MessageInput } from './message';

/** A message an agent sends: the sender is always the agent itself. */
export type AgentMessageInput = Omit<MessageInput, 'senderId'>;

/**
 * What `registerAgent` returns: the agent's identity on the bus. Every message sent
 * through a handle carries the handle's agent id as `senderId`, whatever the caller
 * wrote, so one agent cannot speak as another.
 *
 * @example
 * ```ts
 * const risk = bus.registerAgent('risk', { handler: (m, agent) => agent.respond(m, { approved: true }) });
 * const trader = bus.registerAgent('trader');
 * const reply = await trader.request({ recipientId: 'risk', topic: 'risk_check', payload: { amount: 1000 } });
 * ```
 */
export class AgentHandle {
  /** @internal */
  constructor(
    readonly agentId: string,
    private readonly bus: CommunicationBus,
    /** The agent's actor in the XState system. */
    readonly actor: AnyActorRef,
  ) {}

  /** Sends a message as this agent. */
  send(message: AgentMessageInput): Message {
    return this.bus.sendAs(message, this.agentId);
  }

  /** Publishes an event to the topic's subscribers. */
  publish(args: Omit<PublishArgs, 'senderId'>): Message {
    return this.bus.publishAs(args, this.agentId, 'event');
  }

  /** Sends to every other registered agent. */
  broadcast(args: Omit<PublishArgs, 'senderId'>): Message {
    return this.bus.publishAs(args, this.agentId, 'broadcast');
  }

  /** Sends a request and resolves with the response message. */
  request(args: Omit<RequestArgs, 'senderId'>): Promise<Message> {
    return this.bus.requestAs(args, this.agentId);
  }

  /** Answers a request received by this agent. */
  respond(request: Message, payload: unknown): Message {
    return this.bus.sendResponse(request, payload, this.agentId);
  }

  subscribe(pattern: string): void {
    this.bus.subscribe(this.agentId, pattern);
  }

  unsubscribe(pattern: string): void {
    this.bus.unsubscribe(this.agentId, pattern);
  }

  /** Pull API: takes every queued message (for agents registered without behaviour). */
  receive(): Message[] {
    return this.bus.getAgentMessages(this.agentId);
  }

  /** Takes the agent offline (messages queue up) or back online (the queue drains). */
  setOnline(online: boolean): void {
    this.bus.setAgentOnline(this.agentId, online);
  }
}
