/**
 * AgentHost.drain: a graceful stop (what `neuroflux host` does on SIGTERM, and so what
 * LocalHostLauncher's scale-down relies on): running attempts finish and report, no new one
 * starts, then the host leaves and what it declined runs elsewhere, once.
 */
import { SimulatedClock } from 'xstate';
import { AgentHost, createNeuroFlux } from '../src';
import { settle } from './support/settle';

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
