/**
 * Review findings on the facade split and on task actors kept outside their shard's children
 * record (issues #16, #20): construction that throws leaves nothing on the bus, the async
 * submission settles when its own promise does, a task id whose system id is taken is refused
 * with a typed error and no phantom actor, and a task actor that crashes in its assignment or
 * is stopped by a forged `xstate.stop` fails its task and frees the agent's slot.
 */
import { SimulatedClock, createActor, createMachine, type AnyActorRef } from 'xstate';
import { DuplicateTaskError, ErrorCode, NotRunningError, ValidationError, WorkflowValidationError, createNeuroFlux } from '../src';
import { createInspectionHub } from '../src/observability';
import { TaskOrchestrator } from '../src/orchestration/taskOrchestrator';
import { settle } from './support/settle';

/** The bus's listeners of `onAgentRegistered` (private: what a failed construction leaked). */
function registeredListeners(nf: ReturnType<typeof createNeuroFlux>): number {
  return (nf.bus as unknown as { registeredListeners: Set<unknown> }).registeredListeners.size;
}

describe('orchestrator: task actor failures and construction', () => {
  test('1 000 constructions that throw (an unknown balancer) leave no listener on the bus', () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    const before = registeredListeners(nf);
    for (let i = 0; i < 1000; i++) {
      expect(() => new TaskOrchestrator({ bus: nf.bus, orchestratorId: `o${i}`, balancer: 'typo' as never })).toThrow(ValidationError);
    }
    expect(registeredListeners(nf)).toBe(before);
  });

  test('an agent registered again on the bus is linked to its orchestrator record again (the listener is added once construction succeeded)', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.bus.registerAgent('w', { handler: () => undefined });
    nf.orchestrator.registerAgent('w', { capabilities: ['x'] });
    await nf.start();
    const agent = (nf.orchestrator as unknown as { agents: Map<string, { actorLink?: unknown }> }).agents.get('w');
    const first = agent?.actorLink;
    expect(first).toBeDefined();
    nf.bus.unregisterAgent('w');
    nf.bus.registerAgent('w', { handler: () => undefined });
    expect(agent?.actorLink).toBeDefined();
    expect(agent?.actorLink).not.toBe(first);
    await nf.stop();
  });

  test('after stop, unregisterAgent unregisters nothing and tells agentsUnregistered$ nothing (false, not a throw)', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.orchestrator.registerAgent('w', { capabilities: ['x'], execute: () => 1 });
    await nf.start();
    const told: string[] = [];
    nf.orchestrator.agentsUnregistered$.subscribe((id) => told.push(id));
    await nf.orchestrator.stop();
    expect(nf.orchestrator.unregisterAgent('w')).toBe(false);
    expect(told).toEqual([]);
    await nf.stop();
  });

  test('the orchestrator refuses intake with NotRunningError from the moment stop() is called (stopping), not only once stopped', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.orchestrator.registerAgent('w', { capabilities: ['x'], execute: () => 1 });
    await nf.start();
    const stopping = nf.orchestrator.stop();
    expect(() => nf.orchestrator.submitTask({ taskId: 'late', requiredCapabilities: ['x'] })).toThrow(NotRunningError);
    await expect(nf.orchestrator.submitWorkflowAsync({ tasks: [{ taskId: 'late2', requiredCapabilities: ['x'] }] })).rejects.toThrow(NotRunningError);
    await stopping;
    await nf.stop();
  });

  test('submitWorkflowAsync settles with its submission: a cancelTask right after `await Promise.race([...])` still cancels', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.orchestrator.registerAgent('w', { capabilities: ['x'], execute: async () => 1 });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'first', requiredCapabilities: ['x'] });
    await Promise.race([nf.orchestrator.submitWorkflowAsync({ tasks: [{ taskId: 'a', requiredCapabilities: ['x'] }] }), new Promise(() => undefined)]);
    expect(nf.orchestrator.cancelTask('a')).toBe(true);
    expect((await nf.orchestrator.waitForTask('a')).status).toBe('cancelled');
    await expect(nf.orchestrator.submitWorkflowAsync({} as never)).rejects.toThrow(ValidationError);
    await nf.stop();
  });

  test('a task id whose system id another actor holds is refused as a duplicate, all or none, before any task actor exists (none reaches the inspector)', async () => {
    const hub = createInspectionHub();
    const nf = createNeuroFlux({ clock: new SimulatedClock(), inspect: hub.observer });
    await nf.start();
    createActor(createMachine({}), { parent: nf.system as AnyActorRef, systemId: 'task:x' }).start();
    nf.orchestrator.registerAgent('w', { capabilities: ['q'], execute: () => new Promise(() => undefined) });
    hub.drain();
    const refusal = (submit: () => unknown): unknown => {
      try {
        submit();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const single = refusal(() => nf.orchestrator.submitTask({ taskId: 'x', requiredCapabilities: ['q'] }));
    expect(single).toBeInstanceOf(DuplicateTaskError);
    expect([(single as DuplicateTaskError).code, (single as DuplicateTaskError).taskId]).toEqual([ErrorCode.DUPLICATE_TASK, 'x']);
    // 600 tasks: more than one spawn chunk (500); none of them may stay accepted.
    const tasks = Array.from({ length: 600 }, (_, i) => ({ taskId: i === 5 ? 'x' : `a${i}`, requiredCapabilities: ['q'] }));
    const workflow = refusal(() => nf.orchestrator.submitWorkflow({ tasks }));
    expect(workflow).toBeInstanceOf(WorkflowValidationError);
    expect((workflow as WorkflowValidationError).problems).toEqual([expect.objectContaining({ kind: 'duplicate_id', taskIds: ['x'] })]);
    await expect(nf.orchestrator.submitWorkflowAsync({ tasks })).rejects.toThrow(WorkflowValidationError);
    await settle();
    expect(nf.orchestrator.getTaskStatus('a0')).toBeUndefined();
    expect(nf.orchestrator.getTaskStatus('a550')).toBeUndefined();
    expect(hub.drain().actors.filter((a) => a.name.startsWith('task:'))).toEqual([]);
    const stats = nf.orchestrator.getStats();
    expect([stats.tasksCreated, stats.pendingTasks]).toEqual([0, 0]);
    expect(nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'a0', requiredCapabilities: ['q'] }] })).toEqual([{ taskId: 'a0', status: 'pending' }]);
    await nf.stop();
  });

  test('a task actor refused at spawn (its system id taken after the task was accepted) is refused with DuplicateTaskError, and its row rolled back', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    await nf.start();
    const submission = (nf.orchestrator as unknown as { submission: { host: { systemIdTaken: (id: string) => boolean } } }).submission;
    // The check at submission sees the id free; the actor is squatted before the spawn.
    submission.host.systemIdTaken = () => {
      createActor(createMachine({}), { parent: nf.system as AnyActorRef, systemId: 'task:y' }).start();
      return false;
    };
    const error = (() => {
      try {
        nf.orchestrator.submitTask({ taskId: 'y', requiredCapabilities: ['q'] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DuplicateTaskError);
    expect(nf.orchestrator.getTaskStatus('y')).toBeUndefined();
    expect(nf.orchestrator.getStats()).toMatchObject({ tasksCreated: 0, pendingTasks: 0 });
    await nf.stop();
  });

  test('a workflow whose first spawn chunk is refused is refused whole: the tasks past that chunk leave no row behind', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    await nf.start();
    const submission = (nf.orchestrator as unknown as { submission: { host: { systemIdTaken: (id: string) => boolean } } }).submission;
    let squatted = false;
    submission.host.systemIdTaken = () => {
      if (!squatted) createActor(createMachine({}), { parent: nf.system as AnyActorRef, systemId: 'task:a5' }).start();
      squatted = true;
      return false;
    };
    // 600 tasks: the first 500 are spawned in the call (and refused), the other 100 would wait for a later turn.
    const tasks = Array.from({ length: 600 }, (_, i) => ({ taskId: `a${i}`, requiredCapabilities: ['q'] }));
    expect(() => nf.orchestrator.submitWorkflow({ tasks }, { requireCapableAgents: false })).toThrow(DuplicateTaskError);
    await settle();
    expect(nf.orchestrator.getTaskStatus('a0')).toBeUndefined();
    expect(nf.orchestrator.getTaskStatus('a550')).toBeUndefined();
    expect(nf.orchestrator.getStats()).toMatchObject({ tasksCreated: 0, pendingTasks: 0 });
    await nf.stop();
  });

  test('a task whose actor is refused on a later spawn turn fails (runtime) instead of vanishing: the workflow settles, its dependent fails on it, the rest run', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.orchestrator.registerAgent('w', { capabilities: ['q'], maxConcurrentTasks: 100, execute: () => 'done' });
    await nf.start();
    const finished: { taskId: string; failureKind: string | null; reason: string | null }[] = [];
    nf.orchestrator.finished$.subscribe((event) => {
      if (event.status !== 'completed') finished.push({ taskId: event.taskId, failureKind: event.failureKind, reason: event.reason });
    });
    // 1 200 tasks: past the first chunk of 500, actors are spawned on later turns. a701 needs a700.
    const tasks = Array.from({ length: 1200 }, (_, i) => ({ taskId: `a${i}`, requiredCapabilities: ['q'], ...(i === 701 && { dependencies: ['a700'] }) }));
    const submitted = nf.orchestrator.submitWorkflow({ tasks });
    expect(submitted).toHaveLength(1200);
    // A user's actor takes a700's system id before its turn comes.
    createActor(createMachine({}), { parent: nf.system as AnyActorRef, systemId: 'task:a700' }).start();
    const records = await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
    const byId = new Map(records.map((r) => [r.taskId, r]));
    expect(byId.get('a700')).toMatchObject({ status: 'failed', reason: 'execution_failed', error: "task actor could not be spawned: task 'a700' already exists" });
    expect(byId.get('a701')).toMatchObject({ status: 'failed', reason: 'dependency_failed' });
    expect(records.filter((r) => r.status === 'completed')).toHaveLength(1198);
    expect(finished).toEqual([
      { taskId: 'a700', failureKind: 'runtime', reason: 'execution_failed' },
      { taskId: 'a701', failureKind: null, reason: 'dependency_failed' },
    ]);
    expect(nf.orchestrator.getStats()).toMatchObject({ tasksCreated: 1200, tasksCompleted: 1198, tasksFailed: 2, pendingTasks: 0, runningTasks: 0 });
    await nf.stop();
  });

  test('tasks that fail as they start (a dependency had failed) and are let go by retention within the same spawn: the rest of the chunk runs', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock(), orchestrator: { retention: { maxRecords: 1 } } });
    nf.orchestrator.registerAgent('w', {
      capabilities: ['q'],
      maxConcurrentTasks: 2000,
      execute: (task) => {
        if (task.taskId.startsWith('F')) throw new Error('no');
        return 'ok';
      },
    });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'F', requiredCapabilities: ['q'], retryPolicy: { retryOnFailure: false } });
    await nf.orchestrator.waitForTask('F');
    // Records are let go at once (maxRecords 1): what finished is read from finished$.
    const failed: string[] = [];
    const ended = new Set<string>();
    nf.orchestrator.finished$.subscribe((event) => {
      ended.add(event.taskId);
      if (event.status !== 'completed') failed.push(event.taskId);
    });
    // In the call's own chunk: d1 and d2 fail at once, d2's finish lets d1's record go.
    const small = nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'd1', requiredCapabilities: ['q'], dependencies: ['F'] },
        { taskId: 'd2', requiredCapabilities: ['q'], dependencies: ['F'] },
        { taskId: 'd3', requiredCapabilities: ['q'] },
      ],
    });
    expect(small).toHaveLength(3);
    await settle();
    expect(ended.has('d3')).toBe(true);
    // On a later spawn turn: a510 and a511 the same way, among 600 (F itself was let go: F2).
    nf.orchestrator.submitTask({ taskId: 'F2', requiredCapabilities: ['q'], retryPolicy: { retryOnFailure: false } });
    await nf.orchestrator.waitForTask('F2');
    const tasks = Array.from({ length: 600 }, (_, i) => ({ taskId: `a${i}`, requiredCapabilities: ['q'], ...((i === 510 || i === 511) && { dependencies: ['F2'] }) }));
    expect(nf.orchestrator.submitWorkflow({ tasks })).toHaveLength(600);
    for (let turn = 0; turn < 50 && tasks.some(({ taskId }) => !ended.has(taskId)); turn++) await settle();
    expect(tasks.filter(({ taskId }) => !ended.has(taskId))).toEqual([]);
    expect(failed).toEqual(['d1', 'd2', 'F2', 'a510', 'a511']);
    expect(nf.orchestrator.getStats()).toMatchObject({ tasksCreated: 605, tasksCompleted: 599, tasksFailed: 6, pendingTasks: 0, runningTasks: 0 });
    await nf.stop();
  });

  test('a task actor that crashes in its assignment step fails its task and frees the slot: the next task on a one-slot agent runs', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    const dispatcher = (nf.orchestrator as unknown as { dispatcher: { dispatch: (taskId: string, ...rest: unknown[]) => unknown } }).dispatcher;
    const dispatch = dispatcher.dispatch.bind(dispatcher);
    dispatcher.dispatch = (taskId, ...rest) => {
      if (taskId === 'boom') throw Symbol('non-error');
      return dispatch(taskId, ...rest);
    };
    nf.orchestrator.registerAgent('w', { capabilities: ['x'], maxConcurrentTasks: 1, execute: () => 'done' });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'boom', requiredCapabilities: ['x'], retryPolicy: { retryOnFailure: false } });
    const boom = await nf.orchestrator.waitForTask('boom');
    expect([boom.status, boom.error, boom.assignedAgent]).toEqual(['failed', 'task actor crashed: Symbol(non-error)', 'w']);
    expect(nf.orchestrator.getStats().agents['w']?.load).toBe(0);
    nf.orchestrator.submitTask({ taskId: 'ok', requiredCapabilities: ['x'] });
    expect((await nf.orchestrator.waitForTask('ok')).status).toBe('completed');
    await nf.stop();
  });

  test('a forged xstate.stop sent to a running task actor fails the task (waitForTask settles) and frees its slot', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    let runs = 0;
    nf.orchestrator.registerAgent('w', {
      capabilities: ['x'],
      maxConcurrentTasks: 1,
      execute: (task) => (task.taskId === 'f' ? (runs++, new Promise(() => undefined)) : 'done'),
    });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'f', requiredCapabilities: ['x'], retryPolicy: { retryOnFailure: false } });
    await settle();
    expect(nf.orchestrator.getTaskStatus('f')).toBe('running');
    const actor = (nf.system as AnyActorRef).system.get('task:f') as AnyActorRef;
    actor.send({ type: 'xstate.stop' });
    const record = await nf.orchestrator.waitForTask('f');
    expect(record.status).toBe('failed');
    expect(record.error).toMatch(/task actor crashed: .*'xstate\.stop'/);
    expect(nf.orchestrator.getStats().agents['w']?.load).toBe(0);
    nf.orchestrator.submitTask({ taskId: 'next', requiredCapabilities: ['x'] });
    expect((await nf.orchestrator.waitForTask('next')).status).toBe('completed');
    expect(runs).toBe(1);
    await nf.stop();
    expect(() => nf.orchestrator.submitTask({ taskId: 'late', requiredCapabilities: ['x'] })).toThrow(NotRunningError);
  });
});
