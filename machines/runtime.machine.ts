import { assign, enqueueActions, setup, type AnyActorLogic } from 'xstate';

/** Events of the root actor. */
export type RuntimeEvent =
  /** Adds a supervisor shard (of any logic) as a child of the root. */
  | { type: 'SUPERVISOR_REQUESTED'; id: string; logic: AnyActorLogic; input?: unknown }
  | { type: 'SUPERVISOR_RELEASED'; id: string };

/**
 * The root actor of a NeuroFlux system. Its children are supervisor shards; agent,
 * task and conflict actors are their children. Stopping the root stops the whole tree.
 */
export const runtimeMachine = setup({
  types: {
    context: {} as { readonly name: string },
    input: {} as { name?: string },
    events: {} as RuntimeEvent,
  },
}).createMachine({
  id: 'neuroflux',
  context: ({ input }) => ({ name: input.name ?? 'neuroflux' }),
  initial: 'running',
  states: {
    running: {
      on: {
        SUPERVISOR_REQUESTED: {
          actions: assign(({ event, spawn }) => {
            // XState's types refuse an `id` with inline logic; the runtime honours it, and the
            // shard ids are what makes the actor tree readable.
            const spawnSupervisor = spawn as unknown as (
              logic: AnyActorLogic,
              options: { id: string; systemId: string; input: unknown },
            ) => unknown;
            spawnSupervisor(event.logic, { id: event.id, systemId: event.id, input: event.input });
            return {};
          }),
        },
        SUPERVISOR_RELEASED: {
          actions: enqueueActions(({ event, enqueue }) => enqueue.stopChild(event.id)),
        },
      },
    },
  },
});

export type RuntimeMachine = typeof runtimeMachine;
