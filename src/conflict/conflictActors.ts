import type { ActorRefFrom } from 'xstate';
import { conflictMachine, type ConflictMachine, type ConflictMachineEvent, type ConflictMachineInput, type ConflictOutcomeParams } from '../../machines/conflict.machine';
import type { CommunicationBus } from '../bus/communicationBus';
import { timerDelay } from '../kernel/clock';
import { ShardedSupervisor } from '../kernel/shardedSupervisor';
import { systemIdPrefixOf } from '../kernel/systemIdScope';
import type { ConflictEvent } from './conflictEvents';
import type { PersistedOpenConflict } from './conflictPersistence';
import { resumeOf } from './conflictPersistence';
import type { DecisionExecutors } from './decisionExecution';
import { DecisionSender } from './decisionSending';
import type { Conflict } from './model/conflictTypes';
import { IssuedMessages } from './issuedMessages';
import { VoteCollector, type VoteFunction } from './voteCollection';

/** A conflict's actor. @internal */
export type ConflictActor = ActorRefFrom<ConflictMachine>;

/** What the conflict actors are made with (from the engine's options). @internal */
export interface ConflictActorsOptions {
  readonly bus: CommunicationBus;
  /** The engine's agent id: the sender of vote requests, commands and escalations. */
  readonly senderId: string;
  /** Read at each vote: the engine registers and removes voters while conflicts run. */
  readonly voteFunctions: ReadonlyMap<string, VoteFunction>;
  readonly decisionExecutors: DecisionExecutors | undefined;
  readonly confidenceThreshold: number;
  readonly executionThreshold: number;
}

/**
 * The lifecycle of conflict actors: `conflictMachine` with its effects provided (vote
 * collection, decision and escalation sending, delays from absolute deadlines), spawned
 * under the bus's root in supervisor shards with the system id `conflict:<id>`, released
 * once finished, all stopped with the engine. What the final effects did (a decision sent
 * or held, a delivery that failed) is kept per conflict until its follower takes it
 * (`takeEffects`) when the actor tells it has ended.
 * @internal
 */
export class ConflictActors {
  /**
   * Events of the effects each conflict's final transition ran, until taken. The effects run
   * inside the transition, before the done snapshot reaches anyone; its follower takes them
   * right after, in the same synchronous notification, so an entry lives for a few calls.
   */
  private readonly effectsRan = new Map<string, ConflictEvent[]>();
  private readonly supervisor: ShardedSupervisor<ConflictMachine>;
  private readonly sender: DecisionSender;
  /** The messages the engine sent its conflict actors: the only ones they take. */
  private readonly issued = new IssuedMessages();

  constructor(private readonly options: ConflictActorsOptions) {
    const { bus } = options;
    const { issued } = this;
    const collector = new VoteCollector({ bus, senderId: options.senderId, voteFunctions: options.voteFunctions, issued });
    this.sender = new DecisionSender(bus, options.senderId, options.decisionExecutors);
    const sender = this.sender;
    const clock = bus.clock;
    const logic = conflictMachine.provide({
      actors: { collectVotes: collector.collectVotes, consultExpert: collector.consultExpert },
      guards: {
        isIssued: ({ context, event }) => issued.isIssued(event, context.conflict.conflictId),
      },
      actions: {
        executeDecision: (_, params) => this.ran(params, sender.executeDecision(params)),
        escalate: (_, params) => this.ran(params, sender.broadcastEscalation(params)),
      },
      delays: {
        // Time left to the absolute deadline and window end: a restored conflict re-arms only what remains.
        resolutionDeadline: ({ context }) => timerDelay(context.conflict.resolutionDeadline - clock.now()),
        voteTimeout: ({ context }) => timerDelay(context.requestedAt + context.voteTimeoutMs - clock.now()),
      },
    });
    this.supervisor = new ShardedSupervisor(bus.root, 'conflict', logic);
  }

  /** Spawns the actor of a conflict reported now; its deadline runs from the conflict's absolute one. */
  spawn(conflict: Conflict, voteTimeoutMs: number): ConflictActor {
    return this.supervisor.spawn(conflict.conflictId, this.inputOf(conflict, voteTimeoutMs));
  }

  /** Gives a stored open conflict an actor again, in the phase it was in. */
  resume(stored: PersistedOpenConflict): ConflictActor {
    const input = { ...this.inputOf(stored.conflict, stored.voteTimeoutMs), resume: resumeOf(stored) };
    return this.supervisor.spawn(stored.conflict.conflictId, input);
  }

  /** Sends a conflict's actor a message as the engine's own (see `IssuedMessages`): the actor ignores any other. */
  send(actor: ConflictActor, conflictId: string, event: ConflictMachineEvent): void {
    actor.send(this.issued.issue(conflictId, event));
  }

  /** Whether an actor of the system (ours or not) holds the system id a conflict's actor would take. */
  isTaken(conflictId: string): boolean {
    const { root } = this.options.bus;
    return root.system.get(`${systemIdPrefixOf(root)}conflict:${conflictId}`) !== undefined;
  }

  /** The `escalate` effect for a conflict whose actor failed: it cannot run its own. */
  escalate(params: ConflictOutcomeParams): void {
    this.ran(params, this.sender.broadcastEscalation(params));
  }

  /** The events of the effects a conflict's actor ran at its end (none: an empty list), handed over once. */
  takeEffects(conflictId: string): readonly ConflictEvent[] {
    const events = this.effectsRan.get(conflictId) ?? [];
    this.effectsRan.delete(conflictId);
    return events;
  }

  /** Lets a finished conflict's actor go, after its own transition has finished notifying observers. */
  release(conflictId: string): void {
    this.effectsRan.delete(conflictId);
    queueMicrotask(() => this.supervisor.release([conflictId]));
  }

  /** Stops every conflict actor. */
  stopAll(): void {
    this.supervisor.stopAll();
    this.effectsRan.clear();
  }

  private inputOf(conflict: Conflict, voteTimeoutMs: number): ConflictMachineInput {
    return {
      conflict,
      deadlineMs: conflict.resolutionDeadline - this.options.bus.clock.now(),
      voteTimeoutMs,
      confidenceThreshold: this.options.confidenceThreshold,
      executionThreshold: this.options.executionThreshold,
    };
  }

  private ran({ conflict }: ConflictOutcomeParams, events: readonly ConflictEvent[]): void {
    if (events.length === 0) return;
    const kept = this.effectsRan.get(conflict.conflictId);
    if (kept) kept.push(...events);
    else this.effectsRan.set(conflict.conflictId, [...events]);
  }
}
