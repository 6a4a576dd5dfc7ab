/**
 * `task_cancel` names the dispatch it stops (review of issue #16): a task moved off a host that
 * was cut off, then given back to the same host, runs the same attempt a second time under a
 * new dispatch token; the first dispatch's cancel, arriving late, must stop the first run only.
 * Before, the host keyed its runs by `agent:task#attempt`: the second run replaced the first
 * one's controller and the late cancel aborted it, so the task hung in `running`.
 */
import { SimulatedClock } from 'xstate';
import { AgentHost, createNeuroFlux, silentLogger, TaskTopic, type Message } from '../src';
import type { WireFrame } from '../src/transport/loopbackHub';
import { cleanupAfterEach } from './support/cleanup';
import { orchestratorAndHostOverLoopback } from './support/loopbackHost';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

interface Run {
  readonly taskId: string;
  readonly signal: AbortSignal;
  finish(value: string): void;
}

/** A hosted agent whose runs wait for the test to finish them. */
function gatedAgent(runs: Run[]) {
  return {
    capabilities: ['c'],
    maxConcurrentTasks: 4,
    execute: (task: { taskId: string }, { signal }: { signal: AbortSignal }) => new Promise<string>((resolve) => runs.push({ taskId: task.taskId, signal, finish: resolve })),
  };
}

describe('AgentHost: a cancel stops the dispatch it names', () => {
  async function hostWithFakeOrchestrator() {
    const nf = cleanup.add(createNeuroFlux({ logger: silentLogger, clock: new SimulatedClock(), orchestrator: false }));
    await nf.start();
    const runs: Run[] = [];
    const host = cleanup.add(new AgentHost({ bus: nf.bus, hostId: 'h1' }));
    host.addAgent('w', gatedAgent(runs));
    const reports: Message[] = [];
    const orch = nf.bus.registerAgent('orch', { handler: (m: Message) => void reports.push(m) });
    const send = (topic: string, payload: Record<string, unknown>) => orch.send({ recipientId: 'w', messageType: 'command', topic, payload });
    const assign = (dispatch: string | undefined) =>
      send(TaskTopic.ASSIGNMENT, { action: 'execute_task', task: { taskId: 'a' }, attempt: 0, ...(dispatch !== undefined && { dispatch }) });
    const cancel = (dispatch: string | undefined) => send(TaskTopic.CANCEL, { taskId: 'a', attempt: 0, reason: 'aborted', ...(dispatch !== undefined && { dispatch }) });
    return { host, runs, reports, assign, cancel };
  }

  test('two dispatches of one attempt are two runs; the first one\u2019s cancel leaves the second running', async () => {
    const { host, runs, reports, assign, cancel } = await hostWithFakeOrchestrator();
    assign('T1');
    assign('T2');
    await settle();
    expect(runs).toHaveLength(2);
    // The second run did not replace the first one's controller.
    expect(host.getStats().running).toBe(2);

    cancel('T1');
    await settle();
    expect(runs.map((r) => r.signal.aborted)).toEqual([true, false]);
    expect(host.getStats()).toMatchObject({ running: 1, aborted: 1 });

    runs[1]!.finish('second');
    await settle();
    const results = reports.filter((m) => m.topic === TaskTopic.RESULT).map((m) => m.payload);
    expect(results).toEqual([expect.objectContaining({ taskId: 'a', attempt: 0, dispatch: 'T2', status: 'completed', result: 'second' })]);
  });

  test('a forged cancel with a wrong token stops nothing; one without a token stops every run of the attempt, as before', async () => {
    const { host, runs, assign, cancel } = await hostWithFakeOrchestrator();
    assign('T1');
    assign('T2');
    await settle();
    cancel('not-a-dispatch');
    await settle();
    expect(runs.map((r) => r.signal.aborted)).toEqual([false, false]);
    expect(host.getStats()).toMatchObject({ running: 2, aborted: 0 });

    cancel(undefined);
    await settle();
    expect(runs.map((r) => r.signal.aborted)).toEqual([true, true]);
    expect(host.getStats()).toMatchObject({ running: 0, aborted: 2 });
  });
});

describe('a task moved off a cut-off host and given back to it completes despite the late cancel', () => {
  test('loopback: host lost, back, re-dispatched; the delayed cancel of the first dispatch stops the first run only', async () => {
    const clock = new SimulatedClock();
    const { hub, orch, host } = await orchestratorAndHostOverLoopback(cleanup, clock);
    const runs: Run[] = [];
    host.addAgent('h1-w', gatedAgent(runs));
    host.start();
    await settle();

    // The network holds back the orchestrator's cancels (JetStream redelivers them after `ackWait`).
    const isCancel = (frame: WireFrame) => Buffer.from(frame.body).toString('utf8').includes(`"${TaskTopic.CANCEL}"`);
    const store = hub.store.bind(hub);
    const delayed: [WireFrame, string | undefined][] = [];
    jest.spyOn(hub, 'store').mockImplementation((frame, msgId) => {
      if (!isCancel(frame)) return store(frame, msgId);
      delayed.push([frame, msgId]);
      return true;
    });

    orch.orchestrator.submitTask({ taskId: 'a', requiredCapabilities: ['c'], timeoutSeconds: 600 });
    await settle();
    expect(runs).toHaveLength(1);

    hub.disconnect('h1');
    for (let i = 0; i < 4; i++) {
      clock.increment(1000);
      await settle();
    }
    expect(orch.orchestrator.getStats().hosts).toMatchObject({ alive: 0, lost: 1 });
    expect(delayed).toHaveLength(1);

    hub.reconnect('h1');
    await settle();
    clock.increment(1000);
    await settle();
    // Back: announced again, and the same attempt dispatched to it again.
    expect(runs).toHaveLength(2);
    expect(orch.orchestrator.getTask('a')).toMatchObject({ status: 'running', assignedAgent: 'h1-w' });

    for (const [frame, msgId] of delayed) store(frame, msgId);
    await settle();
    expect(runs.map((r) => r.signal.aborted)).toEqual([true, false]);

    runs[1]!.finish('second run');
    await settle();
    expect(orch.orchestrator.getTask('a')).toMatchObject({ status: 'completed', result: 'second run' });
    expect(host.getStats()).toMatchObject({ completed: 1, aborted: 1, running: 0 });
  });
});
