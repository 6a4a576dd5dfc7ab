/**
 * Stall detection: which unfinished tasks no agent can take (and why), whether anything
 * else still moves, and the watch that reports them at once and gives up after the stall
 * timeout. Pure over the orchestrator's state; time driven by a simulated clock.
 */
import { SimulatedClock } from 'xstate';
import { createNeuroFlux, diagnoseStall, watchForStall, type OrchestratorProgressState, type StallDiagnosis } from '../src';
import { settle } from './support/settle';

const agent = (agentId: string, capabilities: string[], extra: { hostId?: string; executesHere?: boolean } = {}) => ({
  agentId,
  capabilities,
  hostId: extra.hostId,
  executesHere: extra.executesHere ?? true,
});
const task = (
  taskId: string,
  requiredCapabilities: string[],
  state: 'waiting' | 'queued' | 'retrying' | 'assigned' | 'running' = 'queued',
  assignedAgent: string | null = null,
) => ({
  taskId,
  state,
  requiredCapabilities,
  assignedAgent,
});

describe('diagnoseStall', () => {
  test('a queued task whose capability no agent has is blocked and named with the missing capability', () => {
    const d = diagnoseStall({ tasks: [task('a', ['work']), task('b', ['nothing', 'work'])], agents: [agent('w', ['work'])], hostsAlive: 0 });
    expect(d.blocked).toEqual([
      { taskId: 'b', reason: 'no_capable_agent', requiredCapabilities: ['nothing', 'work'], missingCapabilities: ['nothing'], agentsWithoutExecutor: [] },
    ]);
    // `a` can be given to `w`: the run moves, it is not a stall.
    expect(d).toMatchObject({ progressing: true, stalled: false, noAgents: false });
  });

  test('blocked tasks and nothing else moving is a stall; no agent at all is named as such', () => {
    const d = diagnoseStall({ tasks: [task('a', ['work']), task('b', ['work'], 'waiting')], agents: [], hostsAlive: 0 });
    expect(d.blocked.map((t) => [t.taskId, t.reason, t.missingCapabilities])).toEqual([['a', 'no_capable_agent', ['work']]]);
    expect(d).toMatchObject({ progressing: false, stalled: true, noAgents: true });
  });

  test('with remote agents expected and no host alive the reason is no_host', () => {
    const d = diagnoseStall({ tasks: [task('a', ['work'])], agents: [], hostsAlive: 0 }, { expectRemoteAgents: true });
    expect(d.blocked[0]).toMatchObject({ reason: 'no_host', missingCapabilities: ['work'] });
    // A host that announced other capabilities: the capability is what is missing.
    const other = diagnoseStall(
      { tasks: [task('a', ['work'])], agents: [agent('h-x', ['other'], { hostId: 'h', executesHere: false })], hostsAlive: 1 },
      { expectRemoteAgents: true },
    );
    expect(other.blocked[0]).toMatchObject({ reason: 'no_capable_agent', missingCapabilities: ['work'] });
    expect(other.noAgents).toBe(false);
  });

  test('an agent without executor holding the capabilities is named; a task assigned to it is blocked too', () => {
    const state: OrchestratorProgressState = {
      tasks: [task('a', ['work'], 'assigned', 'idle'), task('b', ['work'])],
      agents: [agent('idle', ['work'], { executesHere: false })],
      hostsAlive: 0,
    };
    const d = diagnoseStall(state);
    expect(d.blocked.map((t) => [t.taskId, t.reason, t.agentsWithoutExecutor, t.missingCapabilities])).toEqual([
      ['a', 'no_executor', ['idle'], ['work']],
      ['b', 'no_executor', ['idle'], ['work']],
    ]);
    expect(d.stalled).toBe(true);
    // A program that serves the agent's mailbox itself says so.
    expect(diagnoseStall(state, { canRun: () => true }).blocked).toEqual([]);
  });

  test('capabilities each held, but by no single agent: nothing missing, still blocked', () => {
    const d = diagnoseStall({ tasks: [task('a', ['x', 'y'])], agents: [agent('ax', ['x']), agent('ay', ['y'])], hostsAlive: 0 });
    expect(d.blocked[0]).toMatchObject({ reason: 'no_capable_agent', missingCapabilities: [] });
  });

  test('running, assigned to a working agent, retrying: progressing; waiting alone: neither', () => {
    const agents = [agent('w', ['work'])];
    for (const t of [task('a', ['work'], 'running', 'w'), task('a', ['work'], 'assigned', 'w'), task('a', ['nothing'], 'retrying')]) {
      expect(diagnoseStall({ tasks: [t, task('b', ['nothing'])], agents, hostsAlive: 0 })).toMatchObject({ progressing: true, stalled: false });
    }
    expect(diagnoseStall({ tasks: [task('a', ['work'], 'waiting')], agents: [], hostsAlive: 0 })).toMatchObject({ blocked: [], progressing: false, stalled: false });
  });

  test('hostile ids and capabilities are data', () => {
    const d = diagnoseStall({ tasks: [task('__proto__', ['constructor', '__proto__'])], agents: [agent('toString', ['constructor'])], hostsAlive: 0 });
    expect(d.blocked[0]).toMatchObject({ taskId: '__proto__', missingCapabilities: ['__proto__'] });
  });

  test('many tasks with one capability set: one answer each, in order', () => {
    const tasks = Array.from({ length: 10_000 }, (_, i) => task(`t${i}`, ['gpu']));
    const d = diagnoseStall({ tasks, agents: [agent('cpu', ['cpu'])], hostsAlive: 0 });
    expect(d.blocked).toHaveLength(10_000);
    expect(d.blocked[9_999]).toMatchObject({ taskId: 't9999', missingCapabilities: ['gpu'] });
  });
});

describe('watchForStall', () => {
  const blockedDiagnosis = (stalled: boolean, taskId = 'a'): StallDiagnosis => ({
    blocked: [{ taskId, reason: 'no_capable_agent', requiredCapabilities: ['x'], missingCapabilities: ['x'], agentsWithoutExecutor: [] }],
    progressing: !stalled,
    stalled,
    noAgents: true,
  });
  const clear: StallDiagnosis = { blocked: [], progressing: true, stalled: false, noAgents: false };

  test('reports blocked tasks at the first check, once per change, and times out after the stall timeout', () => {
    const clock = new SimulatedClock();
    let current = blockedDiagnosis(true);
    const reports: string[] = [];
    watchForStall({
      clock,
      diagnose: () => current,
      stallTimeoutMs: 1000,
      onBlocked: (d) => reports.push(`blocked ${d.blocked.map((t) => t.taskId).join(',')}`),
      onUnblocked: () => reports.push('unblocked'),
      onStallTimeout: () => reports.push(`timeout at ${clock.now()}`),
    });
    expect(reports).toEqual(['blocked a']);
    clock.increment(750);
    expect(reports).toEqual(['blocked a']);
    clock.increment(250);
    expect(reports).toEqual(['blocked a', 'timeout at 1000']);
    clock.increment(10_000);
    current = clear;
    clock.increment(10_000);
    expect(reports).toHaveLength(2); // stopped after the timeout
  });

  test('progress in between restarts the stall timer; blocked tasks that clear are reported', () => {
    const clock = new SimulatedClock();
    let current = blockedDiagnosis(true);
    const reports: string[] = [];
    const watch = watchForStall({
      clock,
      diagnose: () => current,
      stallTimeoutMs: 1000,
      checkIntervalMs: 100,
      onBlocked: (d) => reports.push(`blocked ${d.blocked[0]?.taskId}`),
      onUnblocked: () => reports.push('unblocked'),
      onStallTimeout: () => reports.push(`timeout at ${clock.now()}`),
    });
    clock.increment(900);
    current = blockedDiagnosis(false); // something runs again: blocked, but not a stall
    clock.increment(100);
    current = blockedDiagnosis(true, 'b');
    clock.increment(900);
    // `a` again when it stopped being a stall (others run), then `b`.
    expect(reports).toEqual(['blocked a', 'blocked a', 'blocked b']);
    current = clear;
    clock.increment(100);
    expect(reports).toEqual(['blocked a', 'blocked a', 'blocked b', 'unblocked']);
    current = blockedDiagnosis(true);
    clock.increment(100);
    clock.increment(1000);
    expect(reports).toEqual(['blocked a', 'blocked a', 'blocked b', 'unblocked', 'blocked a', 'timeout at 3100']);
    watch.stop();
  });

  test('a diagnose that throws in a timed check stops the watch and goes to onError', () => {
    const clock = new SimulatedClock();
    let calls = 0;
    const errors: unknown[] = [];
    watchForStall({
      clock,
      diagnose: () => {
        if (++calls === 2) throw new Error('state unreadable');
        return clear;
      },
      stallTimeoutMs: 1000,
      onBlocked: () => undefined,
      onStallTimeout: () => undefined,
      onError: (error) => errors.push(error),
    });
    clock.increment(250);
    clock.increment(10_000);
    expect(calls).toBe(2);
    expect(errors).toEqual([new Error('state unreadable')]);
  });

  test('a stall timeout of 0 gives up at the first check; bad options are refused', () => {
    const clock = new SimulatedClock();
    const seen: string[] = [];
    watchForStall({ clock, diagnose: () => blockedDiagnosis(true), stallTimeoutMs: 0, onBlocked: () => seen.push('blocked'), onStallTimeout: () => seen.push('timeout') });
    expect(seen).toEqual(['blocked', 'timeout']);
    expect(() => watchForStall({ clock, diagnose: () => clear, stallTimeoutMs: -1, onBlocked: () => undefined, onStallTimeout: () => undefined })).toThrow(/stallTimeoutMs/);
    expect(() => watchForStall({ clock, diagnose: () => clear, stallTimeoutMs: 1, checkIntervalMs: 0, onBlocked: () => undefined, onStallTimeout: () => undefined })).toThrow(
      /checkIntervalMs/,
    );
  });

  test('on a runtime: a task no agent can take is reported, an agent joining clears it and the task completes', async () => {
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock });
    await nf.start();
    try {
      nf.orchestrator.registerAgent('w', { capabilities: ['work'], execute: () => 'ok' });
      nf.orchestrator.submitWorkflow(
        {
          tasks: [
            { taskId: 'a', requiredCapabilities: ['work'] },
            { taskId: 'b', requiredCapabilities: ['gpu'] },
          ],
        },
        { requireCapableAgents: false },
      );
      await settle();
      const reports: StallDiagnosis[] = [];
      let timedOut = false;
      const watch = watchForStall({
        clock,
        diagnose: () => diagnoseStall(nf.orchestrator.progressState()),
        stallTimeoutMs: 30_000,
        onBlocked: (d) => reports.push(d),
        onStallTimeout: () => (timedOut = true),
      });
      expect(reports[0]?.blocked).toEqual([{ taskId: 'b', reason: 'no_capable_agent', requiredCapabilities: ['gpu'], missingCapabilities: ['gpu'], agentsWithoutExecutor: [] }]);
      expect(reports[0]?.stalled).toBe(true);
      clock.increment(29_000);
      nf.orchestrator.registerAgent('g', { capabilities: ['gpu'], execute: () => 'gpu-ok' });
      expect((await nf.orchestrator.waitForTask('b')).status).toBe('completed');
      clock.increment(60_000);
      expect(timedOut).toBe(false);
      watch.stop();
    } finally {
      await nf.stop();
    }
  });
});
