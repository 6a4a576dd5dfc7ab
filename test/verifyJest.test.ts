import '../src/entries/jest';
import { createMachine } from 'xstate';
import { taskMachine, type TaskMachineInput } from '../machines/task.machine';
import { verificationMatchers } from '../src/entries/jest';
import { verifyWorkflow, type Workflow } from '../src/verify';

const pipeline: Workflow = {
  tasks: [
    { taskId: 'fetch', requiredCapabilities: ['http'], retryPolicy: { maxRetries: 1 } },
    { taskId: 'report', dependencies: ['fetch'], requiredCapabilities: ['pdf'] },
  ],
  agents: [{ agentId: 'worker', capabilities: ['http', 'pdf'] }],
};

const stuck: Workflow = { ...pipeline, agents: [{ agentId: 'web', capabilities: ['http'] }] };

const taskInput: TaskMachineInput = {
  taskId: 't',
  timeoutMs: 1,
  maxRetries: 1,
  backoffFactor: 1,
  initialDelayMs: 1,
  retryOnFailure: true,
  onDependencyFailure: 'fail',
  pendingDependencies: 0,
  dependencyFailedAtStart: false,
};

describe('neuroflux/jest matchers', () => {
  test('workflows: deadlock freedom, termination, invariants', () => {
    expect(pipeline).toBeDeadlockFree();
    expect(pipeline).toTerminate();
    expect(pipeline).toSatisfy((s) => s.tasks.report?.state !== 'running' || s.tasks.fetch?.state === 'completed');
    expect(stuck).not.toBeDeadlockFree();
    expect(stuck).not.toTerminate();
    expect(pipeline).not.toSatisfy((s) => s.tasks.report?.state !== 'failed');
  });

  test('a failing matcher prints the verdict and the counterexample trace', () => {
    expect(() => expect(stuck).toBeDeadlockFree()).toThrow(/expected no deadlock[\s\S]*'report' is queued and no agent has all of \[pdf\][\s\S]*trace:\n\s+1\. fetch started/);
    expect(() => expect(pipeline).toSatisfy((s) => s.tasks.fetch?.state !== 'timedOut' || 'fetch timed out')).toThrow(/invariant 'invariant': fetch timed out\ntrace:/);
    expect(() => expect(pipeline).not.toBeDeadlockFree()).toThrow(/expected a violation of deadlock, but no deadlock holds/);
  });

  test('an incomplete search proves nothing either way', () => {
    const big: Workflow = { tasks: Array.from({ length: 5 }, (_, i) => ({ taskId: `t${i}` })) };
    expect(() => expect(big).toBeDeadlockFree({ reduction: false, maxStates: 100 })).toThrow(/incomplete: explored 100 states; raise maxStates/);
    expect(() => expect(big).not.toBeDeadlockFree({ reduction: false, maxStates: 100 })).toThrow(/was not refuted in the explored states/);
  });

  test('machines, and results already computed', () => {
    const locked = createMachine({ initial: 'open', states: { open: { on: { LOCK: 'locked' } }, locked: {}, done: { type: 'final' } } });
    expect(locked).not.toBeDeadlockFree();
    expect(taskMachine).toTerminate({
      input: taskInput,
      events: (s) => [
        { type: 'AGENT_ASSIGNED', agentId: 'a', at: 0, startsAtOnce: true },
        { type: 'EXECUTION_SUCCEEDED', attempt: s.context.retryCount },
        { type: 'EXECUTION_FAILED', attempt: s.context.retryCount, error: 'x', at: 0 },
      ],
    });
    expect(taskMachine).toSatisfy((s) => s.context.retryCount <= 1, { input: taskInput });
    expect(verifyWorkflow(pipeline)).toBeDeadlockFree();
    expect(verifyWorkflow(stuck)).not.toTerminate();
  });

  test('the matchers are exported for other runners, and reject what they cannot verify', () => {
    expect(Object.keys(verificationMatchers)).toEqual(['toBeDeadlockFree', 'toTerminate', 'toSatisfy']);
    expect(() => expect(42).toBeDeadlockFree()).toThrow(/expected a workflow \(\{ tasks \}\), an XState machine or a verification result/);
    expect(() => expect(verifyWorkflow(pipeline)).toSatisfy(() => true)).toThrow(/toSatisfy needs a workflow or a machine/);
  });

  test('types: the invariant reads workflow states or the machine snapshot', () => {
    expect(pipeline).toSatisfy((s) => s.tasks.fetch?.retryCount !== 5);
    expect(taskMachine).toSatisfy((s) => s.context.retryCount >= 0, { input: taskInput });
    // @ts-expect-error a workflow state has no `context`
    expect(pipeline).toSatisfy((s) => s.context === undefined);
    // @ts-expect-error the task machine's context has no `nope`
    expect(() => expect(taskMachine).toSatisfy((s) => s.context.nope === 1, { input: taskInput })).toThrow();
    const typeOnly = () => {
      // @ts-expect-error machine options need the machine's input type
      expect(taskMachine).toBeDeadlockFree({ input: { taskId: 1 } });
      // @ts-expect-error workflow options have no machine input
      expect(pipeline).toBeDeadlockFree({ input: taskInput });
    };
    expect(typeof typeOnly).toBe('function');
  });
});
