/**
 * src/kernel/indexedScheduler.ts must cost O(1) amortised per scheduled event, however many
 * timers one actor holds (review RA finding 2: the prune copied the system's whole pending
 * record on every schedule once an actor had more than 32 timers: quadratic).
 *
 * Counts work, not time: the pending record is wrapped in a Proxy that counts membership
 * checks (`id in pending`, what the prune does), and `system.getSnapshot` (which copies the
 * record) is spied on.
 */
import { createActor, raise, setup, SimulatedClock, type AnyActorRef } from 'xstate';
import { indexScheduledEvents } from '../src/kernel/indexedScheduler';

interface SystemInternals {
  _snapshot: { _scheduledEvents: Record<string, unknown> };
}

const arming = setup({}).createMachine({
  on: {
    ARM: { actions: raise({ type: 'LATER' }, { delay: 60_000 }) },
    ARM_SHORT: { actions: raise({ type: 'SOON' }, { delay: 10 }) },
  },
});

/** Replaces the live pending record by a counting proxy over the same entries. */
function countMembershipChecks(system: AnyActorRef['system']): { checks: number; deletes: number } {
  const counter = { checks: 0, deletes: 0 };
  const internals = system as unknown as SystemInternals;
  internals._snapshot._scheduledEvents = new Proxy(internals._snapshot._scheduledEvents, {
    has(target, key) {
      counter.checks += 1;
      return Reflect.has(target, key);
    },
    deleteProperty(target, key) {
      counter.deletes += 1;
      return Reflect.deleteProperty(target, key);
    },
  });
  return counter;
}

describe('indexed scheduler: cost per scheduled event', () => {
  it('does linear work for one actor holding 2 000 pending timers', () => {
    const clock = new SimulatedClock();
    const actor = createActor(arming, { clock });
    indexScheduledEvents(actor.system);
    actor.start();
    const counter = countMembershipChecks(actor.system);
    const getSnapshot = jest.spyOn(actor.system, 'getSnapshot');

    const n = 2_000;
    for (let i = 0; i < n; i++) actor.send({ type: 'ARM' });

    expect(Object.keys((actor.system as unknown as SystemInternals)._snapshot._scheduledEvents)).toHaveLength(n);
    // Each prune checks every known id, and the next one waits until the set has doubled:
    // 32 + 64 + ... < 2n in all. The old prune checked about n²/2 (2 million here).
    expect(counter.checks).toBeLessThanOrEqual(2 * n);
    expect(getSnapshot).not.toHaveBeenCalled();

    // Semantics unchanged: stopping the actor cancels every one of them.
    actor.stop();
    expect(Object.keys((actor.system as unknown as SystemInternals)._snapshot._scheduledEvents)).toHaveLength(0);
  });

  it('still prunes fired timers, so stopping the actor cancels only what is pending', () => {
    const clock = new SimulatedClock();
    const actor = createActor(arming, { clock });
    indexScheduledEvents(actor.system);
    actor.start();
    // 500 short timers fire as they go; 10 long ones stay pending.
    for (let i = 0; i < 500; i++) {
      actor.send({ type: 'ARM_SHORT' });
      clock.increment(10);
    }
    for (let i = 0; i < 10; i++) actor.send({ type: 'ARM' });
    const counter = countMembershipChecks(actor.system);
    actor.stop();

    // cancelAll cancels the ids it still knows (XState's cancel deletes the entry each time):
    // the 10 pending plus fired ones not yet pruned (fewer than the next prune threshold),
    // never all 500 fired ones.
    const cancelled = counter.deletes;
    expect(cancelled).toBeGreaterThanOrEqual(10);
    expect(cancelled).toBeLessThan(64);
    expect(counter.checks).toBe(0);
    expect(Object.keys((actor.system as unknown as SystemInternals)._snapshot._scheduledEvents)).toHaveLength(0);
  });
});
