import type { AnyActorLogic } from 'xstate';

const CHILD_DONE_PREFIX = 'xstate.done.actor.';

/**
 * The logic with its children's `xstate.done.actor.<child id>` events dropped before its
 * transition (the snapshot is returned as it is).
 *
 * XState memoises the transitions a state node has for each event type it is asked about,
 * for the life of the machine definition, and a child's end reaches its parent as an event
 * whose type carries the child's id. A supervisor of finished children was asked about a
 * new type for every child: 253 bytes retained per task after it finished and was released
 * (100 000 tasks through the task floor of `bench/orchestrator.ts`; 15 bytes with the ends
 * dropped, 0 once retired shards' ids are reused too), for as long as the runtime lived. Only for logic that has no transition on its
 * children's ends (the supervisor shards); the actor still receives the event (the
 * inspector sees it relayed) and returns the same snapshot, as it did before.
 */
export function withChildEndsUnheard<TLogic extends AnyActorLogic>(logic: TLogic): TLogic {
  const transition = logic.transition.bind(logic);
  const unhearing = Object.create(logic) as TLogic;
  unhearing.transition = (snapshot, event, scope) =>
    ((event as { type: string }).type.startsWith(CHILD_DONE_PREFIX) ? snapshot : transition(snapshot, event, scope)) as ReturnType<TLogic['transition']>;
  return unhearing;
}
