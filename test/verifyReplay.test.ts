import fc from 'fast-check';
import { createWorkflowTestModel, InvalidTraceError, replayTrace, verifyWorkflow, type Trace, type TraceStep, type Workflow } from '../src/verify';

const pipeline: Workflow = {
  tasks: [
    { taskId: 'fetch', retryPolicy: { maxRetries: 2, initialDelay: 1, backoffFactor: 2 }, timeoutSeconds: 30 },
    { taskId: 'audit', timeoutSeconds: 30 },
    { taskId: 'report', dependencies: ['fetch'] },
  ],
};

const step = (type: TraceStep['type'], taskId: string, attempt = 0): TraceStep => ({ type, taskId, attempt });

describe('replayTrace', () => {
  test('a counterexample from verifyWorkflow reproduces on the real runtime', async () => {
    const result = verifyWorkflow(pipeline, {
      environment: { cancellations: 'none', agentLoss: false },
      invariants: { 'report never fails': (s) => s.tasks.report?.state !== 'failed' },
    });
    const trace = result.violations[0]?.trace ?? [];
    const replay = await replayTrace(pipeline, trace);
    expect(replay).toMatchObject({ reproduced: true, realizable: true });
    expect(replay.records.report).toMatchObject({ status: 'failed', reason: 'dependency_failed' });
    expect(replay.records.fetch).toMatchObject({ status: 'failed', retryCount: 2, error: 'replayed failure' });
    // Backoffs fire by the clock: 1 s then 2 s after each failure.
    expect(replay.steps.filter((s) => s.step.type === 'backoff_elapsed').map((s) => s.at)).toEqual([1000, 3000]);
  });

  test('a backoff series past the runtime’s longest delay replays at the capped times', async () => {
    const huge: Workflow = { tasks: [{ taskId: 'fetch', retryPolicy: { maxRetries: 2, initialDelay: 1, backoffFactor: 1e308 }, timeoutSeconds: 30 }] };
    const trace: Trace = [
      step('task_started', 'fetch'),
      step('task_failed', 'fetch'),
      step('backoff_elapsed', 'fetch', 1),
      step('task_started', 'fetch', 1),
      step('task_failed', 'fetch', 1),
      step('backoff_elapsed', 'fetch', 2),
    ];
    const replay = await replayTrace(huge, trace);
    expect(replay).toMatchObject({ reproduced: true, realizable: true });
    // 1 s, then 1e308 s capped at ten years (MAX_DELAY_MS): the verifier's timing and the runtime's agree.
    expect(replay.steps.filter((s) => s.step.type === 'backoff_elapsed').map((s) => s.at)).toEqual([1000, 1000 + 10 * 365 * 86_400_000]);
  });

  test('timeouts, agent loss and cancellation replay step by step', async () => {
    const trace: Trace = [
      step('task_started', 'fetch'),
      step('task_started', 'audit'),
      step('task_timed_out', 'fetch'),
      step('task_succeeded', 'audit'),
      step('backoff_elapsed', 'fetch', 1),
      step('task_started', 'fetch', 1),
      step('agent_lost', 'fetch', 1),
      step('task_started', 'fetch', 1),
      step('task_succeeded', 'fetch', 1),
      step('task_started', 'report'),
      step('task_cancelled', 'report'),
    ];
    const replay = await replayTrace(pipeline, trace);
    expect(replay.reproduced).toBe(true);
    expect(replay.steps.map((s) => s.states.fetch)).toEqual([
      'running',
      'running',
      'retrying',
      'retrying',
      'queued',
      'running',
      'queued',
      'running',
      'completed',
      'completed',
      'completed',
    ]);
    // The timeout fired at the deadline of the attempt; audit, started 1 ms later, was still running.
    expect(replay.steps[2]?.at).toBe(30_000);
    expect(replay.records.audit?.status).toBe('completed');
    expect(replay.records.report).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
  });

  test('a trace the real durations exclude is reported as not realizable', async () => {
    // audit started after fetch with the same timeout cannot time out first while fetch keeps running.
    const trace: Trace = [step('task_started', 'fetch'), step('task_started', 'audit'), step('task_timed_out', 'audit'), step('task_succeeded', 'fetch')];
    const replay = await replayTrace(pipeline, trace);
    expect(replay.realizable).toBe(false);
    expect(replay.timingNote).toMatch(/^step 3 cannot happen at a time consistent with the workflow's timeouts and backoffs/);
    expect(replay.reproduced).toBe(false);
    expect(replay.divergence?.taskId).toBe('fetch');
  });

  test('a trace that is not a run of the workflow is refused', async () => {
    await expect(replayTrace(pipeline, [step('task_succeeded', 'fetch')])).rejects.toThrow(InvalidTraceError);
    await expect(replayTrace(pipeline, [step('task_started', 'ghost')])).rejects.toMatchObject({
      code: 'ERR_INVALID_TRACE',
      stepIndex: 0,
      message: "trace step 1: unknown task 'ghost'",
    });
    await expect(replayTrace(pipeline, [step('task_started', 'fetch', 3)])).rejects.toThrow(/is at attempt 0, the step says 3/);
  });

  test('random runs of the model replay exactly on the runtime (every realizable trace reproduces)', async () => {
    const scenario = fc.integer({ min: 1, max: 4 }).chain((n) =>
      fc.record({
        tasks: fc.tuple(
          ...Array.from({ length: n }, (_, i) =>
            fc.record({
              deps: fc.subarray(
                Array.from({ length: i }, (_, k) => `t${k}`),
                { maxLength: Math.min(2, i) },
              ),
              maxRetries: fc.integer({ min: 0, max: 2 }),
              retryOnFailure: fc.boolean(),
              policy: fc.constantFrom('fail' as const, 'ignore' as const, 'skip' as const),
              timeout: fc.integer({ min: 1, max: 5 }),
              delay: fc.integer({ min: 0, max: 3 }),
            }),
          ),
        ),
        choices: fc.array(fc.nat(), { minLength: 25, maxLength: 25 }),
      }),
    );
    let reproduced = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ tasks, choices }) => {
        const workflow: Workflow = {
          tasks: tasks.map((t, i) => ({
            taskId: `t${i}`,
            dependencies: t.deps,
            timeoutSeconds: t.timeout,
            onDependencyFailure: t.policy,
            retryPolicy: { maxRetries: t.maxRetries, retryOnFailure: t.retryOnFailure, initialDelay: t.delay },
          })),
        };
        // A random walk over the model, as xstate/graph sees it.
        const model = createWorkflowTestModel(workflow, { environment: { cancellations: 'anywhere' } });
        let snapshot = model.logic.getInitialSnapshot({} as never, undefined);
        const trace: TraceStep[] = [];
        for (const choice of choices) {
          const events = model.traversal.events(snapshot);
          const event = events[choice % Math.max(1, events.length)];
          if (!event) break;
          trace.push({ type: event.type, taskId: event.taskId, attempt: event.attempt });
          snapshot = model.logic.transition(snapshot, event, {} as never);
        }
        const replay = await replayTrace(workflow, trace);
        if (replay.realizable) expect(replay.divergence).toBeUndefined();
        if (replay.reproduced) reproduced++;
        // The runtime ends where the model does.
        if (replay.reproduced) {
          for (const [taskId, view] of Object.entries(snapshot.context.tasks)) {
            const record = replay.records[taskId];
            expect({ taskId, state: record?.state === 'assigned' ? 'running' : record?.state, retryCount: record?.retryCount }).toEqual({
              taskId,
              state: view.state,
              retryCount: view.retryCount,
            });
          }
        }
      }),
      { numRuns: 40, seed: 7 },
    );
    expect(reproduced).toBeGreaterThan(30);
  });
});
