import type { AnyActorLogic } from 'xstate';

const CHILD_DONE_PREFIX = 'xstate.done.actor.';
const CHILD_ERROR_PREFIX = 'xstate.error.actor.';

/** What a supervisor's chart is told of a child's crash, one event type for every child. */
export interface ChildFailedEvent {
  readonly type: 'CHILD_FAILED';
  readonly childId: string;
  readonly error: unknown;
}

/**
 * The logic with its children's end and crash events folded before its transition: a
 * child's `xstate.done.actor.<child id>` is dropped (the snapshot is returned as it is), and
 * its `xstate.error.actor.<child id>` reaches the chart as one `CHILD_FAILED` event type
 * carrying `childId` and `error`.
 *
 * XState memoises the transitions a state node has for each event type it is asked about,
 * for the life of the machine definition, and a child's end or crash reaches its parent as
 * an event whose type carries the child's id. A supervisor of finished children was asked
 * about a new type for every child: 253 bytes retained per task after it finished and was
 * released (100 000 tasks through the task floor of `bench/orchestrator.ts`; 15 bytes with
 * the ends dropped, 0 once retired shards' ids are reused too), for as long as the runtime
 * lived, and each crash kept as much (`test/shardedSupervisor.test.ts`). Only for logic
 * that has no transition on its children's ends and handles `CHILD_FAILED` (the supervisor
 * shards); the actor still receives the original events (the inspector sees them relayed).
 */
export function withChildEventsFolded<TLogic extends AnyActorLogic>(logic: TLogic): TLogic {
  const transition = logic.transition.bind(logic);
  const folding = Object.create(logic) as TLogic;
  folding.transition = (snapshot, event, scope) => {
    const type = (event as { type: string }).type;
    if (type.startsWith(CHILD_DONE_PREFIX)) return snapshot as ReturnType<TLogic['transition']>;
    if (type.startsWith(CHILD_ERROR_PREFIX)) {
      const failed: ChildFailedEvent = { type: 'CHILD_FAILED', childId: type.slice(CHILD_ERROR_PREFIX.length), error: (event as { error?: unknown }).error };
      return transition(snapshot, failed, scope) as ReturnType<TLogic['transition']>;
    }
    return transition(snapshot, event, scope) as ReturnType<TLogic['transition']>;
  };
  return folding;
}
