import { BehaviorSubject, filter, firstValueFrom, type Observable } from 'rxjs';
import { createActor, fromPromise, type Actor, type AnyActorRef } from 'xstate';
import { z } from 'zod';
import { leaderElectionMachine, type LeaseClaimResult } from '../../machines/leaderElection.machine';
import { ErrorCode, NeuroFluxError, ValidationError } from '../errors';
import { Lease, type LeaseClaim } from './lease';
import type { SnapshotStore } from './snapshotStore';
import type { NeuroFluxClock } from '../kernel/clock';
import { describeError } from '../describeError';

/** Where a process stands in the election. */
export type LeadershipState = 'standby' | 'leader' | 'deposed' | 'stopped';

const LeaderElectionOptionsSchema = z.object({
  /** The lease's key in the store (default `'leader.orchestrator'`). */
  key: z.string().min(1).default('leader.orchestrator'),
  /** This candidate's name, unique among candidates (default: hostname and pid). */
  holder: z.string().min(1).optional(),
  /** Lease period, ms (default 10 000): a dead leader is replaced within this time. */
  ttlMs: z.number().int().min(100).default(10_000),
});

/** Options of a {@link LeaderElection}. */
export type LeaderElectionOptions = z.input<typeof LeaderElectionOptionsSchema>;

/** What leading means, and how to stop, for the candidate. */
export interface LeadershipHooks {
  /** Called once, when this candidate wins. A rejection deposes it. */
  onElected(): Promise<unknown> | void;
  /** Called once, when a leader loses its lease (it must stop acting as leader). */
  onDeposed(): Promise<unknown> | void;
}

function defaultHolder(): string {
  return `${process.env['HOSTNAME'] ?? 'host'}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * One candidate in a lease-based leader election ({@link Lease}: compare-and-set with
 * expiry on a {@link SnapshotStore}, atomic across processes on NATS KV). Standbys claim
 * again when the holder's lease runs out (and every fifth of a period meanwhile, to see a
 * released lease), so a leader that dies is replaced within one lease period of its last
 * renewal; a leader renews every third of the period (after a failed renewal, every tenth)
 * and is deposed if it cannot renew before its lease runs out. A clean `stop()` releases
 * the lease so that a standby takes over at once. The election is a statechart actor
 * (`machines/leaderElection.machine.ts`) on the runtime's clock.
 *
 * @example
 * ```ts
 * const nf = createNeuroFlux({ transport, orchestrator: { store, leaderElection: { ttlMs: 5000 } } });
 * await nf.start();
 * await nf.leadership?.whenLeader(); // this process's orchestrator is now the active one
 * ```
 */
export class LeaderElection {
  readonly holder: string;
  readonly state$: Observable<LeadershipState>;
  private readonly lease: Lease;
  private readonly stateSubject = new BehaviorSubject<LeadershipState>('standby');
  private readonly actor: Actor<typeof leaderElectionMachine>;
  private started = false;
  private releasing: Promise<void> | undefined;
  /** The last claim or renewal started: one still in flight when the election ends may yet win. */
  private inFlightClaim: Promise<LeaseClaim> | undefined;
  private stopping = false;
  /** `onElected` resolved and `onDeposed` has not been called since: what was elected is live. */
  private leading = false;
  /** `onElected` in progress: a stop waits for it, then deposes what it brought up. */
  private electing: Promise<void> | undefined;
  private readonly clock: NeuroFluxClock;
  private readonly ttlMs: number;
  private readonly hooks: LeadershipHooks;
  private electedError: string | null = null;

  constructor(options: LeaderElectionOptions & { store: SnapshotStore; clock: NeuroFluxClock; parent: AnyActorRef; hooks: LeadershipHooks }) {
    const { store, clock, parent, hooks, ...rest } = options;
    this.hooks = hooks;
    const parsed = LeaderElectionOptionsSchema.safeParse(rest);
    if (!parsed.success) throw ValidationError.fromZod('leader election options', parsed.error);
    const { key, ttlMs } = parsed.data;
    this.clock = clock;
    this.ttlMs = ttlMs;
    this.holder = parsed.data.holder ?? defaultHolder();
    this.lease = new Lease({ store, key, holder: this.holder, ttlMs, clock });
    this.state$ = this.stateSubject.asObservable();
    const remaining = (at: number) => Math.max(0, at - clock.now());
    const claimRetryMs = Math.max(50, Math.floor(ttlMs / 10));
    const logic = leaderElectionMachine.provide({
      actors: {
        claimLease: fromPromise<LeaseClaimResult>(async () => {
          const claiming = this.lease.claim();
          this.inFlightClaim = claiming;
          const claim = await claiming;
          return { held: claim.held, expiresAt: claim.expiresAt };
        }),
      },
      actions: {
        becomeLeader: () => {
          // `leader` once leading is real (the orchestrator restored and took over).
          this.electing = Promise.resolve()
            .then(() => hooks.onElected())
            .then(() => {
              this.leading = true;
              if (this.state === 'standby' && !this.stopping) this.stateSubject.next('leader');
            })
            .catch((error: unknown) => {
              // Could not take over (e.g. a corrupt stored state): give the lease to another candidate.
              this.electedError = describeError(error);
              if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'ELECTION_STOPPED' });
              this.depose(hooks);
            });
        },
        stepDown: () => this.depose(hooks),
        releaseLease: () => {
          this.releasing = this.lease.release().catch(() => undefined);
        },
      },
      delays: {
        // A few ms past the holder's expiry (claiming exactly at it could still find it
        // valid), and at least every fifth of a period: a released lease is taken soon.
        untilLeaseExpiry: ({ context }) => Math.min(Math.floor(ttlMs / 5), remaining(context.expiresAt) + 5),
        claimRetry: claimRetryMs,
        claimTimeout: ttlMs,
        // A third of a period after the last renewal; after a renewal that failed, a retry
        // soon: a store that is back a moment before the lease runs out keeps the leader (the
        // chaos run: a NATS KV stream takes 5 – 8 s to elect a new leader when its node dies).
        renewInterval: ({ context }) => Math.max(claimRetryMs, Math.min(Math.floor(ttlMs / 3), remaining(context.expiresAt) - Math.ceil((2 * ttlMs) / 3))),
        ownLeaseExpiry: ({ context }) => remaining(context.expiresAt),
      },
    });
    // Under the runtime's root: its timers run on the runtime's clock. It is not in the
    // root's children, so it leaves the election explicitly when the root ends.
    this.actor = createActor(logic, { parent, id: `leaderElection:${key}` });
    parent.subscribe({ complete: () => this.leave(), error: () => this.leave() });
  }

  /** Where this candidate stands now. */
  get state(): LeadershipState {
    return this.stateSubject.getValue();
  }

  /** What the election counted (failed claims, and the last error). */
  getStats(): { state: LeadershipState; holder: string; claimErrors: number; lastError: string | null } {
    const { claimErrors, lastError } = this.actor.getSnapshot().context;
    return { state: this.state, holder: this.holder, claimErrors, lastError: this.electedError ?? lastError };
  }

  /** Joins the election. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.actor.start();
  }

  /** Resolves when this candidate leads (rejects if the election stops first). */
  async whenLeader(): Promise<void> {
    const state = this.state === 'standby' ? await firstValueFrom(this.state$.pipe(filter((s) => s !== 'standby')), { defaultValue: 'stopped' as const }) : this.state;
    if (state !== 'leader') throw new NeuroFluxError(ErrorCode.NOT_RUNNING, `leader election ended: ${state}`);
  }

  /**
   * Leaves the election. A leader first stops leading (`onDeposed`), then releases its lease
   * for a standby to take at once: two leaders must never act together.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // Elected meanwhile: what `onElected` brought up stops before the lease goes.
    await this.withinLeasePeriod(this.electing ?? Promise.resolve());
    if (this.leading) {
      this.leading = false;
      await Promise.resolve().then(() => this.hooks.onDeposed()).catch(() => undefined);
    }
    this.leave();
    await this.releasing;
    await this.releaseLateClaim();
    if (this.state !== 'deposed') this.stateSubject.next('stopped');
    this.stateSubject.complete();
  }

  /**
   * Steps down while leading, e.g. because what it led stopped (its orchestrator was fenced):
   * `onDeposed`, then the lease is released so that a standby takes over at once.
   */
  async resign(): Promise<void> {
    if (this.stopping || this.state !== 'leader') return;
    this.depose(this.hooks);
    this.leave();
    await this.releasing;
    await this.releaseLateClaim();
  }

  /**
   * A claim that was in flight when the election ended and took the lease: give it back.
   * Waits for it at most a lease period (a store that never answers must not hold `stop()`);
   * if it lands later, it is released then.
   */
  private async releaseLateClaim(): Promise<void> {
    const claim = this.inFlightClaim;
    if (!claim) return;
    await this.withinLeasePeriod(claim.then((c) => (c.held ? this.lease.release() : undefined)));
  }

  /** Waits for `work` (errors ignored), at most one lease period on the runtime's clock. */
  private async withinLeasePeriod(work: Promise<unknown>): Promise<void> {
    let timer: unknown;
    const period = new Promise<void>((resolve) => (timer = this.clock.setTimeout(() => resolve(), this.ttlMs)));
    await Promise.race([work.catch(() => undefined), period]);
    this.clock.clearTimeout(timer);
  }

  private leave(): void {
    // The actor ends itself (final state); a child of the root cannot be stopped from outside.
    if (this.started && this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'ELECTION_STOPPED' });
  }

  private depose(hooks: LeadershipHooks): void {
    if (this.state === 'deposed') return;
    this.leading = false;
    this.stateSubject.next('deposed');
    void Promise.resolve()
      .then(() => hooks.onDeposed())
      .catch(() => undefined);
  }
}
