import { z } from 'zod';
import { ErrorCode, NeuroFluxError, ValidationError, type NeuroFluxErrorOptions } from '../errors';
import { systemClock, type NeuroFluxClock } from '../kernel/clock';

/** Stable codes of the errors resource pools throw (besides `ERR_VALIDATION`): a subset of {@link ErrorCode}. */
export const PoolErrorCode = {
  POOL_TIMEOUT: ErrorCode.POOL_TIMEOUT,
  POOL_CLOSED: ErrorCode.POOL_CLOSED,
  UNKNOWN_POOL: ErrorCode.UNKNOWN_POOL,
  FOREIGN_RESOURCE: ErrorCode.FOREIGN_RESOURCE,
} as const;

/** No resource became free within the acquire timeout. */
export class PoolTimeoutError extends NeuroFluxError {
  constructor(
    readonly pool: string,
    readonly timeoutMs: number,
    options?: NeuroFluxErrorOptions,
  ) {
    super(PoolErrorCode.POOL_TIMEOUT, `no '${pool}' resource became free within ${timeoutMs} ms`, options);
  }
}

/** The pool was closed (acquires waiting on it reject with this). */
export class PoolClosedError extends NeuroFluxError {
  constructor(
    readonly pool: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(PoolErrorCode.POOL_CLOSED, `pool '${pool}' is closed`, options);
  }
}

/** The manager has no pool of that type. */
export class UnknownPoolError extends NeuroFluxError {
  constructor(
    readonly pool: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(PoolErrorCode.UNKNOWN_POOL, `no resource pool '${pool}'`, options);
  }
}

/** A resource was released to a pool that did not lend it (or is not on loan). */
export class ForeignResourceError extends NeuroFluxError {
  constructor(
    readonly pool: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(PoolErrorCode.FOREIGN_RESOURCE, `resource released to pool '${pool}' is not on loan from it`, options);
  }
}

const PoolOptionsSchema = z.object({
  name: z.string().min(1),
  maxSize: z.number().int().positive(),
  /** How long `acquire` waits for a free resource (ms). */
  acquireTimeoutMs: z.number().positive().default(30_000),
});

/** Options of a {@link ResourcePool}. */
export interface ResourcePoolOptions<R> extends z.input<typeof PoolOptionsSchema> {
  /** Makes a new resource (a connection, a client...). */
  create: () => R | Promise<R>;
  /** Disposes of a resource when the pool closes. */
  destroy?: (resource: R) => void | Promise<void>;
  /** Timer source for acquire timeouts. */
  clock?: NeuroFluxClock;
}

/** Counters of a pool. */
export interface ResourcePoolStats {
  readonly size: number;
  readonly idle: number;
  readonly inUse: number;
  readonly waiting: number;
  /** Acquires served with the resource that agent used last. */
  readonly affinityHits: number;
  readonly created: number;
}

interface Slot<R> {
  readonly resource: R;
  /** The agent that used it last (its affinity). */
  agentId: string | undefined;
  inUse: boolean;
}

interface Waiter<R> {
  readonly agentId: string;
  readonly resolve: (resource: R) => void;
  readonly reject: (error: Error) => void;
  timer: unknown;
}

/**
 * A bounded pool of resources with agent affinity (guide: `ResourcePoolManager`): an
 * agent gets back the resource it used last when that one is free, else a free one no
 * agent is attached to, else a new one while the pool is under `maxSize`, else a free
 * one attached to another agent, else it waits in FIFO order (bounded by
 * `acquireTimeoutMs`).
 *
 * @example
 * ```ts
 * const pool = new ResourcePool({ name: 'db', maxSize: 20, create: () => openConnection() });
 * const conn = await pool.acquire('risk_agent');
 * try { await conn.query('...'); } finally { pool.release(conn, 'risk_agent'); }
 * ```
 */
export class ResourcePool<R> {
  readonly name: string;
  private readonly options: z.output<typeof PoolOptionsSchema>;
  private readonly create: () => R | Promise<R>;
  private readonly destroy: ((resource: R) => void | Promise<void>) | undefined;
  private readonly clock: NeuroFluxClock;
  private readonly slots: Slot<R>[] = [];
  private readonly byResource = new Map<R, Slot<R>>();
  private waiters: Waiter<R>[] = [];
  private creating = 0;
  private closed = false;
  private affinityHits = 0;
  private created = 0;

  constructor(options: ResourcePoolOptions<R>) {
    const { create, destroy, clock, ...rest } = options;
    const parsed = PoolOptionsSchema.safeParse(rest);
    if (!parsed.success) throw ValidationError.fromZod('resource pool options', parsed.error);
    if (typeof create !== 'function') throw new ValidationError('resource pool options', [{ path: 'create', message: 'must be a function' }]);
    this.options = parsed.data;
    this.name = parsed.data.name;
    this.create = create;
    this.destroy = destroy;
    this.clock = clock ?? systemClock;
  }

  /** A resource for `agentId` (see the class comment for the order of preference). */
  async acquire(agentId: string): Promise<R> {
    if (typeof agentId !== 'string' || agentId.length === 0) throw new ValidationError('acquire', [{ path: 'agentId', message: 'must be a non-empty string' }]);
    if (this.closed) throw new PoolClosedError(this.name);
    const slot = this.pickIdle(agentId, false);
    if (slot) return this.lend(slot, agentId);
    if (this.slots.length + this.creating >= this.options.maxSize) {
      const other = this.pickIdle(agentId, true);
      if (other) return this.lend(other, agentId);
    } else {
      this.creating++;
      let resource: R;
      try {
        resource = await this.create();
      } finally {
        this.creating--;
      }
      this.created++;
      const fresh: Slot<R> = { resource, agentId, inUse: true };
      this.slots.push(fresh);
      this.byResource.set(resource, fresh);
      if (this.closed) {
        await this.destroy?.(resource);
        throw new PoolClosedError(this.name);
      }
      return resource;
    }
    return new Promise<R>((resolve, reject) => {
      const waiter: Waiter<R> = { agentId, resolve, reject, timer: undefined };
      waiter.timer = this.clock.setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new PoolTimeoutError(this.name, this.options.acquireTimeoutMs));
      }, this.options.acquireTimeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Gives a resource back; the first waiting agent gets it at once. */
  release(resource: R, agentId: string): void {
    const slot = this.byResource.get(resource);
    if (!slot || !slot.inUse) throw new ForeignResourceError(this.name);
    slot.inUse = false;
    slot.agentId = agentId;
    if (this.closed) return;
    // A waiter whose affinity is this resource goes first; otherwise FIFO.
    const index = Math.max(
      0,
      this.waiters.findIndex((w) => w.agentId === agentId),
    );
    const waiter = this.waiters[index];
    if (!waiter) return;
    this.waiters.splice(index, 1);
    this.clock.clearTimeout(waiter.timer);
    waiter.resolve(this.lend(slot, waiter.agentId));
  }

  stats(): ResourcePoolStats {
    const inUse = this.slots.filter((s) => s.inUse).length;
    return {
      size: this.slots.length,
      idle: this.slots.length - inUse,
      inUse,
      waiting: this.waiters.length,
      affinityHits: this.affinityHits,
      created: this.created,
    };
  }

  /** Rejects waiting acquires and destroys every resource (those on loan too). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiters) {
      this.clock.clearTimeout(waiter.timer);
      waiter.reject(new PoolClosedError(this.name));
    }
    this.waiters = [];
    await Promise.all(this.slots.map((s) => Promise.resolve(this.destroy?.(s.resource))));
  }

  private pickIdle(agentId: string, steal: boolean): Slot<R> | undefined {
    let unowned: Slot<R> | undefined;
    let any: Slot<R> | undefined;
    for (const slot of this.slots) {
      if (slot.inUse) continue;
      if (slot.agentId === agentId) {
        this.affinityHits++;
        return slot;
      }
      if (slot.agentId === undefined) unowned ??= slot;
      any ??= slot;
    }
    return unowned ?? (steal ? any : undefined);
  }

  private lend(slot: Slot<R>, agentId: string): R {
    slot.inUse = true;
    slot.agentId = agentId;
    return slot.resource;
  }
}

/**
 * The guide's `ResourcePoolManager`: named pools of shared resources, each lent with
 * agent affinity.
 *
 * @example
 * ```ts
 * const pools = new ResourcePoolManager();
 * pools.addPool(new ResourcePool({ name: 'database_connections', maxSize: 20, create: connect }));
 * const conn = await pools.getResource('database_connections', 'risk_agent');
 * pools.returnResource('database_connections', conn, 'risk_agent');
 * ```
 */
export class ResourcePoolManager {
  // Pools hold resources of different types; the manager only routes calls to them.
  private readonly pools = new Map<string, ResourcePool<unknown>>();

  /** Adds a pool under its name (replacing none: a duplicate name throws). */
  addPool<R>(pool: ResourcePool<R>): void {
    if (this.pools.has(pool.name)) throw new ValidationError('resource pool', [{ path: 'name', message: `pool '${pool.name}' already exists` }]);
    this.pools.set(pool.name, pool as ResourcePool<unknown>);
  }

  /** The pool of `resourceType`. */
  getPool<R>(resourceType: string): ResourcePool<R> {
    const pool = this.pools.get(resourceType);
    if (!pool) throw new UnknownPoolError(resourceType);
    return pool as ResourcePool<R>;
  }

  /** A resource of `resourceType` for `agentId`, with affinity. */
  getResource<R>(resourceType: string, agentId: string): Promise<R> {
    return this.getPool<R>(resourceType).acquire(agentId);
  }

  /** Gives a resource back to its pool. */
  returnResource<R>(resourceType: string, resource: R, agentId: string): void {
    this.getPool<R>(resourceType).release(resource, agentId);
  }

  /** Closes every pool. */
  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}
