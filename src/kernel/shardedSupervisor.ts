import { createActor, type ActorRefFrom, type AnyActorLogic, type AnyActorRef, type Snapshot } from 'xstate';
import { supervisorMachine } from '../../machines/supervisor.machine';
import { withChildEventsFolded } from './childEventsFolded';
import { lightenActor, lightenStartedActor, withLightSnapshots } from './lightActors';
import { systemIdPrefixOf } from './systemIdScope';

/** What this file uses of an XState actor beyond its typed surface (checked in test/xstateContract.test.ts). */
interface ActorInternals {
  readonly _parent?: AnyActorRef;
  /** Stops the actor (enqueues XState's stop event after the events it already holds). */
  _stop(): unknown;
}

interface Shard {
  readonly id: string;
  /** The number in its id (given again once the shard has retired). */
  readonly number: number;
  readonly ref: AnyActorRef;
  /** Children spawned into the shard (it takes no more once this reaches the shard size). */
  spawned: number;
  /** Children released (stopped, or finished and forgotten). */
  released: number;
}

/**
 * Children per shard unless told otherwise. Children stay out of their shard's `children`
 * record, so a shard's size no longer sets what a spawn or a stop costs; what a shard costs is
 * one more actor (~1 900 bytes) shared by its children: ~120 bytes per queued task with 16 a
 * shard, ~8 with 256 (bench/profiles/liveTaskBytes.ts: 2 772 → 2 645 bytes per live task).
 * @internal
 */
export const DEFAULT_SHARD_SIZE = 256;

/**
 * Keeps many actors of one kind under supervisor shards of at most `shardSize` children.
 *
 * A child is created with `createActor(logic, { parent: shard })`: it joins the system as
 * the shard's child (its crash and its end reach the shard, the inspector shows it under
 * the shard, its system id is `kind:id`) without entering the shard's `children` record.
 * XState copies that record (and the shard's snapshot) on every spawn and stop, and every
 * new child id gave the record a new hidden class kept alive by the record: spawning
 * through it cost 612 bytes per live task of hidden-class metadata (heap snapshot of 4 000
 * waiting tasks) and a record copy per child stopped when the shard ended. This class keeps
 * the children itself (one map entry each), stops live ones itself (released, or when the
 * host ends) and retires a shard (final state) once all its children are released:
 * finished children are forgotten, not stopped one by one. Shards are not in the host's
 * children record either, so the host never copies them.
 * @internal
 */
export class ShardedSupervisor<TLogic extends AnyActorLogic> {
  private open: Shard | undefined;
  private readonly live = new Set<Shard>();
  /** Children spawned and not released, by id; their shard is their `_parent`. */
  private readonly children = new Map<string, AnyActorRef>();
  private readonly shardOfRef = new Map<AnyActorRef, Shard>();
  private readonly shardLogic: AnyActorLogic;
  /** The children's logic (with `onChildFailure`: one that reports a stop this supervisor did not make). */
  private readonly logic: TLogic;
  private shardCount = 0;
  /**
   * Numbers of retired shards, given to new ones: a shard's end reaches the host as an event
   * whose type carries the shard's id, and XState keeps what it looked up for each event type
   * for the life of the host's machine (see `withChildEventsFolded`); reused ids bound those
   * types by the most shards alive at once instead of growing with every 16 children.
   */
  private readonly freeShardNumbers: number[] = [];
  /** Put before each child's system id: empty but for a second runtime in one actor system (see `claimSystemIdScope`). */
  private readonly systemIdPrefix: string;

  constructor(
    /** The parent of the shards in the actor tree. */
    private readonly host: AnyActorRef,
    private readonly kind: string,
    logic: TLogic,
    private readonly shardSize = DEFAULT_SHARD_SIZE,
    /**
     * Called when a child crashes (an injected effect threw; the shard survives it) or is
     * stopped by anyone but this supervisor (an `xstate.stop` sent to it directly).
     */
    onChildFailure?: (childId: string, error: unknown) => void,
    /** The error `spawnMany` throws for a child whose system id is taken (default: an `Error` naming the system id). */
    private readonly takenIdError: (id: string) => Error = (id) => new Error(`Actor with system ID '${systemIdPrefixOf(host)}${kind}:${id}' already exists.`),
  ) {
    this.systemIdPrefix = systemIdPrefixOf(host);
    this.shardLogic = withChildEventsFolded(
      supervisorMachine.provide({
        actions: { reportChildFailure: (_, params) => onChildFailure?.(this.idOf(params.childId), params.error) },
      }),
    );
    const light = withLightSnapshots(logic);
    this.logic = onChildFailure ? this.reportingForeignStops(light, onChildFailure) : light;
    // The shards are not in the host's children record, so the host's end does not reach
    // them by itself: retire them when the host stops, ends or fails.
    host.subscribe({ complete: () => this.stopAll(), error: () => this.stopAll() });
  }

  /** Children spawned and not released. */
  get size(): number {
    return this.children.size;
  }

  /** Shards alive (open or holding unreleased children). */
  get shards(): number {
    return this.live.size;
  }

  /** Spawns one child; its id and its system id are `kind:id`. */
  spawn(id: string, input: unknown): ActorRefFrom<TLogic> {
    return this.spawnMany([{ id, input }])[0] as ActorRefFrom<TLogic>;
  }

  /**
   * Spawns children. All are created (each takes its system id) before any starts, as
   * XState's own spawn does. The batch's system ids are checked before any child is created:
   * one taken (or twice in the batch) throws `takenIdError` and leaves nothing behind, not
   * even an actor the inspector heard of. A child that finishes while starting may be
   * released at once by its owner (it counts as spawned before the starts); a child released
   * (or stopped by `stopAll`) before its turn to start is not started.
   */
  spawnMany(children: readonly { id: string; input: unknown }[]): ActorRefFrom<TLogic>[] {
    this.checkSystemIdsFree(children);
    const refs: ActorRefFrom<TLogic>[] = [];
    const touched = new Set<Shard>();
    try {
      for (const child of children) {
        const shard = this.openShard();
        touched.add(shard);
        const childId = this.childIdOf(child.id);
        const ref = createActor(this.logic as AnyActorLogic, {
          parent: shard.ref,
          id: childId,
          systemId: this.systemIdPrefix + childId,
          input: child.input,
        }) as ActorRefFrom<TLogic>;
        lightenActor(ref);
        shard.spawned++;
        this.children.set(child.id, ref);
        refs.push(ref);
        if (shard.spawned >= this.shardSize) this.open = undefined;
      }
    } catch (error) {
      // None has started: forget them and free their system ids.
      for (let i = 0; i < refs.length; i++) {
        const ref = refs[i] as AnyActorRef;
        this.children.delete((children[i] as { id: string }).id);
        (this.shardOfRef.get((ref as unknown as ActorInternals)._parent as AnyActorRef) as Shard).spawned--;
        unregisterTree(ref);
      }
      for (const shard of touched) this.retireIfDone(shard);
      throw error;
    }
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i] as AnyActorRef;
      // Released or stopped by an earlier child's start (its entry actions): XState's start()
      // would run it anyway, outside this supervisor, with its timers and its system id.
      if (this.children.get((children[i] as { id: string }).id) !== ref) continue;
      ref.start();
      lightenStartedActor(ref);
    }
    for (const shard of touched) this.retireIfDone(shard);
    return refs;
  }

  /**
   * Releases children: live ones are stopped now; finished ones are only forgotten (their
   * shard is retired once all its children are released).
   */
  release(ids: readonly string[]): void {
    for (const id of ids) {
      const child = this.children.get(id);
      if (!child) continue;
      this.children.delete(id);
      const shard = this.shardOfRef.get((child as unknown as ActorInternals)._parent as AnyActorRef) as Shard;
      shard.released++;
      if ((child.getSnapshot() as Snapshot<unknown>).status === 'active') stopChild(child);
      this.retireIfDone(shard);
    }
  }

  /** Whether an actor of the system (a child of this supervisor or any other) holds the system id a child `id` would take. */
  isTaken(id: string): boolean {
    return this.host.system.get(this.systemIdPrefix + this.childIdOf(id)) !== undefined;
  }

  /** The live child with this id. */
  get(id: string): ActorRefFrom<TLogic> | undefined {
    return this.children.get(id) as ActorRefFrom<TLogic> | undefined;
  }

  /** Stops every child and every shard. */
  stopAll(): void {
    const children = [...this.children.values()];
    this.children.clear();
    for (const child of children) if ((child.getSnapshot() as Snapshot<unknown>).status === 'active') stopChild(child);
    for (const shard of this.live) this.retire(shard);
    this.open = undefined;
  }

  /**
   * The child's id (and system id): `kind:id`. XState keys an actor's children by child id
   * in a plain object and spawns into it by assignment, so a bare user id such as
   * `__proto__` set the record's prototype; no prefixed id names an `Object.prototype` member.
   */
  private childIdOf(id: string): string {
    return `${this.kind}:${id}`;
  }

  private idOf(childId: string): string {
    return childId.slice(this.kind.length + 1);
  }

  /** Throws `takenIdError` for the first child whose system id is taken or repeated in the batch. */
  private checkSystemIdsFree(children: readonly { id: string }[]): void {
    const batch = children.length > 1 ? new Set<string>() : undefined;
    for (const { id } of children) {
      if (this.isTaken(id) || batch?.has(id)) throw this.takenIdError(id);
      batch?.add(id);
    }
  }

  /**
   * The children's logic, reporting an `xstate.stop` this supervisor did not send: a live
   * child it still holds that is stopped (by anyone with the system, e.g. through
   * `system.get(id).send({ type: 'xstate.stop' })`) would otherwise end silently, and its
   * owner would wait for it forever. The supervisor forgets a child before it stops it
   * (`release`, `stopAll`), so a child still in `children` was stopped by someone else.
   * One `type` comparison per event; the logic is copied once per supervisor, not per child.
   */
  private reportingForeignStops(logic: TLogic, onChildFailure: (childId: string, error: unknown) => void): TLogic {
    const transition = logic.transition.bind(logic);
    const reporting = Object.create(logic) as TLogic;
    reporting.transition = (snapshot, event, scope) => {
      if ((event as { type: string }).type === 'xstate.stop') {
        const self = scope.self as AnyActorRef;
        const id = this.idOf(self.id);
        if (this.children.get(id) === self) onChildFailure(id, new Error(`stopped by an 'xstate.stop' event its supervisor did not send`));
      }
      return transition(snapshot, event, scope) as ReturnType<TLogic['transition']>;
    };
    return reporting;
  }

  private retireIfDone(shard: Shard): void {
    if (shard !== this.open && shard.released >= shard.spawned) this.retire(shard);
  }

  private retire(shard: Shard): void {
    if (!this.live.delete(shard)) return;
    this.shardOfRef.delete(shard.ref);
    if ((shard.ref.getSnapshot() as Snapshot<unknown>).status === 'active') shard.ref.send({ type: 'SUPERVISOR_RETIRED' });
    this.freeShardNumbers.push(shard.number);
  }

  private openShard(): Shard {
    if (this.open) return this.open;
    const number = this.freeShardNumbers.pop() ?? this.shardCount++;
    const id = `${this.kind}s-${number}`;
    const ref = createActor(this.shardLogic, { parent: this.host, id, input: { kind: this.kind } }).start();
    const shard: Shard = { id, number, ref, spawned: 0, released: 0 };
    this.live.add(shard);
    this.shardOfRef.set(ref, shard);
    this.open = shard;
    return shard;
  }
}

/**
 * Stops a child the way XState's `stopChild` does: its system ids (its own and its
 * descendants') are freed at once, so an actor with the same id may be spawned right
 * away, and the stop is processed after the events the child already holds.
 */
function stopChild(child: AnyActorRef): void {
  unregisterTree(child);
  (child as unknown as ActorInternals)._stop();
}

function unregisterTree(actor: AnyActorRef): void {
  const children = (actor.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> }).children;
  if (children) for (const child of Object.values(children)) if (child) unregisterTree(child);
  (actor.system as unknown as { _unregister(actor: AnyActorRef): void })._unregister(actor);
}
