import { createActor, type ActorRefFrom, type AnyActorLogic, type AnyActorRef, type Snapshot } from 'xstate';
import { supervisorMachine, type ChildSpec } from '../../machines/supervisor.machine';
import { systemIdPrefixOf } from './systemIdScope';

interface Shard {
  readonly id: string;
  readonly ref: AnyActorRef;
  /** Children spawned into the shard (it takes no more once this reaches the shard size). */
  spawned: number;
  /** Children released (stopped, or finished and forgotten). */
  released: number;
}

/**
 * Keeps many actors of one kind in supervisor shards of at most `shardSize` children.
 *
 * XState copies a parent's children record on every spawn and stop, and a parent that
 * ends stops its children one by one, copying the record each time: one parent with n
 * children makes that O(n) per child (measured: 160 µs per stop among 256 siblings, 850 µs
 * among 1 024). So shards are small, join the system as descendants of `host` without
 * being spawned into its record (so the host never copies them), spawn their children in
 * batches inside one `assign`, and end themselves (final state) once every child has been
 * released: finished children are forgotten, not stopped one by one. Live children (an
 * unregistered agent) are stopped individually.
 * @internal
 */
export class ShardedSupervisor<TLogic extends AnyActorLogic> {
  private open: Shard | undefined;
  private readonly live = new Set<Shard>();
  private readonly shardOf = new Map<string, Shard>();
  private readonly shardLogic: AnyActorLogic;
  private shardCount = 0;
  /** Put before each child's system id: empty but for a second runtime in one actor system (see `claimSystemIdScope`). */
  private readonly systemIdPrefix: string;

  constructor(
    /** The parent of the shards in the actor tree. */
    private readonly host: AnyActorRef,
    private readonly kind: string,
    logic: TLogic,
    private readonly shardSize = 16,
    /** Called when a child crashes (an injected effect threw): the shard survives it. */
    onChildFailure?: (childId: string, error: unknown) => void,
  ) {
    this.systemIdPrefix = systemIdPrefixOf(host);
    this.shardLogic = supervisorMachine.provide({
      actors: { child: logic },
      actions: { reportChildFailure: (_, params) => onChildFailure?.(this.idOf(params.childId), params.error) },
    });
    // The shards are not in the host's children record, so the host's end does not reach
    // them by itself: retire them when the host stops, ends or fails.
    host.subscribe({ complete: () => this.stopAll(), error: () => this.stopAll() });
  }

  /** Children spawned and not released. */
  get size(): number {
    return this.shardOf.size;
  }

  /** Shards alive (open or holding unreleased children). */
  get shards(): number {
    return this.live.size;
  }

  /** Spawns one child; its id in the shard and its system id are `kind:id`. */
  spawn(id: string, input: unknown): ActorRefFrom<TLogic> {
    return this.spawnMany([{ id, input }])[0] as ActorRefFrom<TLogic>;
  }

  /** Spawns children, one shard step per shard they fill. */
  spawnMany(children: readonly { id: string; input: unknown }[]): ActorRefFrom<TLogic>[] {
    const refs: ActorRefFrom<TLogic>[] = [];
    let next = 0;
    while (next < children.length) {
      const shard = this.openShard();
      const chunk = children.slice(next, next + this.shardSize - shard.spawned);
      next += chunk.length;
      const specs: ChildSpec[] = chunk.map((c) => ({ id: this.childIdOf(c.id), systemId: this.systemIdPrefix + this.childIdOf(c.id), input: c.input }));
      // Counted before the send: children that finish while starting release themselves.
      shard.spawned += chunk.length;
      for (const c of chunk) this.shardOf.set(c.id, shard);
      shard.ref.send({ type: 'CHILDREN_REQUESTED', children: specs });
      for (const c of chunk) refs.push(this.childOf(shard, c.id) as ActorRefFrom<TLogic>);
      if (shard.spawned >= this.shardSize) this.open = undefined;
      this.retireIfDone(shard);
    }
    return refs;
  }

  /**
   * Releases children: live ones are stopped now; finished ones are only forgotten (their
   * shard is retired once all its children are released).
   */
  release(ids: readonly string[]): void {
    const stopNow = new Map<Shard, string[]>();
    const touched = new Set<Shard>();
    for (const id of ids) {
      const shard = this.shardOf.get(id);
      if (!shard) continue;
      const child = this.childOf(shard, id);
      this.shardOf.delete(id);
      shard.released++;
      touched.add(shard);
      if (child && (child.getSnapshot() as Snapshot<unknown>).status === 'active') {
        let list = stopNow.get(shard);
        if (!list) stopNow.set(shard, (list = []));
        list.push(this.childIdOf(id));
      }
    }
    for (const [shard, list] of stopNow) {
      if ((shard.ref.getSnapshot() as Snapshot<unknown>).status === 'active') shard.ref.send({ type: 'CHILDREN_RELEASED', ids: list });
    }
    for (const shard of touched) this.retireIfDone(shard);
  }

  /** The live child with this id. */
  get(id: string): ActorRefFrom<TLogic> | undefined {
    const shard = this.shardOf.get(id);
    return shard ? (this.childOf(shard, id) as ActorRefFrom<TLogic> | undefined) : undefined;
  }

  /** Stops every shard (and so every child). */
  stopAll(): void {
    for (const shard of this.live) this.retire(shard);
    this.open = undefined;
    this.shardOf.clear();
  }

  private childOf(shard: Shard, id: string): AnyActorRef | undefined {
    const children = (shard.ref.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children;
    const childId = this.childIdOf(id);
    return Object.hasOwn(children, childId) ? children[childId] : undefined;
  }

  /**
   * The child's id in its shard (and in the system): `kind:id`. XState keeps children in a
   * plain object keyed by child id and spawns into it by assignment, so a bare user id such
   * as `__proto__` set the record's prototype (the child ran unsupervised and unreachable)
   * and `toString` read an inherited function. No prefixed id names an `Object.prototype` member.
   */
  private childIdOf(id: string): string {
    return `${this.kind}:${id}`;
  }

  private idOf(childId: string): string {
    return childId.slice(this.kind.length + 1);
  }

  private retireIfDone(shard: Shard): void {
    if (shard !== this.open && shard.released >= shard.spawned) this.retire(shard);
  }

  private retire(shard: Shard): void {
    if (!this.live.delete(shard)) return;
    if ((shard.ref.getSnapshot() as Snapshot<unknown>).status === 'active') shard.ref.send({ type: 'SUPERVISOR_RETIRED' });
  }

  private openShard(): Shard {
    if (this.open) return this.open;
    const id = `${this.kind}s-${this.shardCount++}`;
    const ref = createActor(this.shardLogic, { parent: this.host, id, input: { kind: this.kind } }).start();
    const shard: Shard = { id, ref, spawned: 0, released: 0 };
    this.live.add(shard);
    this.open = shard;
    return shard;
  }
}
