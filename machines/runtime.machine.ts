import { setup } from 'xstate';

/**
 * The root actor of a NeuroFlux system. Component actors (the orchestrator, supervisor
 * shards) join its system as its descendants; they end themselves by reaching a final
 * state, so the root never copies a record of thousands of children.
 */
export const runtimeMachine = setup({
  types: {
    context: {} as { readonly name: string },
    input: {} as { name?: string },
  },
}).createMachine({
  id: 'neuroflux',
  context: ({ input }) => ({ name: input.name ?? 'neuroflux' }),
  initial: 'running',
  states: { running: {} },
});

export type RuntimeMachine = typeof runtimeMachine;
