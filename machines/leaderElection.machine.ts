import { assign, fromPromise, not, setup, stateIn } from 'xstate';

/** What claiming the lease found (taken or renewed by us, or held by someone else until `expiresAt`). */
export interface LeaseClaimResult {
  readonly held: boolean;
  /** Absolute clock time (ms) at which the lease, ours or not, runs out. */
  readonly expiresAt: number;
}

export interface LeaderElectionContext {
  /** When the lease we saw last runs out (ours while elected; the holder's while a follower). */
  expiresAt: number;
  /** Claims that failed with an error (store unreachable). */
  claimErrors: number;
  lastError: string | null;
  /** Why the takeover failed (the candidate was deposed), as thrown (`src/` describes it); null when none did. */
  takeoverError: { readonly thrown: unknown } | null;
}

/** Events of a leader-election actor. */
export type LeaderElectionEvent =
  /** `stop()`: a leader steps down (what it led stops), then releases the lease. */
  | { type: 'ELECTION_STOPPED' }
  /** What the leader led stopped by itself (e.g. a fenced store): step down, release the lease. */
  | { type: 'LEADERSHIP_RESIGNED' }
  /** The runtime's root ended (everything it owned with it): release the lease, nothing more. */
  | { type: 'RUNTIME_ENDED' };

/**
 * Leader election on a lease (compare-and-set with expiry). The chart is the whole truth of
 * where a candidate stands; `src/` keeps no flag beside it:
 *
 * - `follower`: claims the lease, and when someone else holds it sleeps until that lease runs
 *   out, then claims again, so it takes over within one lease period of the leader's last
 *   renewal.
 * - `elected` (parallel): the `lease` region renews every `renewInterval` and, if it cannot
 *   renew before its own lease runs out, deposes; the `role` region is `electing` (the
 *   takeover, an invoked actor injected from `src/`: restore the stored state, go live) →
 *   `leading` → `steppingDown` (on a stop: what was led stops while the lease is still renewed,
 *   so two leaders never act together). A stop during the takeover waits for it (at most
 *   `stopGrace`), then steps down what it brought up.
 * - `deposing` (lease lost, takeover failed, or resigned): step down, release the lease →
 *   `deposed` (final: the process must not lead again). `releasing` → `stopped` ends a stop.
 *
 * The lease, the clock, the takeover and the step-down are injected from `src/`; every wait is
 * an `after` delay computed from an absolute time in context. Transitions happen a few times
 * per lease period, never per task.
 */
export const leaderElectionMachine = setup({
  types: {
    context: {} as LeaderElectionContext,
    events: {} as LeaderElectionEvent,
  },
  actors: {
    /** Injected: take, or renew, the lease. */
    claimLease: fromPromise<LeaseClaimResult>(async () => ({ held: false, expiresAt: 0 })),
    /** Injected: this process now leads (restore the stored state, activate the orchestrator). */
    takeOver: fromPromise<void>(async () => undefined),
    /** Injected: stop what leading brought up (the orchestrator, the conflict engine). */
    stepDown: fromPromise<void>(async () => undefined),
    /** Injected: give the lease up, so a follower takes over without waiting for it to run out. */
    releaseLease: fromPromise<void>(async () => undefined),
  },
  actions: {
    recordClaim: assign((_, params: LeaseClaimResult) => ({ expiresAt: params.expiresAt })),
    recordClaimError: assign(({ context }, params: { error: unknown }) => ({
      claimErrors: context.claimErrors + 1,
      lastError: params.error instanceof Error ? params.error.message : String(params.error),
    })),
    recordTakeoverError: assign((_, params: { error: unknown }) => ({ takeoverError: { thrown: params.error } })),
  },
  guards: {
    claimHeld: (_, params: LeaseClaimResult) => params.held,
    notSteppingDown: not(stateIn('#leaderElection.elected.role.steppingDown')),
    stopRequested: stateIn('#leaderElection.elected.role.electing.abandoned'),
  },
  delays: {
    // Pure defaults; `src/` provides clock-aware versions.
    /** Follower: until the holder's lease runs out. */
    untilLeaseExpiry: 1000,
    /** Follower after an error: a short pause before claiming again. */
    claimRetry: 1000,
    /** Follower: how long a claim may take before it is abandoned and tried again. */
    claimTimeout: 10_000,
    /** Elected: until the next renewal. */
    renewInterval: 1000,
    /** Elected: until our own lease runs out (deposed if not renewed by then). */
    ownLeaseExpiry: 3000,
    /** A stop during the takeover waits this long for it, and a stop for the lease's release (a lease period in `src/`). */
    stopGrace: 10_000,
  },
}).createMachine({
  id: 'leaderElection',
  context: { expiresAt: 0, claimErrors: 0, lastError: null, takeoverError: null },
  initial: 'follower',
  states: {
    follower: {
      initial: 'claiming',
      on: { ELECTION_STOPPED: 'stopped', RUNTIME_ENDED: 'stopped' },
      states: {
        claiming: {
          // A store that never answers must not keep a follower out of the election for good.
          after: { claimTimeout: 'backingOff' },
          invoke: {
            id: 'claim',
            src: 'claimLease',
            onDone: [
              {
                guard: { type: 'claimHeld', params: ({ event }) => event.output },
                target: '#leaderElection.elected',
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
    elected: {
      type: 'parallel',
      states: {
        lease: {
          initial: 'holding',
          // Armed on entry and re-armed by each successful renewal (re-entering `holding`).
          states: {
            holding: {
              after: { renewInterval: 'renewing', ownLeaseExpiry: 'lost' },
            },
            renewing: {
              after: { ownLeaseExpiry: 'lost' },
              invoke: {
                id: 'renew',
                src: 'claimLease',
                onDone: [
                  {
                    guard: { type: 'claimHeld', params: ({ event }) => event.output },
                    target: 'holding',
                    actions: { type: 'recordClaim', params: ({ event }) => event.output },
                  },
                  { target: 'lost' },
                ],
                // Keep trying until our lease runs out: a blip in the store must not depose us.
                onError: { target: 'holding', actions: { type: 'recordClaimError', params: ({ event }) => ({ error: event.error }) } },
              },
            },
            // Lost while stepping down: the step-down finishes (it was stopping anyway).
            lost: { always: { guard: 'notSteppingDown', target: '#leaderElection.deposing' } },
          },
        },
        role: {
          initial: 'electing',
          states: {
            electing: {
              initial: 'wanted',
              states: {
                wanted: { on: { ELECTION_STOPPED: 'abandoned' } },
                // Stopped meanwhile: what the takeover brings up is stepped down once it is up.
                abandoned: { after: { stopGrace: '#leaderElection.elected.role.steppingDown' } },
              },
              on: { RUNTIME_ENDED: '#leaderElection.releasing' },
              invoke: {
                id: 'takeOver',
                src: 'takeOver',
                onDone: [{ guard: 'stopRequested', target: 'steppingDown' }, { target: 'leading' }],
                // Could not take over (e.g. a corrupt stored state): give the lease to another candidate.
                onError: { target: '#leaderElection.deposing', actions: { type: 'recordTakeoverError', params: ({ event }) => ({ error: event.error }) } },
              },
            },
            leading: {
              on: {
                ELECTION_STOPPED: 'steppingDown',
                LEADERSHIP_RESIGNED: '#leaderElection.deposing',
                RUNTIME_ENDED: '#leaderElection.releasing',
              },
            },
            steppingDown: {
              invoke: { id: 'stepDown', src: 'stepDown', onDone: '#leaderElection.releasing', onError: '#leaderElection.releasing' },
            },
          },
        },
      },
    },
    deposing: {
      initial: 'steppingDown',
      states: {
        steppingDown: { invoke: { id: 'stepDown', src: 'stepDown', onDone: 'releasing', onError: 'releasing' } },
        // A lease taken over by another holder is left alone (the release is a compare-and-set).
        releasing: {
          invoke: { id: 'release', src: 'releaseLease', onDone: '#leaderElection.deposed', onError: '#leaderElection.deposed' },
          after: { stopGrace: '#leaderElection.deposed' },
        },
      },
    },
    // A release the store never answers is let go after a lease period: by then the lease has run out anyway.
    releasing: { invoke: { id: 'release', src: 'releaseLease', onDone: 'stopped', onError: 'stopped' }, after: { stopGrace: 'stopped' } },
    deposed: { type: 'final' },
    stopped: { type: 'final' },
  },
});

export type LeaderElectionMachine = typeof leaderElectionMachine;
