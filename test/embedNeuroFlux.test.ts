import { cancel, createActor, raise, sendTo, setup, SimulatedClock, type AnyActorRef, type EventFrom, type InputFrom, type InspectionEvent, type SnapshotFrom } from 'xstate';
import {
  createNeuroFlux,
  DuplicateAgentError,
  ErrorCode,
  LoopbackHub,
  neuroFluxLogic,
  NotRunningError,
  silentLogger,
  UnknownTaskError,
  ValidationError,
  type NeuroFluxEvent,
  type NeuroFluxLogic,
  type NeuroFluxOptions,
  type OrchestratorStats,
  type NeuroFluxParentEvent,
  type NeuroFluxRejectedEvent,
  type NeuroFluxWorkflowFinishedEvent,
  type TaskRecord,
} from '../src';
import { embeddedNeuroFluxOf } from '../src/runtime/neuroFluxLogic';
import { nats } from '../src/transport/natsTransport';
import { signalConflict } from './support/conflictFixtures';
import { settle } from './support/settle';

/** An actor as the inspection sees it: `systemId` is on the class. */
type Inspected = AnyActorRef & { readonly systemId?: string };

type ParentEvent = NeuroFluxParentEvent | { type: 'command'; to: string; command: NeuroFluxEvent } | { type: 'tick' };

/**
 * A user's machine that embeds NeuroFlux (invoked, or spawned with `spawnChild`) and writes
 * down every event it is sent back; `command` events are forwarded to the child named `to`.
 */
function userMachine(received: NeuroFluxParentEvent[], how: 'invoke' | 'spawnChild', inputs: Record<string, unknown> = { nf: {} }) {
  const ids = Object.keys(inputs);
  const base = setup({
    types: { events: {} as ParentEvent },
    actors: { neuroflux: neuroFluxLogic },
    delays: { tick: 1_000 },
  });
  return base.createMachine({
    ...(how === 'invoke'
      ? { invoke: ids.map((id) => ({ id, src: 'neuroflux' as const, input: { logger: silentLogger, ...(inputs[id] as object) } })) }
      : { entry: ids.map((id) => base.spawnChild('neuroflux', { id, input: { logger: silentLogger, ...(inputs[id] as object) } })) }),
    initial: 'on',
    states: {
      on: {
        // A delayed event of the user's own: the runtime's scheduler patch must keep it working.
        after: { tick: { actions: () => received.push({ type: 'neuroflux.rejected', error: new Error('tick'), command: null }) } },
      },
    },
    on: {
      'neuroflux.taskFinished': { actions: ({ event }) => received.push(event) },
      'neuroflux.workflowFinished': { actions: ({ event }) => received.push(event) },
      'neuroflux.rejected': { actions: ({ event }) => received.push(event) },
      command: {
        actions: sendTo(
          ({ event, self }) => child(self, event.to),
          ({ event }) => event.command,
        ),
      },
    },
  });
}

const rejections = (received: NeuroFluxParentEvent[]) => received.filter((e): e is NeuroFluxRejectedEvent => e.type === 'neuroflux.rejected' && e.error.message !== 'tick');
const finishedTasks = (received: NeuroFluxParentEvent[]) => received.flatMap((e) => (e.type === 'neuroflux.taskFinished' ? [e.record.taskId] : []));
const workflowsFinished = (received: NeuroFluxParentEvent[]) => received.filter((e): e is NeuroFluxWorkflowFinishedEvent => e.type === 'neuroflux.workflowFinished');

function child(parent: AnyActorRef, id = 'nf'): AnyActorRef {
  return (parent.getSnapshot() as { children: Record<string, AnyActorRef> }).children[id] as AnyActorRef;
}

function statsOf(parent: AnyActorRef, id = 'nf') {
  return (child(parent, id).getSnapshot() as { context: { stats: { tasksCompleted: number; tasksCancelled: number; registeredAgents: number } | null } }).context.stats;
}

describe('neuroFluxLogic: NeuroFlux embedded in a user machine', () => {
  test.each(['invoke', 'spawnChild'] as const)('%s: a workflow of dependent tasks → taskFinished per task, workflowFinished once, stats in the snapshot', async (how) => {
    const clock = new SimulatedClock();
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, how), { clock }).start();
    const send = (command: NeuroFluxEvent) => parent.send({ type: 'command', to: 'nf', command });
    // Sent at once: the runtime may still be starting, the commands wait for it.
    send({ type: 'neuroflux.registerAgent', agentId: 'maker', capabilities: ['make'], execute: async () => 'made' });
    send({
      type: 'neuroflux.registerAgent',
      agentId: 'user',
      capabilities: ['use'],
      maxConcurrentTasks: 2,
      execute: async (_task, { dependencyResults }) => `used ${String(dependencyResults['make'] ?? dependencyResults['use'])}`,
    });
    send({
      type: 'neuroflux.submitWorkflow',
      workflowId: 'pipeline',
      tasks: [
        { taskId: 'make', requiredCapabilities: ['make'] },
        { taskId: 'use', dependencies: ['make'], requiredCapabilities: ['use'] },
        { taskId: 'check', dependencies: ['use'], requiredCapabilities: ['use'] },
      ],
    });
    await settle();
    expect(rejections(received)).toEqual([]);
    expect(finishedTasks(received)).toEqual(['make', 'use', 'check']);
    const [workflow, ...more] = workflowsFinished(received);
    expect(more).toEqual([]);
    expect(workflow?.workflowId).toBe('pipeline');
    expect(workflow?.records.map((r) => [r.taskId, r.status, r.result])).toEqual([
      ['make', 'completed', 'made'],
      ['use', 'completed', 'used made'],
      ['check', 'completed', 'used used made'],
    ]);
    // After every task of the workflow was told.
    expect(received.findIndex((e) => e.type === 'neuroflux.workflowFinished')).toBe(received.length - 1);
    expect(statsOf(parent)?.tasksCompleted).toBe(3);
    expect(statsOf(parent)?.registeredAgents).toBe(2);
    parent.stop();
  });

  test('a finished task is told with its whole record: result, payload, agent', async () => {
    const clock = new SimulatedClock();
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, 'invoke'), { clock }).start();
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.registerAgent', agentId: 'a', capabilities: ['x'], execute: () => ({ n: 1 }) } });
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.submitWorkflow', tasks: [{ taskId: 't', requiredCapabilities: ['x'], payload: { p: 2 } }] } });
    await settle();
    const told = received.find((e) => e.type === 'neuroflux.taskFinished') as { record: TaskRecord } | undefined;
    expect(told?.record).toMatchObject({ taskId: 't', status: 'completed', result: { n: 1 }, payload: { p: 2 }, assignedAgent: 'a' });
    // A workflow without an id gets one.
    expect(workflowsFinished(received).map((w) => w.workflowId)).toEqual(['workflow-1']);
    parent.stop();
  });

  test('cancelTask cancels a running task; an unknown one is refused with UnknownTaskError', async () => {
    const clock = new SimulatedClock();
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, 'invoke'), { clock }).start();
    const send = (command: NeuroFluxEvent) => parent.send({ type: 'command', to: 'nf', command });
    send({ type: 'neuroflux.registerAgent', agentId: 'slow', capabilities: ['x'], execute: () => new Promise(() => undefined) });
    send({ type: 'neuroflux.submitWorkflow', workflowId: 'w', tasks: [{ taskId: 'forever', requiredCapabilities: ['x'] }] });
    await settle();
    expect(finishedTasks(received)).toEqual([]);
    send({ type: 'neuroflux.cancelTask', taskId: 'forever' });
    send({ type: 'neuroflux.cancelTask', taskId: 'nothing' });
    await settle();
    expect(finishedTasks(received)).toEqual(['forever']);
    expect(workflowsFinished(received)[0]?.records[0]?.status).toBe('cancelled');
    const [refused] = rejections(received);
    expect(refused?.error).toBeInstanceOf(UnknownTaskError);
    expect(refused?.command).toBe('neuroflux.cancelTask');
    expect(statsOf(parent)?.tasksCancelled).toBe(1);
    parent.stop();
  });

  test("an inspect observer given to the user's createActor sees the runtime's task, agent and orchestrator actors", async () => {
    const clock = new SimulatedClock();
    const received: NeuroFluxParentEvent[] = [];
    const actors = new Set<Inspected>();
    const inspect = (event: InspectionEvent) => {
      if (event.type === '@xstate.actor') actors.add(event.actorRef as Inspected);
    };
    const parent = createActor(userMachine(received, 'invoke'), { clock, inspect }).start();
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.registerAgent', agentId: 'a', capabilities: ['x'], execute: () => 1 } });
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.submitWorkflow', tasks: [{ taskId: 't', requiredCapabilities: ['x'] }] } });
    await settle();
    expect(finishedTasks(received)).toEqual(['t']);
    const systemIds = [...actors].map((a) => a.systemId);
    expect(systemIds).toEqual(expect.arrayContaining(['agent:a', 'task:t', 'orchestrator']));
    // They are in the user's system, below the embedding actor.
    const task = [...actors].find((a) => a.systemId === 'task:t');
    expect(task?.system).toBe(parent.system);
    let ancestor: AnyActorRef | undefined = task;
    while (ancestor && ancestor !== child(parent)) ancestor = ancestor._parent;
    expect(ancestor).toBe(child(parent));
    parent.stop();
  });

  test("the runtime's timers run on the user's clock, and the user's own delayed events still fire once, on time", async () => {
    const clock = new SimulatedClock();
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, 'invoke'), { clock }).start();
    const ticks = () => received.filter((e) => e.type === 'neuroflux.rejected' && e.error.message === 'tick').length;
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.registerAgent', agentId: 'stuck', capabilities: ['x'], execute: () => new Promise(() => undefined) } });
    parent.send({
      type: 'command',
      to: 'nf',
      command: { type: 'neuroflux.submitWorkflow', tasks: [{ taskId: 'late', requiredCapabilities: ['x'], timeoutSeconds: 5, retryPolicy: { maxRetries: 0 } }] },
    });
    await settle();
    clock.increment(999);
    await settle();
    expect(ticks()).toBe(0);
    clock.increment(1);
    await settle();
    expect(ticks()).toBe(1);
    expect(finishedTasks(received)).toEqual([]);
    clock.increment(4_000);
    await settle();
    expect(workflowsFinished(received)[0]?.records.map((r) => r.status)).toEqual(['timeout']);
    clock.increment(10_000);
    await settle();
    expect(ticks()).toBe(1);
    parent.stop();
  });

  test('stopping the parent stops every actor of the runtime and leaves no timer behind', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    try {
      const clock = new SimulatedClock();
      const received: NeuroFluxParentEvent[] = [];
      const errors: unknown[] = [];
      const logger = { ...silentLogger, error: (...args: unknown[]) => void errors.push(args), child: () => logger };
      const actors = new Set<Inspected>();
      const parent = createActor(userMachine(received, 'invoke', { nf: { logger } }), {
        clock,
        inspect: (e) => e.type === '@xstate.actor' && actors.add(e.actorRef as Inspected),
      }).start();
      parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.registerAgent', agentId: 'stuck', capabilities: ['x'], execute: () => new Promise(() => undefined) } });
      parent.send({
        type: 'command',
        to: 'nf',
        command: {
          type: 'neuroflux.submitWorkflow',
          tasks: [
            { taskId: 'running', requiredCapabilities: ['x'], timeoutSeconds: 60 },
            { taskId: 'waiting', dependencies: ['running'] },
          ],
        },
      });
      await settle();
      const timers = (clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts;
      expect(timers.size).toBeGreaterThan(0);
      parent.stop();
      await settle();
      const alive = [...actors].filter((a) => a.getSnapshot().status === 'active').map((a) => a.systemId ?? a.id);
      expect(alive).toEqual([]);
      expect(timers.size).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
      expect(errors).toEqual([]);
      // Nothing is told after the stop.
      const told = received.length;
      clock.increment(120_000);
      await settle();
      expect(received.length).toBe(told);
    } finally {
      jest.useRealTimers();
    }
  });

  test('bad commands are refused with the typed error naming the field; the runtime keeps going', async () => {
    const clock = new SimulatedClock();
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, 'invoke'), { clock }).start();
    const send = (command: unknown) => parent.send({ type: 'command', to: 'nf', command: command as NeuroFluxEvent });
    send({ type: 'neuroflux.registerAgent', agentId: 'ok', capabilities: ['x'], execute: () => 'fine' });
    await settle();
    const hostile: [unknown, (error: Error) => void][] = [
      [{ type: 'neuroflux.registerAgent', capabilities: ['x'] }, (e) => expect(e).toMatchObject({ field: 'agentId' })],
      [{ type: 'neuroflux.registerAgent', agentId: 'b' }, (e) => expect(e).toMatchObject({ field: 'capabilities' })],
      [{ type: 'neuroflux.registerAgent', agentId: 'c', capabilities: ['x'], execute: 'rm -rf /' }, (e) => expect(e).toMatchObject({ field: 'execute' })],
      [{ type: 'neuroflux.registerAgent', agentId: 'ok', capabilities: ['x'] }, (e) => expect(e).toBeInstanceOf(DuplicateAgentError)],
      [
        { type: 'neuroflux.submitWorkflow', tasks: [{ taskId: 'big', requiredCapabilities: ['x'], payload: { n: 1n } }] },
        (e) => expect((e as ValidationError).field).toMatch(/^tasks\.0\.payload/),
      ],
      [{ type: 'neuroflux.submitWorkflow', tasks: 'all of them' }, (e) => expect(e).toMatchObject({ field: 'tasks' })],
      [{ type: 'neuroflux.cancelTask', taskId: 'x', tsakId: 'x' }, (e) => expect(e).toMatchObject({ field: 'tsakId' })],
      [JSON.parse('{"type":"neuroflux.cancelTask","taskId":"x","__proto__":{"polluted":true}}'), (e) => expect(e).toMatchObject({ field: '__proto__' })],
    ];
    for (const [command, check] of hostile) {
      received.length = 0;
      send(command);
      await settle(2);
      const refused = rejections(received);
      expect(refused).toHaveLength(1);
      expect(refused[0]?.error).toBeInstanceOf(Error);
      check(refused[0]!.error);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // A duplicate workflow id while that workflow runs.
    received.length = 0;
    send({ type: 'neuroflux.registerAgent', agentId: 'slow', capabilities: ['slow'], execute: () => new Promise(() => undefined) });
    send({ type: 'neuroflux.submitWorkflow', workflowId: 'w', tasks: [{ taskId: 'w1', requiredCapabilities: ['slow'] }] });
    send({ type: 'neuroflux.submitWorkflow', workflowId: 'w', tasks: [{ taskId: 'w2', requiredCapabilities: ['x'] }] });
    await settle();
    expect(rejections(received).map((r) => [r.command, (r.error as ValidationError).field])).toEqual([['neuroflux.submitWorkflow', 'workflowId']]);
    // An agent named `__proto__`, and an executor that throws a non-Error: the task fails, nothing else does.
    received.length = 0;
    send({ type: 'neuroflux.registerAgent', agentId: '__proto__', capabilities: ['proto'], execute: () => 'from proto' });
    send({ type: 'neuroflux.registerAgent', agentId: 'thrower', capabilities: ['throw'], execute: () => Promise.reject('a plain string') });
    send({
      type: 'neuroflux.submitWorkflow',
      workflowId: 'after',
      tasks: [
        { taskId: 'p', requiredCapabilities: ['proto'] },
        { taskId: 'throws', requiredCapabilities: ['throw'], retryPolicy: { maxRetries: 0 } },
        { taskId: 'fine', requiredCapabilities: ['x'] },
      ],
    });
    await settle();
    expect(rejections(received)).toEqual([]);
    const records = workflowsFinished(received)[0]?.records ?? [];
    expect(records.map((r) => [r.taskId, r.status, r.assignedAgent])).toEqual([
      ['p', 'completed', '__proto__'],
      ['throws', 'failed', 'thrower'],
      ['fine', 'completed', 'ok'],
    ]);
    expect(records[1]?.error).toContain('a plain string');
    expect(child(parent).getSnapshot().status).toBe('active');
    expect(parent.getSnapshot().status).toBe('active');
    parent.stop();
  });

  test.each<[string, unknown, string]>([
    ['a misspelt option', { nmae: 'x' }, 'nmae'],
    ['an orchestrator that is not an object', { orchestrator: 'yes' }, 'orchestrator'],
    ["a clock other than the system's", { clock: new SimulatedClock() }, 'clock'],
    ['a logger without methods', { logger: {} }, 'logger'],
  ])('bad input (%s) → rejected with the ValidationError createNeuroFlux throws; every command is refused', async (_, input, field) => {
    const clock = new SimulatedClock();
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, 'invoke', { nf: input as NeuroFluxOptions }), { clock }).start();
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.cancelTask', taskId: 't' } });
    await settle();
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.cancelTask', taskId: 't' } });
    const [startFailure, queued, later] = rejections(received);
    expect(startFailure?.command).toBeNull();
    expect(startFailure?.error).toBeInstanceOf(ValidationError);
    expect((startFailure?.error as ValidationError).field).toBe(field);
    expect(queued?.error).toBeInstanceOf(NotRunningError);
    expect(later?.error).toBeInstanceOf(NotRunningError);
    expect(child(parent).getSnapshot().status).toBe('active');
    // The same check as createNeuroFlux's (the clock rule is the embedded runtime's own).
    if (field !== 'clock')
      expect(() => createNeuroFlux({ ...(input as NeuroFluxOptions), logger: silentLogger, ...(field === 'logger' && { logger: {} as never }) })).toThrow(
        expect.objectContaining({ field }),
      );
    parent.stop();
  });

  test("the system's own clock given as the clock option is accepted", async () => {
    const clock = new SimulatedClock();
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, 'invoke', { nf: { clock } }), { clock }).start();
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.registerAgent', agentId: 'a', capabilities: ['x'], execute: () => 1 } });
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.submitWorkflow', tasks: [{ taskId: 't', requiredCapabilities: ['x'] }] } });
    await settle();
    expect(rejections(received)).toEqual([]);
    expect(finishedTasks(received)).toEqual(['t']);
    parent.stop();
  });

  test('two embedded runtimes side by side in one system, with the same agent and task ids', async () => {
    const clock = new SimulatedClock();
    const received: NeuroFluxParentEvent[] = [];
    const actors = new Set<Inspected>();
    const parent = createActor(userMachine(received, 'invoke', { left: { name: 'left' }, right: { name: 'right' } }), {
      clock,
      inspect: (e) => e.type === '@xstate.actor' && actors.add(e.actorRef as Inspected),
    }).start();
    for (const to of ['left', 'right']) {
      parent.send({ type: 'command', to, command: { type: 'neuroflux.registerAgent', agentId: 'w', capabilities: ['x'], execute: () => to } });
      parent.send({ type: 'command', to, command: { type: 'neuroflux.submitWorkflow', workflowId: 'same', tasks: [{ taskId: 't', requiredCapabilities: ['x'] }] } });
    }
    await settle();
    expect(rejections(received)).toEqual([]);
    expect(
      workflowsFinished(received)
        .map((w) => w.records[0]?.result)
        .sort(),
    ).toEqual(['left', 'right']);
    const systemIds = [...actors].map((a) => a.systemId);
    expect(systemIds).toEqual(expect.arrayContaining(['task:t', 'agent:w', 'orchestrator', 'neuroflux-1/task:t', 'neuroflux-1/agent:w', 'neuroflux-1/orchestrator']));
    expect(statsOf(parent, 'left')?.tasksCompleted).toBe(1);
    expect(statsOf(parent, 'right')?.tasksCompleted).toBe(1);
    parent.stop();
    await settle();
    expect([...actors].filter((a) => a.getSnapshot().status === 'active')).toEqual([]);
  });

  test('on a clock with host-timer limits, a 30-day task timeout fires at 30 days, not at once', async () => {
    const simulated = new SimulatedClock();
    const DAY = 86_400_000;
    // As Node's timers do: a delay past 2^31 − 1 ms fires at once.
    const hostLimited = {
      now: () => simulated.now(),
      setTimeout: (fn: (...args: unknown[]) => void, ms: number) => simulated.setTimeout(fn, ms > 2_147_483_647 ? 1 : ms),
      clearTimeout: (id: number) => simulated.clearTimeout(id),
    };
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, 'invoke'), { clock: hostLimited }).start();
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.registerAgent', agentId: 'stuck', capabilities: ['x'], execute: () => new Promise(() => undefined) } });
    parent.send({
      type: 'command',
      to: 'nf',
      command: { type: 'neuroflux.submitWorkflow', tasks: [{ taskId: 'month', requiredCapabilities: ['x'], timeoutSeconds: 30 * 86_400, retryPolicy: { maxRetries: 0 } }] },
    });
    await settle();
    simulated.increment(1);
    await settle();
    expect(finishedTasks(received)).toEqual([]);
    simulated.increment(29 * DAY);
    await settle();
    expect(finishedTasks(received)).toEqual([]);
    simulated.increment(DAY);
    await settle();
    expect(workflowsFinished(received)[0]?.records.map((r) => r.status)).toEqual(['timeout']);
    parent.stop();
  });

  test("the user's own delayed events, short and long, still fire and cancel by id next to a runtime", async () => {
    const clock = new SimulatedClock();
    const DAY = 86_400_000;
    const fired: string[] = [];
    const machine = setup({
      types: { events: {} as { type: 'arm' } | { type: 'disarm' } | { type: 'short' } | { type: 'long' } },
      actors: { neuroflux: neuroFluxLogic },
    }).createMachine({
      invoke: [
        { id: 'one', src: 'neuroflux', input: { logger: silentLogger } },
        { id: 'two', src: 'neuroflux', input: { logger: silentLogger } },
      ],
      on: {
        arm: { actions: [raise({ type: 'short' }, { delay: 1_000, id: 'short' }), raise({ type: 'long' }, { delay: 40 * DAY, id: 'long' })] },
        disarm: { actions: [cancel('short'), cancel('long')] },
        short: { actions: () => fired.push('short') },
        long: { actions: () => fired.push('long') },
      },
    });
    const parent = createActor(machine, { clock }).start();
    await settle();
    parent.send({ type: 'arm' });
    clock.increment(1_000);
    expect(fired).toEqual(['short']);
    clock.increment(40 * DAY);
    expect(fired).toEqual(['short', 'long']);
    parent.send({ type: 'arm' });
    parent.send({ type: 'disarm' });
    clock.increment(41 * DAY);
    expect(fired).toEqual(['short', 'long']);
    expect(Object.keys(parent.system.getSnapshot()._scheduledEvents)).toEqual([]);
    parent.stop();
  });

  test('a slow start (a transport still connecting): commands wait and run in order; a stop meanwhile closes it once started', async () => {
    const clock = new SimulatedClock();
    const steps: string[] = [];
    let connect!: () => void;
    const slowTransport = {
      attach: () => undefined,
      start: () => new Promise<void>((resolve) => (connect = () => (steps.push('started'), resolve()))),
      close: async () => void steps.push('closed'),
    };
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, 'invoke', { nf: { transport: slowTransport } }), { clock }).start();
    const send = (command: NeuroFluxEvent) => parent.send({ type: 'command', to: 'nf', command });
    send({ type: 'neuroflux.registerAgent', agentId: 'a', capabilities: ['x'], execute: () => 'done' });
    send({ type: 'neuroflux.submitWorkflow', workflowId: 'first', tasks: [{ taskId: 't1', requiredCapabilities: ['x'] }] });
    send({ type: 'neuroflux.submitWorkflow', workflowId: 'first', tasks: [{ taskId: 't2', requiredCapabilities: ['x'] }] });
    send({ type: 'neuroflux.cancelTask', taskId: 't1' });
    await settle();
    expect(received).toEqual([]);
    connect();
    await settle();
    // In order: the duplicate id is refused while 'first' runs; the cancel, run right after the
    // submission, finds t1 not yet run (it was not dropped, nor run before the submission).
    expect(rejections(received).map((r) => (r.error as ValidationError).field)).toEqual(['workflowId']);
    expect(workflowsFinished(received).map((w) => [w.workflowId, w.records.map((r) => r.status)])).toEqual([['first', ['cancelled']]]);

    const second = createActor(
      userMachine([], 'invoke', { nf: { transport: { ...slowTransport, start: () => new Promise<void>((resolve) => (connect = () => (steps.push('started'), resolve()))) } } }),
      { clock },
    ).start();
    steps.length = 0;
    second.stop();
    await settle();
    expect(steps).toEqual([]);
    connect();
    await settle();
    expect(steps).toEqual(['started', 'closed']);
    parent.stop();
  });

  test('a burst of 20 tasks under a retention of 0 finished records: every task and the whole workflow are told', async () => {
    const clock = new SimulatedClock();
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, 'invoke', { nf: { orchestrator: { retention: { maxRecords: 0 } } } }), { clock }).start();
    parent.send({
      type: 'command',
      to: 'nf',
      command: { type: 'neuroflux.registerAgent', agentId: 'a', capabilities: ['x'], maxConcurrentTasks: 20, execute: (task) => task.taskId },
    });
    const tasks = Array.from({ length: 20 }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: ['x'] }));
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.submitWorkflow', workflowId: 'burst', tasks } });
    await settle();
    expect(rejections(received)).toEqual([]);
    expect(finishedTasks(received).sort()).toEqual(tasks.map((t) => t.taskId).sort());
    expect(workflowsFinished(received)[0]?.records.map((r) => r.result)).toEqual(tasks.map((t) => t.taskId));
    parent.stop();
  });

  test('types: the commands and the snapshot stats as the API declares them', () => {
    const stats: SnapshotFrom<NeuroFluxLogic>['context']['stats'] = null;
    const typed: OrchestratorStats | null = stats;
    const commands: NeuroFluxEvent[] = [
      { type: 'neuroflux.cancelTask', taskId: 't' },
      { type: 'neuroflux.registerAgent', agentId: 'a', capabilities: ['x'], execute: async () => 1 },
      { type: 'neuroflux.submitWorkflow', tasks: [{ taskId: 't', requiredCapabilities: ['x'] }] },
      // @ts-expect-error taskId is required
      { type: 'neuroflux.cancelTask' },
      // @ts-expect-error capabilities are strings
      { type: 'neuroflux.registerAgent', agentId: 'a', capabilities: [1] },
    ];
    // The input is createNeuroFlux's options (checked again at run time: JavaScript callers).
    const input: InputFrom<NeuroFluxLogic> = { name: 'typed', orchestrator: { balancer: 'weighted' } };
    // @ts-expect-error a misspelt option
    const misspelt: InputFrom<NeuroFluxLogic> = { nmae: 'x' };
    expect([typed, commands.length, input.name, misspelt]).toEqual([null, 5, 'typed', { nmae: 'x' }]);
  });
});

describe('neuroFluxLogic: review findings (issue #16, review RF)', () => {
  const timersOf = (clock: SimulatedClock) => (clock as unknown as { timeouts: Map<unknown, { timeout: number }> }).timeouts;

  test("a user's timer armed before NeuroFlux joined the system is still cancelled when its actor stops", async () => {
    const clock = new SimulatedClock();
    const waiter = setup({}).createMachine({ initial: 'waiting', states: { waiting: { after: { 60_000: 'done' } }, done: {} } });
    const app = setup({ types: { events: {} as { type: 'join' } | { type: 'drop' } }, actors: { waiter, neuroflux: neuroFluxLogic } }).createMachine({
      type: 'parallel',
      states: {
        user: { initial: 'on', states: { on: { invoke: { src: 'waiter' }, on: { drop: 'off' } }, off: {} } },
        nf: { initial: 'off', states: { off: { on: { join: 'on' } }, on: { invoke: { src: 'neuroflux', input: { logger: silentLogger } } } } },
      },
    });
    const parent = createActor(app, { clock }).start();
    expect([...timersOf(clock).values()].map((t) => t.timeout)).toEqual([60_000]);
    parent.send({ type: 'join' });
    await settle();
    parent.send({ type: 'drop' });
    await settle();
    expect([...timersOf(clock).values()].map((t) => t.timeout)).toEqual([]);
    parent.stop();
  });

  test('persisting the parent: no stack overflow with a transport, no options in it; a restored NeuroFlux refuses every command', async () => {
    const received: NeuroFluxParentEvent[] = [];
    // A transport's object graph has cycles (and may hold credentials): it must not be walked.
    const transport = nats({ servers: 'nats://127.0.0.1:1', user: 'nf', pass: 'SECRET-PASS' });
    const parent = createActor(userMachine(received, 'invoke', { nf: { transport } }), { clock: new SimulatedClock() }).start();
    const persisted = parent.getPersistedSnapshot();
    expect(JSON.stringify(persisted)).not.toContain('SECRET-PASS');
    parent.stop();
    await settle();

    const live = createActor(userMachine([], 'invoke'), { clock: new SimulatedClock() }).start();
    live.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.registerAgent', agentId: 'a', capabilities: ['x'], execute: () => 1 } });
    await settle();
    const snapshot = JSON.parse(JSON.stringify(live.getPersistedSnapshot())) as { children: { nf: { snapshot: { value: unknown; context: Record<string, unknown> } } } };
    live.stop();
    expect(snapshot.children.nf.snapshot.value).toBe('restored');
    expect(snapshot.children.nf.snapshot.context).not.toHaveProperty('options');

    const again: NeuroFluxParentEvent[] = [];
    const restored = createActor(userMachine(again, 'invoke'), { clock: new SimulatedClock(), snapshot: snapshot as never }).start();
    restored.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.cancelTask', taskId: 'p' } });
    restored.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.registerAgent', agentId: 'b', capabilities: ['x'] } });
    restored.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.submitWorkflow', tasks: [] } });
    await settle();
    expect(rejections(again).map((r) => [r.command, r.error.constructor.name, /restored/.test(r.error.message)])).toEqual([
      ['neuroflux.cancelTask', 'NotRunningError', true],
      ['neuroflux.registerAgent', 'NotRunningError', true],
      ['neuroflux.submitWorkflow', 'NotRunningError', true],
    ]);
    restored.stop();
  });

  test('a second spawnChild with the id of a live NeuroFlux stops the first one, which tells the parent', async () => {
    const received: NeuroFluxParentEvent[] = [];
    const actors = new Set<Inspected>();
    const inspect = (e: InspectionEvent) => {
      if (e.type === '@xstate.actor') actors.add(e.actorRef as Inspected);
    };
    const orchestrators = () => [...actors].filter((a) => /^(neuroflux-\d+\/)?orchestrator$/.test(a.systemId ?? ''));
    const base = setup({ types: { events: {} as ParentEvent | { type: 'spawn' } }, actors: { neuroflux: neuroFluxLogic } });
    const app = base.createMachine({
      on: {
        spawn: { actions: base.spawnChild('neuroflux', { id: 'dup', input: { logger: silentLogger } }) },
        'neuroflux.rejected': { actions: ({ event }) => received.push(event) },
      },
    });
    const parent = createActor(app, { clock: new SimulatedClock(), inspect }).start();
    parent.send({ type: 'spawn' });
    await settle();
    const first = child(parent, 'dup');
    parent.send({ type: 'spawn' });
    await settle();
    expect(child(parent, 'dup')).not.toBe(first);
    expect(rejections(received).map((r) => [r.command, r.error instanceof ValidationError && r.error.field])).toEqual([[null, 'id']]);
    expect(orchestrators().map((o) => `${o.systemId ?? ''}=${o.getSnapshot().status}`)).toEqual(['orchestrator=done', 'neuroflux-1/orchestrator=active']);
    parent.stop();
    await settle();
    expect(orchestrators().filter((o) => o.getSnapshot().status === 'active')).toEqual([]);
  });

  test('a NeuroFlux that replaces a stopped one gets the unprefixed system ids back', async () => {
    const base = setup({ types: { events: {} as { type: 'toggle' } }, actors: { neuroflux: neuroFluxLogic } });
    const app = base.createMachine({
      initial: 'on',
      states: { on: { invoke: { id: 'nf', src: 'neuroflux', input: { logger: silentLogger } }, on: { toggle: 'off' } }, off: { on: { toggle: 'on' } } },
    });
    const parent = createActor(app, { clock: new SimulatedClock() }).start();
    await settle();
    const first = parent.system.get('orchestrator') as AnyActorRef | undefined;
    expect(first).toBeDefined();
    parent.send({ type: 'toggle' });
    await settle();
    parent.send({ type: 'toggle' });
    await settle();
    const second = parent.system.get('orchestrator') as AnyActorRef | undefined;
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(parent.system.get('neuroflux-1/orchestrator')).toBeUndefined();
    parent.stop();
  });

  test('events that are not commands are refused with a ValidationError naming type; forged internal events change nothing', async () => {
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, 'invoke'), { clock: new SimulatedClock() }).start();
    await settle();
    const forged = [{ type: 'neuroflux.bogus' }, { type: 'xstate.error.actor.x', error: new Error('forged') }, { type: 'xstate.done.actor.x' }, { type: 'neuroflux.statsChanged' }];
    for (const event of forged) parent.send({ type: 'command', to: 'nf', command: event as unknown as NeuroFluxEvent });
    await settle();
    const refused = rejections(received);
    expect(refused.map((r) => [r.command, r.error instanceof ValidationError && r.error.field])).toEqual(forged.map(() => [null, 'type']));
    expect(refused[0]?.error.message).toMatch(/neuroflux\.bogus/);
    expect((child(parent).getSnapshot() as { context: { crashes: number } }).context.crashes).toBe(0);
    expect(child(parent).getSnapshot().value).toBe('running');
    parent.stop();
  });

  test('types: the logic accepts only the commands (typos and internal events do not compile)', () => {
    const accepted: EventFrom<NeuroFluxLogic>[] = [
      { type: 'neuroflux.cancelTask', taskId: 't' },
      // @ts-expect-error internal to the runtime
      { type: 'neuroflux.statsChanged' },
      // @ts-expect-error XState's own, never the user's to send
      { type: 'xstate.error.actor.x', error: 1 },
      // @ts-expect-error a misspelt field
      { type: 'neuroflux.registerAgent', agnetId: 'x', capabilities: ['x'] },
    ];
    const actor = createActor(neuroFluxLogic, { input: { logger: silentLogger } });
    const send = (): void => {
      // @ts-expect-error a misspelt field
      actor.send({ type: 'neuroflux.submitWorkflow', taskz: [] });
      // @ts-expect-error taskId is a string
      actor.send({ type: 'neuroflux.cancelTask', taskId: 42 });
    };
    expect([accepted.length, typeof send]).toEqual([4, 'function']);
  });

  test('null input is refused as createNeuroFlux(null) is', async () => {
    expect(() => createNeuroFlux(null as never)).toThrow(ValidationError);
    const received: NeuroFluxParentEvent[] = [];
    const app = setup({ types: { events: {} as ParentEvent }, actors: { neuroflux: neuroFluxLogic } }).createMachine({
      invoke: { id: 'nf', src: 'neuroflux', input: null as never },
      on: { 'neuroflux.rejected': { actions: ({ event }) => received.push(event) } },
    });
    const parent = createActor(app, { clock: new SimulatedClock() }).start();
    await settle();
    expect(rejections(received).map((r) => [r.command, r.error.constructor.name])).toEqual([[null, 'ValidationError']]);
    expect(child(parent).getSnapshot().value).toBe('failed');
    parent.stop();
  });

  test("after a failed start, commands get a NotRunningError saying so, with the start's error as cause", async () => {
    const hub = new LoopbackHub();
    const transport = hub.transport({ identity: 'a' });
    const cannotConnect = new Error('cannot connect');
    (transport as unknown as { start: () => Promise<void> }).start = () => Promise.reject(cannotConnect);
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, 'invoke', { nf: { transport } }), { clock: new SimulatedClock() }).start();
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.cancelTask', taskId: 't' } });
    await settle();
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.cancelTask', taskId: 't' } });
    await settle();
    const [start, ...commands] = rejections(received);
    expect(start).toMatchObject({ command: null, error: cannotConnect });
    expect(commands).toHaveLength(2);
    for (const { error } of commands) {
      expect(error).toBeInstanceOf(NotRunningError);
      expect((error as NotRunningError).code).toBe(ErrorCode.NOT_RUNNING);
      expect(error.message).toMatch(/failed to start/);
      expect(error.message).not.toMatch(/start\(\)/);
      expect(error.cause).toBe(cannotConnect);
    }
    parent.stop();
  });

  test("a conflict actor of the embedded runtime lives in the parent's system, seen by the user's inspect", async () => {
    const actors = new Set<Inspected>();
    const inspect = (e: InspectionEvent) => {
      if (e.type === '@xstate.actor') actors.add(e.actorRef as Inspected);
    };
    const parent = createActor(userMachine([], 'invoke'), { clock: new SimulatedClock(), inspect }).start();
    await settle();
    const nf = embeddedNeuroFluxOf(child(parent));
    const id = nf?.conflicts.reportConflict(signalConflict({ conflictId: 'c1' }));
    await settle();
    expect(id).toBe('c1');
    const conflict = [...actors].find((a) => a.systemId === 'conflict:c1');
    expect(conflict?.system).toBe(parent.system);
    let ancestor: AnyActorRef | undefined = conflict;
    while (ancestor && ancestor !== child(parent)) ancestor = ancestor._parent;
    expect(ancestor).toBe(child(parent));
    parent.stop();
  });

  test("a task failed by its dependency's failure names the dependency in its error", async () => {
    const received: NeuroFluxParentEvent[] = [];
    const parent = createActor(userMachine(received, 'invoke'), { clock: new SimulatedClock() }).start();
    parent.send({ type: 'command', to: 'nf', command: { type: 'neuroflux.registerAgent', agentId: 'a', capabilities: ['x'], execute: () => Promise.reject(new Error('broken')) } });
    parent.send({
      type: 'command',
      to: 'nf',
      command: {
        type: 'neuroflux.submitWorkflow',
        tasks: [
          { taskId: 'first', requiredCapabilities: ['x'], retryPolicy: { maxRetries: 0 } },
          { taskId: 'second', requiredCapabilities: ['x'], dependencies: ['first'] },
        ],
      },
    });
    await settle(30);
    const records = workflowsFinished(received)[0]?.records ?? [];
    expect(records.map((r) => [r.taskId, r.status])).toEqual([
      ['first', 'failed'],
      ['second', 'failed'],
    ]);
    expect(records[1]?.error).toMatch(/dependency 'first'/);
    parent.stop();
  });
});
