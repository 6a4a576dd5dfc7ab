import type { AnyActorRef } from 'xstate';

/** The system id prefix of each runtime, by its root actor (absent: no prefix). */
const prefixes = new WeakMap<AnyActorRef, string>();
/** NeuroFlux runtimes rooted in each actor system so far. */
const runtimesPerSystem = new WeakMap<object, number>();

/**
 * Gives the runtime rooted at `root` its system id prefix, and returns it.
 *
 * System ids (`task:<id>`, `agent:<id>`, `orchestrator`...) must be unique in an actor
 * system, and XState throws on a second registration. A standalone runtime owns its system,
 * and so does the first runtime embedded in a user's system (`neuroFluxLogic`): their ids
 * stay unprefixed, as inspectors and tools expect. A further runtime in the same system gets
 * `neuroflux-<n>/` in front of each of its ids, so two embedded runtimes with the same task
 * and agent ids do not collide.
 * @internal
 */
export function claimSystemIdScope(root: AnyActorRef): string {
  const earlier = runtimesPerSystem.get(root.system) ?? 0;
  runtimesPerSystem.set(root.system, earlier + 1);
  const prefix = earlier === 0 ? '' : `neuroflux-${earlier}/`;
  prefixes.set(root, prefix);
  return prefix;
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
