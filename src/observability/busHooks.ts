import type { BusInstrumentation } from '../bus/busInstrumentation';
import type { CommunicationBus } from '../bus/communicationBus';
import type { Message } from '../bus/message';

/** The hook sets attached to one bus and the removal of the composite installed for them. */
interface AttachedHooks {
  readonly members: BusInstrumentation[];
  uninstall: (() => void) | undefined;
}

const attachedByBus = new WeakMap<CommunicationBus, AttachedHooks>();

type Around = NonNullable<BusInstrumentation['aroundDelivery']>;

/** Nests the members' `aroundDelivery` so that the first attached is the outermost. */
function composeAround(arounds: readonly Around[]): Around | undefined {
  if (arounds.length === 0) return undefined;
  if (arounds.length === 1) return arounds[0];
  return (message, agentId, run) => {
    const step = (i: number): unknown => (i === arounds.length ? run() : (arounds[i] as Around)(message, agentId, () => step(i + 1)));
    return step(0);
  };
}

/**
 * One `BusInstrumentation` for all members. A hook is defined only when some member has
 * it, so the bus skips what nobody listens to (e.g. no closure per delivery when no
 * member wraps deliveries).
 */
function composite(members: readonly BusInstrumentation[]): BusInstrumentation {
  if (members.length === 1) return members[0] as BusInstrumentation;
  const accepted = members.flatMap((m) => (m.onAccepted ? [m.onAccepted.bind(m)] : []));
  const settled = members.flatMap((m) => (m.onSettled ? [m.onSettled.bind(m)] : []));
  const around = composeAround(members.flatMap((m) => (m.aroundDelivery ? [m.aroundDelivery.bind(m)] : [])));
  const hooks: BusInstrumentation = {};
  if (accepted.length > 0) {
    hooks.onAccepted = (message: Message) => {
      for (const hook of accepted) hook(message);
    };
  }
  if (around) hooks.aroundDelivery = around;
  if (settled.length > 0) {
    hooks.onSettled = (message, agentId, durationMs, error) => {
      for (const hook of settled) hook(message, agentId, durationMs, error);
    };
  }
  return hooks;
}

function reinstall(bus: CommunicationBus, attached: AttachedHooks): void {
  attached.uninstall?.();
  attached.uninstall = undefined;
  if (attached.members.length === 0) {
    attachedByBus.delete(bus);
    return;
  }
  attached.uninstall = bus.instrument(composite(attached.members));
}

/**
 * Attaches instrumentation hooks to a bus alongside any already attached: the bus takes
 * one set at a time (`bus.instrument`), and tracing, metrics and the profiler each bring
 * their own. Returns a function that detaches these hooks; when the last set goes, the bus
 * is left uninstrumented (one property check per message).
 *
 * Calling `bus.instrument` directly replaces every set attached here.
 *
 * @example
 * ```ts
 * const detach = attachBusHooks(nf.bus, { onSettled: (m, agentId, ms) => histogram.observe(ms) });
 * detach();
 * ```
 */
export function attachBusHooks(bus: CommunicationBus, hooks: BusInstrumentation): () => void {
  let attached = attachedByBus.get(bus);
  if (!attached) {
    attached = { members: [], uninstall: undefined };
    attachedByBus.set(bus, attached);
  }
  const set = attached;
  set.members.push(hooks);
  reinstall(bus, set);
  let detached = false;
  return () => {
    if (detached) return;
    detached = true;
    const index = set.members.indexOf(hooks);
    if (index >= 0) set.members.splice(index, 1);
    reinstall(bus, set);
  };
}
