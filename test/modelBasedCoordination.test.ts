/**
 * Model-based tests of the coordination statecharts (host liveness, heartbeat, leader
 * election), in the manner of `modelBasedMachines.test.ts`: XState's graph tools generate
 * paths over the pure machine (timers and invoked actors' outcomes are ordinary events
 * there) and each path is replayed on a real actor, provided as `src/` provides it, on a
 * simulated clock, checking after every step that the actor's snapshot is the model's.
 * Targeted properties (some with fast-check) then pin the timing and the injected effects.
 *
 * The helpers of `modelBasedMachines.test.ts` are not exported; `withTimers` is copied. Its
 * `replayOnActor` computes due times from the model's (pure) delays when a state node
 * becomes active, which would not see the `reenter: true` self-transitions used here (they
 * re-arm a timer without changing the active nodes) nor the clock-aware delays `src/`
 * provides; the {@link Driver} below instead reads the timers the real actor scheduled.
 */
import fc from 'fast-check';
import { createActor, fromPromise, initialTransition, SimulatedClock, transition, type AnyActorLogic, type AnyMachineSnapshot, type EventObject } from 'xstate';
import { adjacencyMapToArray, getAdjacencyMap, getPathsFromEvents, getShortestPaths } from 'xstate/graph';
import { flush, withTimers, type Path } from './support/modelPaths';
import { heartbeatMachine } from '../machines/heartbeat.machine';
import { hostLivenessMachine, type HostLivenessEvent, type HostLivenessInput } from '../machines/hostLiveness.machine';
import { leaderElectionMachine, type LeaderElectionEvent, type LeaseClaimResult } from '../machines/leaderElection.machine';

const isTimer = (event: EventObject) => event.type.startsWith('xstate.after.');

/**
 * A real actor on a simulated clock that knows when each of its pending timers is due: the
 * scheduled events are read from the actor's system after every step (a new entry, also
 * one re-armed by re-entering a state, is due `delay` after the clock time it appeared at).
 * `advanceTo` fires timers one due time at a time, so each fires with the clock reading
 * exactly its due time (as `SimulatedClock.increment` alone would not: it jumps first).
 */
class Driver {
  readonly actor;
  private due = new Map<object, { readonly type: string; readonly at: number }>();

  constructor(
    logic: AnyActorLogic,
    readonly clock: SimulatedClock,
    input?: unknown,
  ) {
    this.actor = createActor(logic, { clock, ...(input !== undefined && { input }) });
    this.actor.start();
    this.observe();
  }

  get snapshot(): AnyMachineSnapshot {
    return this.actor.getSnapshot() as AnyMachineSnapshot;
  }

  observe(): void {
    const next = new Map<object, { type: string; at: number }>();
    for (const scheduled of Object.values(this.actor.system.getSnapshot()._scheduledEvents)) {
      next.set(scheduled, this.due.get(scheduled) ?? { type: scheduled.event.type, at: this.clock.now() + scheduled.delay });
    }
    this.due = next;
  }

  /** Pending timers, soonest first. */
  timers(): { type: string; at: number }[] {
    this.observe();
    return [...this.due.values()].sort((a, b) => a.at - b.at);
  }

  send(event: { readonly type: string; readonly [key: string]: unknown }): void {
    this.actor.send(event);
    this.observe();
  }

  advanceTo(time: number): void {
    for (let fired = 0; ; fired++) {
      if (fired > 10_000) throw new Error('timers keep firing without the clock moving');
      const next = this.timers()[0];
      if (next === undefined || next.at > time) break;
      this.clock.set(Math.max(next.at, this.clock.now()));
    }
    if (time > this.clock.now()) this.clock.set(time);
    this.observe();
  }
}

type Replay = { readonly outcome: 'replayed' } | { readonly outcome: 'unrealizable'; readonly step: number };

/**
 * Replays a path on a driven actor. A timer event advances the clock to that timer's due
 * time; `timeOf` gives an event's own clock time (the clock is advanced to it first). A
 * path that a real clock cannot produce (another timer is due first or at the same time,
 * or time would go backwards) is reported unrealizable at that step rather than replayed.
 * `deliver` handles events that come from invoked actors (settle a promise) instead of sending them.
 * The actor is stopped at the end unless `keepActor`.
 */
async function replay(
  driver: Driver,
  path: Path,
  options: { deliver?: (event: EventObject) => boolean; timeOf?: (event: EventObject) => number | undefined; keepActor?: boolean } = {},
): Promise<Replay> {
  const same = (s: AnyMachineSnapshot) => ({ value: s.value, context: s.context, status: s.status });
  try {
    expect(same(driver.snapshot)).toEqual(same(path.steps[0]!.state));
    for (let i = 1; i < path.steps.length; i++) {
      const { event, state } = path.steps[i]!;
      const timers = driver.timers();
      if (isTimer(event)) {
        // The model offers only the timers of its active states: the actor must have armed it.
        const mine = timers.filter((t) => t.type === event.type);
        expect(mine).toHaveLength(1);
        const at = mine[0]!.at;
        if (timers.some((t) => t.type !== event.type && t.at <= at)) return { outcome: 'unrealizable', step: i };
        driver.advanceTo(at);
      } else {
        const at = options.timeOf?.(event);
        if (at !== undefined) {
          if (at < driver.clock.now() || timers.some((t) => t.at <= at)) return { outcome: 'unrealizable', step: i };
          driver.advanceTo(at);
        }
        if (!options.deliver?.(event)) driver.send(event);
      }
      await flush();
      driver.observe();
      expect(same(driver.snapshot)).toEqual(same(state));
    }
    return { outcome: 'replayed' };
  } finally {
    if (!options.keepActor) driver.actor.stop();
  }
}

/** Promise actors answered by the test, keyed by their invoke id (each started one records the clock time it started at). */
function deferredActors(clock?: SimulatedClock) {
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const started: string[] = [];
  const startedAt: [string, number][] = [];
  const logicOf = <T>() =>
    fromPromise<T>(
      ({ self }) =>
        new Promise<T>((resolve, reject) => {
          started.push(self.id);
          startedAt.push([self.id, clock?.now() ?? 0]);
          pending.set(self.id, { resolve: resolve as (v: unknown) => void, reject });
        }),
    );
  const answer = (id: string, outcome: { output: unknown } | { error: unknown }) => {
    const settle = pending.get(id);
    if (!settle) throw new Error(`no '${id}' actor is waiting for an answer`);
    pending.delete(id);
    if ('output' in outcome) settle.resolve(outcome.output);
    else settle.reject(outcome.error);
  };
  return { logicOf, pending, started, startedAt, answer };
}

const remaining = (clock: SimulatedClock, at: number) => Math.max(0, at - clock.now());

// ---------------------------------------------------------------------------------------

describe('model-based: host liveness machine', () => {
  const input: HostLivenessInput = { hostId: 'h', at: 0, timeoutMs: 1000 };
  // Heartbeats arrive every 400 ms of the orchestrator's clock (the k-th extra one at
  // 400·k, so time only moves forward), some with a shorter timeout that may not move the
  // deadline; three extra heartbeats at most keep the model finite.
  const events = (s: AnyMachineSnapshot): HostLivenessEvent[] =>
    withTimers<HostLivenessEvent>(s, [
      ...(s.context.heartbeats <= 3 ? [1000, 300].map((timeoutMs) => ({ type: 'HEARTBEAT_RECEIVED' as const, at: 400 * s.context.heartbeats, timeoutMs })) : []),
      { type: 'HOST_LEFT' },
    ]);

  const provided = (clock: SimulatedClock, reports: { hostId: string; reason: string; at: number }[]) =>
    hostLivenessMachine.provide({
      actions: { reportHostLost: (_, params) => reports.push({ ...params, at: clock.now() }) },
      // As the orchestrator provides it: the time left to the absolute deadline.
      delays: { hostTimeout: ({ context }) => remaining(clock, context.expiresAt) },
    });

  test('every shortest path replays; reportHostLost runs once exactly on paths ending lost or left, at the deadline', async () => {
    const paths = getShortestPaths(hostLivenessMachine, { input, events }) as unknown as Path[];
    expect(paths.length).toBeGreaterThan(15);
    let replayed = 0;
    for (const path of paths) {
      const clock = new SimulatedClock();
      const reports: { hostId: string; reason: string; at: number }[] = [];
      const result = await replay(new Driver(provided(clock, reports), clock, input), path, {
        timeOf: (e) => (e.type === 'HEARTBEAT_RECEIVED' ? (e as Extract<HostLivenessEvent, { type: 'HEARTBEAT_RECEIVED' }>).at : undefined),
      });
      const end = path.steps.at(-1)!;
      if (result.outcome === 'unrealizable') {
        // Only a late heartbeat is unrealizable: the host was lost at its deadline first.
        const { event } = path.steps[result.step]!;
        const before = path.steps[result.step - 1]!.state;
        expect(event.type).toBe('HEARTBEAT_RECEIVED');
        expect((event as unknown as { at: number }).at).toBeGreaterThanOrEqual(before.context.expiresAt);
        continue;
      }
      replayed++;
      if (end.state.value === 'lost') {
        const before = path.steps.at(-2)!.state;
        expect(reports).toEqual([{ hostId: 'h', reason: 'heartbeat_timeout', at: before.context.expiresAt }]);
      } else if (end.state.value === 'left') {
        expect(reports).toEqual([{ hostId: 'h', reason: 'left', at: expect.any(Number) }]);
      } else {
        expect(reports).toEqual([]);
      }
    }
    expect(replayed).toBeGreaterThan(20);
    // The paths cover every state, and deadlines moved by heartbeats and kept by short ones.
    const ends = paths.map((p) => p.steps.at(-1)!.state);
    expect(new Set(ends.map((s) => s.value))).toEqual(new Set(['alive', 'lost', 'left']));
    expect(new Set(ends.filter((s) => s.value === 'lost').map((s) => s.context.expiresAt)).size).toBeGreaterThan(3);
  });

  test('reportHostLost is on exactly the edges into lost or left, over the whole model graph', () => {
    const edges = adjacencyMapToArray(getAdjacencyMap(hostLivenessMachine, { input, events }));
    expect(edges.length).toBeGreaterThan(20);
    for (const { state, event } of edges) {
      const [next, actions] = transition(hostLivenessMachine, state, event);
      const reported = actions.filter((a) => a.type === 'reportHostLost');
      const ends = state.value === 'alive' && (next.value === 'lost' || next.value === 'left');
      expect(reported).toHaveLength(ends ? 1 : 0);
      if (ends) expect(reported[0]!.params).toEqual({ hostId: 'h', reason: next.value === 'lost' ? 'heartbeat_timeout' : 'left' });
    }
  });

  test('a heartbeat before expiry moves the loss to the new deadline; a late heartbeat never revives the host', () => {
    const clock = new SimulatedClock();
    const reports: { hostId: string; reason: string; at: number }[] = [];
    const driver = new Driver(provided(clock, reports), clock, input);
    driver.advanceTo(600);
    driver.send({ type: 'HEARTBEAT_RECEIVED', at: 600, timeoutMs: 1000 });
    expect(driver.snapshot.context.expiresAt).toBe(1600);
    driver.advanceTo(1000); // the first deadline passes
    driver.send({ type: 'HEARTBEAT_RECEIVED', at: 1000, timeoutMs: 100 }); // shorter: keeps 1600
    driver.advanceTo(1599);
    expect(driver.snapshot.value).toBe('alive');
    expect(reports).toEqual([]);
    driver.advanceTo(1600);
    expect(driver.snapshot.value).toBe('lost');
    expect(reports).toEqual([{ hostId: 'h', reason: 'heartbeat_timeout', at: 1600 }]);
    // Late heartbeats (and a goodbye) change nothing: losing a host is final.
    driver.send({ type: 'HEARTBEAT_RECEIVED', at: 1700, timeoutMs: 60_000 });
    driver.send({ type: 'HOST_LEFT' });
    driver.advanceTo(100_000);
    expect(driver.snapshot.value).toBe('lost');
    expect(driver.snapshot.status).toBe('done');
    expect(reports).toHaveLength(1);
    expect(driver.timers()).toEqual([]);
  });

  test('property: lost iff some gap between heartbeats (or after the last) reaches the timeout, at that deadline', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.array(fc.integer({ min: 0, max: 1500 }), { maxLength: 12 }), fc.integer({ min: 0, max: 1500 }), (timeoutMs, gaps, tail) => {
        const clock = new SimulatedClock();
        const reports: { hostId: string; reason: string; at: number }[] = [];
        const driver = new Driver(provided(clock, reports), clock, { hostId: 'h', at: 0, timeoutMs });
        let t = 0;
        for (const gap of gaps) {
          t += gap;
          driver.advanceTo(t);
          driver.send({ type: 'HEARTBEAT_RECEIVED', at: t, timeoutMs });
        }
        driver.advanceTo(t + tail);
        // A heartbeat arriving exactly at the deadline is too late (the timer fires first).
        const all = [...gaps, tail];
        const first = all.findIndex((gap) => gap >= timeoutMs);
        if (first === -1) {
          expect(driver.snapshot.value).toBe('alive');
          expect(driver.snapshot.context.heartbeats).toBe(gaps.length + 1);
          expect(reports).toEqual([]);
        } else {
          const lastBeat = all.slice(0, first).reduce((sum, gap) => sum + gap, 0);
          expect(driver.snapshot.value).toBe('lost');
          expect(driver.snapshot.context.heartbeats).toBe(first + 1);
          expect(reports).toEqual([{ hostId: 'h', reason: 'heartbeat_timeout', at: lastBeat + timeoutMs }]);
        }
        driver.actor.stop();
      }),
      { numRuns: 300 },
    );
  });

  test('property: with per-heartbeat timeouts the deadline is the latest one promised; a shorter timeout never brings it in', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 1500 }), timeoutMs: fc.integer({ min: 1, max: 2000 }) }), { maxLength: 12 }),
        (firstTimeout, beats) => {
          const clock = new SimulatedClock();
          const reports: { hostId: string; reason: string; at: number }[] = [];
          const driver = new Driver(provided(clock, reports), clock, { hostId: 'h', at: 0, timeoutMs: firstTimeout });
          // Reference: the deadline only grows; the host is lost when time reaches it.
          let deadline = firstTimeout;
          let lostAt: number | undefined;
          let t = 0;
          for (const { gap, timeoutMs } of beats) {
            t += gap;
            if (lostAt === undefined && t >= deadline) lostAt = deadline;
            if (lostAt === undefined) deadline = Math.max(deadline, t + timeoutMs);
            driver.advanceTo(t);
            driver.send({ type: 'HEARTBEAT_RECEIVED', at: t, timeoutMs });
          }
          driver.advanceTo(t + 5000);
          lostAt ??= deadline;
          expect(driver.snapshot.value).toBe('lost');
          expect(driver.snapshot.context.expiresAt).toBe(deadline);
          expect(reports).toEqual([{ hostId: 'h', reason: 'heartbeat_timeout', at: lostAt }]);
          driver.actor.stop();
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------

describe('model-based: heartbeat machine', () => {
  const tick = { type: 'xstate.after.heartbeatInterval.heartbeat.beating' } as unknown as { type: 'HOST_STOPPED' };
  const stop = { type: 'HOST_STOPPED' } as const;

  test('every shortest path replays, the interval timer being the one the state arms', async () => {
    const events = (s: AnyMachineSnapshot) => withTimers(s, [stop]);
    const paths = getShortestPaths(heartbeatMachine, { events }) as unknown as Path[];
    expect(paths.map((p) => p.steps.at(-1)!.state.value).sort()).toEqual(['beating', 'stopped']);
    // The timer event the model offers is the one the machine arms.
    expect(withTimers(initialTransition(heartbeatMachine)[0] as AnyMachineSnapshot, [])).toEqual([tick]);
    for (const path of paths) {
      const clock = new SimulatedClock();
      const announce = jest.fn();
      const logic = heartbeatMachine.provide({ actions: { announce }, delays: { heartbeatInterval: 250 } });
      expect(await replay(new Driver(logic, clock), path)).toEqual({ outcome: 'replayed' });
      expect(announce).toHaveBeenCalledTimes(1);
    }
  });

  test('property: n elapsed intervals announce n+1 times, at 0, i, 2i, …; none after HOST_STOPPED', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 20 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 0, max: 100_000 }),
        async (interval, n, fraction, afterStop) => {
          // The model path: n interval timers, then the stop.
          const [path] = getPathsFromEvents(heartbeatMachine, [...Array.from({ length: n }, () => tick), stop]) as unknown as Path[];
          expect(path!.steps).toHaveLength(n + 2);
          const clock = new SimulatedClock();
          const announced: number[] = [];
          const logic = heartbeatMachine.provide({ actions: { announce: () => announced.push(clock.now()) }, delays: { heartbeatInterval: interval } });
          const driver = new Driver(logic, clock);
          // Replay all but the stop, then let part of one more interval pass before stopping.
          const { steps } = path!;
          expect(await replay(driver, { steps: steps.slice(0, -1) }, { keepActor: true })).toEqual({ outcome: 'replayed' });
          driver.advanceTo(n * interval + Math.floor(fraction * interval));
          expect(announced).toEqual(Array.from({ length: n + 1 }, (_, k) => k * interval));
          driver.send(stop);
          expect(driver.snapshot.value).toBe(steps.at(-1)!.state.value);
          driver.advanceTo(clock.now() + afterStop + 10 * interval);
          expect(announced).toHaveLength(n + 1);
          expect(driver.snapshot.status).toBe('done');
          expect(driver.timers()).toEqual([]);
        },
      ),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------

describe('model-based: leader election machine', () => {
  const storeDown = new Error('store down');
  const claimOutcomes = (claimErrors: number, id: 'claim' | 'renew', expiresAt: number): EventObject[] => [
    { type: `xstate.done.actor.${id}`, output: { held: true, expiresAt } } as EventObject,
    { type: `xstate.done.actor.${id}`, output: { held: false, expiresAt: 2000 } } as EventObject,
    // Errors count up in context: two at most keep the model finite.
    ...(claimErrors < 2 ? [{ type: `xstate.error.actor.${id}`, error: storeDown } as EventObject] : []),
  ];
  /** The takeover, a step-down and a release either finish or fail (a takeover's failure is kept in context: once keeps the model finite). */
  const effectOutcomes = (id: 'takeOver' | 'stepDown' | 'release', s: AnyMachineSnapshot): EventObject[] => [
    { type: `xstate.done.actor.${id}` } as EventObject,
    ...(id !== 'takeOver' || s.context.takeoverError === null ? [{ type: `xstate.error.actor.${id}`, error: storeDown } as EventObject] : []),
  ];
  const steppingDown = (s: AnyMachineSnapshot) => s.matches({ elected: { role: 'steppingDown' } }) || s.matches({ deposing: 'steppingDown' });
  const releasing = (s: AnyMachineSnapshot) => s.matches('releasing') || s.matches({ deposing: 'releasing' });
  // The model's events include the invoked actors' outcomes (not in the machine's event type).
  const events = (s: AnyMachineSnapshot): LeaderElectionEvent[] =>
    withTimers(s, [
      ...(s.matches({ follower: 'claiming' }) ? claimOutcomes(s.context.claimErrors, 'claim', 3000) : []),
      ...(s.matches({ elected: { lease: 'renewing' } }) ? claimOutcomes(s.context.claimErrors, 'renew', 4000) : []),
      ...(s.matches({ elected: { role: 'electing' } }) ? effectOutcomes('takeOver', s) : []),
      ...(steppingDown(s) ? effectOutcomes('stepDown', s) : []),
      ...(releasing(s) ? effectOutcomes('release', s) : []),
      { type: 'ELECTION_STOPPED' },
      { type: 'LEADERSHIP_RESIGNED' },
      { type: 'RUNTIME_ENDED' },
    ]) as LeaderElectionEvent[];
  // A final state also remembers how it was reached (from which state, by which event), so
  // that there is a path for every way of being deposed or stopped, not only the shortest.
  const serializeState = (s: AnyMachineSnapshot, event: EventObject | undefined, prev: AnyMachineSnapshot | undefined) =>
    JSON.stringify([s.value, s.context, s.status === 'done' ? [prev?.value, event?.type] : null]);
  const paths = getShortestPaths(leaderElectionMachine, { events, serializeState }) as unknown as Path[];

  /** The pure machine's delays, or clock-aware ones as `src/store/leaderElection.ts` provides them (ttl 3000). */
  const provided = (clock: SimulatedClock, clockAware: boolean) => {
    const effects = deferredActors(clock);
    const logic = leaderElectionMachine.provide({
      /* eslint-disable @typescript-eslint/no-invalid-void-type -- the chart declares these effects `fromPromise<void>` */
      actors: {
        claimLease: effects.logicOf<LeaseClaimResult>(),
        takeOver: effects.logicOf<void>(),
        stepDown: effects.logicOf<void>(),
        releaseLease: effects.logicOf<void>(),
      },
      /* eslint-enable @typescript-eslint/no-invalid-void-type */
      ...(clockAware && {
        delays: {
          untilLeaseExpiry: ({ context }) => Math.min(600, remaining(clock, context.expiresAt) + 5),
          claimRetry: 300,
          renewInterval: 1000,
          ownLeaseExpiry: ({ context }) => remaining(clock, context.expiresAt),
          stopGrace: 3000,
        },
      }),
    });
    const deliver = (event: EventObject) => {
      const match = /^xstate\.(done|error)\.actor\.(claim|renew|takeOver|stepDown|release)$/.exec(event.type);
      if (!match) return false;
      const e = event as unknown as { output: unknown; error: unknown };
      effects.answer(match[2]!, match[1] === 'done' ? { output: e.output } : { error: e.error });
      return true;
    };
    return { logic, effects, deliver };
  };
  /** Settles the takeover (and lets the chart take it in). */
  const tookOver = async (effects: ReturnType<typeof deferredActors>) => {
    effects.answer('takeOver', { output: undefined });
    await flush();
  };

  const inElected = (s: AnyMachineSnapshot) => s.matches('elected');
  const count = (effects: ReturnType<typeof deferredActors>, id: string) => effects.started.filter((s) => s === id).length;

  test.each([
    ['pure delays', false],
    ['clock-aware delays (as src provides them)', true],
  ])('every shortest path replays (%s) with the injected effects started as the model says', async (_, clockAware) => {
    expect(paths.length).toBeGreaterThan(60);
    let replayed = 0;
    let renewedThenLeading = 0;
    const reached = new Set<string>();
    for (const path of paths) {
      const clock = new SimulatedClock();
      const { logic, effects, deliver } = provided(clock, clockAware);
      const result = await replay(new Driver(logic, clock), path, { deliver });
      if (result.outcome === 'unrealizable') {
        // Only a timer can lose the race (another one is due first or at the same instant).
        expect(isTimer(path.steps[result.step]!.event)).toBe(true);
        continue;
      }
      replayed++;
      const states = path.steps.map((s) => s.state);
      const end = states.at(-1)!;
      reached.add(JSON.stringify(end.value));
      // One takeover on a path that is elected, however many renewals follow.
      expect(count(effects, 'takeOver')).toBe(states.some(inElected) ? 1 : 0);
      if (path.steps.some((s, i) => i > 0 && s.event.type === 'xstate.done.actor.renew' && s.state.matches({ elected: { lease: 'holding', role: 'leading' } }))) {
        renewedThenLeading++;
      }
      // At most one step-down and one release, only after being elected; deposed only from elected.
      expect(count(effects, 'stepDown')).toBe(states.some(steppingDown) ? 1 : 0);
      expect(count(effects, 'release')).toBe(states.some(releasing) ? 1 : 0);
      if (states.some(steppingDown) || states.some(releasing)) expect(states.some(inElected)).toBe(true);
      if (end.value === 'deposed') expect(states.some(inElected)).toBe(true);
      // The lease is claimed once per entry into claiming or renewing.
      const claimsStarted = path.steps.filter(
        (s, i) =>
          (s.state.matches({ follower: 'claiming' }) && (i === 0 || !states[i - 1]!.matches({ follower: 'claiming' }))) ||
          (s.state.matches({ elected: { lease: 'renewing' } }) && (i === 0 || !states[i - 1]!.matches({ elected: { lease: 'renewing' } }))),
      ).length;
      expect(count(effects, 'claim') + count(effects, 'renew')).toBe(claimsStarted);
    }
    expect(replayed).toBeGreaterThan(60);
    expect(renewedThenLeading).toBeGreaterThan(0);
    const reachedValues = [...reached];
    for (const expected of [
      '"deposed"',
      '"stopped"',
      '"releasing"',
      JSON.stringify({ deposing: 'steppingDown' }),
      JSON.stringify({ deposing: 'releasing' }),
      JSON.stringify({ elected: { lease: 'holding', role: 'leading' } }),
      JSON.stringify({ elected: { lease: 'renewing', role: 'leading' } }),
      JSON.stringify({ elected: { lease: 'holding', role: { electing: 'abandoned' } } }),
      ...['backingOff', 'claiming', 'waiting'].map((n) => JSON.stringify({ follower: n })),
    ]) {
      expect(reachedValues).toContain(expected);
    }
  });

  test('over the whole model graph: deposed only once elected; a stop steps a leader down before the lease goes; the runtime ending starts no step-down', () => {
    const edges = adjacencyMapToArray(getAdjacencyMap(leaderElectionMachine, { events, serializeState }));
    expect(edges.length).toBeGreaterThan(150);
    let intoDeposing = 0;
    let lostWhileSteppingDown = 0;
    for (const { state, event } of edges) {
      const [next] = transition(leaderElectionMachine, state, event);
      const entersDeposing = next.matches('deposing') && !state.matches('deposing');
      if (entersDeposing) {
        intoDeposing++;
        expect(inElected(state)).toBe(true); // a follower is never deposed
      }
      // A step-down or a release starts only from an elected candidate (or one already ending).
      if (steppingDown(next) && !steppingDown(state)) expect(inElected(state)).toBe(true);
      if (releasing(next) && !releasing(state)) expect(inElected(state) || state.matches('deposing')).toBe(true);
      // The lease is released only after what was led stepped down, except when the runtime ended (it stopped everything).
      if (next.matches('releasing') && !state.matches('releasing') && event.type !== 'RUNTIME_ENDED') {
        expect(state.matches({ elected: { role: 'steppingDown' } })).toBe(true);
      }
      if (event.type === 'RUNTIME_ENDED') expect(steppingDown(next) && !steppingDown(state)).toBe(false);
      if (event.type === 'ELECTION_STOPPED') {
        if (state.matches('follower')) expect(next.value).toBe('stopped');
        if (state.matches({ elected: { role: 'leading' } })) expect(next.matches({ elected: { role: 'steppingDown' } })).toBe(true);
        if (state.matches({ elected: { role: { electing: 'wanted' } } })) expect(next.matches({ elected: { role: { electing: 'abandoned' } } })).toBe(true);
      }
      if (state.matches({ elected: { role: 'steppingDown' } }) && next.matches({ elected: { lease: 'lost' } })) {
        lostWhileSteppingDown++;
        expect(next.matches({ elected: { role: 'steppingDown' } })).toBe(true); // it finishes stepping down
      }
    }
    expect(intoDeposing).toBeGreaterThan(10);
    expect(lostWhileSteppingDown).toBeGreaterThan(0);
  });

  test('a stop during the takeover waits for it, then steps down what it brought up, then releases the lease', async () => {
    const clock = new SimulatedClock();
    const { logic, effects } = provided(clock, true);
    const driver = new Driver(logic, clock);
    effects.answer('claim', { output: { held: true, expiresAt: 3000 } });
    await flush();
    driver.send({ type: 'ELECTION_STOPPED' });
    expect(driver.snapshot.value).toEqual({ elected: { lease: 'holding', role: { electing: 'abandoned' } } });
    expect(effects.started).toEqual(['claim', 'takeOver']);
    await tookOver(effects);
    expect(driver.snapshot.matches({ elected: { role: 'steppingDown' } })).toBe(true);
    effects.answer('stepDown', { output: undefined });
    await flush();
    expect(driver.snapshot.value).toBe('releasing');
    effects.answer('release', { output: undefined });
    await flush();
    expect(driver.snapshot.value).toBe('stopped');
    expect(effects.started).toEqual(['claim', 'takeOver', 'stepDown', 'release']);
  });

  test('a takeover that never ends holds a stop for at most stopGrace (a lease period), the lease renewed meanwhile; then the candidate steps down', async () => {
    const clock = new SimulatedClock();
    const { logic, effects } = provided(clock, true);
    const driver = new Driver(logic, clock);
    effects.answer('claim', { output: { held: true, expiresAt: 3000 } });
    await flush();
    driver.send({ type: 'ELECTION_STOPPED' });
    driver.advanceTo(1000);
    effects.answer('renew', { output: { held: true, expiresAt: 4000 } });
    await flush();
    driver.advanceTo(2999);
    expect(driver.snapshot.matches({ elected: { role: { electing: 'abandoned' } } })).toBe(true);
    driver.advanceTo(3000);
    expect(driver.snapshot.matches({ elected: { role: 'steppingDown' } })).toBe(true);
    expect(effects.startedAt.filter(([id]) => id === 'stepDown')).toEqual([['stepDown', 3000]]);
  });

  test('a failed takeover deposes the candidate and keeps what was thrown; a resigned leader steps down and releases', async () => {
    const clock = new SimulatedClock();
    const { logic, effects } = provided(clock, true);
    const driver = new Driver(logic, clock);
    effects.answer('claim', { output: { held: true, expiresAt: 3000 } });
    await flush();
    effects.answer('takeOver', { error: null });
    await flush();
    expect(driver.snapshot.value).toEqual({ deposing: 'steppingDown' });
    expect(driver.snapshot.context.takeoverError).toEqual({ thrown: null });

    const second = provided(clock, true);
    const resigned = new Driver(second.logic, clock);
    second.effects.answer('claim', { output: { held: true, expiresAt: clock.now() + 3000 } });
    await flush();
    await tookOver(second.effects);
    resigned.send({ type: 'LEADERSHIP_RESIGNED' });
    expect(resigned.snapshot.value).toEqual({ deposing: 'steppingDown' });
    second.effects.answer('stepDown', { output: undefined });
    await flush();
    second.effects.answer('release', { output: undefined });
    await flush();
    expect(resigned.snapshot.value).toBe('deposed');
    expect(resigned.snapshot.context.takeoverError).toBeNull();
  });

  test('a failed renewal does not extend the lease: deposed at the original expiry', async () => {
    const clock = new SimulatedClock();
    const { logic, effects } = provided(clock, true);
    const driver = new Driver(logic, clock);
    effects.answer('claim', { output: { held: true, expiresAt: 3000 } });
    await flush();
    await tookOver(effects);
    const leading = (lease: string) => ({ elected: { lease, role: 'leading' } });
    expect(driver.snapshot.value).toEqual(leading('holding'));
    // The renewal at 1000 fails after 200 ms, the one at 2200 at once (store unreachable) ...
    for (const [at, latency] of [
      [1000, 200],
      [2200, 0],
    ] as const) {
      driver.advanceTo(at);
      expect(driver.snapshot.value).toEqual(leading('renewing'));
      driver.advanceTo(at + latency);
      effects.answer('renew', { error: storeDown });
      await flush();
      driver.observe();
      expect(driver.snapshot.value).toEqual(leading('holding'));
      expect(driver.snapshot.context.expiresAt).toBe(3000);
    }
    // ... so the next renewal would be at 3200, past the lease: deposed at 3000, the
    // original expiry (a deadline re-armed from the error would be 5200 or later).
    driver.advanceTo(2999);
    expect(driver.snapshot.value).toEqual(leading('holding'));
    driver.advanceTo(3000);
    expect(driver.snapshot.value).toEqual({ deposing: 'steppingDown' });
    expect(effects.startedAt.filter(([id]) => id === 'stepDown')).toEqual([['stepDown', 3000]]);
    expect(driver.snapshot.context).toEqual({ expiresAt: 3000, claimErrors: 2, lastError: 'store down', takeoverError: null });
    expect(effects.started).toEqual(['claim', 'takeOver', 'renew', 'renew', 'stepDown']);
  });

  test('property: random renewal outcomes and latencies — deposed exactly when the last lease obtained runs out', async () => {
    const ttl = 3000;
    const renewEvery = 1000;
    const outcome = fc.record({ kind: fc.constantFrom('ok', 'error', 'lost'), latency: fc.integer({ min: 0, max: 2 * ttl }) });
    await fc.assert(
      fc.asyncProperty(fc.array(outcome, { maxLength: 8 }), async (outcomes) => {
        // Reference: renew `renewEvery` after (re-)entering holding; an error keeps the old
        // expiry, a refusal deposes at once, and nothing happens after the expiry.
        let expiresAt = ttl;
        let holdingAt = 0;
        let deposedAt: number | undefined;
        let answered = 0;
        for (const { kind, latency } of outcomes) {
          const renewAt = holdingAt + renewEvery;
          const answerAt = renewAt + latency;
          if (expiresAt <= renewAt || expiresAt <= answerAt) break;
          answered++;
          if (kind === 'lost') {
            deposedAt = answerAt;
            break;
          }
          if (kind === 'ok') expiresAt = answerAt + ttl;
          holdingAt = answerAt;
        }
        deposedAt ??= expiresAt;

        const clock = new SimulatedClock();
        const { logic, effects } = provided(clock, true);
        const driver = new Driver(logic, clock);
        effects.answer('claim', { output: { held: true, expiresAt: ttl } });
        await flush();
        await tookOver(effects);
        let delivered = 0;
        const elected = () => driver.snapshot.matches('elected');
        for (const { kind, latency } of outcomes) {
          // Let the timers run until the leader asks to renew (or is deposed).
          while (elected() && !effects.pending.has('renew')) driver.advanceTo(driver.timers()[0]!.at);
          if (!elected()) break;
          driver.advanceTo(clock.now() + latency);
          if (!elected()) break;
          const now = clock.now();
          effects.answer('renew', kind === 'error' ? { error: storeDown } : { output: { held: kind === 'ok', expiresAt: now + ttl } });
          delivered++;
          await flush();
          driver.observe();
        }
        driver.advanceTo(clock.now() + 10 * ttl);
        expect(driver.snapshot.value).toEqual({ deposing: 'steppingDown' });
        expect(effects.startedAt.filter(([id]) => id === 'stepDown')).toEqual([['stepDown', deposedAt]]);
        expect(delivered).toBe(answered);
        expect(count(effects, 'takeOver')).toBe(1);
        expect(count(effects, 'release')).toBe(0);
        effects.answer('stepDown', { output: undefined });
        await flush();
        effects.answer('release', { output: undefined });
        await flush();
        expect(driver.snapshot.value).toBe('deposed');
        driver.actor.stop();
      }),
      { numRuns: 150 },
    );
  });

  test('property: a follower, however its claims fail or are refused, never takes over, steps down or releases; a stop ends it', async () => {
    const attempt = fc.record({ kind: fc.constantFrom('refused', 'error'), latency: fc.integer({ min: 0, max: 5000 }), holderExpiresIn: fc.integer({ min: -1000, max: 5000 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(attempt, { maxLength: 10 }), fc.integer({ min: 0, max: 5000 }), async (attempts, stopAfter) => {
        const clock = new SimulatedClock();
        const { logic, effects } = provided(clock, true);
        const driver = new Driver(logic, clock);
        for (const { kind, latency, holderExpiresIn } of attempts) {
          while (!effects.pending.has('claim')) driver.advanceTo(driver.timers()[0]!.at);
          driver.advanceTo(clock.now() + latency);
          effects.answer('claim', kind === 'error' ? { error: storeDown } : { output: { held: false, expiresAt: clock.now() + holderExpiresIn } });
          await flush();
          driver.observe();
          expect(driver.snapshot.matches('follower')).toBe(true);
        }
        driver.advanceTo(clock.now() + stopAfter);
        driver.send({ type: 'ELECTION_STOPPED' });
        expect(driver.snapshot.value).toBe('stopped');
        expect(driver.snapshot.context.claimErrors).toBe(attempts.filter((a) => a.kind === 'error').length);
        expect(effects.started.filter((id) => id !== 'claim')).toEqual([]);
        expect(driver.timers()).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
