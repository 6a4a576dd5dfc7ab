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
  | { type: 'CHILDREN_RELEASED'; ids: readonly string[] };

/** Placeholder for the child logic; the runtime provides the real one. @internal */
const childPlaceholder: AnyActorLogic = createMachine({});

/**
 * A supervisor shard: owns up to a few hundred children of one kind (agents, tasks,
 * conflicts). Children are spawned inside one `assign`, so a batch costs one copy of the
 * children record; keeping shards small bounds that copy, which is what keeps spawning
 * and stopping linear overall.
 */
export const supervisorMachine = setup({
  types: {
    context: {} as { readonly kind: string },
    input: {} as { kind: string },
    events: {} as SupervisorEvent,
  },
  actors: { child: childPlaceholder },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({ kind: input.kind }),
  on: {
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
