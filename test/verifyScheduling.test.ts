/**
 * The verifier schedules as the orchestrator does (issue 19, review F1 and F2): an invariant
 * about queueing that the runtime breaks must not verify. Both cases are the review's
 * repros; the runtime side of each is in test/verifyRuntimeAgreement.test.ts.
 */
import { verifyWorkflow, type Workflow } from '../src/verify';

const NO_RETRY = { maxRetries: 0 };

/** t0 fails: t1 fails with it and queues t3 and t4, depth first, before t2 joins the queue. */
const cascade: Workflow = {
  tasks: [
    { taskId: 't0', retryPolicy: NO_RETRY },
    { taskId: 't1', dependencies: ['t0'], onDependencyFailure: 'fail', retryPolicy: NO_RETRY },
    { taskId: 't2', dependencies: ['t0'], onDependencyFailure: 'ignore', retryPolicy: NO_RETRY },
    { taskId: 't3', dependencies: ['t1'], onDependencyFailure: 'ignore', retryPolicy: NO_RETRY },
    { taskId: 't4', dependencies: ['t1'], onDependencyFailure: 'ignore', retryPolicy: NO_RETRY },
  ],
  agents: [{ agentId: 'solo', capabilities: ['w'], maxConcurrentTasks: 2 }],
};

const quiet = { agentLoss: false, cancellations: 'none' } as const;

describe('verifyWorkflow schedules in the runtime queue order and placement', () => {
  test.each([
    ['no reduction', { reduction: false as const }],
    ['default reductions, reads t2', {}],
  ])('a failure cascade leaves t2 queued beside running t3 and t4 (%s)', (_, options) => {
    const result = verifyWorkflow(cascade, {
      ...options,
      environment: quiet,
      invariants: { 't2 is never queued': { reads: ['t2'], check: (s) => s.tasks.t2?.state !== 'queued' } },
    });
    expect(result.status).toBe('violated');
    const trace = result.violations[0]?.trace.map((step) => `${step.type} ${step.taskId}`);
    expect(trace).toEqual(['task_started t0', 'task_failed t0', 'task_started t3', 'task_started t4']);
  });

  test('a later task cannot take a slot ahead of an earlier one in its lane', () => {
    // One slot, t0 and t1 queued at submission, no retries, nothing re-queued: t1 can start
    // only once t0 is done (the former model let either take the slot first).
    const result = verifyWorkflow(
      {
        tasks: [
          { taskId: 't0', retryPolicy: NO_RETRY },
          { taskId: 't1', retryPolicy: NO_RETRY },
        ],
        agents: [{ agentId: 'a', capabilities: [], maxConcurrentTasks: 1 }],
      },
      { reduction: false, environment: quiet, invariants: { 't1 runs only after t0 is done': (s) => s.tasks.t1?.state !== 'running' || s.tasks.t0?.final === true } },
    );
    expect(result.status).toBe('verified');
  });

  test('agents with partial capabilities: the balancer may give the generalist to x1, and y1 waits', () => {
    const result = verifyWorkflow(
      {
        tasks: [
          { taskId: 'x1', requiredCapabilities: ['x'] },
          { taskId: 'y1', requiredCapabilities: ['y'] },
        ],
        agents: [
          { agentId: 'generalist', capabilities: ['x', 'y'], maxConcurrentTasks: 1 },
          { agentId: 'specialist', capabilities: ['x'], maxConcurrentTasks: 1 },
        ],
      },
      { invariants: { 'y1 never waits for a slot': (s) => s.tasks.y1?.state !== 'queued' } },
    );
    expect(result.status).toBe('violated');
    expect(result.violations[0]?.trace.map((step) => `${step.type} ${step.taskId}`)).toEqual(['task_started x1']);
  });
});
