import type { AnyActorRef } from 'xstate';

type ActorSystemOf = AnyActorRef['system'];

/** XState's live record of pending events (v5; `getSnapshot()` would copy it). */
interface SystemInternals {
  readonly _snapshot: { readonly _scheduledEvents: Readonly<Record<string, unknown>> };
}

/** A source's id set is first pruned at this size, then at twice its size after each prune. */
const FIRST_PRUNE_AT = 32;

const indexed = new WeakSet();

/**
 * Makes stopping an actor cost O(its own timers) instead of O(every timer in the system).
 *
 * XState's scheduler cancels a stopping actor's delayed events by scanning every scheduled
 * event of the whole system. With one `after` timeout per running task, each finishing
 * task scanned all the others' (27 % of the orchestrator's time at 5 000 running tasks).
 * This keeps an index of scheduled event ids per source actor, through the scheduler's
 * public `schedule` / `cancel` / `cancelAll` methods, seeded with the events already scheduled
 * when it is installed; semantics are unchanged.
 * @internal
 */
export function indexScheduledEvents(system: ActorSystemOf): void {
  const scheduler = system.scheduler;
  if (indexed.has(scheduler)) return;
  indexed.add(scheduler);
  const schedule = scheduler.schedule.bind(scheduler);
  const cancel = scheduler.cancel.bind(scheduler);
  const idsBySource = new WeakMap<AnyActorRef, Set<string>>();
  const pruneAtBySource = new WeakMap<AnyActorRef, number>();
  // Events scheduled before the index (the user's own timers, when an embedded runtime joins
  // a running system; timers re-armed from a restored snapshot): without their entries,
  // stopping their actors would cancel nothing and leave the timers armed.
  for (const scheduled of Object.values(system.getSnapshot()._scheduledEvents)) {
    let ids = idsBySource.get(scheduled.source);
    if (!ids) idsBySource.set(scheduled.source, (ids = new Set()));
    ids.add(scheduled.id);
  }

  scheduler.schedule = (source, target, event, delay, id) => {
    // XState draws the same kind of random id when none is given.
    const resolvedId = id ?? Math.random().toString(36).slice(2);
    schedule(source, target, event, delay, resolvedId);
    let ids = idsBySource.get(source);
    if (!ids) idsBySource.set(source, (ids = new Set()));
    ids.add(resolvedId);
    // Fired events leave no trace here; prune them now and then so the set stays small.
    // Amortised: the next prune waits until the set has doubled, so an actor holding many
    // pending timers pays O(1) per schedule, not a scan (and once a copy) of every pending
    // event (2 000 timers on one actor took 21x XState's time that way).
    if (ids.size >= (pruneAtBySource.get(source) ?? FIRST_PRUNE_AT)) {
      const pending = (system as unknown as SystemInternals)._snapshot._scheduledEvents;
      for (const known of ids) if (!(`${source.sessionId}.${known}` in pending)) ids.delete(known);
      pruneAtBySource.set(source, Math.max(FIRST_PRUNE_AT, 2 * ids.size));
    }
  };
  scheduler.cancel = (source, id) => {
    cancel(source, id);
    idsBySource.get(source)?.delete(id);
  };
  scheduler.cancelAll = (source) => {
    const ids = idsBySource.get(source);
    if (!ids) return;
    idsBySource.delete(source);
    pruneAtBySource.delete(source);
    for (const id of ids) cancel(source, id);
  };
}
