/**
 * Scaling wired to the runtime: the pure capacity rule, the orchestrator's per-capability
 * figures, and the ScalingManager's checks, cooldown and failures on a simulated clock.
 */
import { SimulatedClock } from 'xstate';
import {
  CapacityPolicySchema,
  createNeuroFlux,
  ErrorCode,
  MemoryHostLauncher,
  NeuroFluxError,
  planCapacity,
  ScalingManager,
  type CapabilityFigures,
  type CapacitySample,
  type HostLauncher,
  type LaunchedHost,
  type NeuroFlux,
  type PlannedHost,
  type ScalingEvent,
} from '../src';
import { createInspectionHub } from '../src/observability';

const policy = (overrides = {}) => CapacityPolicySchema.parse(overrides);
const running = (n: number, busy = false): PlannedHost[] => Array.from({ length: n }, (_, i) => ({ hostId: `h${i + 1}`, state: 'running', busy }));
const sample = (figures: Partial<CapacitySample['figures']>, hosts: PlannedHost[], at = 0): CapacitySample => ({
  figures: { waitingTasks: 0, oldestWaitMs: 0, usedSlots: 0, capacity: 2 * hosts.length, ...figures },
  hosts,
  at,
});

/** Lets promises, invoked actors and child processes' callbacks run (no clock time passes). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setImmediate(r));
  if (!condition()) throw new Error(`never happened: ${what}`);
}

/** Moves the clock a second at a time (letting each check finish) until `condition` holds, at most `steps` times. */
async function stepUntil(clock: SimulatedClock, condition: () => boolean, what: string, steps = 30): Promise<void> {
  for (let i = 0; i < steps && !condition(); i++) {
    clock.increment(1000);
    for (let j = 0; j < 50; j++) await new Promise((r) => setImmediate(r));
  }
  if (!condition()) throw new Error(`never happened within ${steps} s of clock: ${what}`);
}

describe('planCapacity: the rule of one capability', () => {
  test('a burst at the threshold scales up by the hosts the waiting tasks need, capped at maxHosts', () => {
    expect(planCapacity(sample({ waitingTasks: 3, oldestWaitMs: 10, usedSlots: 2 }, running(1, true)), policy(), 0)).toMatchObject({ action: 'hold' });
    expect(planCapacity(sample({ waitingTasks: 4, oldestWaitMs: 10, usedSlots: 2 }, running(1, true)), policy(), 0)).toEqual({
      action: 'scale_up',
      from: 1,
      to: 3, // 4 waiting / 2 slots per host
      reason: '4 tasks waiting (burst threshold 4)',
    });
    expect(planCapacity(sample({ waitingTasks: 40, usedSlots: 2 }, running(1, true)), policy({ maxHosts: 6 }), 0)).toMatchObject({ to: 6 });
    expect(planCapacity(sample({ waitingTasks: 40, usedSlots: 8 }, running(4, true)), policy({ maxHosts: 4 }), 0)).toMatchObject({ action: 'hold' });
  });

  test('one task at a time never waits, so never scales up; one task waiting too long does', () => {
    // A single task taken at once by a free slot: nothing waits.
    expect(planCapacity(sample({ waitingTasks: 0, usedSlots: 1 }, running(1, true)), policy(), 0)).toMatchObject({ action: 'hold' });
    expect(planCapacity(sample({ waitingTasks: 1, oldestWaitMs: 1999, usedSlots: 2 }, running(1, true)), policy(), 0)).toMatchObject({ action: 'hold' });
    expect(planCapacity(sample({ waitingTasks: 1, oldestWaitMs: 2000, usedSlots: 2 }, running(1, true)), policy(), 0)).toEqual({
      action: 'scale_up',
      from: 1,
      to: 2,
      reason: 'a task has waited 2000 ms (threshold 2000 ms)',
    });
  });

  test('min and max hosts are kept whatever the figures', () => {
    expect(planCapacity(sample({}, []), policy({ minHosts: 2 }), 0)).toMatchObject({ action: 'scale_up', from: 0, to: 2 });
    expect(planCapacity(sample({ waitingTasks: 100 }, running(5)), policy({ maxHosts: 3 }), 0)).toMatchObject({ action: 'scale_down', from: 5, to: 4, hostIds: ['h5'] });
    expect(planCapacity(sample({}, running(1)), policy({ minHosts: 1 }), 1e9)).toMatchObject({ action: 'hold', calm: true });
    expect(planCapacity(sample({}, []), policy({ minHosts: 0 }), 1e9)).toMatchObject({ action: 'hold' });
  });

  test('scale down: only after the calm lasted scaleDownAfterMs, one idle host at a time, never a busy one', () => {
    const hosts: PlannedHost[] = [
      { hostId: 'a', state: 'running', busy: false },
      { hostId: 'b', state: 'running', busy: true },
      { hostId: 'c', state: 'running', busy: false },
    ];
    expect(planCapacity(sample({ usedSlots: 1, capacity: 6 }, hosts), policy(), 4999)).toMatchObject({ action: 'hold', calm: true });
    expect(planCapacity(sample({ usedSlots: 1, capacity: 6 }, hosts), policy(), 5000)).toMatchObject({ action: 'scale_down', from: 3, to: 2, hostIds: ['c'] });
    const allBusy = hosts.map((h) => ({ ...h, busy: true }));
    expect(planCapacity(sample({ usedSlots: 3, capacity: 6 }, allBusy), policy(), 1e9)).toMatchObject({ action: 'hold' });
    // Busy above the utilisation threshold: not calm.
    expect(planCapacity(sample({ usedSlots: 4, capacity: 6 }, hosts), policy(), 1e9)).toEqual({ action: 'hold', reason: 'within bounds', calm: false });
    // A waiting task is never calm.
    expect(planCapacity(sample({ waitingTasks: 1, oldestWaitMs: 1 }, hosts), policy(), 1e9)).toMatchObject({ action: 'hold', calm: false });
  });

  test('scale down only if the load still fits what is left: 2 hosts at 50 % stay (else 1 full host, a wait, up again)', () => {
    const two: PlannedHost[] = [
      { hostId: 'a', state: 'running', busy: true },
      { hostId: 'b', state: 'running', busy: false },
    ];
    expect(planCapacity(sample({ usedSlots: 2, capacity: 4 }, two), policy(), 1e9)).toMatchObject({ action: 'hold', calm: true });
    expect(planCapacity(sample({ usedSlots: 1, capacity: 4 }, two), policy(), 1e9)).toMatchObject({ action: 'scale_down', from: 2, to: 1, hostIds: ['b'] });
    // With slotsPerHost given, the capacity left is judged with it.
    expect(planCapacity(sample({ usedSlots: 3, capacity: 8 }, two), policy({ slotsPerHost: 4 }), 1e9)).toMatchObject({ action: 'hold', calm: true });
    expect(planCapacity(sample({ usedSlots: 3, capacity: 8 }, two), policy({ slotsPerHost: 2 }), 1e9)).toMatchObject({ action: 'scale_down' });
  });

  test('hosts starting count (no second launch for the same burst); hosts stopping do not', () => {
    const hosts: PlannedHost[] = [
      { hostId: 'a', state: 'running', busy: true },
      { hostId: 'b', state: 'starting', busy: false },
      { hostId: 'c', state: 'stopping', busy: false },
    ];
    expect(planCapacity(sample({ waitingTasks: 4, usedSlots: 2, capacity: 2 }, hosts), policy(), 0)).toMatchObject({ action: 'scale_up', from: 2, to: 4 });
    // The starting host is no scale-down candidate.
    expect(planCapacity(sample({ usedSlots: 0, capacity: 2 }, hosts), policy(), 1e9)).toMatchObject({ action: 'hold' });
  });

  test.each([
    ['NaN waiting tasks', { waitingTasks: Number.NaN }, 'waitingTasks'],
    ['negative used slots', { usedSlots: -1 }, 'usedSlots'],
    ['infinite wait', { oldestWaitMs: Number.POSITIVE_INFINITY }, 'oldestWaitMs'],
    ['a string capacity', { capacity: '4' as unknown as number }, 'capacity'],
  ])('hostile figures (%s) decide nothing', (_what, figures, field) => {
    const plan = planCapacity(sample(figures, running(2)), policy(), 1e9);
    expect(plan).toEqual({ action: 'hold', reason: `figures refused: ${field} is not a finite non-negative number`, calm: false });
  });

  test('huge figures are capped, and figures that are not an object are refused', () => {
    expect(planCapacity(sample({ waitingTasks: 1e300, oldestWaitMs: 1e300, usedSlots: 2, capacity: 2 }, running(1, true)), policy(), 0)).toMatchObject({
      action: 'scale_up',
      to: 4,
    });
    // A host bringing 1e300 slots covers 1e300 waiting tasks: one more host.
    expect(planCapacity(sample({ waitingTasks: 1e300, usedSlots: 1e300, capacity: 1e300 }, running(1, true)), policy(), 0)).toMatchObject({ to: 2 });
    expect(planCapacity({ figures: null as unknown as CapacitySample['figures'], hosts: [], at: 0 }, policy(), 0)).toMatchObject({ action: 'hold', calm: false });
  });
});

describe('TaskOrchestrator.capabilityFigures', () => {
  test('waiting tasks per capability, the oldest wait, and used slots over capacity', async () => {
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock });
    const finishers: (() => void)[] = [];
    nf.orchestrator.registerAgent('w1', { capabilities: ['compute', 'io'], maxConcurrentTasks: 2, execute: () => new Promise((r) => finishers.push(() => r('ok'))) });
    await nf.start();
    expect(nf.orchestrator.capabilityFigures('compute')).toEqual({ capability: 'compute', waitingTasks: 0, oldestWaitMs: 0, agents: 1, usedSlots: 0, capacity: 2 });
    for (let i = 0; i < 3; i++) nf.orchestrator.submitTask({ taskId: `c${i}`, requiredCapabilities: ['compute'] });
    clock.increment(500);
    nf.orchestrator.submitTask({ taskId: 'both', requiredCapabilities: ['compute', 'io'] });
    await until(() => nf.orchestrator.getStats().runningTasks === 2, 'two tasks running');
    clock.increment(250);
    expect(nf.orchestrator.capabilityFigures('compute')).toEqual({ capability: 'compute', waitingTasks: 2, oldestWaitMs: 750, agents: 1, usedSlots: 2, capacity: 2 });
    expect(nf.orchestrator.capabilityFigures('io')).toEqual({ capability: 'io', waitingTasks: 1, oldestWaitMs: 250, agents: 1, usedSlots: 2, capacity: 2 });
    expect(nf.orchestrator.capabilityFigures('nobody')).toEqual({ capability: 'nobody', waitingTasks: 0, oldestWaitMs: 0, agents: 0, usedSlots: 0, capacity: 0 });
    nf.orchestrator.cancelTask('c2');
    await until(() => nf.orchestrator.capabilityFigures('compute').waitingTasks === 1, 'the cancelled task no longer waits');
    while (nf.orchestrator.getStats().tasksCompleted < 3) {
      finishers.splice(0).forEach((finish) => finish());
      await new Promise((r) => setImmediate(r));
    }
    expect(nf.orchestrator.capabilityFigures('compute')).toMatchObject({ waitingTasks: 0, oldestWaitMs: 0, usedSlots: 0 });
    await nf.stop();
  });

  test('a task of several capabilities counts only while some agent has them all (no gpu agent: compute is not driven up for it)', async () => {
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock });
    nf.orchestrator.registerAgent('cpu', { capabilities: ['compute'], maxConcurrentTasks: 1, execute: () => new Promise(() => undefined) });
    await nf.start();
    nf.orchestrator.capabilityFigures('compute');
    nf.orchestrator.submitTask({ taskId: 'busy', requiredCapabilities: ['compute'] });
    nf.orchestrator.submitTask({ taskId: 'gpu-job', requiredCapabilities: ['compute', 'gpu'] });
    await until(() => nf.orchestrator.getStats().runningTasks === 1, 'the compute task running');
    clock.increment(60_000);
    expect(nf.orchestrator.capabilityFigures('compute')).toMatchObject({ waitingTasks: 0, oldestWaitMs: 0 });
    expect(nf.orchestrator.capabilityFigures('gpu')).toMatchObject({ waitingTasks: 0, agents: 0 });
    // An agent with both, busy: now the task waits for agents like it, under each capability.
    nf.orchestrator.registerAgent('both', { capabilities: ['compute', 'gpu'], maxConcurrentTasks: 1, execute: () => new Promise(() => undefined) });
    nf.orchestrator.submitTask({ taskId: 'gpu-2', requiredCapabilities: ['gpu', 'compute'] });
    await until(() => nf.orchestrator.getStats().runningTasks === 2, 'one gpu task running');
    clock.increment(1000);
    expect(nf.orchestrator.capabilityFigures('compute')).toMatchObject({ waitingTasks: 1 });
    expect(nf.orchestrator.capabilityFigures('gpu')).toMatchObject({ waitingTasks: 1 });
    await nf.stop();
  });

  test('waiting tasks are counted from the first capabilityFigures() call on; those queued before count from then', async () => {
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock });
    await nf.start();
    for (let i = 0; i < 3; i++) nf.orchestrator.submitTask({ taskId: `q${i}`, requiredCapabilities: ['compute'] });
    await until(() => ['q0', 'q1', 'q2'].every((id) => nf.orchestrator.getTask(id)?.state === 'queued'), 'three tasks queued');
    clock.increment(5000);
    expect(nf.orchestrator.capabilityFigures('compute')).toMatchObject({ waitingTasks: 3, oldestWaitMs: 0 });
    clock.increment(700);
    nf.orchestrator.submitTask({ taskId: 'later', requiredCapabilities: ['compute'] });
    nf.orchestrator.cancelTask('q0');
    await until(() => nf.orchestrator.capabilityFigures('compute').waitingTasks === 3, 'one more, one cancelled');
    expect(nf.orchestrator.capabilityFigures('compute')).toMatchObject({ waitingTasks: 3, oldestWaitMs: 700 });
    await nf.stop();
  });
});

/** A launcher whose hosts are records; `behaviour` decides what start and stop do. */
function recordingLauncher(behaviour: { start?: (capability: string) => Promise<void>; stop?: (hostId: string) => Promise<void> } = {}) {
  const hosts = new Map<string, LaunchedHost>();
  const calls: string[] = [];
  let seq = 0;
  let closed = false;
  const launcher: HostLauncher = {
    async start(capability) {
      calls.push(`start ${capability}`);
      await behaviour.start?.(capability);
      const host: LaunchedHost = { hostId: `h${++seq}`, capability, agentIds: [], state: 'running' };
      hosts.set(host.hostId, host);
      return host;
    },
    async stop(hostId) {
      calls.push(`stop ${hostId}`);
      await behaviour.stop?.(hostId);
      hosts.delete(hostId);
    },
    hosts: () => [...hosts.values()],
    async close() {
      closed = true;
      hosts.clear();
    },
  };
  return { launcher, calls, hosts, isClosed: () => closed };
}

function manager(figures: () => CapabilityFigures, launcher: HostLauncher, overrides: Partial<ConstructorParameters<typeof ScalingManager>[0]> = {}) {
  const clock = new SimulatedClock();
  const events: ScalingEvent[] = [];
  const completed: string[] = [];
  const scaling = new ScalingManager({
    runtime: { orchestrator: { capabilityFigures: () => figures(), getAgent: () => undefined }, clock },
    launcher,
    capabilities: ['compute'],
    figures,
    ...overrides,
  });
  // Completions apart: `events` holds what was decided (or refused, or failed).
  scaling.events$.subscribe((e) => (e.type === 'scaling_completed' ? completed.push(`${e.action} → ${e.hosts}`) : events.push(e)));
  return { clock, events, completed, scaling };
}

const figures = (f: Partial<CapabilityFigures> = {}): CapabilityFigures => ({
  capability: 'compute',
  waitingTasks: 0,
  oldestWaitMs: 0,
  agents: 0,
  usedSlots: 0,
  capacity: 0,
  ...f,
});

describe('ScalingManager on a simulated clock', () => {
  test('checks every interval, starts the minimum, scales a burst up, then holds still for the cooldown', async () => {
    const { launcher, calls } = recordingLauncher();
    let now = figures();
    const { clock, events, completed, scaling } = manager(() => now, launcher, { capabilities: { compute: { minHosts: 1, maxHosts: 3, cooldownMs: 10_000 } } });
    scaling.start();
    clock.increment(999);
    await until(() => true, 'a turn');
    expect(calls).toEqual([]);
    clock.increment(1);
    await until(() => calls.length === 1, 'the minimum host');
    await until(() => scaling.stateOf('compute') === 'coolingDown', 'cooling down');
    expect(events).toEqual([expect.objectContaining({ type: 'scale_up', capability: 'compute', from: 0, to: 1, reason: 'below the minimum of 1 hosts', hostIds: [], at: 1000 })]);
    now = figures({ waitingTasks: 50, oldestWaitMs: 1, agents: 1, usedSlots: 2, capacity: 2 });
    clock.increment(9999); // still cooling down: no check
    await until(() => true, 'a turn');
    expect(calls).toHaveLength(1);
    clock.increment(1); // cooldown over: watching again
    clock.increment(1000);
    await until(() => calls.length === 3, 'two more hosts');
    expect(events[1]).toMatchObject({ type: 'scale_up', from: 1, to: 3, reason: '50 tasks waiting (burst threshold 4)', figures: now });
    await until(() => completed.length === 2, 'the second scale-up completed');
    expect(completed).toEqual(['scale_up → 1', 'scale_up → 3']);
    await scaling.stop();
  });

  test('stop() closes the launcher first: a start that never settles does not hold it up for ever', async () => {
    const { launcher, calls, isClosed } = recordingLauncher({ start: () => new Promise<void>(() => undefined) });
    const { clock, scaling } = manager(() => figures(), launcher, { capabilities: { compute: { minHosts: 1, maxHosts: 3 } } });
    scaling.start();
    clock.increment(1000);
    await until(() => calls.length === 1, 'the start in progress');
    await scaling.stop();
    expect(isClosed()).toBe(true);
  });

  test('back down to the minimum when calm, one idle host per decision', async () => {
    const { launcher, calls } = recordingLauncher();
    const { clock, events, scaling } = manager(() => figures({ capacity: 6 }), launcher, {
      capabilities: { compute: { minHosts: 1, maxHosts: 3, cooldownMs: 0, scaleDownAfterMs: 2000 } },
    });
    for (let i = 0; i < 3; i++) await launcher.start('compute');
    scaling.start();
    await stepUntil(clock, () => calls.length === 5, 'two hosts stopped');
    for (let i = 0; i < 10; i++) clock.increment(1000);
    await until(() => scaling.stateOf('compute') === 'watching', 'watching');
    expect(calls.slice(3)).toEqual(['stop h3', 'stop h2']);
    expect(events.map((e) => (e.type === 'scale_down' ? `${e.from}→${e.to} ${e.hostIds.join()}` : e.type))).toEqual(['3→2 h3', '2→1 h2']);
    await scaling.stop();
  });

  test('a launcher that throws a non-Error is reported, and checking goes on', async () => {
    const thrown = [Symbol('no capacity'), { code: 42 }, 'quota exceeded'];
    const { launcher } = recordingLauncher({
      start: async () => {
        throw thrown.shift();
      },
    });
    const { clock, events, scaling } = manager(() => figures(), launcher, { capabilities: { compute: { minHosts: 1, cooldownMs: 0 } } });
    scaling.start();
    for (let i = 0; i < 3; i++) await stepUntil(clock, () => events.filter((e) => e.type === 'scaling_failed').length === i + 1, `failure ${i + 1}`);
    const failures = events.flatMap((e) => (e.type === 'scaling_failed' ? [e] : []));
    expect(failures.map((f) => f.stage)).toEqual(['scale_up', 'scale_up', 'scale_up']);
    expect(failures[0]?.error).toMatch(/1 of 1 hosts did not start: .*no capacity/);
    expect(failures[1]?.error).toMatch(/did not start: \[object Object\]/);
    expect(failures[2]?.error).toMatch(/quota exceeded/);
    // Not a NeuroFluxError from the launcher: the scaling failure is ERR_HOST_START.
    expect(failures.map((f) => f.code)).toEqual(['ERR_HOST_START', 'ERR_HOST_START', 'ERR_HOST_START']);
    await scaling.stop();
  });

  test("slots per host are read from the launcher's own hosts: other agents of the capability do not shrink a scale-up", async () => {
    const { launcher, hosts, calls } = recordingLauncher();
    hosts.set('mine', { hostId: 'mine', capability: 'compute', agentIds: ['mine-worker'], state: 'running' });
    // 10 slots of capacity, of which our host has 2 (8 belong to agents we did not start).
    const now = figures({ waitingTasks: 6, oldestWaitMs: 1, agents: 2, usedSlots: 10, capacity: 10 });
    const clock = new SimulatedClock();
    const getAgent = (id: string) => (id === 'mine-worker' ? ({ maxConcurrentTasks: 2, load: 2 } as ReturnType<NeuroFlux['orchestrator']['getAgent']>) : undefined);
    const scaling = new ScalingManager({
      runtime: { orchestrator: { capabilityFigures: () => now, getAgent }, clock },
      launcher,
      capabilities: { compute: { minHosts: 1, maxHosts: 8 } },
    });
    const events: ScalingEvent[] = [];
    scaling.events$.subscribe((e) => events.push(e));
    expect(planCapacity(sample({ waitingTasks: 6, usedSlots: 10, capacity: 10 }, running(1, true)), policy({ maxHosts: 8 }), 0)).toMatchObject({ to: 2 }); // inferred: 10 slots a host
    expect(planCapacity({ ...sample({ waitingTasks: 6, usedSlots: 10, capacity: 10 }, running(1, true)), slotsPerHost: 2 }, policy({ maxHosts: 8 }), 0)).toMatchObject({ to: 4 });
    expect(planCapacity({ ...sample({ waitingTasks: 6, usedSlots: 10, capacity: 10 }, running(1, true)), slotsPerHost: Number.NaN }, policy({ maxHosts: 8 }), 0)).toMatchObject({
      to: 2,
    });
    scaling.start();
    await stepUntil(clock, () => calls.length === 3, 'three more hosts');
    expect(events[0]).toMatchObject({ type: 'scale_up', from: 1, to: 4 });
    await scaling.stop();
  });

  test("failed starts back off: the cooldown doubles after each, and is the policy's again after a start succeeds", async () => {
    const startedAt: number[] = [];
    let failures = 3;
    let now: () => number = () => 0;
    const { launcher, hosts } = recordingLauncher({
      start: async () => {
        startedAt.push(now());
        if (failures-- > 0) throw new Error('quota exceeded');
      },
    });
    const { clock, scaling } = manager(() => figures(), launcher, { capabilities: { compute: { minHosts: 1, maxHosts: 2, cooldownMs: 1000 } } });
    now = () => clock.now();
    scaling.start();
    await stepUntil(clock, () => hosts.size === 1, 'a start succeeded', 40);
    hosts.clear(); // the host died: below the minimum again
    await stepUntil(clock, () => startedAt.length === 5, 'a fifth start', 40);
    // Check every 1 s; cooldowns after failures 2 s, 4 s, 8 s; after the success 1 s again.
    expect(startedAt).toEqual([1000, 4000, 9000, 18_000, 20_000]);
    await scaling.stop();
  });

  test("a launcher's own NeuroFluxError keeps its code in the scaling failure", async () => {
    const { launcher } = recordingLauncher({
      start: async () => {
        throw new NeuroFluxError(ErrorCode.POOL_TIMEOUT, 'no machine free in the pool');
      },
    });
    const { clock, events, scaling } = manager(() => figures(), launcher, { capabilities: { compute: { minHosts: 1, cooldownMs: 0 } } });
    scaling.start();
    await stepUntil(clock, () => events.some((e) => e.type === 'scaling_failed'), 'the failed start');
    expect(events.find((e) => e.type === 'scaling_failed')).toMatchObject({
      stage: 'scale_up',
      error: '1 of 1 hosts did not start: no machine free in the pool',
      code: ErrorCode.POOL_TIMEOUT,
    });
    await scaling.stop();
  });

  test('a launcher whose stop rejects with a non-Error, or whose listing throws, is reported too', async () => {
    const { launcher, calls } = recordingLauncher({
      stop: async () => {
        throw 404;
      },
    });
    await launcher.start('compute');
    await launcher.start('compute');
    const { clock, events, scaling } = manager(() => figures({ capacity: 4 }), launcher, { capabilities: { compute: { cooldownMs: 0, scaleDownAfterMs: 0 } } });
    scaling.start();
    await stepUntil(clock, () => events.some((e) => e.type === 'scaling_failed'), 'the failed stop');
    expect(calls).toContain('stop h2');
    expect(events.find((e) => e.type === 'scaling_failed')).toMatchObject({ stage: 'scale_down', error: '1 of 1 hosts did not stop: 404', code: 'ERR_HOST_STOP' });
    const listing = launcher.hosts;
    launcher.hosts = () => {
      throw Object.assign(Object.create(null) as object, { reason: 'no listing' });
    };
    const before = events.length;
    await stepUntil(clock, () => events.slice(before).some((e) => e.type === 'scaling_failed' && e.stage === 'sample'), 'the failed sample');
    launcher.hosts = listing;
    await scaling.stop();
  });

  test('figures that throw or are hostile are reported and decide nothing', async () => {
    const { launcher, calls } = recordingLauncher();
    const feed: (() => CapabilityFigures)[] = [
      () => figures({ waitingTasks: Number.NaN }),
      () => {
        throw 'orchestrator gone';
      },
      () => figures({ waitingTasks: -5 }),
      () => figures({ waitingTasks: Number.MAX_VALUE, oldestWaitMs: Number.MAX_VALUE }),
    ];
    const { clock, events, scaling } = manager(() => (feed.shift() as () => CapabilityFigures)(), launcher, { capabilities: { compute: { minHosts: 0, maxHosts: 2 } } });
    scaling.start();
    for (let i = 0; i < 4; i++) await stepUntil(clock, () => events.length === i + 1, `event ${i + 1}`);
    expect(events.map((e) => e.type)).toEqual(['scaling_figures_refused', 'scaling_failed', 'scaling_figures_refused', 'scale_up']);
    expect(events[0]).toMatchObject({ reason: 'figures refused: waitingTasks is not a finite non-negative number' });
    expect(events[1]).toMatchObject({ stage: 'sample', error: expect.stringMatching(/orchestrator gone/) });
    expect(events[3]).toMatchObject({ from: 0, to: 2 });
    await until(() => calls.length === 2, 'two hosts');
    await scaling.stop();
  });

  test('stop closes the launcher at once, waits for a start in progress, and closes again what it started (no host outlives it)', async () => {
    let release: () => void = () => undefined;
    const { launcher, isClosed, hosts } = recordingLauncher({ start: () => new Promise<void>((r) => (release = r)) });
    const { clock, scaling } = manager(() => figures(), launcher);
    scaling.start();
    clock.increment(1000);
    await until(() => scaling.stateOf('compute') === 'scalingUp', 'scaling up');
    const stopping = scaling.stop();
    await until(() => isClosed(), 'the launcher closed');
    release();
    await stopping;
    expect(isClosed()).toBe(true);
    expect(hosts.size).toBe(0);
  });

  test('bad options are typed errors naming the field', () => {
    const { launcher } = recordingLauncher();
    const runtime = { orchestrator: { capabilityFigures: () => figures(), getAgent: () => undefined }, clock: new SimulatedClock() };
    const make = (o: object) => () => new ScalingManager({ runtime, launcher, capabilities: ['compute'], ...o } as ConstructorParameters<typeof ScalingManager>[0]);
    expect(make({ launcher: { start: () => undefined } })).toThrow(expect.objectContaining({ field: 'launcher' }));
    expect(make({ runtime: {} })).toThrow(expect.objectContaining({ field: 'runtime' }));
    expect(make({ capabilities: [] })).toThrow(expect.objectContaining({ field: 'capabilities' }));
    expect(make({ capabilities: [''] })).toThrow(expect.objectContaining({ field: 'capabilities' }));
    expect(make({ capabilities: { compute: { maxHosts: 0 } } })).toThrow(expect.objectContaining({ field: 'maxHosts' }));
    expect(make({ capabilities: { compute: { minHosts: 5, maxHosts: 2 } } })).toThrow(expect.objectContaining({ field: 'minHosts' }));
    expect(make({ policy: { cooldownMs: Number.NaN } })).toThrow(expect.objectContaining({ field: 'cooldownMs' }));
    expect(make({ intervalMs: -1 })).toThrow(expect.objectContaining({ field: 'intervalMs' }));
    expect(make({ capabilities: { __proto__: { minHosts: 1 } } })).toThrow(expect.objectContaining({ field: 'capabilities' }));
  });
});

describe('ScalingManager on a runtime (default figures from the orchestrator)', () => {
  async function runtimeWithScaling(
    seed: number,
  ): Promise<{ nf: NeuroFlux; clock: SimulatedClock; launcher: MemoryHostLauncher; scaling: ScalingManager; events: ScalingEvent[] }> {
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock, swarm: { seed } });
    const work = () => new Promise<string>((resolve) => clock.setTimeout(() => resolve('done'), 500));
    const launcher = new MemoryHostLauncher({ orchestrator: nf.orchestrator, agents: { compute: { maxConcurrentTasks: 2, execute: work } } });
    const scaling = new ScalingManager({ runtime: nf, launcher, capabilities: { compute: { minHosts: 1, maxHosts: 4, cooldownMs: 2000, scaleDownAfterMs: 2000 } } });
    const events: ScalingEvent[] = [];
    scaling.events$.subscribe((e) => events.push(e));
    await nf.start();
    scaling.start();
    return { nf, clock, launcher, scaling, events };
  }

  async function advance(clock: SimulatedClock, ms: number, each?: () => void): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      clock.increment(100);
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
      each?.();
    }
  }

  test.each([1, 2, 3])('tasks one at a time keep one host (seed %i)', async (seed) => {
    const { nf, clock, launcher, scaling, events } = await runtimeWithScaling(seed);
    await advance(clock, 1000);
    for (let i = 0; i < 10; i++) {
      const { taskId } = nf.orchestrator.submitTask({ requiredCapabilities: ['compute'] });
      const done = nf.orchestrator.waitForTask(taskId);
      await advance(clock, 600);
      expect((await done).status).toBe('completed');
    }
    expect(launcher.hosts()).toHaveLength(1);
    expect(events.map((e) => e.type)).toEqual(['scale_up', 'scaling_completed']);
    await scaling.stop();
    await nf.stop();
  });

  test('a burst scales up to the maximum, every task completes, and calm brings it back to one', async () => {
    const { nf, clock, launcher, scaling, events } = await runtimeWithScaling(7);
    await advance(clock, 1000);
    const burst = Array.from({ length: 40 }, () => nf.orchestrator.submitTask({ requiredCapabilities: ['compute'] }));
    let peak = 0;
    await advance(clock, 30_000, () => (peak = Math.max(peak, launcher.hosts().length)));
    const records = await Promise.all(burst.map((s) => nf.orchestrator.waitForTask(s.taskId)));
    expect(records.every((r) => r.status === 'completed')).toBe(true);
    expect(peak).toBe(4);
    expect(launcher.hosts()).toHaveLength(1);
    const decisions = events.flatMap((e) => (e.type === 'scale_up' || e.type === 'scale_down' ? [`${e.type} ${e.from}→${e.to}`] : []));
    expect(decisions[0]).toBe('scale_up 0→1');
    expect(decisions.at(-1)).toBe('scale_down 2→1');
    expect(events.find((e) => e.type === 'scale_up' && e.from === 1)).toMatchObject({ figures: { capability: 'compute', agents: 1, capacity: 2 } });
    await scaling.stop();
    await nf.stop();
  });
});

describe('ScalingManager in the runtime: inspector and lifecycle', () => {
  test('the scaler is an actor of the runtime (shown by the inspector), its events go on the bus, and stopping the runtime stops the hosts', async () => {
    const hub = createInspectionHub();
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock, inspect: hub.observer });
    const launcher = new MemoryHostLauncher({ orchestrator: nf.orchestrator, agents: { compute: { execute: () => 'done' } } });
    const scaling = new ScalingManager({ runtime: nf, launcher, capabilities: ['compute'] });
    const onBus: { from: string; topic: string; payload: unknown }[] = [];
    nf.bus.messages$.subscribe((m) => m.topic.startsWith('scaling.') && onBus.push({ from: m.senderId, topic: m.topic, payload: m.payload }));
    await nf.start();
    scaling.start();
    await stepUntil(clock, () => scaling.stateOf('compute') === 'coolingDown', 'the minimum host started');
    const scaler = hub.drain().actors.find((a) => a.systemId === 'scaling:compute');
    expect(scaler).toMatchObject({ kind: 'machine', status: 'active', value: 'coolingDown', context: { capability: 'compute', decisions: 1 } });
    expect(onBus.map((m) => [m.from, m.topic])).toEqual([
      ['scaling:compute', 'scaling.scale_up'],
      ['scaling:compute', 'scaling.scaling_completed'],
    ]);
    expect(onBus[0]?.payload).toMatchObject({ type: 'scale_up', from: 0, to: 1, figures: { capability: 'compute', waitingTasks: 0 } });
    expect(launcher.hosts()).toHaveLength(1);
    await nf.stop();
    // The runtime's end stopped scaling, and with it the hosts (no scaling.stop() call).
    await until(() => launcher.hosts().length === 0, 'the hosts stopped with the runtime');
    expect(scaling.stateOf('compute')).toBeUndefined();
    await scaling.stop(); // the same stop, already done
  });
});

describe('createNeuroFlux({ scaling })', () => {
  test('starts scaling with the runtime, and nf.stop() resolves once the launcher closed', async () => {
    const { launcher, calls, isClosed } = recordingLauncher();
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock, scaling: { launcher, capabilities: { compute: { minHosts: 2, maxHosts: 2 } } } });
    expect(nf.scaling?.capabilities.get('compute')).toMatchObject({ minHosts: 2, maxHosts: 2 });
    const events: ScalingEvent[] = [];
    nf.scaling?.events$.subscribe((e) => events.push(e));
    await nf.start();
    await stepUntil(clock, () => calls.length === 2, 'the minimum of two hosts');
    expect(events[0]).toMatchObject({ type: 'scale_up', from: 0, to: 2 });
    await nf.stop();
    expect(isClosed()).toBe(true);
    const plain = createNeuroFlux();
    expect(plain.scaling).toBeUndefined();
    await plain.stop();
  });
});
