import { setup } from 'xstate';

/**
 * An agent host's heartbeat: announces the host at once, then every `heartbeatInterval`
 * until stopped. The announcement itself (a bus publish) is injected from `src/`.
 */
export const heartbeatMachine = setup({
  types: {
    events: {} as { type: 'HOST_STOPPED' },
  },
  actions: {
    /** Injected: publish the host's presence (its agents and their capabilities). */
    announce: () => {},
  },
  delays: {
    /** Provided by `src/` from the host's options. */
    heartbeatInterval: 1000,
  },
}).createMachine({
  id: 'heartbeat',
  initial: 'beating',
  states: {
    beating: {
      entry: 'announce',
      after: { heartbeatInterval: { target: 'beating', reenter: true } },
      on: { HOST_STOPPED: 'stopped' },
    },
    stopped: { type: 'final' },
  },
});

export type HeartbeatMachine = typeof heartbeatMachine;
