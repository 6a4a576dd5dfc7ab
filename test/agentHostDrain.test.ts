/**
 * AgentHost.drain: a graceful stop (what `neuroflux host` does on SIGTERM, and so what
 * LocalHostLauncher's scale-down relies on): running attempts finish and report, no new one
 * starts, then the host leaves and what it declined runs elsewhere, once.
 */
import { SimulatedClock } from 'xstate';
import { AgentHost, createNeuroFlux, nats, TaskTopic, type NeuroFlux } from '../src';
import { describeWithServer, NATS_SERVER_BIN, natsServerForSuite } from './support/servers';
import { settle } from './support/settle';

/** Waits (real time, generous overall bound) until `condition` holds: for state with no event to wait on. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`never happened: ${what}`);
}

describe('AgentHost.drain', () => {
  test('running work finishes, assignments that arrive meanwhile are declined and run on another host once', async () => {
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock });
    await nf.start();
    const finish = new Map<string, () => void>();
    const ran: string[] = [];
    const h1 = new AgentHost({ bus: nf.bus, hostId: 'h1' });
    h1.addAgent('h1-worker', {
      capabilities: ['work'],
      maxConcurrentTasks: 2,
      execute: (task) => {
        ran.push(`h1:${task.taskId}`);
        return new Promise((resolve) => finish.set(task.taskId, () => resolve('done')));
      },
    });
    h1.start();
    await settle();
    nf.orchestrator.submitTask({ taskId: 't1', requiredCapabilities: ['work'] });
    await settle();
    expect(ran).toEqual(['h1:t1']);
    let drained: boolean | undefined;
    const draining = h1.drain(10_000).then((all) => (drained = all));
    nf.orchestrator.submitTask({ taskId: 't2', requiredCapabilities: ['work'] });
    await settle();
    expect(ran).toEqual(['h1:t1']); // t2 was assigned to h1-worker, and declined
    expect(h1.getStats().declinedWhileDraining).toBe(1);
    expect(drained).toBeUndefined();
    finish.get('t1')?.();
    await draining;
    expect(drained).toBe(true);
    expect(await nf.orchestrator.waitForTask('t1')).toMatchObject({ status: 'completed', assignedAgent: 'h1-worker' });
    // h1 left: t2 went back to the queue, and runs once another host comes.
    const h2 = new AgentHost({ bus: nf.bus, hostId: 'h2' });
    h2.addAgent('h2-worker', { capabilities: ['work'], execute: (task) => (ran.push(`h2:${task.taskId}`), 'done') });
    h2.start();
    expect(await nf.orchestrator.waitForTask('t2')).toMatchObject({ status: 'completed', assignedAgent: 'h2-worker', retryCount: 0 });
    expect(ran).toEqual(['h1:t1', 'h2:t2']);
    await h2.stop();
    await nf.stop();
  });

  test('work still running after the timeout (runtime clock) is aborted, and drain says so', async () => {
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock });
    await nf.start();
    const host = new AgentHost({ bus: nf.bus, hostId: 'h1' });
    let aborted = false;
    host.addAgent('h1-worker', {
      capabilities: ['work'],
      execute: (_task, { signal }) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(new Error('aborted'))))),
    });
    host.start();
    await settle();
    nf.orchestrator.submitTask({ taskId: 'slow', requiredCapabilities: ['work'] });
    await settle();
    expect(host.getStats().running).toBe(1);
    let drained: boolean | undefined;
    const draining = host.drain(5000).then((all) => (drained = all));
    // Small steps: heartbeats must reach the orchestrator between them, or it presumes the host dead.
    for (let t = 0; t < 4900; t += 100) {
      clock.increment(100);
      await settle();
    }
    clock.increment(99);
    await settle();
    expect(drained).toBeUndefined();
    clock.increment(1);
    await draining;
    expect(drained).toBe(false);
    expect(aborted).toBe(true);
    expect(host.getStats()).toMatchObject({ running: 0, aborted: 1 });
    await nf.stop();
  });

  test.each(['arrives', 'never arrives'])("a leaving host's listed result that %s: its task waits for it, and moves only when heartbeats are missed", async (fate) => {
    const clock = new SimulatedClock();
    const nf = createNeuroFlux({ clock });
    await nf.start();
    // A host of one agent, played by hand: it takes assignments and never answers by itself.
    let orchestratorId: string | undefined;
    const worker = nf.bus.registerAgent('h-worker', { handler: (message) => void (orchestratorId ??= message.senderId) });
    const presence = (status: 'alive' | 'leaving', extra: Record<string, unknown> = {}) =>
      nf.bus.publishEvent({
        senderId: 'h',
        topic: TaskTopic.PRESENCE,
        payload: { hostId: 'h', status, heartbeatIntervalMs: 1000, agents: [{ agentId: 'h-worker', capabilities: ['work'], maxConcurrentTasks: 1 }], ...extra },
      });
    presence('alive');
    await settle();
    nf.orchestrator.submitTask({ taskId: 't', requiredCapabilities: ['work'] });
    await settle();
    expect(nf.orchestrator.getTask('t')).toMatchObject({ assignedAgent: 'h-worker' });
    presence('leaving', {
      resultsSent: [
        { agentId: 'h-worker', taskId: 't', attempt: 0 },
        { agentId: 'h-worker', taskId: 'gone', attempt: 0 },
      ],
    });
    await settle();
    expect(nf.orchestrator.getTask('t')).toMatchObject({ assignedAgent: 'h-worker' });
    expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 1, left: 0 });
    if (fate === 'arrives') {
      worker.send({
        recipientId: orchestratorId as string,
        messageType: 'notification',
        topic: TaskTopic.RESULT,
        payload: { taskId: 't', attempt: 0, status: 'completed', result: 'ok' },
      });
      await settle();
      expect(nf.orchestrator.getTask('t')).toMatchObject({ status: 'completed', assignedAgent: 'h-worker', retryCount: 0 });
      expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 0, lost: 1, left: 1 });
    } else {
      clock.increment(2999);
      await settle();
      expect(nf.orchestrator.getTask('t')).toMatchObject({ assignedAgent: 'h-worker' });
      clock.increment(1);
      await settle();
      expect(nf.orchestrator.getTask('t')).toMatchObject({ status: 'pending', assignedAgent: null });
      expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 0, lost: 1, left: 1 });
    }
    await nf.stop();
  });

  test('an idle host drains at once', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    await nf.start();
    const host = new AgentHost({ bus: nf.bus, hostId: 'h1' });
    host.addAgent('h1-worker', { capabilities: ['work'], execute: () => 'done' });
    host.start();
    await expect(host.drain()).resolves.toBe(true);
    await expect(host.drain()).resolves.toBe(true);
    await nf.stop();
  });
});

describeWithServer(NATS_SERVER_BIN, 'AgentHost.drain over NATS', () => {
  const server = natsServerForSuite();

  // Results go through JetStream, the host's `leaving` through plain NATS and arrives first:
  // the orchestrator must wait for the results the host listed, not move those tasks again.
  test.each([1, 3])(
    "a drained host's last results (%i running) are taken, no task runs twice",
    async (running) => {
      const namespace = `drain${running}${Date.now()}`;
      const runtime = (name: string, orchestrator: boolean) =>
        createNeuroFlux({ transport: nats({ servers: server().url, namespace, name }), ...(!orchestrator && { orchestrator: false as const }) });
      const orch = runtime('orchestrator', true);
      const rt1 = runtime('h1', false);
      const rt2 = runtime('h2', false);
      const runtimes: NeuroFlux[] = [orch, rt1, rt2];
      await Promise.all(runtimes.map((rt) => rt.start()));
      const ran: string[] = [];
      const finish: (() => void)[] = [];
      let started!: () => void;
      const allStarted = new Promise<void>((resolve) => (started = resolve));
      // A long heartbeat: no host is presumed dead on a busy machine while the test waits.
      const h1 = new AgentHost({ bus: rt1.bus, hostId: 'h1', heartbeatIntervalMs: 20_000 });
      h1.addAgent('h1-worker', {
        capabilities: ['work'],
        maxConcurrentTasks: running,
        execute: (task) => {
          ran.push(`h1:${task.taskId}`);
          if (ran.length === running) started();
          return new Promise((resolve) => finish.push(() => resolve('done')));
        },
      });
      h1.start();
      await orch.orchestrator.waitForAgents(['work'], { timeoutMs: 60_000 });
      const ids = Array.from({ length: running }, (_, i) => `t${i + 1}`);
      for (const taskId of ids) orch.orchestrator.submitTask({ taskId, requiredCapabilities: ['work'] });
      await allStarted;
      const h2 = new AgentHost({ bus: rt2.bus, hostId: 'h2', heartbeatIntervalMs: 20_000 });
      h2.addAgent('h2-worker', { capabilities: ['work'], execute: (task) => (ran.push(`h2:${task.taskId}`), 'done') });
      h2.start();
      await until(() => orch.orchestrator.getAgent('h2-worker') !== undefined, 'h2 registered');
      const draining = h1.drain(60_000);
      // Submitted while h1 drains: runs on h2 (or is declined by h1 and then runs on h2), once.
      orch.orchestrator.submitTask({ taskId: 'late', requiredCapabilities: ['work'] });
      for (const done of finish) done();
      expect(await draining).toBe(true);
      const records = await orch.orchestrator.waitForWorkflow([...ids, 'late']);
      expect(records.map((r) => [r.taskId, r.status, r.assignedAgent])).toEqual([...ids.map((id) => [id, 'completed', 'h1-worker']), ['late', 'completed', 'h2-worker']]);
      expect([...ran].sort()).toEqual([...ids.map((id) => `h1:${id}`), 'h2:late'].sort());
      expect(orch.orchestrator.getStats().hosts).toMatchObject({ lost: 1, left: 1 });
      await h2.stop();
      for (const rt of runtimes.reverse()) await rt.stop();
    },
    120_000,
  );
});
