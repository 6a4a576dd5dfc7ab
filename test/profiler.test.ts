import { Command } from 'commander';
import { SimulatedClock } from 'xstate';
import { registerProfileCommand } from '../src/cli/profileCommand';
import { createNeuroFlux } from '../src/runtime/createNeuroFlux';
import {
  DEFAULT_BOTTLENECK_THRESHOLDS,
  formatProfileReport,
  identifyBottlenecks,
  measureCommunicationLatency,
  percentile,
  profileSystemPerformance,
  sampleResourceUsage,
  taskPerformance,
} from '../src/observability';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const noWait = async () => undefined;

describe('profiler: communication latency', () => {
  test('measures round trips through the responders mailboxes, without their behaviour seeing the probes', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    const handled: string[] = [];
    for (const id of ['a', 'b', 'c']) nf.bus.registerAgent(id, { handler: (m) => void handled.push(m.topic) });
    await nf.start();
    const latency = await measureCommunicationLatency(nf.bus, { agents: ['a', 'b', 'c'] });
    expect(latency.pairsTotal).toBe(3);
    expect(latency.pairsMeasured).toBe(3);
    expect(latency.timeouts).toBe(0);
    expect(latency.pairs.map((p) => p.agentPair).sort()).toEqual(['a_c', 'b_a', 'c_b']);
    expect(latency.pairs.every((p) => Number.isFinite(p.latencyMs) && p.latencyMs >= 0)).toBe(true);
    expect(latency.meanMs).toBeGreaterThan(0);
    expect(handled).toEqual([]);
    // The probe hooks are gone afterwards: ordinary messages reach the behaviour again.
    nf.bus.sendMessage({ senderId: 'x', recipientId: 'a', messageType: 'command', topic: 'real' });
    await nf.bus.whenIdle();
    expect(handled).toEqual(['real']);
    await nf.stop();
  });

  test('an agent that takes nothing times out after 5 s, which counts as infinite', async () => {
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock });
    nf.bus.registerAgent('awake', { handler: () => undefined });
    nf.bus.registerAgent('puller'); // pull API: never takes its mailbox by itself
    await nf.start();
    const measuring = measureCommunicationLatency(nf.bus, { agents: ['puller', 'awake'] });
    await settle();
    clock.increment(4999);
    await settle();
    let done = false;
    void measuring.then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    clock.increment(1);
    const latency = await measuring;
    expect(latency.timeouts).toBe(1);
    expect(latency.pairs[0]).toMatchObject({ latencyMs: Infinity, error: 'timeout' });
    expect(latency.meanMs).toBe(Infinity);
    expect(identifyBottlenecks(latency, { count: 0, slowTasks: 0 }, { percents: {} as never })).toEqual([
      expect.objectContaining({ type: 'communication', severity: 'high', description: expect.stringContaining('∞') }),
    ]);
    await nf.stop();
  });

  test('with many agents, at most maxPairs pairs are measured, spread over all of them', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    const agents = Array.from({ length: 12 }, (_, i) => `agent${i}`);
    for (const id of agents) nf.bus.registerAgent(id, { handler: () => undefined });
    await nf.start();
    const latency = await measureCommunicationLatency(nf.bus, { agents, maxPairs: 10, concurrency: 3 });
    expect(latency.pairsTotal).toBe(66);
    expect(latency.pairsMeasured).toBe(10);
    const involved = new Set(latency.pairs.flatMap((p) => [p.from, p.to]));
    expect(involved.size).toBeGreaterThanOrEqual(8);
    await nf.stop();
  });

  test('percentiles are nearest-rank', () => {
    expect(percentile([], 0.5)).toBe(0);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.95)).toBe(4);
  });
});

describe('profiler: bottlenecks with the spec thresholds', () => {
  const quiet = { percents: { cpu: 10, memory: 20, eventLoop: 5, systemMemory: 30 } };

  test('mean latency over 100 ms is a high communication bottleneck', () => {
    expect(identifyBottlenecks({ meanMs: 100, pairsMeasured: 3 }, { count: 0, slowTasks: 0 }, quiet)).toEqual([]);
    expect(identifyBottlenecks({ meanMs: 100.5, pairsMeasured: 3 }, { count: 0, slowTasks: 0 }, quiet)).toEqual([
      expect.objectContaining({ type: 'communication', severity: 'high', value: 100.5, threshold: 100 }),
    ]);
  });

  test('more than 20 % of tasks over 30 s is a medium task-execution bottleneck', () => {
    expect(identifyBottlenecks({ meanMs: 1, pairsMeasured: 1 }, { count: 10, slowTasks: 2 }, quiet)).toEqual([]);
    expect(identifyBottlenecks({ meanMs: 1, pairsMeasured: 1 }, { count: 10, slowTasks: 3 }, quiet)).toEqual([
      expect.objectContaining({ type: 'task_execution', severity: 'medium' }),
    ]);
  });

  test('any resource over 90 % is critical', () => {
    const found = identifyBottlenecks({ meanMs: 1, pairsMeasured: 1 }, { count: 0, slowTasks: 0 }, { percents: { cpu: 95, memory: 90, eventLoop: 91, systemMemory: 10 } });
    expect(found.map((b) => [b.type, b.resource, b.severity])).toEqual([
      ['resource', 'cpu', 'critical'],
      ['resource', 'eventLoop', 'critical'],
    ]);
    expect(DEFAULT_BOTTLENECK_THRESHOLDS).toEqual({ meanLatencyMs: 100, slowTaskSeconds: 30, slowTaskShare: 0.2, resourcePercent: 90 });
  });
});

describe('profiler: tasks and resources', () => {
  test('task statistics come from the agents attempt histories on the runtime clock', async () => {
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock });
    const releases: (() => void)[] = [];
    nf.orchestrator.registerAgent('w', {
      capabilities: ['x'],
      maxConcurrentTasks: 10,
      execute: () => new Promise<void>((resolve) => releases.push(resolve)),
    });
    await nf.start();
    const ids = Array.from({ length: 5 }, (_, i) => `t${i}`);
    nf.orchestrator.submitWorkflow({ tasks: ids.map((taskId) => ({ taskId, taskType: 'job', requiredCapabilities: ['x'] })) });
    for (let i = 0; i < 5 && releases.length < 5; i++) await settle();
    // Two finish after 10 s, three after 45 s: 60 % slow.
    clock.increment(10_000);
    releases[0]?.();
    releases[1]?.();
    await settle();
    clock.increment(35_000);
    for (const release of releases.slice(2)) release();
    await nf.orchestrator.waitForWorkflow(ids);
    const tasks = taskPerformance(nf.orchestrator);
    expect(tasks).toMatchObject({ count: 5, completed: 5, slowTasks: 3, slowShare: 0.6, maxSeconds: 45, p50Seconds: 45 });
    expect(tasks.byType['job']?.count).toBe(5);
    expect(tasks.orchestrator.tasksCompleted).toBe(5);
    expect(identifyBottlenecks({ meanMs: 0, pairsMeasured: 0 }, tasks, { percents: { cpu: 0, memory: 0, eventLoop: 0, systemMemory: 0 } })).toEqual([
      expect.objectContaining({ type: 'task_execution' }),
    ]);
    await nf.stop();
  });

  test('resource usage: CPU, memory and event-loop delay over a window', async () => {
    const usage = await sampleResourceUsage(0, noWait);
    expect(usage.windowMs).toBeGreaterThan(0);
    expect(usage.memory.heapLimitBytes).toBeGreaterThan(usage.memory.heapUsedBytes);
    expect(usage.memory.heapPercent).toBeGreaterThan(0);
    expect(usage.eventLoop.delayP99Ms).toBeGreaterThanOrEqual(0);
    expect(Object.keys(usage.percents).sort()).toEqual(['cpu', 'eventLoop', 'memory', 'systemMemory']);
  });
});

describe('profiler: the report', () => {
  test('profileSystemPerformance puts latency, tasks, resources, responsiveness and bottlenecks together', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    for (const id of ['risk', 'trader', 'analysis']) nf.bus.registerAgent(id, { handler: () => undefined });
    await nf.start();
    const report = await profileSystemPerformance(nf, { agents: ['risk', 'trader', 'analysis'], resourceWindowMs: 0, wait: noWait });
    expect(report.communicationLatency.pairsMeasured).toBe(3);
    expect(Object.keys(report.agentResponsiveness).sort()).toEqual(['analysis', 'risk', 'trader']);
    expect(report.thresholds).toEqual(DEFAULT_BOTTLENECK_THRESHOLDS);
    expect(report.bottlenecks.filter((b) => b.type !== 'resource')).toEqual([]);
    const text = formatProfileReport(report);
    expect(text).toMatch(/^Communication latency/m);
    expect(text).toMatch(/pairs measured 3 of 3, timeouts 0/);
    expect(text).toMatch(/^Task execution/m);
    expect(text).toMatch(/^Resources/m);
    expect(text).toMatch(/event loop: .* busy; delay mean/);
    expect(text).toMatch(/^Bottlenecks/m);
    await nf.stop();
  });

  test('`neuroflux profile` runs a short scenario and prints the report', async () => {
    let out = '';
    const program = new Command('neuroflux').exitOverride();
    registerProfileCommand(program, (text) => (out += text));
    await program.parseAsync(['node', 'neuroflux', 'profile', '--runs', '1', '--delay', '0', '--window', '0']);
    expect(out).toMatch(/pairs measured \d+ of \d+, timeouts 0/);
    expect(out).toMatch(/attempts \d+ \(completed \d+/);
    expect(out).toMatch(/orchestrator: created 10, completed 10/);
    let json = '';
    const jsonProgram = new Command('neuroflux').exitOverride();
    registerProfileCommand(jsonProgram, (text) => (json += text));
    await jsonProgram.parseAsync(['node', 'neuroflux', 'profile', '--runs', '1', '--delay', '0', '--window', '0', '--json']);
    const report = JSON.parse(json) as { communicationLatency: { pairsMeasured: number }; bottlenecks: unknown[] };
    expect(report.communicationLatency.pairsMeasured).toBeGreaterThan(0);
    expect(Array.isArray(report.bottlenecks)).toBe(true);
  });
});
