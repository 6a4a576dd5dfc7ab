import { SimulatedClock } from 'xstate';
import { createNeuroFlux, type ExecutionContext } from '../src';
import { AttemptAbort } from '../src/orchestration/attemptAbort';
import { settle } from './support/settle';

describe('AttemptAbort: the signal is made when read', () => {
  test('aborted before the signal is read: the signal is born aborted, with the first reason', () => {
    const abort = new AttemptAbort();
    const first = new Error('timeout');
    abort.abort(first);
    abort.abort(new Error('cancel'));
    expect(abort.aborted).toBe(true);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(first);
    expect(abort.signal).toBe(abort.signal);
  });

  test('read, then aborted: listeners hear it once', () => {
    const abort = new AttemptAbort();
    const signal = abort.signal;
    const heard: unknown[] = [];
    signal.addEventListener('abort', () => heard.push(signal.reason));
    expect(signal.aborted).toBe(false);
    abort.abort('stop');
    abort.abort('again');
    expect(heard).toEqual(['stop']);
  });
});

describe('what an in-process executor is given', () => {
  test('a task cancelled while its executor has not read the signal yet: the signal it reads later is aborted', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    let context: ExecutionContext | undefined;
    let finish: (() => void) | undefined;
    nf.orchestrator.registerAgent('a', {
      capabilities: ['x'],
      execute: (_task, ctx) =>
        new Promise<string>((resolve) => {
          context = ctx; // kept, not read
          finish = () => resolve('late');
        }),
    });
    await nf.start();
    const { taskId } = nf.orchestrator.submitTask({ requiredCapabilities: ['x'] });
    await settle();
    expect(nf.orchestrator.getTaskStatus(taskId)).toBe('running');
    nf.orchestrator.cancelTask(taskId);
    expect(context?.signal.aborted).toBe(true);
    // A copy made by spreading the context carries the signal too (an own getter is read by the spread).
    expect({ ...context }.signal?.aborted).toBe(true);
    finish?.();
    await settle();
    expect(nf.orchestrator.getStats()).toMatchObject({ lateResults: 1 });
    await nf.stop();
  });

  test('dependency results by id: odd ids are own keys, the prototype is the usual one', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    const seen: Record<string, unknown>[] = [];
    nf.orchestrator.registerAgent('a', {
      capabilities: ['x'],
      execute: (task, { dependencyResults }) => {
        if (task.taskId === 'last') seen.push(dependencyResults as Record<string, unknown>);
        return `result of ${task.taskId}`;
      },
    });
    await nf.start();
    const ids = ['__proto__', 'constructor', 'toString', 'plain'];
    const submitted = nf.orchestrator.submitWorkflow({
      tasks: [...ids.map((taskId) => ({ taskId, requiredCapabilities: ['x'] })), { taskId: 'last', requiredCapabilities: ['x'], dependencies: ids }],
    });
    await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
    const [results] = seen;
    expect(Object.getPrototypeOf(results)).toBe(Object.prototype);
    expect(Object.keys(results ?? {})).toEqual(ids);
    for (const id of ids) expect(Object.getOwnPropertyDescriptor(results, id)?.value).toBe(`result of ${id}`);
    await nf.stop();
  });
});
