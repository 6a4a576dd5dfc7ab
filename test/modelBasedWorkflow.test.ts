/**
 * Model-based test of the orchestrator on small workflows: XState's graph tools generate
 * paths over the verifier's workflow model (as `fromTransition` logic), and each path is
 * replayed on the real runtime (`createNeuroFlux` on a simulated clock), checking after
 * every step that every task is where the model says.
 */
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { createWorkflowTestModel, replayTrace, type Workflow, type WorkflowModelState } from '../src/verify';

interface Path {
  readonly steps: readonly { readonly event: { type: string }; readonly state: { context: WorkflowModelState } }[];
}

async function replayAll(workflow: Workflow, paths: readonly Path[], model: ReturnType<typeof createWorkflowTestModel>) {
  let reproduced = 0;
  let unrealizable = 0;
  for (const path of paths) {
    const trace = model.traceOf(path);
    const replay = await replayTrace(workflow, trace);
    if (!replay.realizable) {
      unrealizable++;
      continue;
    }
    expect(replay.divergence).toBeUndefined();
    // The runtime's state after each step is the model's.
    replay.steps.forEach((replayed, i) => {
      const expected = path.steps[i + 1]?.state.context.tasks ?? {};
      for (const [taskId, view] of Object.entries(expected)) {
        const observed = replayed.states[taskId];
        expect(observed === 'assigned' ? 'running' : observed).toBe(view.state);
      }
    });
    reproduced++;
  }
  return { reproduced, unrealizable };
}

describe('model-based: orchestrator on a small workflow', () => {
  test('every shortest path of a three-task workflow (retries, timeout, ignore policy, cancel) runs as modelled', async () => {
    const workflow: Workflow = {
      tasks: [
        { taskId: 'fetch', timeoutSeconds: 10, retryPolicy: { maxRetries: 1, initialDelay: 2 } },
        { taskId: 'enrich', dependencies: ['fetch'], onDependencyFailure: 'ignore', retryPolicy: { maxRetries: 0 } },
        { taskId: 'notify', timeoutSeconds: 5, retryPolicy: { maxRetries: 0 } },
      ],
    };
    const model = createWorkflowTestModel(workflow, { environment: { agentLoss: false } });
    const paths = getShortestPaths(model.logic, model.traversal) as unknown as Path[];
    expect(paths.length).toBeGreaterThan(50);
    const { reproduced, unrealizable } = await replayAll(workflow, paths, model);
    expect(reproduced + unrealizable).toBe(paths.length);
    // The model is untimed: some orders need notify's 5 s timeout to outlast fetch's 10 s,
    // and replay says so instead of diverging. Every other path reproduces.
    expect(reproduced).toBeGreaterThan(paths.length * 0.6);
  });

  test('every simple path of a retrying task with agent loss runs as modelled', async () => {
    const workflow: Workflow = { tasks: [{ taskId: 'solo', retryPolicy: { maxRetries: 1, initialDelay: 1 } }] };
    const model = createWorkflowTestModel(workflow, { environment: { cancellations: 'anywhere' } });
    const paths = getSimplePaths(model.logic, model.traversal) as unknown as Path[];
    expect(paths.length).toBeGreaterThan(10);
    const { reproduced, unrealizable } = await replayAll(workflow, paths, model);
    expect(unrealizable).toBe(0);
    expect(reproduced).toBe(paths.length);
  });
});
