/**
 * Agent actors tell the truth about their work (issue #16): `online.idle` / `online.busy` /
 * `online.saturated` from load against capacity, for bus messages being handled and for
 * tasks the orchestrator runs on the agent's executor; `paused` and `offline`; and the
 * load never goes negative nor stays up after hostile or odd endings.
 */
import { SimulatedClock, type AnyActorRef } from 'xstate';
import { createNeuroFlux } from '../src/runtime/createNeuroFlux';
import { createInspectionHub, type ActorView } from '../src/observability';
import { TaskTopic } from '../src/orchestration/taskProtocol';
import { loadText, valueText } from '../src/observability/inspector/page/stateText';
import { cleanupAfterEach } from './support/cleanup';

const cleanup = cleanupAfterEach();

/** Lets queued promise callbacks and the bus's drains run (a turn of the event loop, not a timed wait). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A promise the test settles by hand. */
function deferred<T = unknown>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface AgentFigures {
  value: unknown;
  load: number;
  capacity: number;
  inFlight: number;
  taskLoad: number;
}

function figures(actor: AnyActorRef): AgentFigures {
  const snapshot = actor.getSnapshot() as { value: unknown; context: AgentFigures };
  const { load, capacity, inFlight, taskLoad } = snapshot.context;
  return { value: snapshot.value, load, capacity, inFlight, taskLoad };
}

function runtime() {
  return cleanup.add(createNeuroFlux({ clock: new SimulatedClock() }));
}

describe('agent actor: bus messages being handled', () => {
  test('busy while a handler runs, saturated when every slot is taken, idle after', async () => {
    const nf = runtime();
    const pending: ReturnType<typeof deferred>[] = [];
    const handle = nf.bus.registerAgent('w', {
      concurrency: 2,
      handler: () => {
        const d = deferred();
        pending.push(d);
        return d.promise;
      },
    });
    await nf.start();
    expect(figures(handle.actor)).toMatchObject({ value: { online: 'idle' }, load: 0, capacity: 2 });

    nf.bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 'one' });
    await settle();
    expect(figures(handle.actor)).toMatchObject({ value: { online: 'busy' }, load: 1, inFlight: 1 });

    nf.bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 'two' });
    nf.bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 'three' });
    await settle();
    expect(figures(handle.actor)).toMatchObject({ value: { online: 'saturated' }, load: 2 });

    pending[0]?.resolve(undefined);
    await settle();
    // The third message took the freed slot.
    expect(figures(handle.actor)).toMatchObject({ value: { online: 'saturated' }, load: 2 });
    pending[1]?.resolve(undefined);
    await settle();
    expect(figures(handle.actor)).toMatchObject({ value: { online: 'busy' }, load: 1 });
    pending[2]?.resolve(undefined);
    await nf.bus.whenIdle();
    expect(figures(handle.actor)).toMatchObject({ value: { online: 'idle' }, load: 0, inFlight: 0 });
  });

  test('a handler that throws a non-Error or rejects with nothing leaves no load behind', async () => {
    const nf = runtime();
    let calls = 0;
    const handle = nf.bus.registerAgent('w', {
      concurrency: 3,
      handler: () => {
        calls++;
        if (calls % 3 === 1) throw 'a string, not an Error';
        if (calls % 3 === 2) return Promise.reject(undefined);
        return {
          then: () => {
            throw 42n;
          },
        };
      },
    });
    await nf.start();
    for (let i = 0; i < 9; i++) nf.bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'event', topic: `t${i}`, maxRetries: 0 });
    await nf.bus.whenIdle();
    expect(calls).toBe(9);
    expect(figures(handle.actor)).toMatchObject({ value: { online: 'idle' }, load: 0, inFlight: 0 });
  });

  test('offline with work in flight: the load still counts, and back online it reads busy, then idle', async () => {
    const nf = runtime();
    const d = deferred();
    const handle = nf.bus.registerAgent('w', { concurrency: 2, handler: () => d.promise });
    await nf.start();
    nf.bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't' });
    await settle();
    handle.setOnline(false);
    // Offline, it takes nothing new, but it still works on what it has.
    expect(figures(handle.actor)).toMatchObject({ value: { offline: 'busy' }, load: 1 });
    handle.setOnline(true);
    expect(figures(handle.actor)).toMatchObject({ value: { online: 'busy' }, load: 1 });
    d.resolve(undefined);
    await nf.bus.whenIdle();
    expect(figures(handle.actor)).toMatchObject({ value: { online: 'idle' }, load: 0 });
  });

  test('unregistered mid-message: the handler finishing later sends nothing to the stopped actor', async () => {
    const nf = runtime();
    const d = deferred();
    const handle = nf.bus.registerAgent('w', { handler: () => d.promise });
    await nf.start();
    nf.bus.sendMessage({ senderId: 's', recipientId: 'w', messageType: 'command', topic: 't' });
    await settle();
    expect(figures(handle.actor).value).toEqual({ online: 'saturated' });
    nf.bus.unregisterAgent('w');
    d.reject(new Error('late'));
    await settle();
    expect(handle.actor.getSnapshot().status).toBe('stopped');
  });
});

describe('agent actor: tasks the orchestrator runs on its executor', () => {
  function gatedAgent(nf: ReturnType<typeof runtime>, maxConcurrentTasks: number) {
    const gates = new Map<string, ReturnType<typeof deferred>>();
    nf.orchestrator.registerAgent('worker', {
      capabilities: ['work'],
      maxConcurrentTasks,
      execute: (task) => {
        const d = deferred();
        gates.set(task.taskId, d);
        return d.promise;
      },
    });
    return { gates, actor: nf.bus.getAgent('worker')?.actor as AnyActorRef };
  }

  test('busy with a task, saturated at maxConcurrentTasks, idle once they finish', async () => {
    const nf = runtime();
    const { gates, actor } = gatedAgent(nf, 2);
    await nf.start();
    expect(figures(actor)).toMatchObject({ value: { online: 'idle' }, load: 0, capacity: 2 });

    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'a', requiredCapabilities: ['work'] }] });
    await settle();
    expect(gates.has('a')).toBe(true);
    expect(figures(actor)).toMatchObject({ value: { online: 'busy' }, load: 1, taskLoad: 1, inFlight: 0 });

    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'b', requiredCapabilities: ['work'] }] });
    await settle();
    expect(figures(actor)).toMatchObject({ value: { online: 'saturated' }, load: 2, taskLoad: 2 });

    gates.get('a')?.resolve('done');
    await nf.orchestrator.waitForTask('a');
    await settle();
    expect(figures(actor)).toMatchObject({ value: { online: 'busy' }, load: 1 });
    gates.get('b')?.resolve('done');
    await nf.orchestrator.waitForTask('b');
    expect(figures(actor)).toMatchObject({ value: { online: 'idle' }, load: 0, taskLoad: 0 });
  });

  test('a burst of assignments is told to the actor once, with the final count', async () => {
    const told: number[] = [];
    const nf = cleanup.add(
      createNeuroFlux({
        clock: new SimulatedClock(),
        inspect: (e) => {
          if (e.type === '@xstate.event' && e.event.type === 'TASK_LOAD_CHANGED') told.push((e.event as unknown as { taskLoad: number }).taskLoad);
        },
      }),
    );
    const gate = deferred();
    nf.orchestrator.registerAgent('worker', { capabilities: ['work'], maxConcurrentTasks: 4, execute: () => gate.promise });
    await nf.start();
    told.length = 0;
    nf.orchestrator.submitWorkflow({ tasks: ['a', 'b', 'c', 'd'].map((taskId) => ({ taskId, requiredCapabilities: ['work'] })) });
    await settle();
    expect(told).toEqual([4]);
    expect(figures(nf.bus.getAgent('worker')?.actor as AnyActorRef)).toMatchObject({ value: { online: 'saturated' }, load: 4 });
    gate.resolve('done');
    await nf.orchestrator.waitForWorkflow(['a', 'b', 'c', 'd']);
    await settle();
    expect(told).toEqual([4, 0]);
  });

  test('tasks assigned and finished within one turn of the event loop are not told at all (the chart reads idle at every turn boundary)', async () => {
    const told: number[] = [];
    const nf = cleanup.add(
      createNeuroFlux({
        clock: new SimulatedClock(),
        inspect: (e) => {
          if (e.type === '@xstate.event' && e.event.type === 'TASK_LOAD_CHANGED') told.push((e.event as unknown as { taskLoad: number }).taskLoad);
        },
      }),
    );
    // Settles in a microtask: each assignment and its release fall in different microtask turns of the same event-loop turn.
    nf.orchestrator.registerAgent('worker', { capabilities: ['work'], maxConcurrentTasks: 2, execute: async () => 'done' });
    await nf.start();
    told.length = 0;
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    nf.orchestrator.submitWorkflow({ tasks: ids.map((taskId) => ({ taskId, requiredCapabilities: ['work'] })) });
    const records = await nf.orchestrator.waitForWorkflow(ids);
    expect(records.map((r) => r.status)).toEqual(ids.map(() => 'completed'));
    await settle();
    expect(told).toEqual([]);
    expect(figures(nf.bus.getAgent('worker')?.actor as AnyActorRef)).toMatchObject({ value: { online: 'idle' }, load: 0, taskLoad: 0 });
  });

  test('an executor throwing a non-Error fails the task and frees the slot', async () => {
    const nf = runtime();
    nf.orchestrator.registerAgent('worker', {
      capabilities: ['work'],
      execute: () => {
        throw Symbol('not an error');
      },
    });
    await nf.start();
    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'a', requiredCapabilities: ['work'], retryPolicy: { maxRetries: 0 } }] });
    expect((await nf.orchestrator.waitForTask('a')).status).toBe('failed');
    expect(figures(nf.bus.getAgent('worker')?.actor as AnyActorRef)).toMatchObject({ value: { online: 'idle' }, load: 0 });
  });

  test('paused reads paused.busy (load kept), resumed reads online.busy', async () => {
    const nf = runtime();
    const { gates, actor } = gatedAgent(nf, 4);
    await nf.start();
    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'a', requiredCapabilities: ['work'] }] });
    await settle();
    nf.orchestrator.pauseAgent('worker');
    expect(figures(actor)).toMatchObject({ value: { paused: 'busy' }, load: 1 });
    // Pausing twice and going offline meanwhile: back online it is still paused.
    nf.orchestrator.pauseAgent('worker');
    nf.bus.getAgent('worker')?.setOnline(false);
    expect(figures(actor).value).toEqual({ offline: 'busy' });
    nf.bus.getAgent('worker')?.setOnline(true);
    expect(figures(actor).value).toEqual({ paused: 'busy' });
    nf.orchestrator.resumeAgent('worker');
    expect(figures(actor)).toMatchObject({ value: { online: 'busy' }, load: 1 });
    gates.get('a')?.resolve('done');
    await nf.orchestrator.waitForTask('a');
    expect(figures(actor)).toMatchObject({ value: { online: 'idle' }, load: 0 });
  });

  test('a paused agent registered again starts paused', async () => {
    const nf = runtime();
    gatedAgent(nf, 1);
    await nf.start();
    nf.orchestrator.pauseAgent('worker');
    nf.orchestrator.unregisterAgent('worker');
    const { actor } = gatedAgent(nf, 1);
    expect(figures(actor).value).toEqual({ paused: 'idle' });
  });

  test('unregistered mid-task while its bus agent stays: the task load goes back to zero', async () => {
    const nf = runtime();
    // The bus agent is the user's: the orchestrator does not remove it with its own record.
    const handle = nf.bus.registerAgent('worker', { concurrency: 3, handler: () => undefined });
    const gate = deferred();
    nf.orchestrator.registerAgent('worker', { capabilities: ['work'], maxConcurrentTasks: 3, execute: () => gate.promise });
    await nf.start();
    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'a', requiredCapabilities: ['work'] }] });
    await settle();
    nf.orchestrator.pauseAgent('worker');
    expect(figures(handle.actor)).toMatchObject({ value: { paused: 'busy' }, taskLoad: 1, capacity: 3 });
    nf.orchestrator.unregisterAgent('worker');
    expect(figures(handle.actor)).toMatchObject({ value: { online: 'idle' }, load: 0, taskLoad: 0 });
    gate.resolve('late');
    await settle();
    expect(figures(handle.actor)).toMatchObject({ value: { online: 'idle' }, load: 0 });
  });

  test('unregistered mid-task when the orchestrator owns the bus agent: the actor stops, nothing throws', async () => {
    const nf = runtime();
    const { gates, actor } = gatedAgent(nf, 2);
    await nf.start();
    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'a', requiredCapabilities: ['work'] }] });
    await settle();
    expect(nf.orchestrator.unregisterAgent('worker')).toBe(true);
    expect(actor.getSnapshot().status).toBe('stopped');
    gates.get('a')?.resolve('late');
    await settle();
    expect(nf.orchestrator.getStats().agents).toEqual({});
  });

  test('a result for an unknown task changes no load', async () => {
    const nf = runtime();
    const { gates, actor } = gatedAgent(nf, 2);
    await nf.start();
    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'a', requiredCapabilities: ['work'] }] });
    await settle();
    for (const payload of [{ taskId: 'ghost', attempt: 1, status: 'completed', result: 1 }, { taskId: 'a', attempt: 99, status: 'failed' }, { nonsense: true }]) {
      nf.bus.sendMessage({ senderId: 'worker', recipientId: nf.orchestrator.orchestratorId, messageType: 'notification', topic: TaskTopic.RESULT, payload });
    }
    await settle();
    expect(figures(actor)).toMatchObject({ value: { online: 'busy' }, load: 1 });
    expect(nf.orchestrator.getStats().agents['worker']?.load).toBe(1);
    gates.get('a')?.resolve('done');
    await nf.orchestrator.waitForTask('a');
    expect(figures(actor)).toMatchObject({ value: { online: 'idle' }, load: 0 });
  });
});

describe('the inspector shows agents at work', () => {
  test('the hub reports the agent state and its load/capacity; the page writes them as online.busy 1/2', async () => {
    const hub = createInspectionHub();
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock(), inspect: hub.observer }));
    const gate = deferred();
    nf.orchestrator.registerAgent('worker', { capabilities: ['work'], maxConcurrentTasks: 2, execute: () => gate.promise });
    await nf.start();
    hub.drain();
    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'a', requiredCapabilities: ['work'] }] });
    await settle();
    const agent = hub.drain().actors.find((a: ActorView) => a.systemId === 'agent:worker') as ActorView;
    expect(agent).toMatchObject({ value: { online: 'busy' }, context: expect.objectContaining({ load: 1, capacity: 2, taskLoad: 1 }) });
    expect(valueText(agent.value)).toBe('online.busy');
    expect(loadText(agent.context)).toBe('1/2');
    gate.resolve('done');
    await nf.orchestrator.waitForTask('a');
    const after = hub.drain().actors.find((a: ActorView) => a.systemId === 'agent:worker') as ActorView;
    expect(valueText(after.value)).toBe('online.idle');
    expect(loadText(after.context)).toBe('0/2');
  });

  test('the page formats state values and loads, and shows no load for other actors or odd contexts', () => {
    expect(valueText('paused')).toBe('paused');
    expect(valueText({ open: { voting: 'collecting' } })).toBe('open.voting.collecting');
    expect(valueText({ a: 'x', b: { c: 'y' } })).toBe('a.x, b.c.y');
    expect(valueText(null)).toBe('');
    expect(loadText({ load: 3, capacity: 4 })).toBe('3/4');
    expect(loadText({ load: '3', capacity: 4 })).toBeNull();
    expect(loadText(null)).toBeNull();
    expect(loadText({ taskId: 't' })).toBeNull();
  });
});
