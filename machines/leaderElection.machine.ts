import { assign, fromPromise, setup } from 'xstate';

/** What claiming the lease found (taken or renewed by us, or held by someone else until `expiresAt`). */
export interface LeaseClaimResult {
  readonly held: boolean;
  /** Absolute clock time (ms) at which the lease, ours or not, runs out. */
  readonly expiresAt: number;
}

export interface LeaderElectionContext {
  /** When the lease we saw last runs out (ours while leading; the holder's while standing by). */
  expiresAt: number;
  /** Claims that failed with an error (store unreachable). */
  claimErrors: number;
  lastError: string | null;
}

/** Events of a leader-election actor. */
export type LeaderElectionEvent = { type: 'ELECTION_STOPPED' };

/**
 * Leader election on a lease (compare-and-set with expiry): a standby claims the lease,
 * and when someone else holds it sleeps until that lease runs out, then claims again, so
 * it takes over within one lease period of the leader's last renewal. The leader renews
 * every `renewInterval`; if it cannot renew before its own lease runs out it is deposed
 * (final: the process must not act as leader any more). The lease, the clock and what
 * leading means are injected from `src/`; every wait is an `after` delay computed from an
 * absolute time in context.
 */
export const leaderElectionMachine = setup({
  types: {
    context: {} as LeaderElectionContext,
    events: {} as LeaderElectionEvent,
  },
  actors: {
    /** Injected: take, or renew, the lease. */
    claimLease: fromPromise<LeaseClaimResult>(async () => ({ held: false, expiresAt: 0 })),
  },
  actions: {
    /** Injected: this process now leads (activate the orchestrator). */
    becomeLeader: () => {},
    /** Injected: this process led and must stop (lease lost). */
    stepDown: () => {},
    /** Injected: give the lease up at once on a clean stop, so a standby takes over without waiting. */
    releaseLease: () => {},
    recordClaim: assign((_, params: LeaseClaimResult) => ({ expiresAt: params.expiresAt })),
    recordClaimError: assign(({ context }, params: { error: unknown }) => ({
      claimErrors: context.claimErrors + 1,
      lastError: params.error instanceof Error ? params.error.message : String(params.error),
    })),
  },
  guards: {
    claimHeld: (_, params: LeaseClaimResult) => params.held,
  },
  delays: {
    // Pure defaults; `src/` provides clock-aware versions.
    /** Standing by: until the holder's lease runs out. */
    untilLeaseExpiry: 1000,
    /** Standing by after an error: a short pause before claiming again. */
    claimRetry: 1000,
    /** Standing by: how long a claim may take before it is abandoned and tried again. */
    claimTimeout: 10_000,
    /** Leading: until the next renewal. */
    renewInterval: 1000,
    /** Leading: until our own lease runs out (deposed if not renewed by then). */
    ownLeaseExpiry: 3000,
  },
}).createMachine({
  id: 'leaderElection',
  context: { expiresAt: 0, claimErrors: 0, lastError: null },
  initial: 'standby',
  on: { ELECTION_STOPPED: '.stopped' },
  states: {
    standby: {
      initial: 'claiming',
      states: {
        claiming: {
          // A store that never answers must not keep a standby out of the election for good.
          after: { claimTimeout: 'backingOff' },
          invoke: {
            id: 'claim',
            src: 'claimLease',
            onDone: [
              {
                guard: { type: 'claimHeld', params: ({ event }) => event.output },
                target: '#leaderElection.leader',
                actions: { type: 'recordClaim', params: ({ event }) => event.output },
              },
              { target: 'waiting', actions: { type: 'recordClaim', params: ({ event }) => event.output } },
            ],
            onError: { target: 'backingOff', actions: { type: 'recordClaimError', params: ({ event }) => ({ error: event.error }) } },
          },
        },
        waiting: { after: { untilLeaseExpiry: 'claiming' } },
        backingOff: { after: { claimRetry: 'claiming' } },
      },
    },
    leader: {
      entry: 'becomeLeader',
      initial: 'holding',
      // Armed on entry and re-armed by each successful renewal (re-entering `holding`).
      states: {
        holding: {
          after: { renewInterval: 'renewing', ownLeaseExpiry: '#leaderElection.deposed' },
        },
        renewing: {
          after: { ownLeaseExpiry: '#leaderElection.deposed' },
          invoke: {
            id: 'renew',
            src: 'claimLease',
            onDone: [
              {
                guard: { type: 'claimHeld', params: ({ event }) => event.output },
                target: 'holding',
                actions: { type: 'recordClaim', params: ({ event }) => event.output },
              },
              { target: '#leaderElection.deposed' },
            ],
            // Keep trying until our lease runs out: a blip in the store must not depose us.
            onError: { target: 'holding', actions: { type: 'recordClaimError', params: ({ event }) => ({ error: event.error }) } },
          },
        },
      },
      on: { ELECTION_STOPPED: { target: 'stopped', actions: 'releaseLease' } },
    },
    deposed: { type: 'final', entry: 'stepDown' },
    stopped: { type: 'final' },
  },
});

export type LeaderElectionMachine = typeof leaderElectionMachine;
