import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import { withLongTimers, type NeuroFluxClock } from './clock';
import { indexScheduledEvents } from './indexedScheduler';
import { scheduleLongDelays } from './longDelayScheduler';
import { trackComponentEvents } from './componentEvents';
import { claimSystemIdScope } from './systemIdScope';

/**
 * A runtime rooted in an actor of someone else's system (`neuroFluxLogic`): the actor is
 * the root of every component actor, and the system (its clock, its inspectors) is the user's.
 * @internal
 */
export interface EmbeddedRoot {
  /** The embedding actor: components spawn their actors under it. */
  readonly root: AnyActorRef;
  /** The system's clock, with `now()` and timers of any length. */
  readonly clock: NeuroFluxClock;
  /** Prefix of this runtime's system ids (empty for the first runtime in the system). */
  readonly systemIdPrefix: string;
  /** Detaches what the runtime added to the system (its `inspect` observer) and frees its system id scope (call once its actors are stopped). */
  release(): void;
}

/**
 * Makes `root`, an actor of a user's system, the root of a NeuroFlux runtime. The clock is
 * the system's: XState arms every `after` delay of the system on it, so a second clock for
 * the runtime's own timers would let the two drift apart (a `SimulatedClock` given to the
 * user's `createActor` drives both). Its `now()` is used when it has one (`SimulatedClock`
 * does), else `Date.now`; delays longer than a host timer holds are re-armed in steps,
 * XState's `after` delays of the runtime's actors included. `inspect` joins the system's observers: it then sees the user's
 * actors too, as XState gives every observer the whole system.
 * @internal
 */
export function adoptRuntimeRoot(root: AnyActorRef, inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void)): EmbeddedRoot {
  const clock = clockOfSystem(root);
  // Both idempotent per system, in this order (the index wraps the long delays); a user's own
  // delayed events keep their ids and their timers on the user's clock.
  scheduleLongDelays(root.system, clock);
  indexScheduledEvents(root.system);
  trackComponentEvents(root.system);
  const scope = claimSystemIdScope(root);
  const subscription = inspect ? root.system.inspect(inspect) : undefined;
  return {
    root,
    clock,
    systemIdPrefix: scope.prefix,
    release: () => {
      subscription?.unsubscribe();
      scope.release();
    },
  };
}

/** The actor system's clock as a {@link NeuroFluxClock}. */
function clockOfSystem(root: AnyActorRef): NeuroFluxClock {
  const clock = root.system._clock as { now?: unknown; setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown; clearTimeout(id: unknown): void };
  const now = typeof clock.now === 'function' ? () => (clock.now as () => number)() : () => Date.now();
  return withLongTimers({ now, setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (id) => clock.clearTimeout(id) });
}

/**
 * The clock the system arms its timers on, as given to the user's `createActor` (XState's
 * default when none was given). An embedded runtime's `clock` option may only be this one.
 * @internal
 */
export function systemClockOf(root: AnyActorRef): unknown {
  return root.system._clock;
}
