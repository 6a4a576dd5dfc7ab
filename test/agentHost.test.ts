/**
 * Agent hosts: agents announced by heartbeat on `agent_presence`, registered by the
 * orchestrator, running tasks over the bus protocol; a host whose heartbeats stop (or that
 * leaves) loses its agents, and their tasks move to other hosts.
 */
import { SimulatedClock } from 'xstate';
import { AgentHost, StandbyError, TaskTopic, ValidationError, createNeuroFlux, type NeuroFlux } from '../src';
import { settle } from './support/settle';

async function withRuntime(test: (nf: NeuroFlux, clock: SimulatedClock) => Promise<void>): Promise<void> {
  const clock = new SimulatedClock();
  const nf = createNeuroFlux({ clock });
  await nf.start();
  try {
    await test(nf, clock);
  } finally {
    await nf.stop();
  }
}

/** A host that "died": it announced one agent, which never answers, then went silent. */
function announceSilentHost(nf: NeuroFlux, hostId: string, agentId: string, heartbeatIntervalMs = 1000): void {
  nf.bus.registerAgent(agentId); // a mailbox nobody reads: assignments sit there
  nf.bus.publishEvent({
    senderId: hostId,
    topic: TaskTopic.PRESENCE,
    payload: { hostId, status: 'alive', heartbeatIntervalMs, agents: [{ agentId, capabilities: ['work'], maxConcurrentTasks: 5 }] },
  });
}

describe('AgentHost', () => {
  test('its agents are registered from its heartbeat and run tasks over the bus protocol, with progress and dependency results', async () => {
    await withRuntime(async (nf) => {
      const host = new AgentHost({ bus: nf.bus, hostId: 'h1' });
      const seen: unknown[] = [];
      host.addAgent('h1-worker', {
        capabilities: ['work'],
        maxConcurrentTasks: 2,
        execute: (task, { dependencyResults, reportProgress, attempt }) => {
          reportProgress(0.5);
          seen.push({ task: task.taskId, attempt, dependencyResults });
          return `${task.taskId}-done`;
        },
      });
      host.start();
      await settle();
      expect(nf.orchestrator.getAgent('h1-worker')).toMatchObject({ agentId: 'h1-worker', maxConcurrentTasks: 2 });
      expect(nf.orchestrator.getStats().hosts).toEqual({ alive: 1, lost: 0, left: 0, invalidAnnouncements: 0, refusedAnnouncements: 0 });

      const progress: number[] = [];
      nf.orchestrator.events$.subscribe((e) => e.type === 'task_progress' && progress.push(e.progress));
      nf.orchestrator.submitWorkflow({
        tasks: [
          { taskId: 'a', requiredCapabilities: ['work'] },
          { taskId: 'b', dependencies: ['a'], requiredCapabilities: ['work'] },
        ],
      });
      const [a, b] = await nf.orchestrator.waitForWorkflow(['a', 'b']);
      expect(a).toMatchObject({ status: 'completed', result: 'a-done', assignedAgent: 'h1-worker' });
      expect(b).toMatchObject({ status: 'completed', result: 'b-done' });
      expect(seen).toEqual([
        { task: 'a', attempt: 0, dependencyResults: {} },
        { task: 'b', attempt: 0, dependencyResults: { a: 'a-done' } },
      ]);
      expect(progress).toEqual([0.5, 0.5]);
      expect(host.getStats()).toMatchObject({ agents: 1, completed: 2, failed: 0, running: 0 });
      await host.stop();
    });
  });

  test('a task that times out on the orchestrator is aborted on the host (task_cancel)', async () => {
    await withRuntime(async (nf, clock) => {
      const host = new AgentHost({ bus: nf.bus, hostId: 'h1' });
      const aborted: string[] = [];
      host.addAgent('h1-worker', {
        capabilities: ['work'],
        execute: (task, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => (aborted.push(task.taskId), reject(new Error('aborted'))))),
      });
      host.start();
      await settle();
      nf.orchestrator.submitTask({ taskId: 'slow', requiredCapabilities: ['work'], timeoutSeconds: 2, retryPolicy: { maxRetries: 0 } });
      await settle();
      expect(host.getStats().running).toBe(1);
      clock.increment(2000);
      const record = await nf.orchestrator.waitForTask('slow');
      await settle();
      expect(record.status).toBe('timeout');
      expect(aborted).toEqual(['slow']);
      expect(host.getStats()).toMatchObject({ running: 0, aborted: 1, completed: 0 });
      await host.stop();
    });
  });

  test('a host whose heartbeats stop loses its agents after missedHeartbeats intervals; its tasks move to another host', async () => {
    await withRuntime(async (nf, clock) => {
      announceSilentHost(nf, 'dead', 'dead-worker');
      await settle();
      expect(nf.orchestrator.getAgent('dead-worker')).toBeDefined();
      nf.orchestrator.submitWorkflow({
        tasks: ['t1', 't2', 't3'].map((taskId) => ({ taskId, requiredCapabilities: ['work'], timeoutSeconds: 600 })),
      });
      await settle();
      expect(['t1', 't2', 't3'].map((id) => nf.orchestrator.getTask(id)?.assignedAgent)).toEqual(['dead-worker', 'dead-worker', 'dead-worker']);

      // A live host joins; it beats every second, the dead one never again.
      const host = new AgentHost({ bus: nf.bus, hostId: 'alive' });
      const ran: string[] = [];
      host.addAgent('alive-worker', { capabilities: ['work'], execute: (task) => (ran.push(task.taskId), 'ok') });
      host.start();
      await settle();
      clock.increment(2999);
      await settle();
      expect(ran).toEqual([]); // 3 s have not passed since the dead host's heartbeat
      expect(nf.orchestrator.getAgent('dead-worker')).toBeDefined();

      clock.increment(1);
      const records = await nf.orchestrator.waitForWorkflow(['t1', 't2', 't3']);
      expect(records.map((r) => [r.status, r.assignedAgent, r.retryCount])).toEqual([
        ['completed', 'alive-worker', 0],
        ['completed', 'alive-worker', 0],
        ['completed', 'alive-worker', 0],
      ]);
      expect(ran.sort()).toEqual(['t1', 't2', 't3']);
      expect(nf.orchestrator.getAgent('dead-worker')).toBeUndefined();
      expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 1 });
      await host.stop();
    });
  });

  test('a host that stops cleanly says so: its tasks move at once, without waiting for the timeout', async () => {
    await withRuntime(async (nf) => {
      const leaving = new AgentHost({ bus: nf.bus, hostId: 'leaving' });
      leaving.addAgent('leaving-worker', { capabilities: ['work'], execute: () => new Promise(() => undefined) });
      leaving.start();
      await settle();
      nf.orchestrator.submitTask({ taskId: 't', requiredCapabilities: ['work'] });
      await settle();
      expect(nf.orchestrator.getTask('t')?.assignedAgent).toBe('leaving-worker');

      const staying = new AgentHost({ bus: nf.bus, hostId: 'staying' });
      staying.addAgent('staying-worker', { capabilities: ['work'], execute: () => 'done' });
      staying.start();
      await leaving.stop();
      const record = await nf.orchestrator.waitForTask('t');
      expect(record).toMatchObject({ status: 'completed', assignedAgent: 'staying-worker', result: 'done' });
      expect(leaving.getStats().aborted).toBe(1);
      expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 1 });
      await staying.stop();
    });
  });

  test('a lost host that comes back is registered again; agents it stops announcing are unregistered', async () => {
    await withRuntime(async (nf, clock) => {
      const announce = (agents: string[]) =>
        nf.bus.publishEvent({
          senderId: 'h',
          topic: TaskTopic.PRESENCE,
          payload: { hostId: 'h', status: 'alive', heartbeatIntervalMs: 500, agents: agents.map((agentId) => ({ agentId, capabilities: ['work'], maxConcurrentTasks: 1 })) },
        });
      announce(['a1', 'a2']);
      await settle();
      expect(nf.orchestrator.getAgent('a2')).toBeDefined();
      announce(['a1']);
      await settle();
      expect(nf.orchestrator.getAgent('a2')).toBeUndefined();
      clock.increment(1500);
      await settle();
      expect(nf.orchestrator.getAgent('a1')).toBeUndefined();
      announce(['a1']);
      await settle();
      expect(nf.orchestrator.getAgent('a1')).toBeDefined();
      expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 1 });
    });
  });

  test('an agent id registered by hand is not taken over by an announcement', async () => {
    await withRuntime(async (nf) => {
      nf.orchestrator.registerAgent('mine', { capabilities: ['local'], execute: () => 'x' });
      nf.bus.publishEvent({
        senderId: 'h',
        topic: TaskTopic.PRESENCE,
        payload: { hostId: 'h', status: 'alive', heartbeatIntervalMs: 500, agents: [{ agentId: 'mine', capabilities: ['other'], maxConcurrentTasks: 1 }] },
      });
      await settle();
      nf.bus.publishEvent({ senderId: 'h', topic: TaskTopic.PRESENCE, payload: { hostId: 'h', status: 'leaving', heartbeatIntervalMs: 500, agents: [] } });
      await settle();
      expect(nf.orchestrator.getAgent('mine')).toMatchObject({ capabilities: new Set(['local']) });
    });
  });

  test('malformed announcements are counted and ignored; bad host options name the field', async () => {
    await withRuntime(async (nf) => {
      for (const payload of [
        null,
        { hostId: '' },
        { hostId: 'h', status: 'alive', heartbeatIntervalMs: -1, agents: [] },
        { hostId: 'h', status: 'alive', heartbeatIntervalMs: 10, agents: [{ agentId: 'x' }] },
        { hostId: 'h', status: 'alive', heartbeatIntervalMs: 10, agents: [{ agentId: 'x', capabilities: ['c'], maxConcurrentTasks: 1, specializations: { c: -1 } }] },
        { hostId: 'h', status: 'leaving', heartbeatIntervalMs: 10, agents: [], resultsSent: [{ agentId: '__proto__', taskId: 't', attempt: -1 }] },
        { hostId: 'h', status: 'leaving', heartbeatIntervalMs: 10, agents: [], resultsSent: Array.from({ length: 1001 }, () => ({ agentId: 'a', taskId: 't', attempt: 0 })) },
      ]) {
        nf.bus.publishEvent({ senderId: 'h', topic: TaskTopic.PRESENCE, payload });
      }
      await settle();
      expect(nf.orchestrator.getStats().hosts).toEqual({ alive: 0, lost: 0, left: 0, invalidAnnouncements: 7, refusedAnnouncements: 0 });
      expect(nf.bus.getStats().deadLetters.max_retries).toBe(0);
      expect(() => new AgentHost({ bus: nf.bus, hostId: '' })).toThrow(ValidationError);
      expect(() => new AgentHost({ bus: nf.bus, hostId: 'h', heartbeatIntervalMs: 0 })).toThrow(/heartbeatIntervalMs/);
      const host = new AgentHost({ bus: nf.bus, hostId: 'h' });
      expect(() => host.addAgent('a', { capabilities: ['x'], execute: 'nope' as never })).toThrow(/execute/);
      const invalid = nf.bus.registerAgent('sender');
      host.addAgent('h-worker', { capabilities: ['x'], execute: () => 'x' });
      invalid.send({ recipientId: 'h-worker', messageType: 'command', topic: TaskTopic.ASSIGNMENT, payload: { action: 'execute_task' } });
      await settle();
      expect(host.getStats().invalidAssignments).toBe(1);
      await host.stop();
    });
  });

  test("a host restarted under the same id is a new incarnation: the old process's tasks move at once", async () => {
    await withRuntime(async (nf) => {
      const first = new AgentHost({ bus: nf.bus, hostId: 'h' });
      first.addAgent('h-worker', { capabilities: ['work'], execute: () => new Promise(() => undefined) });
      first.start();
      await settle();
      nf.orchestrator.submitTask({ taskId: 't', requiredCapabilities: ['work'], timeoutSeconds: 600 });
      await settle();
      expect(nf.orchestrator.getTask('t')).toMatchObject({ state: 'running', assignedAgent: 'h-worker' });
      // The process "dies" (no goodbye) and a new one starts at once with the same ids.
      nf.bus.unregisterAgent('h-worker');
      const second = new AgentHost({ bus: nf.bus, hostId: 'h' });
      second.addAgent('h-worker', { capabilities: ['work'], execute: () => 'again' });
      second.start();
      const record = await nf.orchestrator.waitForTask('t');
      expect(record).toMatchObject({ status: 'completed', result: 'again', retryCount: 0 });
      expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 1 });
      await second.stop();
    });
  });

  test('an announcement that cannot be published does not end the heartbeat', async () => {
    await withRuntime(async (nf, clock) => {
      const host = new AgentHost({ bus: nf.bus, hostId: 'h', heartbeatIntervalMs: 1000 });
      host.addAgent('h-worker', { capabilities: ['work'], execute: () => 'x' });
      const publish = nf.bus.publishEvent.bind(nf.bus);
      let failures = 1;
      jest.spyOn(nf.bus, 'publishEvent').mockImplementation((args) => {
        if (failures-- > 0) throw new Error('connection closing');
        return publish(args);
      });
      host.start();
      for (let i = 0; i < 5; i++) {
        clock.increment(1000);
        await settle();
      }
      expect(host.getStats()).toMatchObject({ announceErrors: 1, heartbeats: 5 });
      expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 0 });
      await host.stop();
    });
  });

  test('stopping the runtime stops the heartbeat of a host never stopped (its timer would keep the process alive)', async () => {
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock });
    const host = new AgentHost({ bus: nf.bus, hostId: 'h' });
    host.addAgent('h-worker', { capabilities: ['x'], execute: () => 'x' });
    await nf.start();
    host.start();
    await settle();
    await nf.stop();
    // SimulatedClock's pending timers: none may outlive the runtime.
    expect((clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size).toBe(0);
  });

  test('stopping the runtime before the host is harmless', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    const host = new AgentHost({ bus: nf.bus, hostId: 'h' });
    host.addAgent('h-worker', { capabilities: ['x'], execute: () => 'x' });
    await nf.start();
    host.start();
    await nf.stop();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    await host.stop();
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    expect(host.getStats().agents).toBe(0);
  });
});

describe('a runtime without orchestrator (orchestrator: false)', () => {
  test('hosts agents for another process and refuses tasks with StandbyError', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: false });
    await nf.start();
    expect(() => nf.orchestrator.submitTask({ requiredCapabilities: ['x'] })).toThrow(StandbyError);
    expect(() => nf.orchestrator.submitTask({ requiredCapabilities: ['x'] })).toThrow(/orchestrator: false/);
    await expect(nf.orchestrator.activate()).rejects.toBeInstanceOf(StandbyError);
    // Its bus does not claim the orchestrator's id: results sent to it leave the process.
    expect(nf.bus.getAgent('orchestrator')).toBeUndefined();
    expect(nf.orchestrator.getStats().active).toBe(false);
    await nf.stop();
  });
});
