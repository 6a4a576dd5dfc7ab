import { SimulatedClock } from 'xstate';
import { createNeuroFlux, type ConflictEvent, type NeuroFlux } from '../src';
import { MAX_BACKOFF_MS, retryBackoffMs } from '../machines/task.machine';
import { MAX_DELAY_MS, MAX_TIMER_MS, systemClock, withLongTimers } from '../src/kernel/clock';
import { cleanupAfterEach } from './support/cleanup';
import { signalConflict } from './support/conflictFixtures';
import { settle } from './support/settle';

const DAY_MS = 86_400_000;
const cleanup = cleanupAfterEach();

/** Moves a simulated clock by `ms` in steps of a day, letting promise chains run in between. */
async function advanceDays(clock: SimulatedClock, days: number): Promise<void> {
  for (let d = 0; d < days; d++) {
    clock.increment(DAY_MS);
    await settle(2);
  }
}

async function runtime(): Promise<{ nf: NeuroFlux; clock: SimulatedClock }> {
  const clock = new SimulatedClock();
  const nf = cleanup.add(createNeuroFlux({ clock }));
  await nf.start();
  return { nf, clock };
}

describe('withLongTimers', () => {
  it('fires a delay beyond a host timer at its deadline, not at the host limit', () => {
    const clock = new SimulatedClock();
    const long = withLongTimers(clock);
    const fired: number[] = [];
    long.setTimeout(() => fired.push(clock.now()), 30 * DAY_MS);
    clock.increment(MAX_TIMER_MS);
    expect(fired).toEqual([]);
    clock.increment(30 * DAY_MS - MAX_TIMER_MS - 1);
    expect(fired).toEqual([]);
    clock.increment(1);
    expect(fired).toEqual([30 * DAY_MS]);
  });

  it('fires once when one increment passes the whole delay', () => {
    const clock = new SimulatedClock();
    const fired: number[] = [];
    withLongTimers(clock).setTimeout(() => fired.push(clock.now()), 60 * DAY_MS);
    clock.increment(90 * DAY_MS);
    expect(fired).toEqual([90 * DAY_MS]);
    clock.increment(90 * DAY_MS);
    expect(fired).toHaveLength(1);
  });

  it('clearTimeout cancels a long timer after it has been re-armed', () => {
    const clock = new SimulatedClock();
    const long = withLongTimers(clock);
    let fired = false;
    const id = long.setTimeout(() => (fired = true), 40 * DAY_MS);
    clock.increment(26 * DAY_MS); // past the first step: the timer was re-armed
    long.clearTimeout(id);
    clock.increment(20 * DAY_MS);
    expect(fired).toBe(false);
  });

  it('the wall clock re-arms too (a host timer of 30 days would fire at once)', () => {
    jest.useFakeTimers();
    try {
      let fired = false;
      systemClock.setTimeout(() => (fired = true), 30 * DAY_MS);
      jest.advanceTimersByTime(25 * DAY_MS);
      expect(fired).toBe(false);
      jest.advanceTimersByTime(5 * DAY_MS);
      expect(fired).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('passes short delays through and wraps a clock once', () => {
    const clock = new SimulatedClock();
    const long = withLongTimers(clock);
    expect(withLongTimers(long)).toBe(long);
    let fired = false;
    long.setTimeout(() => (fired = true), 1000);
    clock.increment(1000);
    expect(fired).toBe(true);
  });
});

describe('runtime timers longer than 24.8 days', () => {
  it('a conflict with a 30-day deadline is still open at 25 days and escalates at 30', async () => {
    const { nf, clock } = await runtime();
    const events: ConflictEvent[] = [];
    nf.conflicts.events$.subscribe((event) => events.push(event));
    nf.conflicts.reportConflict(signalConflict({ involvedAgents: ['a', 'b'], resolutionDeadline: 30 * DAY_MS }));
    await advanceDays(clock, 25);
    expect(events.filter((e) => e.type === 'CONFLICT_ESCALATED')).toHaveLength(0);
    await advanceDays(clock, 4);
    expect(events.filter((e) => e.type === 'CONFLICT_ESCALATED')).toHaveLength(0);
    await advanceDays(clock, 1);
    expect(events.filter((e) => e.type === 'CONFLICT_ESCALATED')).toHaveLength(1);
  });

  it('a task with a 40-day timeout is still running at 25 days and times out at 40', async () => {
    const { nf, clock } = await runtime();
    nf.orchestrator.registerAgent('slow', { capabilities: ['x'], execute: () => new Promise(() => undefined) });
    const { taskId } = nf.orchestrator.submitTask({
      requiredCapabilities: ['x'],
      timeoutSeconds: (40 * DAY_MS) / 1000,
      retryPolicy: { maxRetries: 0 },
    });
    await settle();
    expect(nf.orchestrator.getTaskStatus(taskId)).toBe('running');
    await advanceDays(clock, 39);
    expect(nf.orchestrator.getTaskStatus(taskId)).toBe('running');
    await advanceDays(clock, 1);
    expect(nf.orchestrator.getTaskStatus(taskId)).toBe('timeout');
  });
});

describe('a retry backoff series that overflows', () => {
  it('is capped at MAX_DELAY_MS, the runtime’s longest delay', () => {
    expect(MAX_BACKOFF_MS).toBe(MAX_DELAY_MS);
    expect(retryBackoffMs(1000, 2, 3)).toBe(4000);
    expect(retryBackoffMs(1000, 1e308, 3)).toBe(MAX_DELAY_MS);
    // 0 × Infinity is NaN: a zero initial delay stays zero whatever the power.
    expect(retryBackoffMs(0, 1e200, 3)).toBe(0);
  });

  it('gives a record whose retryAt is the time the retry is armed for, finite', async () => {
    const { nf, clock } = await runtime();
    nf.orchestrator.registerAgent('flaky', { capabilities: ['x'], execute: () => Promise.reject(new Error('no')) });
    const { taskId } = nf.orchestrator.submitTask({ requiredCapabilities: ['x'], retryPolicy: { maxRetries: 3, backoffFactor: 1e308, initialDelay: 0.001 } });
    await settle();
    clock.increment(1); // the first backoff: 1 ms
    await settle();
    const record = nf.orchestrator.getTask(taskId);
    expect(record).toMatchObject({ state: 'retrying', retryCount: 2 });
    // Before the cap it read 1e+308: a time no timer was armed for.
    expect(record?.retryAt).toBe(clock.now() + MAX_DELAY_MS);
    expect(JSON.parse(JSON.stringify(record)).retryAt).toBe(clock.now() + MAX_DELAY_MS);
  });

  it('with a zero initial delay keeps retryAt a number past the overflow (0 × Infinity read NaN, kept as null in JSON)', async () => {
    const { nf, clock } = await runtime();
    nf.orchestrator.registerAgent('flaky', { capabilities: ['x'], execute: () => Promise.reject(new Error('no')) });
    const { taskId } = nf.orchestrator.submitTask({ requiredCapabilities: ['x'], retryPolicy: { maxRetries: 4, backoffFactor: 1e200, initialDelay: 0 } });
    const retryAts: (number | null)[] = [];
    for (let round = 0; round < 4; round++) {
      await settle();
      const record = nf.orchestrator.getTask(taskId);
      expect(record?.state).toBe('retrying');
      retryAts.push(record?.retryAt ?? null);
      clock.increment(0);
    }
    // The third and fourth backoffs are 0 × (1e200)^2 and 0 × (1e200)^3.
    expect(retryAts).toEqual([clock.now(), clock.now(), clock.now(), clock.now()]);
    expect(await nf.orchestrator.waitForTask(taskId)).toMatchObject({ status: 'failed', retryCount: 4 });
  });
});
