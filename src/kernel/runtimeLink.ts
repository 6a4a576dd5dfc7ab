import type { AnyActorRef } from 'xstate';

/**
 * Whether a runtime's own transport link to the cluster is down (its `status$` read
 * `reconnecting`, or the stream ended under the running runtime). Components that judge other
 * processes by what they hear from them (the orchestrator's host liveness) read it: a silence
 * they could not have heard is no evidence.
 * @internal
 */
export interface RuntimeLink {
  /** True while the link is down. */
  readonly down: boolean;
  /** Calls `listener` on every change (not for the current state); returns the unsubscribe. */
  onChange(listener: (down: boolean) => void): () => void;
}

/** The writable {@link RuntimeLink} the runtime keeps (`TransportReachability` sets it). @internal */
export class RuntimeLinkState implements RuntimeLink {
  private current = false;
  private readonly listeners = new Set<(down: boolean) => void>();

  get down(): boolean {
    return this.current;
  }

  onChange(listener: (down: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Records a change and tells the listeners; the same state again tells nobody. */
  set(down: boolean): void {
    if (down === this.current) return;
    this.current = down;
    for (const listener of [...this.listeners]) listener(down);
  }

  /** Forgets every listener (the runtime stops). */
  clear(): void {
    this.listeners.clear();
  }
}

/** The link of each runtime, by its root actor (a runtime without a transport has none). */
const links = new WeakMap<AnyActorRef, RuntimeLink>();

/** Makes `link` the link of the runtime rooted at `root` (called when the runtime is composed). @internal */
export function attachRuntimeLink(root: AnyActorRef, link: RuntimeLink): void {
  links.set(root, link);
}

/**
 * The link of the runtime `ref` belongs to: the one attached to the nearest ancestor (or
 * `ref` itself); undefined outside a runtime with a transport that reports its status.
 * @internal
 */
export function runtimeLinkOf(ref: AnyActorRef): RuntimeLink | undefined {
  for (let actor: AnyActorRef | undefined = ref; actor; actor = actor._parent) {
    const link = links.get(actor);
    if (link !== undefined) return link;
  }
  return undefined;
}
