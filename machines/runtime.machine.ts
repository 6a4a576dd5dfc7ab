import { assign, setup } from 'xstate';

/**
 * The root actor of a NeuroFlux system. Component actors (the orchestrator, supervisor
 * shards) join its system as its descendants; they end themselves by reaching a final
 * state, so the root never copies a record of thousands of children.
 */
export const runtimeMachine = setup({
  types: {
    context: {} as { readonly name: string; crashes: number },
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- setup() infers the input type from this assertion
    input: {} as { name?: string },
  },
}).createMachine({
  id: 'neuroflux',
  context: ({ input }) => ({ name: input.name ?? 'neuroflux', crashes: 0 }),
  initial: 'running',
  states: {
    running: {
      // Component actors handle their children's crashes; anything that still reaches the
      // root is recorded rather than stopping the whole runtime.
      on: { 'xstate.error.actor.*': { actions: assign({ crashes: ({ context }) => context.crashes + 1 }) } },
    },
  },
});

export type RuntimeMachine = typeof runtimeMachine;
