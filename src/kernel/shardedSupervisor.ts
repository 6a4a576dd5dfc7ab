import type { Actor, ActorRefFrom, AnyActorLogic, AnyActorRef } from 'xstate';
import { supervisorMachine, type ChildSpec } from '../../machines/supervisor.machine';
import type { RuntimeMachine } from '../../machines/runtime.machine';

interface Shard {
  readonly id: string;
  readonly ref: AnyActorRef;
  count: number;
}

/**
 * Keeps many actors of one kind under the root, in supervisor shards of at most
 * `shardSize` children. XState copies a parent's children record on every spawn and
 * stop, so one parent of n children makes the n-th spawn cost O(n); shards keep that
 * copy small and the total cost linear.
 * @internal
 */
export class ShardedSupervisor<TLogic extends AnyActorLogic> {
  private readonly shards: Shard[] = [];
  private readonly withSpace: Shard[] = [];
  private readonly shardOf = new Map<string, Shard>();
  private readonly shardLogic: AnyActorLogic;

  constructor(
    private readonly root: Actor<RuntimeMachine>,
    private readonly kind: string,
    logic: TLogic,
    private readonly shardSize = 256,
  ) {
    this.shardLogic = supervisorMachine.provide({ actors: { child: logic } });
  }

  get size(): number {
    return this.shardOf.size;
  }

  /** Spawns one child; its system id is `kind:id`. */
  spawn(id: string, input: unknown): ActorRefFrom<TLogic> {
    return this.spawnMany([{ id, input }])[0] as ActorRefFrom<TLogic>;
  }

  /** Spawns children in as few shard steps as there are shards with room. */
  spawnMany(children: readonly { id: string; input: unknown }[]): ActorRefFrom<TLogic>[] {
    const refs: ActorRefFrom<TLogic>[] = [];
    let next = 0;
    while (next < children.length) {
      const shard = this.shardWithSpace();
      const room = this.shardSize - shard.count;
      const chunk = children.slice(next, next + room);
      next += chunk.length;
      const specs: ChildSpec[] = chunk.map((c) => ({ id: c.id, systemId: `${this.kind}:${c.id}`, input: c.input }));
      shard.ref.send({ type: 'CHILDREN_REQUESTED', children: specs });
      const spawned = (shard.ref.getSnapshot() as { children: Record<string, AnyActorRef> }).children;
      for (const c of chunk) {
        this.shardOf.set(c.id, shard);
        refs.push(spawned[c.id] as ActorRefFrom<TLogic>);
      }
      shard.count += chunk.length;
      if (shard.count >= this.shardSize) this.withSpace.splice(this.withSpace.indexOf(shard), 1);
    }
    return refs;
  }

  /** Stops children and forgets them. */
  release(ids: readonly string[]): void {
    const byShard = new Map<Shard, string[]>();
    for (const id of ids) {
      const shard = this.shardOf.get(id);
      if (!shard) continue;
      this.shardOf.delete(id);
      let list = byShard.get(shard);
      if (!list) byShard.set(shard, (list = []));
      list.push(id);
    }
    for (const [shard, list] of byShard) {
      if (shard.ref.getSnapshot().status === 'active') shard.ref.send({ type: 'CHILDREN_RELEASED', ids: list });
      if (shard.count >= this.shardSize) this.withSpace.push(shard);
      shard.count -= list.length;
    }
  }

  /** The live child with this id. */
  get(id: string): ActorRefFrom<TLogic> | undefined {
    const shard = this.shardOf.get(id);
    return (shard?.ref.getSnapshot() as { children: Record<string, AnyActorRef> } | undefined)?.children[id] as
      | ActorRefFrom<TLogic>
      | undefined;
  }

  /** Stops every shard (and so every child). */
  stopAll(): void {
    if (this.root.getSnapshot().status === 'active') {
      for (const shard of this.shards) this.root.send({ type: 'SUPERVISOR_RELEASED', id: shard.id });
    }
    this.shards.length = 0;
    this.withSpace.length = 0;
    this.shardOf.clear();
  }

  private shardWithSpace(): Shard {
    const last = this.withSpace[this.withSpace.length - 1];
    if (last) return last;
    const id = `${this.kind}s-${this.shards.length}`;
    this.root.send({ type: 'SUPERVISOR_REQUESTED', id, logic: this.shardLogic, input: { kind: this.kind } });
    const ref = (this.root.getSnapshot().children as Record<string, AnyActorRef>)[id];
    if (!ref) throw new Error(`supervisor shard '${id}' did not start: is the root actor running?`);
    const shard: Shard = { id, ref, count: 0 };
    this.shards.push(shard);
    this.withSpace.push(shard);
    return shard;
  }
}
