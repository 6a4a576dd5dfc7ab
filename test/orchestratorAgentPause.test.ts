/**
 * `pauseAgent` / `resumeAgent` (a paused agent gets no new task, keeps the ones it runs) and
 * `retryTask` (a failed, timed out or cancelled task submitted again with the same input).
 */
import { SimulatedClock } from 'xstate';
import { TaskNotRetryableError, UnknownAgentError, UnknownTaskError, createNeuroFlux, type NeuroFlux, type TaskExecutor } from '../src';
import { settle } from './support/settle';

function runtime(): NeuroFlux {
  return createNeuroFlux({ clock: new SimulatedClock() });
}

/** An executor whose attempts the test resolves or rejects by hand. */
function controlledExecutor() {
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const started: string[] = [];
  const execute: TaskExecutor = (task, { attempt }) =>
    new Promise((resolve, reject) => {
      started.push(`${task.taskId}#${attempt}`);
      pending.set(task.taskId, { resolve, reject });
    });
  return { execute, pending, started };
}

describe('TaskOrchestrator: pausing an agent', () => {
  test('a paused agent gets no new task and keeps the one it runs; resumed, it gets the waiting ones', async () => {
    const nf = runtime();
    const exec = controlledExecutor();
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], maxConcurrentTasks: 2, execute: exec.execute });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'running', requiredCapabilities: ['x'] });
    await settle();
    expect(exec.started).toEqual(['running#0']);

    expect(nf.orchestrator.pauseAgent('worker')).toBe(true);
    expect(nf.orchestrator.pauseAgent('worker')).toBe(false);
    expect(nf.orchestrator.isAgentPaused('worker')).toBe(true);
    nf.orchestrator.submitTask({ taskId: 'waiting', requiredCapabilities: ['x'] });
    await settle();
    expect(nf.orchestrator.getTask('waiting')).toMatchObject({ state: 'queued', reason: 'no_agent_available' });
    // The task it runs goes on.
    exec.pending.get('running')?.resolve('done');
    expect(await nf.orchestrator.waitForTask('running')).toMatchObject({ status: 'completed' });
    await settle();
    expect(exec.started).toEqual(['running#0']);

    expect(nf.orchestrator.resumeAgent('worker')).toBe(true);
    expect(nf.orchestrator.resumeAgent('worker')).toBe(false);
    await settle();
    expect(exec.started).toEqual(['running#0', 'waiting#0']);
    exec.pending.get('waiting')?.resolve('done');
    expect(await nf.orchestrator.waitForTask('waiting')).toMatchObject({ status: 'completed', assignedAgent: 'worker' });
    await nf.stop();
  });

  test('with two capable agents, tasks go to the one that is not paused', async () => {
    const nf = runtime();
    const a = controlledExecutor();
    const b = controlledExecutor();
    nf.orchestrator.registerAgent('a', { capabilities: ['x'], maxConcurrentTasks: 5, execute: a.execute });
    nf.orchestrator.registerAgent('b', { capabilities: ['x'], maxConcurrentTasks: 5, execute: b.execute });
    await nf.start();
    nf.orchestrator.pauseAgent('a');
    for (const taskId of ['t1', 't2', 't3']) nf.orchestrator.submitTask({ taskId, requiredCapabilities: ['x'] });
    await settle();
    expect(a.started).toEqual([]);
    expect(b.started.sort()).toEqual(['t1#0', 't2#0', 't3#0']);
    for (const taskId of ['t1', 't2', 't3']) b.pending.get(taskId)?.resolve(taskId);
    await nf.orchestrator.waitForWorkflow(['t1', 't2', 't3']);
    await nf.stop();
  });

  test('a pause survives the agent being unregistered and registered again (a host that lapsed or restarted)', async () => {
    const nf = runtime();
    const exec = controlledExecutor();
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: exec.execute });
    await nf.start();
    nf.orchestrator.pauseAgent('worker');
    nf.orchestrator.unregisterAgent('worker');
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: exec.execute });
    expect(nf.orchestrator.isAgentPaused('worker')).toBe(true);
    nf.orchestrator.submitTask({ taskId: 'waiting', requiredCapabilities: ['x'] });
    await settle();
    expect(exec.started).toEqual([]);
    // Resumed while it is away: it comes back resumed.
    nf.orchestrator.unregisterAgent('worker');
    expect(nf.orchestrator.resumeAgent('worker')).toBe(true);
    expect(() => nf.orchestrator.resumeAgent('worker')).toThrow(UnknownAgentError);
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: exec.execute });
    expect(nf.orchestrator.isAgentPaused('worker')).toBe(false);
    await settle();
    expect(exec.started).toEqual(['waiting#0']);
    exec.pending.get('waiting')?.resolve('done');
    await nf.orchestrator.waitForTask('waiting');
    await nf.stop();
  });

  test('the swarm balancer skips a paused agent; assigning to it by hand is refused as paused', async () => {
    const nf = runtime();
    const a = controlledExecutor();
    const b = controlledExecutor();
    nf.orchestrator.registerAgent('a', { capabilities: ['x'], maxConcurrentTasks: 5, execute: a.execute });
    nf.orchestrator.registerAgent('b', { capabilities: ['x'], maxConcurrentTasks: 5, execute: b.execute });
    await nf.start();
    nf.orchestrator.pauseAgent('b');
    for (const taskId of ['s1', 's2', 's3', 's4']) nf.orchestrator.submitTask({ taskId, requiredCapabilities: ['x'], balancer: 'swarm' });
    await settle();
    expect(b.started).toEqual([]);
    expect(a.started.sort()).toEqual(['s1#0', 's2#0', 's3#0', 's4#0']);
    nf.orchestrator.pauseAgent('a');
    nf.orchestrator.submitTask({ taskId: 'manual', requiredCapabilities: ['x'] });
    await settle();
    expect(() => nf.orchestrator.assignTaskToAgent('manual', 'b')).toThrow(/agent is paused/);
    for (const taskId of ['s1', 's2', 's3', 's4']) a.pending.get(taskId)?.resolve(taskId);
    await nf.orchestrator.waitForWorkflow(['s1', 's2', 's3', 's4']);
    nf.orchestrator.cancelTask('manual');
    await nf.stop();
  });

  test('an unknown agent is a typed error', async () => {
    const nf = runtime();
    await nf.start();
    expect(() => nf.orchestrator.pauseAgent('nobody')).toThrow(UnknownAgentError);
    expect(() => nf.orchestrator.resumeAgent('__proto__')).toThrow(UnknownAgentError);
    expect(nf.orchestrator.isAgentPaused('nobody')).toBe(false);
    await nf.stop();
  });
});

describe('TaskOrchestrator: retrying a task', () => {
  test('a failed task is submitted again with the same input, under a new id, each retry with the next number', async () => {
    const nf = runtime();
    const exec = controlledExecutor();
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: exec.execute });
    await nf.start();
    nf.orchestrator.submitTask({
      taskId: 'job',
      name: 'the job',
      taskType: 'report',
      priority: 'high',
      payload: { n: 7 },
      requiredCapabilities: ['x'],
      retryPolicy: { maxRetries: 0 },
    });
    await settle();
    exec.pending.get('job')?.reject(new Error('disk full'));
    expect(await nf.orchestrator.waitForTask('job')).toMatchObject({ status: 'failed' });

    const submission = nf.orchestrator.retryTask('job');
    expect(submission.taskId).toBe('job~retry1');
    await settle();
    const retried = nf.orchestrator.getTask('job~retry1');
    expect(retried).toMatchObject({ name: 'the job', taskType: 'report', priority: 'high', payload: { n: 7 }, requiredCapabilities: ['x'], dependencies: [] });
    exec.pending.get('job~retry1')?.reject(new Error('disk still full'));
    expect(await nf.orchestrator.waitForTask('job~retry1')).toMatchObject({ status: 'failed' });
    expect(nf.orchestrator.retryTask('job').taskId).toBe('job~retry2');
    await settle();
    exec.pending.get('job~retry2')?.resolve('written');
    expect(await nf.orchestrator.waitForTask('job~retry2')).toMatchObject({ status: 'completed', result: 'written' });
    await nf.stop();
  });

  test("a retry of a retry is the next number of the original; a task whose dependency failed waits for that dependency's retry", async () => {
    const nf = runtime();
    const exec = controlledExecutor();
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], maxConcurrentTasks: 3, execute: exec.execute });
    await nf.start();
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'fetch', requiredCapabilities: ['x'], retryPolicy: { maxRetries: 0 } },
        { taskId: 'report', requiredCapabilities: ['x'], dependencies: ['fetch'], retryPolicy: { maxRetries: 0 } },
      ],
    });
    await settle();
    exec.pending.get('fetch')?.reject(new Error('network down'));
    await nf.orchestrator.waitForWorkflow(['fetch', 'report']);
    expect(nf.orchestrator.getTask('report')?.status).not.toBe('completed');
    // Retried as is, report would fail again on the same dependency: refused, naming it.
    expect(() => nf.orchestrator.retryTask('report')).toThrow(TaskNotRetryableError);
    expect(() => nf.orchestrator.retryTask('report')).toThrow("its dependency 'fetch' did not complete");
    expect(nf.orchestrator.retryTask('fetch').taskId).toBe('fetch~retry1');
    await settle();
    exec.pending.get('fetch~retry1')?.reject(new Error('still down'));
    await nf.orchestrator.waitForTask('fetch~retry1');
    expect(() => nf.orchestrator.retryTask('report')).toThrow("its dependency 'fetch' did not complete");
    // A retry of a retry: the original's next number, not fetch~retry1~retry1.
    expect(nf.orchestrator.retryTask('fetch~retry1').taskId).toBe('fetch~retry2');
    await settle();
    exec.pending.get('fetch~retry2')?.resolve('prices');
    await nf.orchestrator.waitForTask('fetch~retry2');
    const again = nf.orchestrator.retryTask('report');
    expect(again.taskId).toBe('report~retry1');
    expect(nf.orchestrator.getTask('report~retry1')?.dependencies).toEqual(['fetch~retry2']);
    await settle();
    exec.pending.get('report~retry1')?.resolve('written');
    expect(await nf.orchestrator.waitForTask('report~retry1')).toMatchObject({ status: 'completed' });
    await nf.stop();
  });

  test('a cancelled task can be retried; a completed, running or unknown one cannot', async () => {
    const nf = runtime();
    const exec = controlledExecutor();
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], maxConcurrentTasks: 3, execute: exec.execute });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'cancelled', requiredCapabilities: ['x'] });
    nf.orchestrator.submitTask({ taskId: 'running', requiredCapabilities: ['x'] });
    nf.orchestrator.submitTask({ taskId: 'done', requiredCapabilities: ['x'] });
    await settle();
    nf.orchestrator.cancelTask('cancelled');
    exec.pending.get('done')?.resolve(1);
    await nf.orchestrator.waitForWorkflow(['cancelled', 'done']);
    expect(nf.orchestrator.retryTask('cancelled').taskId).toBe('cancelled~retry1');
    expect(() => nf.orchestrator.retryTask('done')).toThrow(TaskNotRetryableError);
    expect(() => nf.orchestrator.retryTask('running')).toThrow(TaskNotRetryableError);
    expect(() => nf.orchestrator.retryTask('missing')).toThrow(UnknownTaskError);
    expect(() => nf.orchestrator.retryTask('__proto__')).toThrow(UnknownTaskError);
    exec.pending.get('running')?.resolve(1);
    await settle();
    exec.pending.get('cancelled~retry1')?.resolve(1);
    await nf.orchestrator.waitForWorkflow(['running', 'cancelled~retry1']);
    await nf.stop();
  });
});
