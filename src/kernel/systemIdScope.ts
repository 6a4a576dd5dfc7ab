import type { AnyActorRef } from 'xstate';

/** The system id prefix of each runtime, by its root actor (absent: no prefix). */
const prefixes = new WeakMap<AnyActorRef, string>();
/** Scope indexes (0: unprefixed) held by the live NeuroFlux runtimes of each actor system. */
const scopesInUse = new WeakMap<object, Set<number>>();

/** A runtime's claim on its system id scope. @internal */
export interface SystemIdScope {
  /** Put before each of the runtime's system ids (`''` or `neuroflux-<n>/`). */
  readonly prefix: string;
  /** Frees the scope for the next runtime in the system: call once the runtime's actors are stopped. */
  release(): void;
}

/**
 * Gives the runtime rooted at `root` its system id prefix.
 *
 * System ids (`task:<id>`, `agent:<id>`, `orchestrator`...) must be unique in an actor
 * system, and XState throws on a second registration. A standalone runtime owns its system,
 * and so does a runtime embedded alone in a user's system (`neuroFluxLogic`): their ids stay
 * unprefixed, as inspectors and tools expect. A runtime embedded while another one is live
 * in the same system gets `neuroflux-<n>/` in front of each of its ids (the lowest `n` free),
 * so two embedded runtimes with the same task and agent ids do not collide. A released scope
 * is reused: a runtime that replaces a stopped one (its state left and entered again) gets
 * the unprefixed ids back.
 * @internal
 */
export function claimSystemIdScope(root: AnyActorRef): SystemIdScope {
  let inUse = scopesInUse.get(root.system);
  if (!inUse) scopesInUse.set(root.system, (inUse = new Set()));
  let index = 0;
  while (inUse.has(index)) index++;
  inUse.add(index);
  const prefix = index === 0 ? '' : `neuroflux-${index}/`;
  prefixes.set(root, prefix);
  const scopes = inUse;
  return { prefix, release: () => void scopes.delete(index) };
}

/**
 * The system id prefix of the runtime `ref` belongs to: the one of the nearest ancestor
 * (or `ref` itself) that is a runtime's root; empty outside any runtime.
 * @internal
 */
export function systemIdPrefixOf(ref: AnyActorRef): string {
  for (let actor: AnyActorRef | undefined = ref; actor; actor = actor._parent) {
    const prefix = prefixes.get(actor);
    if (prefix !== undefined) return prefix;
  }
  return '';
}
