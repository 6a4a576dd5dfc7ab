import type { AnyActorRef, EventObject } from 'xstate';
import { MAX_TIMER_MS, type NeuroFluxClock } from './clock';

type ActorSystemOf = AnyActorRef['system'];

/** What this patch needs of XState's system beyond its typed surface (both exist in v5). */
interface SystemInternals {
  _relay(source: AnyActorRef, target: AnyActorRef, event: EventObject): void;
  readonly _snapshot: { _scheduledEvents: Record<string, unknown> };
}

const patched = new WeakSet();

/**
 * Makes a system whose clock has host-timer limits keep `after` delays longer than
 * `MAX_TIMER_MS` (about 24.8 days): those are armed on `clock` (re-armed in steps by
 * `withLongTimers`) instead of the system's own clock, which would fire them at once.
 *
 * A standalone runtime needs none of this (its root's clock is wrapped with
 * `withLongTimers`), but an embedded one runs on the user's system, whose clock is the
 * user's: a 30-day task timeout would otherwise time the task out on the spot. Shorter
 * delays, the user's among them, go to XState's scheduler untouched; a long one is recorded
 * in the system's scheduled events like any other (so `cancel`, `cancelAll` and the
 * persisted snapshot see it). Apply before `indexScheduledEvents` (which then wraps this);
 * applying it again to the same system does nothing.
 * @internal
 */
export function scheduleLongDelays(system: ActorSystemOf, clock: NeuroFluxClock): void {
  const scheduler = system.scheduler;
  if (patched.has(scheduler)) return;
  patched.add(scheduler);
  const internals = system as unknown as SystemInternals;
  const schedule = scheduler.schedule.bind(scheduler);
  const cancel = scheduler.cancel.bind(scheduler);
  const longTimers = new Map<string, unknown>();

  scheduler.schedule = (source, target, event, delay, id) => {
    if (!(delay > MAX_TIMER_MS)) return schedule(source, target, event, delay, id);
    // XState draws the same kind of random id when none is given, and keys events the same way.
    const resolvedId = id ?? Math.random().toString(36).slice(2);
    const key = `${source.sessionId}.${resolvedId}`;
    internals._snapshot._scheduledEvents[key] = { source, target, event, delay, id: resolvedId, startedAt: Date.now() };
    longTimers.set(
      key,
      clock.setTimeout(() => {
        longTimers.delete(key);
        delete internals._snapshot._scheduledEvents[key];
        internals._relay(source, target, event);
      }, delay),
    );
  };
  scheduler.cancel = (source, id) => {
    const key = `${source.sessionId}.${id}`;
    const timer = longTimers.get(key);
    if (timer === undefined) return cancel(source, id);
    longTimers.delete(key);
    delete internals._snapshot._scheduledEvents[key];
    clock.clearTimeout(timer);
  };
}
