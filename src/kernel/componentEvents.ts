import type { AnyActorRef, EventObject } from 'xstate';

type ActorSystemOf = AnyActorRef['system'];

/** What this needs of XState's system beyond its typed surface (exists in v5; see test/xstateContract.test.ts). */
interface RelayingSystem {
  _relay(source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject): void;
}

const tracked = new WeakSet();
/** `xstate.*` events (a crash, a finish) relayed by an actor to its own parent. */
const fromChildren = new WeakSet<EventObject>();

/**
 * Marks the `xstate.*` events an actor of `system` sends its own parent (XState's
 * `xstate.error.actor.<id>` when it crashes, `xstate.done.actor.<id>` when it finishes), so
 * that an embedded runtime's root can tell them from the same event types forged by its parent
 * or sent from outside (`actor.send`), which it refuses. Every event of the system passes
 * through `_relay`: the added cost is one comparison of the first character for the others.
 * Applying it again to the same system does nothing.
 * @internal
 */
export function trackComponentEvents(system: ActorSystemOf): void {
  if (tracked.has(system)) return;
  tracked.add(system);
  const internals = system as unknown as RelayingSystem;
  const relay = internals._relay.bind(system);
  internals._relay = (source, target, event) => {
    if (source !== undefined && typeof event.type === 'string' && event.type.charCodeAt(0) === 120 /* x */ && source._parent === target && event.type.startsWith('xstate.')) {
      fromChildren.add(event);
    }
    relay(source, target, event);
  };
}

/** Whether `event` was relayed to its target by one of the target's own child actors. @internal */
export function isFromChildActor(event: EventObject): boolean {
  return fromChildren.has(event);
}
