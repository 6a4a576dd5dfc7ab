import { z } from 'zod';
import { ValidationError } from '../errors';
import { systemClock, type NeuroFluxClock } from '../kernel/clock';
import { RevisionMismatchError, type SnapshotStore } from './snapshotStore';

/** What a lease key holds. */
export interface LeaseRecord {
  readonly holder: string;
  /** Clock time (ms) after which the lease is free. */
  readonly expiresAt: number;
}

/** What {@link Lease.claim} found: whether we hold the lease, who does, and until when. */
export interface LeaseClaim extends LeaseRecord {
  readonly held: boolean;
}

const LeaseRecordSchema = z.object({ holder: z.string().min(1), expiresAt: z.number().finite() });

const LeaseOptionsSchema = z.object({
  key: z.string().min(1),
  holder: z.string().min(1),
  /** How long a lease lasts without renewal, ms (default 10 000). */
  ttlMs: z.number().int().positive().default(10_000),
});

/** Options of a {@link Lease}. */
export type LeaseOptions = z.input<typeof LeaseOptionsSchema> & { store: SnapshotStore; clock?: NeuroFluxClock };

/**
 * A leader lease on a {@link SnapshotStore} key by compare-and-set with expiry: one
 * holder at a time (the store's CAS makes it atomic; on NATS KV across processes).
 * `tryAcquire` takes a free or expired lease, or renews our own. A leader that stops
 * renewing loses the lease `ttlMs` after its last renewal (clocks of the processes are
 * assumed to agree within a small fraction of `ttlMs`).
 *
 * @example
 * ```ts
 * const lease = new Lease({ store, key: 'leader.orchestrator', holder: process.pid.toString(), ttlMs: 5000 });
 * if (await lease.tryAcquire()) await becomeLeader();
 * ```
 */
export class Lease {
  private readonly options: z.output<typeof LeaseOptionsSchema>;
  private readonly store: SnapshotStore;
  private readonly clock: NeuroFluxClock;
  private revision = 0;

  constructor(options: LeaseOptions) {
    const { store, clock, ...rest } = options;
    const parsed = LeaseOptionsSchema.safeParse(rest);
    if (!parsed.success) throw ValidationError.fromZod('lease options', parsed.error);
    this.options = parsed.data;
    this.store = store;
    this.clock = clock ?? systemClock;
  }

  get holder(): string {
    return this.options.holder;
  }

  get ttlMs(): number {
    return this.options.ttlMs;
  }

  /** True when we hold the lease after the call (taken, or renewed). */
  async tryAcquire(): Promise<boolean> {
    return (await this.claim()).held;
  }

  /**
   * Takes a free or expired lease, or renews our own. Says who holds it after the call and
   * until when: a standby can sleep until that expiry instead of polling.
   */
  async claim(): Promise<LeaseClaim> {
    const { key, holder, ttlMs } = this.options;
    const now = this.clock.now();
    const stored = await this.store.load(key);
    const current = stored && LeaseRecordSchema.safeParse(stored.value);
    const record = current?.success ? current.data : undefined;
    if (record && record.expiresAt > now) {
      if (record.holder !== holder) return { held: false, ...record };
      // Our name, but not our last write: another process uses the same holder name.
      if (this.revision !== 0 && stored?.revision !== this.revision) return { held: false, ...record };
    }
    const claimed = { holder, expiresAt: now + ttlMs } satisfies LeaseRecord;
    try {
      this.revision = await this.store.save(key, claimed, stored?.revision ?? 0);
      return { held: true, ...claimed };
    } catch (error) {
      // Another candidate won the race: it holds the lease for (about) a full period.
      if (error instanceof RevisionMismatchError) return { held: false, holder: '', expiresAt: now + ttlMs };
      throw error;
    }
  }

  /** The current holder, or undefined when the lease is free or expired. */
  async currentHolder(): Promise<string | undefined> {
    const stored = await this.store.load(this.options.key);
    const parsed = stored && LeaseRecordSchema.safeParse(stored.value);
    return parsed?.success && parsed.data.expiresAt > this.clock.now() ? parsed.data.holder : undefined;
  }

  /** Gives the lease up at once if we hold it. */
  async release(): Promise<void> {
    if (this.revision === 0) return;
    try {
      await this.store.save(this.options.key, { holder: this.options.holder, expiresAt: 0 } satisfies LeaseRecord, this.revision);
      this.revision = 0;
    } catch (error) {
      if (!(error instanceof RevisionMismatchError)) throw error;
    }
  }
}
