import { assign, setup } from 'xstate';

/** Input of a host-liveness actor: the host and its first heartbeat. */
export interface HostLivenessInput {
  readonly hostId: string;
  /** Clock time (ms) of the first heartbeat. */
  readonly at: number;
  /** How long the host counts as alive after a heartbeat without another one, ms. */
  readonly timeoutMs: number;
}

export interface HostLivenessContext {
  readonly hostId: string;
  /** Absolute clock time (ms) after which the host is presumed dead. */
  expiresAt: number;
  /** The timeout the last heartbeat promised, ms. */
  timeoutMs: number;
  heartbeats: number;
}

/** Events of a host-liveness actor; times are the runtime clock's, passed in from `src/`. */
export type HostLivenessEvent =
  | { type: 'HEARTBEAT_RECEIVED'; at: number; timeoutMs: number }
  /** The host said it is leaving (a clean stop). */
  | { type: 'HOST_LEFT' }
  /** The orchestrator's own link is down: it cannot hear heartbeats, so none can be missed. */
  | { type: 'LINK_LOST' }
  /** The orchestrator's link is back at `at`: the host gets a full timeout from then. */
  | { type: 'LINK_RESTORED'; at: number };

/**
 * The orchestrator's view of one remote agent host: alive while its heartbeats keep coming,
 * lost once one is overdue by its timeout or when the host says it leaves. While the
 * orchestrator's own link is down (`LINK_LOST`) it is `unheard`: no deadline runs, since a
 * heartbeat it could not hear is no missed heartbeat; on `LINK_RESTORED` the host gets a
 * full fresh timeout from that moment (its heartbeats need one interval to arrive again).
 * Losing the host is final (`reportHostLost` moves its tasks elsewhere); a host that comes back starts a
 * new actor. The overdue time is an absolute deadline in context, so the `hostTimeout`
 * delay (provided by `src/` with the clock) re-arms only the time that is left.
 */
export const hostLivenessMachine = setup({
  types: {
    context: {} as HostLivenessContext,
    input: {} as HostLivenessInput,
    events: {} as HostLivenessEvent,
  },
  actions: {
    /** Injected: the host is gone; unregister its agents (their tasks go back to the queue). */
    reportHostLost: (_, _params: { hostId: string; reason: 'heartbeat_timeout' | 'left' }) => {},
    recordHeartbeat: assign(({ context }, params: { at: number; timeoutMs: number }) => ({
      expiresAt: Math.max(context.expiresAt, params.at + params.timeoutMs),
      timeoutMs: params.timeoutMs,
      heartbeats: context.heartbeats + 1,
    })),
    /** A whole timeout from `at`, never less than the deadline already promised. */
    grantFreshWindow: assign(({ context }, params: { at: number }) => ({
      expiresAt: Math.max(context.expiresAt, params.at + context.timeoutMs),
    })),
  },
  delays: {
    // Pure default (the machine has no clock): a full timeout from the last heartbeat. The
    // orchestrator provides the remaining time to `expiresAt` on its clock.
    hostTimeout: ({ context }) => context.timeoutMs,
  },
}).createMachine({
  id: 'hostLiveness',
  context: ({ input }) => ({ hostId: input.hostId, expiresAt: input.at + input.timeoutMs, timeoutMs: input.timeoutMs, heartbeats: 1 }),
  initial: 'alive',
  states: {
    alive: {
      after: { hostTimeout: 'lost' },
      on: {
        // Re-entering re-arms the timeout from the new deadline.
        HEARTBEAT_RECEIVED: {
          target: 'alive',
          reenter: true,
          actions: { type: 'recordHeartbeat', params: ({ event }) => ({ at: event.at, timeoutMs: event.timeoutMs }) },
        },
        HOST_LEFT: 'left',
        LINK_LOST: 'unheard',
      },
    },
    // The orchestrator is cut off: no deadline. What it still hears (a heartbeat from the same
    // turn, a goodbye) counts as usual.
    unheard: {
      on: {
        HEARTBEAT_RECEIVED: {
          actions: { type: 'recordHeartbeat', params: ({ event }) => ({ at: event.at, timeoutMs: event.timeoutMs }) },
        },
        HOST_LEFT: 'left',
        LINK_RESTORED: {
          target: 'alive',
          actions: { type: 'grantFreshWindow', params: ({ event }) => ({ at: event.at }) },
        },
      },
    },
    lost: {
      type: 'final',
      entry: { type: 'reportHostLost', params: ({ context }) => ({ hostId: context.hostId, reason: 'heartbeat_timeout' as const }) },
    },
    left: {
      type: 'final',
      entry: { type: 'reportHostLost', params: ({ context }) => ({ hostId: context.hostId, reason: 'left' as const }) },
    },
  },
});

export type HostLivenessMachine = typeof hostLivenessMachine;
