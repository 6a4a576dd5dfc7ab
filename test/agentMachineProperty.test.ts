/**
 * The agent chart's invariants under random event sequences (review RD, m1/m3): counts stay
 * safe non-negative integers whatever is sent (the actor is public), load is the sum of
 * its parts, and the state below online/paused/offline is the one the figures call for.
 */
import fc from 'fast-check';
import { createActor } from 'xstate';
import { agentMachine, MAX_AGENT_COUNT } from '../machines/agent.machine';

const hostileNumber = fc.oneof(
  fc.integer({ min: -5, max: 10 }),
  fc.constantFrom(NaN, Infinity, -Infinity, 0.5, 1e308, 2 ** 53 + 1, -0),
  fc.constant(undefined),
  fc.constantFrom('5', 3n, null, {}),
);
const agentEvent = fc.oneof(
  fc.integer({ min: 0, max: 5 }).map((n) => ({ type: 'MESSAGES_DELIVERED', messages: Array.from({ length: n }, () => ({})) })),
  fc.record({ type: fc.constant('MESSAGES_SETTLED'), handled: hostileNumber, failed: hostileNumber, returned: hostileNumber }),
  fc.record({ type: fc.constant('TASK_LOAD_CHANGED'), taskLoad: hostileNumber, capacity: hostileNumber }),
  fc.constantFrom({ type: 'AGENT_PAUSED' }, { type: 'AGENT_RESUMED' }, { type: 'WENT_OFFLINE' }, { type: 'CAME_ONLINE' }),
);

/** What the figures call for: saturated when either kind of slot is all used. */
function expectedLoadState(c: { load: number; inFlight: number; concurrency: number; taskLoad: number; taskCapacity: number }): string {
  if (c.load <= 0) return 'idle';
  const full = c.inFlight >= c.concurrency || (c.taskCapacity > 0 && c.taskLoad >= c.taskCapacity);
  return full ? 'saturated' : 'busy';
}

test('agent chart: safe non-negative counts, load = inFlight + taskLoad, the load state matches, under hostile events', () => {
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(1e308, NaN, -1)), fc.array(agentEvent, { maxLength: 400 }), (capacity, events) => {
      const actor = createActor(agentMachine, { input: { agentId: 'a', capacity } }).start();
      try {
        for (const event of events) {
          actor.send(event as never);
          const snapshot = actor.getSnapshot();
          const c = snapshot.context;
          for (const n of [c.load, c.inFlight, c.taskLoad, c.capacity, c.taskCapacity, c.concurrency]) {
            expect(Number.isSafeInteger(n) && n >= 0 && n <= 2 * MAX_AGENT_COUNT).toBe(true);
          }
          expect(c.load).toBe(c.inFlight + c.taskLoad);
          expect(c.capacity).toBeGreaterThanOrEqual(1);
          const top = snapshot.matches('offline') ? 'offline' : c.paused ? 'paused' : 'online';
          expect(snapshot.value).toEqual({ [top]: expectedLoadState(c) });
        }
      } finally {
        actor.stop();
      }
    }),
    { numRuns: 150 },
  );
});

test('a hostile count is clamped: 1e308 tasks read as MAX_AGENT_COUNT, a bigint or string as 0', () => {
  const actor = createActor(agentMachine, { input: { agentId: 'a', capacity: 2 } }).start();
  actor.send({ type: 'TASK_LOAD_CHANGED', taskLoad: 1e308, capacity: 1e308 });
  expect(actor.getSnapshot().context).toMatchObject({ taskLoad: MAX_AGENT_COUNT, taskCapacity: MAX_AGENT_COUNT, load: MAX_AGENT_COUNT });
  expect(actor.getSnapshot().value).toEqual({ online: 'saturated' });
  actor.send({ type: 'TASK_LOAD_CHANGED', taskLoad: 3n as unknown as number });
  expect(actor.getSnapshot().context).toMatchObject({ taskLoad: 0, load: 0, capacity: 2 });
  expect(actor.getSnapshot().value).toEqual({ online: 'idle' });
  actor.stop();
});
