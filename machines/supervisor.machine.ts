import { assign, createMachine, enqueueActions, setup, type AnyActorLogic } from 'xstate';

/** One child to spawn: its id (unique in the shard), system id and input. */
export interface ChildSpec {
  readonly id: string;
  readonly systemId?: string;
  readonly input?: unknown;
}

/** Events a supervisor shard understands. */
export type SupervisorEvent =
  | { type: 'CHILDREN_REQUESTED'; children: readonly ChildSpec[] }
  | { type: 'CHILDREN_RELEASED'; ids: readonly string[] }
  /** The shard's work is over (all children released, or the runtime stops): it ends, stopping what is left. */
  | { type: 'SUPERVISOR_RETIRED' }
  /**
   * A child crashed. The runtime folds XState's `xstate.error.actor.<child id>` into this one
   * type (a type per child would stay in XState's memo of the chart for good).
   */
  | { type: 'CHILD_FAILED'; childId: string; error: unknown };

/** Placeholder for the child logic; the runtime provides the real one. @internal */
const childPlaceholder: AnyActorLogic = createMachine({});

/**
 * A supervisor shard: owns children of one kind (agents, tasks, conflicts). XState copies
 * the children record on every spawn and stop, so a shard spawns a batch inside one
 * `assign` (one copy); the runtime's `ShardedSupervisor` keeps its children out of the record
 * altogether (and 256 to a shard), which keeps spawning and stopping linear overall. A retired shard reaches its final state, which stops any child
 * still running.
 */
export const supervisorMachine = setup({
  types: {
    context: {} as { readonly kind: string },
    input: {} as { kind: string },
    events: {} as SupervisorEvent,
  },
  actors: { child: childPlaceholder },
  actions: {
    /** Injected: a child crashed (an effect threw). The shard stays up; the owner decides. */
    reportChildFailure: (_, _params: { childId: string; error: unknown }) => {},
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({ kind: input.kind }),
  initial: 'supervising',
  states: {
    supervising: { on: { SUPERVISOR_RETIRED: 'retired' } },
    retired: { type: 'final' },
  },
  on: {
    // Supervision: a crashing child must not take its siblings and the runtime down with it.
    CHILD_FAILED: { actions: { type: 'reportChildFailure', params: ({ event }) => ({ childId: event.childId, error: event.error }) } },
    // The same, for a shard run without the runtime's folding.
    'xstate.error.actor.*': {
      actions: {
        type: 'reportChildFailure',
        params: ({ event }: { event: { type: string; error?: unknown } }) => ({
          childId: event.type.slice('xstate.error.actor.'.length),
          error: event.error,
        }),
      },
    },
    CHILDREN_REQUESTED: {
      actions: assign(({ event, spawn }) => {
        for (const child of event.children) {
          spawn('child', { id: child.id, input: child.input, ...(child.systemId && { systemId: child.systemId }) });
        }
        return {};
      }),
    },
    CHILDREN_RELEASED: {
      actions: enqueueActions(({ event, enqueue }) => {
        for (const id of event.ids) enqueue.stopChild(id);
      }),
    },
  },
});

export type SupervisorMachine = typeof supervisorMachine;
