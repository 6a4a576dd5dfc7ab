/**
 * The XState internals NeuroFlux relies on, checked one by one (issue #16).
 *
 * The kernel reaches past XState's documented API in a few places, each for a measured
 * reason (see the files). A new xstate may change these shapes without a major version,
 * so package.json pins xstate to one minor (`~5.33.x`): patch releases only. Before
 * widening that range, run this file against the new version; a failure names the internal
 * that changed and the file of ours that uses it.
 *
 * What is used, and where:
 * - `system.scheduler.{schedule, cancel, cancelAll}`: replaced in place by
 *   src/kernel/indexedScheduler.ts (an index of scheduled ids per source actor, so stopping an
 *   actor does not scan every timer of the system). Relies on XState looking the methods up on
 *   `system.scheduler` at each call (delayed `after`/`raise`/`sendTo`, the `cancel` action, an
 *   actor's stop); on the argument order
 *   `(source, target, event, delay, id)`; on `id` possibly being undefined; on a cancelled
 *   event never being delivered and an unknown id being a no-op.
 * - `system.getSnapshot()._scheduledEvents`: a record keyed `<source.sessionId>.<id>` whose
 *   entry is removed when the event fires or is cancelled (indexedScheduler prunes with it).
 * - `system._clock`: the clock given to `createActor` (src/kernel/embeddedRoot.ts takes the
 *   user's clock from it). Every delay is armed with `clock.setTimeout(fn, delay)`, the delay
 *   as written, and cancelled with `clock.clearTimeout(theIdItReturned)`: src/kernel/clock.ts
 *   `withLongTimers` splits delays past 2^31-1 ms and returns its own timer ids.
 * - `SimulatedClock`: `now`, `increment`, `set`, and timers armed while it fires run in the
 *   same increment when due (withLongTimers re-arms inside a firing callback).
 * - Actors: `createActor(logic, { parent })` joins the parent's system without entering its
 *   `children` record (src/kernel/shardedSupervisor.ts creates shards and their children so),
 *   yet the child's end and crash still reach that parent; `actor._stop()` stops a non-root
 *   actor and `system._unregister(actor)` frees its system id (ShardedSupervisor stops a
 *   released child as XState's `stopChild` does); a started actor no longer reads its
 *   `options` (src/kernel/lightActors.ts drops a child's: 460 bytes each, and replaces its
 *   `_deferred` array once started and its empty `observers` `Set` and `eventListeners` `Map`
 *   with lazy ones before); a snapshot's `tags` `Set`, `children` and `historyValue` records
 *   are made afresh, never written in place (lightActors shares empty ones); `snapshot.children` is a plain record
 *   keyed by child id; `_parent`, `sessionId`, `systemId`, `logic` on an actor
 *   (src/kernel/systemIdScope.ts, src/runtime/neuroFluxLogic.ts, the inspection hub);
 *   `system.getAll()`, `system.inspect()`; a second actor with one system id throws.
 * - `system._relay(source, target, event)`: src/kernel/longDelayScheduler.ts delivers a long
 *   delay's event with it; src/kernel/componentEvents.ts replaces it in place to tell a
 *   component's own crash (`xstate.error.actor.<id>`, relayed with the child as source) from
 *   one forged by a parent (`sendTo`: the sender as source) or from outside (`actor.send`:
 *   source undefined). Relies on XState looking it up on the system at each call.
 * - `system._snapshot._scheduledEvents`: the live record behind `getSnapshot()` (which copies
 *   it); src/kernel/longDelayScheduler.ts writes its long delays there and deletes them.
 */
import { assign, createActor, createMachine, fromPromise, sendTo, setup, SimulatedClock, type AnyActorRef, type EventObject } from 'xstate';
import { MAX_TIMER_MS, withLongTimers, type NeuroFluxClock } from '../src/kernel/clock';
import { indexScheduledEvents } from '../src/kernel/indexedScheduler';

/** Fails with a message that names the internal and the file of ours that depends on it. */
function contract(holds: boolean, internal: string, usedBy: string): void {
  if (!holds) throw new Error(`XState internal changed: ${internal} (relied on by ${usedBy}); see the header of test/xstateContract.test.ts before upgrading xstate`);
}

type SystemOf = AnyActorRef['system'];
type ScheduleArgs = [source: AnyActorRef, target: AnyActorRef, event: EventObject, delay: number, id: string | undefined];

/** A machine that waits `delay` ms in `waiting`, then goes to `done`. */
function timerMachine(delay: number) {
  return createMachine({
    id: 'timer',
    initial: 'waiting',
    states: { waiting: { after: { [delay]: 'done' }, on: { SKIP: 'done' } }, done: {} },
  });
}

/** Records every scheduler call, delegating to XState's own methods. */
function spyOnScheduler(system: SystemOf) {
  const calls = { schedule: [] as ScheduleArgs[], cancel: [] as [AnyActorRef, string][], cancelAll: [] as AnyActorRef[] };
  const { scheduler } = system;
  const schedule = scheduler.schedule.bind(scheduler);
  const cancel = scheduler.cancel.bind(scheduler);
  const cancelAll = scheduler.cancelAll.bind(scheduler);
  scheduler.schedule = (...args: ScheduleArgs) => {
    calls.schedule.push(args);
    schedule(...args);
  };
  scheduler.cancel = (source, id) => {
    calls.cancel.push([source, id]);
    cancel(source, id);
  };
  scheduler.cancelAll = (ref) => {
    calls.cancelAll.push(ref);
    cancelAll(ref);
  };
  return calls;
}

const SCHEDULER = 'src/kernel/indexedScheduler.ts';
const CLOCK = 'src/kernel/clock.ts withLongTimers, src/kernel/runtimeRoot.ts';

describe('XState contract: the system scheduler', () => {
  test('system.scheduler has schedule(source, target, event, delay, id?), cancel(source, id), cancelAll(actor)', () => {
    const actor = createActor(timerMachine(1000), { clock: new SimulatedClock() });
    const scheduler = (actor.system as Partial<SystemOf>).scheduler as Record<string, unknown> | undefined;
    contract(typeof scheduler === 'object' && scheduler !== null, 'system.scheduler is an object', SCHEDULER);
    for (const [method, arity] of [
      ['schedule', 4],
      ['cancel', 2],
      ['cancelAll', 1],
    ] as const) {
      const fn = scheduler?.[method];
      contract(typeof fn === 'function', `system.scheduler.${method} is a function`, SCHEDULER);
      // schedule's 5th parameter (id) has a default, so it is not counted.
      contract((fn as (...args: unknown[]) => unknown).length === arity, `system.scheduler.${method} takes ${arity} parameters (has ${(fn as () => void).length})`, SCHEDULER);
    }
    contract(Object.getOwnPropertyDescriptor(scheduler, 'schedule')?.writable === true, 'system.scheduler.schedule is a writable own property', SCHEDULER);
  });

  test('an `after` delay is scheduled through system.scheduler.schedule, looked up at call time, with (self, self, event, delay, id)', () => {
    const clock = new SimulatedClock();
    const actor = createActor(timerMachine(1000), { clock });
    const calls = spyOnScheduler(actor.system);
    actor.start();
    contract(calls.schedule.length === 1, 'an `after` transition calls the (replaced) system.scheduler.schedule once', SCHEDULER);
    const [source, target, event, delay, id] = calls.schedule[0] as ScheduleArgs;
    contract(source === actor && target === actor, 'schedule(source, target, ...) gets the actor as source and target', SCHEDULER);
    contract(typeof event?.type === 'string' && event.type.startsWith('xstate.after.1000.'), `schedule's 3rd argument is the event (got ${JSON.stringify(event)})`, SCHEDULER);
    contract(delay === 1000, `schedule's 4th argument is the delay in ms (got ${String(delay)})`, SCHEDULER);
    contract(id === undefined || typeof id === 'string', "schedule's 5th argument is an id string or undefined", SCHEDULER);
    clock.increment(1000);
    expect(actor.getSnapshot().value).toBe('done');
    actor.stop();
  });

  test('system.getSnapshot()._scheduledEvents: keyed <sessionId>.<id>, fields source/target/event/delay/id, removed once fired', () => {
    const clock = new SimulatedClock();
    const actor = createActor(timerMachine(500), { clock });
    const calls = spyOnScheduler(actor.system);
    actor.start();
    const id = calls.schedule[0]?.[4];
    const pending = actor.system.getSnapshot()._scheduledEvents as unknown as Record<string, Record<string, unknown>>;
    const keys = Object.keys(pending);
    contract(keys.length === 1, '_scheduledEvents holds one entry per pending delayed event', SCHEDULER);
    const key = keys[0] as string;
    contract(key === `${actor.sessionId}.${String(pending[key]?.['id'])}`, `_scheduledEvents keys are "<source.sessionId>.<id>" (got "${key}")`, SCHEDULER);
    if (id !== undefined) contract(pending[key]?.['id'] === id, "the entry's id is the id given to schedule", SCHEDULER);
    const entry = pending[key] as Record<string, unknown>;
    for (const field of ['source', 'target', 'event', 'delay', 'id']) contract(field in entry, `a scheduled event record has '${field}'`, SCHEDULER);
    contract(entry['source'] === actor && entry['delay'] === 500, 'a scheduled event record holds its source actor and delay', SCHEDULER);
    clock.increment(500);
    contract(Object.keys(actor.system.getSnapshot()._scheduledEvents).length === 0, 'a fired event leaves _scheduledEvents', SCHEDULER);
    actor.stop();
  });

  test('leaving the state cancels through system.scheduler.cancel(source, id): the record goes, the timer is cleared, the event never comes', () => {
    const clock = new SimulatedClock();
    const actor = createActor(timerMachine(1000), { clock });
    const calls = spyOnScheduler(actor.system);
    actor.start();
    const scheduledId = calls.schedule[0]?.[4];
    actor.send({ type: 'SKIP' });
    contract(calls.cancel.length === 1, 'leaving a state with `after` calls system.scheduler.cancel', SCHEDULER);
    const [source, id] = calls.cancel[0] as [AnyActorRef, string];
    contract(source === actor, 'cancel(source, id) gets the actor as source', SCHEDULER);
    if (scheduledId !== undefined) contract(id === scheduledId, 'cancel gets the id schedule got', SCHEDULER);
    contract(Object.keys(actor.system.getSnapshot()._scheduledEvents).length === 0, 'a cancelled event leaves _scheduledEvents', SCHEDULER);
    contract((clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size === 0, 'cancel clears the clock timer', SCHEDULER);
    expect(() => actor.system.scheduler.cancel(actor, 'no-such-id')).not.toThrow();
    actor.stop();
  });

  test('a delayed sendTo without an id reaches schedule with id undefined or a string, and a stopping actor calls cancelAll(actor)', () => {
    const clock = new SimulatedClock();
    const child = createMachine({ on: { PING: { actions: () => undefined } } });
    const parent = setup({ actors: { child } }).createMachine({
      invoke: { src: 'child', id: 'c' },
      entry: sendTo('c', { type: 'PING' }, { delay: 200 }),
    });
    const actor = createActor(parent, { clock });
    const calls = spyOnScheduler(actor.system);
    actor.start();
    const id = calls.schedule[0]?.[4];
    contract(calls.schedule.length === 1 && (id === undefined || typeof id === 'string'), 'a delayed sendTo calls schedule with an optional id', SCHEDULER);
    actor.stop();
    contract(calls.cancelAll.includes(actor), 'stopping an actor calls system.scheduler.cancelAll(actor)', SCHEDULER);
    contract(Object.keys(actor.system.getSnapshot()._scheduledEvents).length === 0, "cancelAll on stop empties that actor's entries", SCHEDULER);
  });

  test('with indexScheduledEvents installed: after, cancel and stop behave as before', () => {
    const clock = new SimulatedClock();
    const delivered: string[] = [];
    const child = timerMachine(1000);
    const parent = setup({ actors: { child } }).createMachine({
      initial: 'on',
      states: {
        on: { invoke: { src: 'child', id: 'kid' }, on: { OFF: 'off' } },
        off: {},
      },
    });
    const actor = createActor(parent, { clock });
    indexScheduledEvents(actor.system);
    indexScheduledEvents(actor.system); // idempotent
    actor.start();
    const kid = actor.getSnapshot().children['kid'] as AnyActorRef;
    kid.subscribe((s) => delivered.push(String((s as { value: unknown }).value)));
    expect(Object.keys(actor.system.getSnapshot()._scheduledEvents)).toHaveLength(1);
    // Stopping the child (its parent leaves the state) cancels its timer through the index.
    actor.send({ type: 'OFF' });
    expect(Object.keys(actor.system.getSnapshot()._scheduledEvents)).toHaveLength(0);
    expect((clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size).toBe(0);
    clock.increment(2000);
    expect(delivered).not.toContain('done');

    // Many timers from one source: ids beyond 32 are pruned against _scheduledEvents, and each fires.
    let fired = 0;
    const many = createMachine({
      entry: Array.from({ length: 40 }, (_, i) => sendTo(({ self }) => self, { type: 'T' }, { delay: 10 + i })),
      on: { T: { actions: () => void fired++ } },
    });
    const second = createActor(many, { clock });
    indexScheduledEvents(second.system);
    second.start();
    expect(Object.keys(second.system.getSnapshot()._scheduledEvents)).toHaveLength(40);
    clock.increment(100);
    expect(fired).toBe(40);
    second.stop();
  });
});

describe('XState contract: clocks', () => {
  test('system._clock is the clock given to createActor; delays go to clock.setTimeout as written and are cleared with the id it returned', () => {
    const armed: number[] = [];
    const cleared: unknown[] = [];
    const token = { timer: 'opaque' };
    const clock = {
      setTimeout: (_fn: () => void, ms: number) => {
        armed.push(ms);
        return token;
      },
      clearTimeout: (id: unknown) => void cleared.push(id),
    };
    const thirtyDays = 30 * 86_400_000;
    const actor = createActor(timerMachine(thirtyDays), { clock });
    contract((actor.system as unknown as { _clock: unknown })._clock === clock, 'system._clock is the clock passed to createActor', 'src/kernel/embeddedRoot.ts');
    actor.start();
    contract(armed.length === 1 && armed[0] === thirtyDays, `an \`after\` delay past 2^31-1 ms reaches clock.setTimeout unchanged (got ${armed.join(', ')})`, CLOCK);
    actor.send({ type: 'SKIP' });
    contract(cleared.length === 1 && cleared[0] === token, 'clock.clearTimeout gets the very value clock.setTimeout returned', CLOCK);
    actor.stop();
  });

  test('without a clock option, system._clock still has setTimeout and clearTimeout', () => {
    const actor = createActor(timerMachine(1000));
    const clock = (actor.system as unknown as { _clock?: { setTimeout?: unknown; clearTimeout?: unknown } })._clock;
    contract(
      typeof clock?.setTimeout === 'function' && typeof clock.clearTimeout === 'function',
      'the default system._clock has setTimeout/clearTimeout',
      'src/kernel/embeddedRoot.ts',
    );
  });

  test('SimulatedClock: now, increment, set; one increment moves now() to its end, then runs the due timers in due order', () => {
    const clock = new SimulatedClock();
    for (const method of ['now', 'setTimeout', 'clearTimeout', 'increment', 'set'] as const) {
      contract(typeof clock[method] === 'function', `SimulatedClock.${method} is a function`, 'tests, src/kernel/embeddedRoot.ts');
    }
    const order: string[] = [];
    clock.setTimeout(() => order.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => order.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => order.push('late'), 101);
    clock.increment(100);
    // withLongTimers re-arms from inside a firing step with `deadline - now()`: past the
    // deadline after one large increment, so it fires at once instead of waiting again.
    contract(order.join(',') === 'a@100,b@100', `increment(ms) sets now() to the end first and fires due timers in due order (got ${order.join(',')})`, CLOCK);
    clock.set(150);
    expect(clock.now()).toBe(150);
    expect(order).toContain('late');
  });

  test('a 30-day `after` through withLongTimers(SimulatedClock) fires at 30 days, not at 2^31-1 ms', () => {
    const clock = new SimulatedClock();
    const thirtyDays = 30 * 86_400_000;
    const actor = createActor(timerMachine(thirtyDays), { clock: withLongTimers(clock as unknown as NeuroFluxClock) });
    actor.start();
    clock.increment(MAX_TIMER_MS + 1);
    expect(actor.getSnapshot().value).toBe('waiting');
    clock.increment(thirtyDays - MAX_TIMER_MS - 2);
    expect(actor.getSnapshot().value).toBe('waiting');
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('done');
    actor.stop();
  });
});

describe('XState contract: the actor tree', () => {
  test("createActor(logic, { parent }) joins the parent's system as its child without entering its children record", () => {
    const host = createActor(createMachine({})).start();
    const shardMachine = createMachine({ initial: 'open', states: { open: { on: { RETIRED: 'retired' } }, retired: { type: 'final' } } });
    const shard = createActor(shardMachine, { parent: host, id: 'shard-0' }).start();
    contract(shard.system === host.system, "an actor created with { parent } shares the parent's system", 'src/kernel/shardedSupervisor.ts');
    contract(shard._parent === host, 'actor._parent is the parent given to createActor', 'src/kernel/systemIdScope.ts');
    contract(!Object.values(host.getSnapshot().children).includes(shard as never), "the parent's children record does not list it", 'src/kernel/shardedSupervisor.ts');
    host.stop();
    // Not in the record, so the parent's stop does not reach it: ShardedSupervisor retires
    // shards itself, with an event to a final state (a non-root actor cannot be stopped directly).
    contract(shard.getSnapshot().status === 'active', "a parent's stop does not stop an actor outside its children record", 'src/kernel/shardedSupervisor.ts');
    expect(() => shard.stop()).toThrow(/non-root/);
    shard.send({ type: 'RETIRED' });
    expect(shard.getSnapshot().status).toBe('done');
  });

  test('a child created with { parent } outside the children record: its crash and end reach the parent; _stop() and system._unregister stop it and free its system id', () => {
    const SHARDS = 'src/kernel/shardedSupervisor.ts';
    const seen: string[] = [];
    const shard = createActor(createMachine({ on: { '*': { actions: ({ event }) => seen.push(event.type) } } })).start();
    const child = (id: string) =>
      createActor(
        createMachine({
          initial: 'idle',
          states: {
            idle: {
              on: {
                END: 'ended',
                BOOM: {
                  actions: () => {
                    throw new Error('boom');
                  },
                },
              },
            },
            ended: { type: 'final' },
          },
        }),
        {
          parent: shard,
          id,
          systemId: id,
        },
      ).start();
    child('kind:a').send({ type: 'END' });
    child('kind:b').send({ type: 'BOOM' });
    contract(seen.includes('xstate.done.actor.kind:a') && seen.includes('xstate.error.actor.kind:b'), 'a child outside the record reports its end and crash to its parent', SHARDS);
    const live = child('kind:c');
    (shard.system as unknown as { _unregister(actor: AnyActorRef): void })._unregister(live);
    contract(shard.system.get('kind:c') === undefined, 'system._unregister(actor) frees its system id at once', SHARDS);
    (live as unknown as { _stop(): unknown })._stop();
    contract(live.getSnapshot().status === 'stopped', 'actor._stop() stops a non-root actor', SHARDS);
    expect(() => child('kind:c')).not.toThrow();
    shard.stop();
  });

  test("a started actor no longer reads its options: replacing them keeps it running, stopping and reporting (ShardedSupervisor drops a child's)", () => {
    const clock = new SimulatedClock();
    const host = createActor(createMachine({}), { clock }).start();
    const machine = setup({ types: { input: {} as { n: number }, context: {} as { n: number } } }).createMachine({
      context: ({ input }) => ({ n: input.n }),
      initial: 'a',
      states: { a: { after: { 100: 'b' } }, b: { on: { NEXT: { target: 'c', actions: assign({ n: ({ context }) => context.n + 1 }) } } }, c: { type: 'final' } },
    });
    const actor = createActor(machine, { parent: host, id: 'kid', systemId: 'kid', input: { n: 1 } }).start();
    const internals = actor as unknown as { options: unknown };
    contract(typeof internals.options === 'object', 'a started actor has an options property', 'src/kernel/lightActors.ts');
    internals.options = Object.freeze({ devTools: false });
    const snapshots: string[] = [];
    actor.subscribe((snapshot) => snapshots.push(String(snapshot.value)));
    clock.increment(100);
    actor.send({ type: 'NEXT' });
    contract(
      actor.getSnapshot().status === 'done' && actor.getSnapshot().context.n === 2,
      'delays, events and final states work after the options are replaced',
      'src/kernel/shardedSupervisor.ts',
    );
    expect(snapshots).toEqual(['b', 'c']);
    host.stop();
  });

  test("an actor's observers, eventListeners and _deferred, and a snapshot's tags, children and historyValue, are what src/kernel/lightActors.ts replaces", () => {
    const LIGHT = 'src/kernel/lightActors.ts';
    const kid = createMachine({});
    const machine = setup({ actors: { kid } }).createMachine({
      context: { n: 0 },
      initial: 'a',
      states: {
        a: { initial: 'x', states: { x: {}, h: { type: 'history', history: 'deep' } }, on: { OUT: 'b' } },
        b: { tags: ['t'], on: { BACK: 'a.h' } },
      },
      on: { SPAWN: { actions: assign(({ context, spawn }) => (spawn('kid', { id: `k${context.n}` }), { n: context.n + 1 })) } },
    });
    const actor = createActor(machine);
    const internals = actor as unknown as { observers: unknown; eventListeners: unknown; _deferred: unknown };
    contract(internals.observers instanceof Set && internals.observers.size === 0, 'a new actor has an empty Set of observers', LIGHT);
    contract(internals.eventListeners instanceof Map && internals.eventListeners.size === 0, 'a new actor has an empty Map of event listeners', LIGHT);
    contract(Array.isArray(internals._deferred), 'an actor defers work in an array, _deferred', LIGHT);
    actor.start();
    const first = actor.getSnapshot();
    contract(first.tags instanceof Set && first.tags.size === 0, "a snapshot's tags are a Set", LIGHT);
    contract(Object.keys(first.children).length === 0 && Object.keys(first.historyValue).length === 0, 'a new snapshot has empty children and historyValue records', LIGHT);
    // Frozen records throw on a write in place ('use strict'): XState must replace them instead.
    Object.freeze(first.children);
    Object.freeze(first.historyValue);
    internals._deferred = [];
    actor.send({ type: 'SPAWN' });
    actor.send({ type: 'OUT' });
    actor.send({ type: 'BACK' });
    const later = actor.getSnapshot();
    contract(later.status === 'active' && later.children['k0'] !== undefined && later.children !== first.children, 'a spawn makes a new children record', LIGHT);
    contract(later.historyValue !== first.historyValue, 'leaving a state with history makes a new historyValue record', LIGHT);
    contract(later.children['k0']?.getSnapshot().status === 'active', 'a child spawned after _deferred was replaced starts (XState reads actor._deferred at each use)', LIGHT);
    actor.stop();
  });

  test('snapshot.children is a plain record keyed by child id; spawned actors have sessionId, id, systemId, logic', () => {
    const kid = createMachine({});
    const machine = setup({ actors: { kid } }).createMachine({
      context: ({ spawn }) => ({ refs: [spawn('kid', { id: 'kind:a', systemId: 'kind:a' })] }),
    });
    const actor = createActor(machine).start();
    const children = actor.getSnapshot().children as Record<string, AnyActorRef | undefined>;
    contract(Object.getPrototypeOf(children) === Object.prototype, 'snapshot.children is a plain object', 'src/kernel/shardedSupervisor.ts');
    const child = children['kind:a'] as (AnyActorRef & { systemId?: string; logic?: unknown }) | undefined;
    contract(child !== undefined, "snapshot.children is keyed by the child's id", 'src/kernel/shardedSupervisor.ts');
    contract(typeof child?.sessionId === 'string' && child.id === 'kind:a', 'an actor has sessionId and id', 'src/observability/inspector/inspectionHub.ts');
    contract(child?.systemId === 'kind:a' && child.logic === kid, 'an actor has systemId and logic', 'src/observability/inspector/inspectionHub.ts');
    contract(
      actor.system.get('kind:a') === child && actor.system.getAll()['kind:a'] === child,
      'system.get/getAll find actors by system id',
      'src/observability/inspector/inspectionHub.ts',
    );
    actor.stop();
  });

  test('a second actor with the same system id throws; system.inspect returns a subscription', () => {
    const host = createActor(createMachine({}), { systemId: 'neuroflux' }).start();
    expect(() => createActor(createMachine({}), { parent: host, systemId: 'neuroflux' })).toThrow(/system ID/i);
    const seen: string[] = [];
    const subscription = host.system.inspect((event) => seen.push(event.type));
    contract(typeof subscription?.unsubscribe === 'function', 'system.inspect returns { unsubscribe }', 'src/kernel/embeddedRoot.ts');
    host.send({ type: 'ANY' });
    expect(seen).toContain('@xstate.event');
    subscription.unsubscribe();
    host.stop();
  });

  test("an invoked promise actor's self._parent is the invoking actor", async () => {
    let parentSeen: AnyActorRef | undefined;
    const machine = setup({
      actors: {
        start: fromPromise(async ({ self }) => {
          parentSeen = self._parent;
        }),
      },
    }).createMachine({
      context: { done: false },
      invoke: { src: 'start', onDone: { actions: assign({ done: true }) } },
    });
    const actor = createActor(machine).start();
    await new Promise((resolve) => setImmediate(resolve));
    contract(parentSeen === actor, "an invoked actor's self._parent is its invoker", 'src/runtime/neuroFluxLogic.ts');
    expect(actor.getSnapshot().context.done).toBe(true);
    actor.stop();
  });
});

describe('XState contract: relaying events and the live scheduled-events record', () => {
  const LONG_DELAYS = 'src/kernel/longDelayScheduler.ts';
  const COMPONENT_EVENTS = 'src/kernel/componentEvents.ts';
  interface RelayInternals {
    _relay(source: AnyActorRef | undefined, target: AnyActorRef, event: EventObject): void;
    readonly _snapshot: { _scheduledEvents: Record<string, unknown> };
  }
  const internalsOf = (system: SystemOf) => system as unknown as RelayInternals;

  test('system._relay(source, target, event) delivers event to target', () => {
    const seen: string[] = [];
    const actor = createActor(createMachine({ on: { '*': { actions: ({ event }) => seen.push(event.type) } } })).start();
    contract(typeof internalsOf(actor.system)._relay === 'function', 'system._relay exists', LONG_DELAYS);
    internalsOf(actor.system)._relay(actor, actor, { type: 'RELAYED' });
    contract(seen.includes('RELAYED'), 'system._relay(source, target, event) delivers the event to target', LONG_DELAYS);
    actor.stop();
  });

  test("every event goes through system._relay, looked up at call time: actor.send with source undefined, sendTo with the sender, a child's crash and finish with the child", async () => {
    const child = setup({ actors: { boom: fromPromise(async () => Promise.reject(new Error('boom'))), fine: fromPromise(async () => undefined) } }).createMachine({
      invoke: [
        // Handled (onError): the crash reaches its parent as an event, and stops there.
        { id: 'boom', src: 'boom', onError: {} },
        { id: 'fine', src: 'fine' },
      ],
      on: { PING: {} },
    });
    const parent = setup({ actors: { child } }).createMachine({ invoke: { id: 'kid', src: 'child' }, on: { GO: { actions: sendTo('kid', { type: 'PING' }) } } });
    const actor = createActor(parent);
    const relayed: [AnyActorRef | undefined, AnyActorRef, string][] = [];
    const internals = internalsOf(actor.system);
    const relay = internals._relay.bind(actor.system);
    internals._relay = (source, target, event) => {
      relayed.push([source, target, event.type]);
      relay(source, target, event);
    };
    actor.start();
    await new Promise((resolve) => setImmediate(resolve));
    actor.send({ type: 'GO' });
    const kid = (actor.getSnapshot().children as Record<string, AnyActorRef>)['kid'];
    const byType = (type: string) => relayed.find(([, , t]) => t === type);
    contract(byType('GO')?.[0] === undefined && byType('GO')?.[1] === actor, 'actor.send relays with source undefined', COMPONENT_EVENTS);
    contract(byType('PING')?.[0] === actor && byType('PING')?.[1] === kid, 'sendTo relays with the sender as source', COMPONENT_EVENTS);
    const crash = byType('xstate.error.actor.boom');
    contract(
      crash !== undefined && crash[0]?._parent === crash[1] && crash[1] === kid,
      'a crashing child relays xstate.error.actor.<id> to its parent, itself as source',
      COMPONENT_EVENTS,
    );
    const done = byType('xstate.done.actor.fine');
    contract(
      done !== undefined && done[0]?._parent === done[1] && done[1] === kid,
      'a finishing child relays xstate.done.actor.<id> to its parent, itself as source',
      COMPONENT_EVENTS,
    );
    actor.stop();
  });

  test('system._snapshot._scheduledEvents is the live record system.getSnapshot() copies; XState cancel deletes from it', () => {
    const actor = createActor(timerMachine(1_000), { clock: new SimulatedClock() }).start();
    const internals = internalsOf(actor.system);
    const live = internals._snapshot._scheduledEvents;
    contract(typeof live === 'object' && Object.keys(live).length === 1, 'system._snapshot._scheduledEvents holds the pending delayed events', LONG_DELAYS);
    live['extra.entry'] = { source: actor, target: actor, event: { type: 'X' }, delay: 1, id: 'entry' };
    contract('extra.entry' in actor.system.getSnapshot()._scheduledEvents, 'an entry written to system._snapshot._scheduledEvents shows in getSnapshot()', LONG_DELAYS);
    delete live['extra.entry'];
    actor.send({ type: 'SKIP' });
    contract(Object.keys(internals._snapshot._scheduledEvents).length === 0, 'scheduler.cancel deletes from system._snapshot._scheduledEvents', LONG_DELAYS);
    actor.stop();
  });
});
