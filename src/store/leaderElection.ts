import { BehaviorSubject, distinctUntilChanged, filter, firstValueFrom, type Observable } from 'rxjs';
import { createActor, fromPromise, type Actor, type AnyActorRef, type SnapshotFrom } from 'xstate';
import { z } from 'zod';
import { leaderElectionMachine, type LeaderElectionEvent, type LeaseClaimResult } from '../../machines/leaderElection.machine';
import { ErrorCode, NeuroFluxError, ValidationError } from '../errors';
import { Lease, type LeaseClaim } from './lease';
import type { SnapshotStore } from './snapshotStore';
import type { NeuroFluxClock } from '../kernel/clock';
import { settleWithin } from '../kernel/settleWithin';
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
 * (`machines/leaderElection.machine.ts`) on the runtime's clock, and where a candidate stands
 * is read from it (`follower`, `elected` taking over or leading, `deposing`, `stopped`): this
 * class only wires the lease and the hooks to it.
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
  /** Whether `start()` ran: an actor not started cannot take events, so a stop before it ends here. */
  private started = false;
  /** The last claim or renewal started: one still in flight when the election ends may yet win. */
  private inFlightClaim: Promise<LeaseClaim> | undefined;
  /** The end of the election as `stop()`/`resign()` await it (the chart final, a late claim released). */
  private ended: Promise<void> | undefined;
  private readonly clock: NeuroFluxClock;
  private readonly ttlMs: number;

  constructor(options: LeaderElectionOptions & { store: SnapshotStore; clock: NeuroFluxClock; parent: AnyActorRef; hooks: LeadershipHooks }) {
    const { store, clock, parent, hooks, ...rest } = options;
    const parsed = LeaderElectionOptionsSchema.safeParse(rest);
    if (!parsed.success) throw ValidationError.fromZod('leader election options', parsed.error);
    const { key, ttlMs } = parsed.data;
    this.clock = clock;
    this.ttlMs = ttlMs;
    this.holder = parsed.data.holder ?? defaultHolder();
    this.lease = new Lease({ store, key, holder: this.holder, ttlMs, clock });
    this.state$ = this.stateSubject.pipe(distinctUntilChanged());
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
        takeOver: fromPromise<void>(async () => {
          await hooks.onElected();
        }),
        stepDown: fromPromise<void>(async () => {
          await hooks.onDeposed();
        }),
        releaseLease: fromPromise<void>(() => this.lease.release()),
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
        // A store that never answers must not hold `stop()` for more than a lease period.
        stopGrace: ttlMs,
      },
    });
    // Under the runtime's root: its timers run on the runtime's clock. It is not in the
    // root's children, so it leaves the election explicitly when the root ends.
    this.actor = createActor(logic, { parent, id: `leaderElection:${key}` });
    this.actor.subscribe({
      next: (snapshot) => this.stateSubject.next(leadershipStateOf(snapshot)),
      complete: () => this.stateSubject.complete(),
      error: () => this.stateSubject.complete(),
    });
    parent.subscribe({ complete: () => this.send({ type: 'RUNTIME_ENDED' }), error: () => this.send({ type: 'RUNTIME_ENDED' }) });
  }

  /** Where this candidate stands now (read from the election's chart). */
  get state(): LeadershipState {
    return this.started ? leadershipStateOf(this.actor.getSnapshot()) : this.stateSubject.getValue();
  }

  /** What the election counted (failed claims, and the last error: a failed takeover's first). */
  getStats(): { state: LeadershipState; holder: string; claimErrors: number; lastError: string | null } {
    const { claimErrors, lastError, takeoverError } = this.actor.getSnapshot().context;
    return { state: this.state, holder: this.holder, claimErrors, lastError: takeoverError !== null ? describeError(takeoverError.thrown) : lastError };
  }

  /** Joins the election. */
  start(): void {
    if (this.started || this.stateSubject.getValue() === 'stopped') return;
    this.started = true;
    this.actor.start();
  }

  /** Resolves when this candidate leads (rejects if the election ends first). */
  async whenLeader(): Promise<void> {
    const state = this.state === 'standby' ? await firstValueFrom(this.state$.pipe(filter((s) => s !== 'standby')), { defaultValue: 'stopped' as const }) : this.state;
    if (state !== 'leader') throw new NeuroFluxError(ErrorCode.NOT_RUNNING, `leader election ended: ${state}`);
  }

  /**
   * Leaves the election. A leader first stops leading (`onDeposed`, its lease still renewed),
   * then releases its lease for a standby to take at once: two leaders must never act together.
   * Elected and still taking over: waits for the takeover (at most a lease period), then
   * stops what it brought up.
   */
  async stop(): Promise<void> {
    if (!this.started) {
      this.stateSubject.next('stopped');
      this.stateSubject.complete();
      return;
    }
    this.send({ type: 'ELECTION_STOPPED' });
    await this.ending();
  }

  /**
   * Steps down while leading, e.g. because what it led stopped (its orchestrator was fenced):
   * `onDeposed`, then the lease is released so that a standby takes over at once.
   */
  async resign(): Promise<void> {
    if (!this.actor.getSnapshot().matches({ elected: { role: 'leading' } })) return;
    this.send({ type: 'LEADERSHIP_RESIGNED' });
    await this.ending();
  }

  private send(event: LeaderElectionEvent): void {
    if (this.started && this.actor.getSnapshot().status === 'active') this.actor.send(event);
  }

  /** Resolves once the chart is final (deposed or stopped) and a late claim is given back; one wait shared by every caller. */
  private ending(): Promise<void> {
    this.ended ??= new Promise<void>((resolve) => {
      if (this.actor.getSnapshot().status !== 'active') resolve();
      else this.actor.subscribe({ complete: resolve, error: () => resolve() });
    }).then(() => this.releaseLateClaim());
    return this.ended;
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
    await settleWithin(work, this.ttlMs, this.clock);
  }
}

/** The public standing of a chart state: a candidate still taking over is not yet the leader. */
function leadershipStateOf(snapshot: SnapshotFrom<typeof leaderElectionMachine>): LeadershipState {
  if (snapshot.matches({ elected: { role: 'leading' } })) return 'leader';
  if (snapshot.matches('follower') || snapshot.matches({ elected: { role: 'electing' } })) return 'standby';
  if (snapshot.matches('deposing') || snapshot.matches('deposed')) return 'deposed';
  return 'stopped';
}
