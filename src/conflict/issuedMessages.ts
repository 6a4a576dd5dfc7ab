import type { ConflictMachineEvent } from '../../machines/conflict.machine';

/**
 * The messages the engine itself sends to its conflict actors (a resolution request, a vote
 * its collector gathered, a human decision `submitHumanDecision` validated), so that an
 * actor takes only those: its `isIssued` guard asks `isIssued`. Anyone holding the actor
 * system can send a conflict actor a message by its system id (`conflict:<id>`); such a
 * message is not one of these objects, so it is ignored, whatever it says. Each message is
 * bound to its conflict and frozen (the message and the vote, stakes or decision in it), so
 * one seen through an inspector can neither be changed nor count for another conflict; sent
 * again to its own conflict, it finds the voter already heard from (or the phase left) and
 * is ignored too. A WeakMap: a message is forgotten with the message.
 * @internal
 */
export class IssuedMessages {
  private readonly conflictOf = new WeakMap<object, string>();

  /** The message, frozen and recorded as the engine's for this conflict. */
  issue<E extends ConflictMachineEvent>(conflictId: string, event: E): E {
    if (event.type === 'VOTE_RECEIVED') Object.freeze(event.vote);
    else if (event.type === 'RESOLUTION_REQUESTED') Object.freeze(event.stakes);
    else Object.freeze(event.decision);
    this.conflictOf.set(Object.freeze(event), conflictId);
    return event;
  }

  /** Whether this very object is a message the engine issued for this conflict. */
  isIssued(event: object, conflictId: string): boolean {
    return this.conflictOf.get(event) === conflictId;
  }
}
