import { createActor, type ActorRefFrom, type AnyActorLogic, type AnyActorRef, type Snapshot } from 'xstate';
import { supervisorMachine } from '../../machines/supervisor.machine';
import { systemIdPrefixOf } from './systemIdScope';

/** What this file uses of an XState actor beyond its typed surface (checked in test/xstateContract.test.ts). */
interface ActorInternals {
  readonly _parent?: AnyActorRef;
  /** Stops the actor (enqueues XState's stop event after the events it already holds). */
  _stop(): unknown;
}

interface Shard {
  readonly id: string;
  readonly ref: AnyActorRef;
  /** Children spawned into the shard (it takes no more once this reaches the shard size). */
  spawned: number;
  /** Children released (stopped, or finished and forgotten). */
  released: number;
}

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
  private shardCount = 0;
  /** Put before each child's system id: empty but for a second runtime in one actor system (see `claimSystemIdScope`). */
  private readonly systemIdPrefix: string;

  constructor(
    /** The parent of the shards in the actor tree. */
    private readonly host: AnyActorRef,
    private readonly kind: string,
    private readonly logic: TLogic,
    private readonly shardSize = 16,
    /** Called when a child crashes (an injected effect threw): the shard survives it. */
    onChildFailure?: (childId: string, error: unknown) => void,
  ) {
    this.systemIdPrefix = systemIdPrefixOf(host);
    this.shardLogic = supervisorMachine.provide({
      actions: { reportChildFailure: (_, params) => onChildFailure?.(this.idOf(params.childId), params.error) },
    });
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
   * XState's own spawn does: if one cannot be created (a system id already taken), none is
   * left behind and the error is thrown. A child that finishes while starting may be
   * released at once by its owner (it counts as spawned before the starts).
   */
  spawnMany(children: readonly { id: string; input: unknown }[]): ActorRefFrom<TLogic>[] {
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
    for (const ref of refs as AnyActorRef[]) {
      ref.start();
      forgetStartOptions(ref);
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

  private retireIfDone(shard: Shard): void {
    if (shard !== this.open && shard.released >= shard.spawned) this.retire(shard);
  }

  private retire(shard: Shard): void {
    if (!this.live.delete(shard)) return;
    this.shardOfRef.delete(shard.ref);
    if ((shard.ref.getSnapshot() as Snapshot<unknown>).status === 'active') shard.ref.send({ type: 'SUPERVISOR_RETIRED' });
  }

  private openShard(): Shard {
    if (this.open) return this.open;
    const id = `${this.kind}s-${this.shardCount++}`;
    const ref = createActor(this.shardLogic, { parent: this.host, id, input: { kind: this.kind } }).start();
    const shard: Shard = { id, ref, spawned: 0, released: 0 };
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

/** What a started actor keeps of its options: XState 5.33 reads them only in `start()` (and for devtools, never enabled here). */
const STARTED_OPTIONS = Object.freeze({ devTools: false });

/**
 * Drops the options object a started child holds (its input among them). XState builds it
 * as `{ ...defaultOptions, ...options }`, and V8 gives each such spread its own hidden
 * class: 460 bytes of hidden-class metadata per actor, kept as long as the actor lives,
 * for an object XState no longer reads once the actor has started (test/xstateContract.test.ts).
 */
function forgetStartOptions(child: AnyActorRef): void {
  (child as unknown as { options: unknown }).options = STARTED_OPTIONS;
}
