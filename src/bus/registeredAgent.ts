import { performance } from 'node:perf_hooks';
import type { ActorRefFrom, AnyActorRef, AnyStateMachine, Snapshot } from 'xstate';
import type { AgentMachine } from '../../machines/agent.machine';
import type { Message } from './message';
import type { BusInstrumentation } from './busInstrumentation';
import { PriorityMailbox } from './priorityMailbox';
import type { AgentHandle } from './agentHandle';
import { ExecutedKeys } from './executedKeys';

/**
 * An agent's behaviour as a function. It may be async; the agent runs up to
 * `concurrency` of them at once. A throw or a rejection counts as a failed delivery
 * (the message is retried, then dead-lettered). What it returns is ignored, except that a
 * promise (any thenable) is awaited: a one-line arrow such as
 * `(m, agent) => agent.respond(m, reply)` is a handler as it stands.
 *
 * @example
 * ```ts
 * bus.registerAgent('risk', { handler: (message, agent) => agent.respond(message, { ok: true }) });
 * ```
 */
export type MessageHandler = (message: Message, agent: AgentHandle) => unknown;

/** Input given to a user-supplied behaviour machine. */
export interface AgentBehaviourInput {
  readonly agentId: string;
  /** The agent's own handle: send, publish, respond... as this agent. */
  readonly agent: AgentHandle;
}

/** Event a behaviour machine receives for each delivered message: its type is the topic. */
export interface AgentMessageEvent {
  readonly type: string;
  readonly message: Message;
}

/** What the bus learns from running a behaviour, reported per message. @internal */
export interface DeliveryOutcomes {
  handled(agent: RegisteredAgent, message: Message, durationMs: number): void;
  failed(agent: RegisteredAgent, message: Message, error: unknown): void;
  /** The agent may take more work. */
  freed(agent: RegisteredAgent): void;
  /** Messages delivered but put back in the mailbox unprocessed. */
  returned(agent: RegisteredAgent, count: number): void;
}

/** Most messages one drain hands over before it yields to the next flush. */
const DRAIN_BUDGET = 1024;

/** @internal */
export interface RegisteredAgentOptions {
  readonly agentId: string;
  readonly handler?: MessageHandler;
  readonly machine?: AnyStateMachine;
  readonly concurrency: number;
  readonly maxQueueSize: number;
  readonly overflow: 'reject' | 'drop_lowest';
  readonly batchSize: number;
}

/**
 * The bus's record of one agent: its priority mailbox, its agent actor (spawned in a
 * supervisor shard) and the behaviour the actor runs. Draining hands batches from the
 * mailbox to the actor; the actor's `processMessages` action calls `process`. A handler
 * that has stayed synchronous is handed its batches directly, and the actor is told once per
 * drain (`MESSAGES_PROCESSED`).
 * @internal
 */
export class RegisteredAgent {
  readonly agentId: string;
  readonly mailbox = new PriorityMailbox();
  readonly maxQueueSize: number;
  readonly overflow: 'reject' | 'drop_lowest';
  readonly subscriptions = new Set<string>();
  handle!: AgentHandle;
  instrumentation: BusInstrumentation | undefined;
  drainScheduled = false;
  private asyncInFlight = 0;
  /** Learned: starts true for `async function` handlers, becomes true on the first promise. */
  private handlerIsAsync: boolean;
  private syncHandled = 0;
  private syncFailed = 0;
  /**
   * Handed to a synchronous handler directly during this drain and not yet told to the
   * actor (and of those, `directReturned` put back in the mailbox): reported in one
   * `MESSAGES_PROCESSED` at the end of the drain, or at once if the handler turns async.
   */
  private directDelivered = 0;
  private directReturned = 0;
  /** Idempotency keys handled: a command carrying one runs once however often it is delivered. */
  readonly executedKeys = new ExecutedKeys();

  constructor(
    private readonly options: RegisteredAgentOptions,
    readonly actor: ActorRefFrom<AgentMachine>,
    private readonly outcomes: DeliveryOutcomes,
  ) {
    this.agentId = options.agentId;
    this.maxQueueSize = options.maxQueueSize;
    this.overflow = options.overflow;
    this.handlerIsAsync = options.handler?.constructor.name === 'AsyncFunction';
  }

  /** True when the agent takes messages from its mailbox by itself (not the pull API). */
  get pushes(): boolean {
    return this.options.handler !== undefined || this.options.machine !== undefined;
  }

  /** False while its owner switched it off; an agent offline only because the transport is down still gets local messages. */
  get online(): boolean {
    return !this.actor.getSnapshot().context.switchedOff;
  }

  get active(): boolean {
    return this.actor.getSnapshot().status === 'active';
  }

  /** Starts the user machine behaviour, if the agent has one. */
  assignBehaviour(): void {
    const machine = this.options.machine;
    if (!machine) return;
    const input: AgentBehaviourInput = { agentId: this.agentId, agent: this.handle };
    this.actor.send({ type: 'BEHAVIOUR_ASSIGNED', logic: machine, input });
  }

  /** How many more messages the agent can take in one step. */
  private freeSlots(): number {
    // A synchronous behaviour (a machine, or a handler that has never returned a promise)
    // finishes each message before the next, so only the batch size bounds a step.
    if (!this.handlerIsAsync) return this.options.batchSize;
    return Math.min(this.options.batchSize, this.options.concurrency - this.asyncInFlight);
  }

  /**
   * Hands queued messages to the agent actor in batches while it has free slots.
   * `take` is the bus's dequeue (it dead-letters expired messages on the way). Returns true
   * when it stopped on its budget with deliverable work left (the caller drains again later).
   */
  drain(take: (agent: RegisteredAgent) => Message | undefined): boolean {
    if (!this.pushes || !this.online || !this.active) return false;
    // A budget per drain: a handler that keeps sending to itself must not hold the thread
    // (what is left is drained at the next flush, which it has already scheduled).
    for (let budget = DRAIN_BUDGET; budget > 0;) {
      const slots = this.freeSlots();
      if (slots <= 0 || this.mailbox.size === 0) break;
      const batch: Message[] = [];
      while (batch.length < slots) {
        const message = take(this);
        if (message === undefined) break;
        batch.push(message);
      }
      if (batch.length === 0) break;
      budget -= batch.length;
      if (this.options.handler !== undefined && !this.handlerIsAsync) {
        // A handler that has stayed synchronous runs the batch here, and the actor hears of
        // the whole drain once, at its end: within one synchronous drain only a synchronous
        // observer could have seen the `busy` in between. Should it return a promise, the
        // actor is told at once, so that the async work in flight counts in its load.
        this.directDelivered += batch.length;
        this.process(batch);
        if (this.handlerIsAsync) this.reportDirect();
        // Unregistered by its own handler: the rest stays undelivered, as a stopped actor's would.
        if (!this.active) break;
        continue;
      }
      this.actor.send({ type: 'MESSAGES_DELIVERED', messages: batch });
      if (this.behaviourCrashed()) break;
    }
    // What was handed over directly is reported by the delivery loop (`reportDirect`) once
    // the drain's responses have left; the rest is reported now.
    if (this.directDelivered === 0) this.reportSyncSettlements(0);
    return this.mailbox.size > 0 && this.freeSlots() > 0;
  }

  /** Messages handed to the handler directly that the actor has not been told of yet. */
  get unreported(): boolean {
    return this.directDelivered > 0;
  }

  /**
   * Tells the actor, in one `MESSAGES_PROCESSED`, what the handler was handed directly since
   * the last report and how much of it finished. Nothing to tell: nothing is sent.
   */
  reportDirect(): void {
    if (this.directDelivered === 0) return;
    const event = { type: 'MESSAGES_PROCESSED', delivered: this.directDelivered, handled: this.syncHandled, failed: this.syncFailed, returned: this.directReturned } as const;
    this.directDelivered = 0;
    this.directReturned = 0;
    this.syncHandled = 0;
    this.syncFailed = 0;
    // Unregistered meanwhile: its actor is stopped and hears nothing more.
    if (this.active) this.actor.send(event);
  }

  private reportSyncSettlements(returned: number): void {
    if (this.syncHandled + this.syncFailed + returned === 0) return;
    const event = { type: 'MESSAGES_SETTLED', handled: this.syncHandled, failed: this.syncFailed, returned } as const;
    this.syncHandled = 0;
    this.syncFailed = 0;
    this.actor.send(event);
  }

  /** Runs the behaviour on a delivered batch (called from the agent actor's action). */
  process(messages: readonly Message[]): void {
    const handler = this.options.handler;
    if (handler) {
      for (let i = 0; i < messages.length; i++) {
        if (this.asyncInFlight >= this.options.concurrency) {
          // The handler turned out async and every slot is taken: the rest waits in the
          // mailbox, where more urgent messages can still overtake it.
          this.returnToMailbox(messages.slice(i));
          return;
        }
        this.runHandler(handler, messages[i] as Message);
      }
      return;
    }
    for (let i = 0; i < messages.length; i++) {
      if (!this.behaviourRunning()) {
        // It ended or crashed between messages (a timer, an invoked actor): this message is
        // not to blame. It and the rest go back; a fresh behaviour takes over.
        this.returnToMailbox(messages.slice(i));
        this.assignBehaviour();
        return;
      }
      const outcome = this.runMachine(messages[i] as Message);
      if (outcome === 'handled') continue;
      // The rest of the batch goes back, in order (ahead of the retry of a message that
      // crashed the behaviour); a fresh behaviour takes over.
      this.returnToMailbox(messages.slice(i + 1));
      if (outcome !== 'ended') {
        this.syncFailed++;
        this.outcomes.failed(this, messages[i] as Message, outcome.error);
      }
      this.assignBehaviour();
      return;
    }
  }

  private behaviourRunning(): boolean {
    const behaviour = this.behaviour;
    return behaviour !== undefined && (behaviour.getSnapshot() as Snapshot<unknown>).status === 'active';
  }

  private returnToMailbox(rest: readonly Message[]): void {
    if (rest.length === 0) return;
    for (let j = rest.length - 1; j >= 0; j--) this.mailbox.requeue(rest[j] as Message);
    this.outcomes.returned(this, rest.length);
    // Handed over directly: the actor has not heard of them yet, it hears it with the rest.
    if (this.directDelivered > 0) this.directReturned += rest.length;
    else this.actor.send({ type: 'MESSAGES_SETTLED', handled: 0, failed: 0, returned: rest.length });
  }

  /** A repeat of an idempotent command already handled: acknowledged without running it. */
  private skipRepeat(message: Message): boolean {
    if (this.executedKeys.claim(message)) return false;
    this.syncHandled++;
    this.outcomes.handled(this, message, 0);
    return true;
  }

  private runHandler(handler: MessageHandler, message: Message): void {
    if (this.skipRepeat(message)) return;
    const started = performance.now();
    const instrumentation = this.instrumentation;
    let result: PromiseLike<unknown> | undefined;
    try {
      const returned = instrumentation?.aroundDelivery ? instrumentation.aroundDelivery(message, this.agentId, () => handler(message, this.handle)) : handler(message, this.handle);
      // Reading `then` may run a hostile getter: inside the try, it fails the delivery like a throw.
      result = thenable(returned);
    } catch (error) {
      this.executedKeys.release(message);
      this.syncFailed++;
      instrumentation?.onSettled?.(message, this.agentId, performance.now() - started, error);
      this.outcomes.failed(this, message, error);
      return;
    }
    if (result !== undefined) {
      this.asyncInFlight++;
      this.handlerIsAsync = true;
      // Promise.resolve: a native promise as it is; a foreign thenable whose `then` throws becomes a rejection.
      Promise.resolve(result).then(
        () => this.settleAsync(message, started, undefined, false),
        (error: unknown) => this.settleAsync(message, started, error, true),
      );
      return;
    }
    this.syncHandled++;
    const duration = performance.now() - started;
    instrumentation?.onSettled?.(message, this.agentId, duration);
    this.outcomes.handled(this, message, duration);
  }

  private settleAsync(message: Message, started: number, error: unknown, failed: boolean): void {
    this.asyncInFlight--;
    if (failed) this.executedKeys.release(message);
    // After unregistration the actor is gone, but the outcome still counts (a failure is
    // dead-lettered by the bus rather than lost).
    if (this.active) {
      this.actor.send({ type: 'MESSAGES_SETTLED', handled: failed ? 0 : 1, failed: failed ? 1 : 0 });
    }
    const duration = performance.now() - started;
    this.instrumentation?.onSettled?.(message, this.agentId, duration, failed ? error : undefined);
    if (failed) this.outcomes.failed(this, message, error);
    else this.outcomes.handled(this, message, duration);
    this.outcomes.freed(this);
  }

  /** The user machine running as this agent's behaviour, if any. */
  get behaviour(): AnyActorRef | undefined {
    return (this.actor.getSnapshot().children as Record<string, AnyActorRef | undefined>)['behaviour'];
  }

  private behaviourCrashed(): boolean {
    const behaviour = this.behaviour;
    return behaviour !== undefined && (behaviour.getSnapshot() as Snapshot<unknown>).status !== 'active';
  }

  /** `ended`: handled, and the behaviour reached its final state (it is replaced for the next). */
  private runMachine(message: Message): 'handled' | 'ended' | { error: unknown } {
    const behaviour = this.behaviour;
    if (!behaviour) return { error: new Error(`agent '${this.agentId}' has no running behaviour`) };
    if (this.skipRepeat(message)) return 'handled';
    const started = performance.now();
    const event: AgentMessageEvent = { type: message.topic, message };
    const instrumentation = this.instrumentation;
    if (instrumentation?.aroundDelivery) instrumentation.aroundDelivery(message, this.agentId, () => behaviour.send(event));
    else behaviour.send(event);
    const snapshot = behaviour.getSnapshot() as { status: string; error?: unknown };
    const duration = performance.now() - started;
    if (snapshot.status === 'error') {
      this.executedKeys.release(message);
      instrumentation?.onSettled?.(message, this.agentId, duration, snapshot.error);
      return { error: snapshot.error };
    }
    this.syncHandled++;
    instrumentation?.onSettled?.(message, this.agentId, duration);
    this.outcomes.handled(this, message, duration);
    return snapshot.status === 'done' ? 'ended' : 'handled';
  }
}

/** `value` as a thenable when it is one (a handler's promise), else undefined (a sync handler's return value). */
function thenable(value: unknown): PromiseLike<unknown> | undefined {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  const then: unknown = (value as { then?: unknown }).then;
  return typeof then === 'function' ? (value as PromiseLike<unknown>) : undefined;
}
