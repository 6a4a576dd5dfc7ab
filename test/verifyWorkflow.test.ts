import fc from 'fast-check';
import { taskMachine } from '../machines/task.machine';
import { ValidationError, WorkflowValidationError } from '../src/errors';
import { createNeuroFlux } from '../src/runtime/createNeuroFlux';
import type { TaskInput } from '../src/orchestration/taskTypes';
import { formatVerificationResult, replayTrace, verifyWorkflow, WorkflowSchema, type VerificationResult, type Workflow, type WorkflowState } from '../src/verify';

const pipeline: Workflow = {
  tasks: [
    { taskId: 'fetch', retryPolicy: { maxRetries: 2 } },
    { taskId: 'report', dependencies: ['fetch'] },
  ],
};

const violated = (r: VerificationResult) => r.violations.map((v) => v.property).sort();

describe('verifyWorkflow', () => {
  test('a sound diamond verifies completely: termination, deadlock, dependency order, bounded retries, coverage', () => {
    const result = verifyWorkflow({
      tasks: [
        { taskId: 'a', requiredCapabilities: ['io'] },
        { taskId: 'b', dependencies: ['a'], requiredCapabilities: ['cpu'] },
        { taskId: 'c', dependencies: ['a'], requiredCapabilities: ['cpu'] },
        { taskId: 'd', dependencies: ['b', 'c'], requiredCapabilities: ['io'] },
      ],
      agents: [
        { agentId: 'reader', capabilities: ['io'] },
        { agentId: 'worker', capabilities: ['cpu'], maxConcurrentTasks: 2 },
      ],
    });
    expect(result).toMatchObject({ ok: true, status: 'verified', complete: true, violations: [] });
    expect(result.checked).toEqual(['termination', 'deadlock', 'dependency_order', 'bounded_retries', 'capability_coverage']);
    expect(result.statesExplored).toBeGreaterThan(10);
  });

  test('a violated invariant comes with a shortest trace: fetch fails three times, then report fails', () => {
    const result = verifyWorkflow(pipeline, {
      environment: { cancellations: 'none', agentLoss: false },
      invariants: { 'report never fails': (s) => s.tasks.report?.state !== 'failed' || 'report failed' },
    });
    expect(result.ok).toBe(false);
    const [violation] = result.violations;
    expect(violation).toMatchObject({ property: 'invariant', name: 'report never fails', message: 'report failed' });
    expect(violation?.trace.map((s) => `${s.type} ${s.taskId}#${s.attempt}`)).toEqual([
      'task_started fetch#0',
      'task_failed fetch#0',
      'backoff_elapsed fetch#1',
      'task_started fetch#1',
      'task_failed fetch#1',
      'backoff_elapsed fetch#2',
      'task_started fetch#2',
      'task_failed fetch#2',
    ]);
    expect(formatVerificationResult(result)).toMatch(/violation 1: invariant 'report never fails': report failed\ntrace:\n\s+1\. fetch started \(attempt 1\)/);
  });

  test('with cancellations in flight, cancelling fetch is a shorter way to fail report', () => {
    const result = verifyWorkflow(pipeline, { invariants: (s) => s.tasks.report?.reason !== 'dependency_failed' });
    expect(result.violations[0]?.trace.map((s) => s.type)).toEqual(['task_started', 'task_cancelled']);
  });

  test('a task no agent can run: capability coverage, deadlock and termination, with the stuck task named', () => {
    const result = verifyWorkflow({
      tasks: [
        { taskId: 'fetch', requiredCapabilities: ['http'] },
        { taskId: 'train', dependencies: ['fetch'], requiredCapabilities: ['gpu'] },
      ],
      agents: [{ agentId: 'web', capabilities: ['http'] }],
    });
    expect(violated(result)).toEqual(['capability_coverage', 'deadlock', 'termination']);
    const coverage = result.violations.find((v) => v.property === 'capability_coverage');
    expect(coverage).toMatchObject({ taskIds: ['train'], trace: [] });
    expect(coverage?.message).toMatch(/no agent has all of \[gpu\] needed by task 'train'/);
    const deadlock = result.violations.find((v) => v.property === 'deadlock');
    expect(deadlock?.message).toMatch(/'train' is queued and no agent has all of \[gpu\]/);
    expect(deadlock?.trace.map((s) => s.type)).toEqual(['task_started', 'task_succeeded']);
  });

  test('registered agents count: options.agents and a live orchestrator', async () => {
    const workflow: Workflow = { tasks: [{ taskId: 'x', requiredCapabilities: ['gpu'] }] };
    expect(verifyWorkflow(workflow, { agents: [{ agentId: 'g', capabilities: ['gpu'] }] }).ok).toBe(true);
    const nf = createNeuroFlux();
    nf.orchestrator.registerAgent('cpu-only', { capabilities: ['cpu'] });
    const result = verifyWorkflow(workflow, { orchestrator: nf.orchestrator });
    expect(violated(result)).toContain('capability_coverage');
    await nf.stop();
  });

  test('without declared agents, coverage is not checked and says so', () => {
    const result = verifyWorkflow(pipeline);
    expect(result.checked).not.toContain('capability_coverage');
    expect(result.notes.join('\n')).toMatch(/capability coverage not checked/);
  });

  test('scarce agents: one slot never runs two tasks at once; two slots can', () => {
    const tasks: TaskInput[] = [{ taskId: 'a' }, { taskId: 'b' }, { taskId: 'c', priority: 'critical' }];
    const atMostOne = (s: WorkflowState) => Object.values(s.tasks).filter((t) => t.state === 'running').length <= 1;
    const single = verifyWorkflow({ tasks, agents: [{ agentId: 'solo', capabilities: [], maxConcurrentTasks: 1 }] }, { invariants: atMostOne });
    expect(single.ok).toBe(true);
    expect(single.notes.join('\n')).toMatch(/partial-order reduction only in states where no task can wait for a slot/);
    const pair = verifyWorkflow({ tasks, agents: [{ agentId: 'duo', capabilities: [], maxConcurrentTasks: 2 }] }, { invariants: atMostOne });
    expect(violated(pair)).toEqual(['invariant']);
    // The critical task is always among the first dispatched.
    expect(pair.violations[0]?.trace.slice(0, 2).map((s) => s.taskId)).toContain('c');
  });

  test('dependency policies: ignore runs anyway, skip cancels, fail fails (witness traces)', () => {
    const result = verifyWorkflow(
      {
        tasks: [
          { taskId: 'source', retryPolicy: { maxRetries: 0 } },
          { taskId: 'tolerant', dependencies: ['source'], onDependencyFailure: 'ignore' },
          { taskId: 'optional', dependencies: ['source'], onDependencyFailure: 'skip' },
          { taskId: 'strict', dependencies: ['source'] },
        ],
      },
      {
        environment: { cancellations: 'none', agentLoss: false },
        canReach: {
          'tolerant completes after source failed': (s) => s.tasks.source?.state === 'failed' && s.tasks.tolerant?.state === 'completed',
          'optional skipped': (s) => s.tasks.optional?.reason === 'dependency_skipped' && s.tasks.optional.state === 'cancelled',
          'strict failed by its dependency': (s) => s.tasks.strict?.reason === 'dependency_failed',
          'strict runs after source failed': (s) => s.tasks.source?.state === 'failed' && s.tasks.strict?.state === 'running',
        },
      },
    );
    expect(result.witnesses.map((w) => w.goal)).toEqual(['tolerant completes after source failed', 'optional skipped', 'strict failed by its dependency']);
    // A trace shows each step and the dispatches it caused.
    expect(result.witnesses[0]?.trace.map((s) => `${s.type} ${s.taskId}`)).toEqual([
      'task_started source',
      'task_failed source',
      'task_started tolerant',
      'task_succeeded tolerant',
    ]);
    expect(result.violations).toEqual([expect.objectContaining({ property: 'reachability', name: 'strict runs after source failed', trace: [] })]);
  });

  test('retry policies: retryOnFailure false never retries, timeouts count as attempts', () => {
    const result = verifyWorkflow(
      {
        tasks: [
          { taskId: 'once', retryPolicy: { maxRetries: 3, retryOnFailure: false } },
          { taskId: 'twice', retryPolicy: { maxRetries: 1 } },
        ],
      },
      {
        invariants: { 'once never retries': (s) => s.tasks.once?.retryCount === 0 },
        canReach: {
          'twice timed out for good': (s) => s.tasks.twice?.state === 'timedOut' && s.tasks.twice.retryCount === 1,
          'twice retried three times': (s) => (s.tasks.twice?.retryCount ?? 0) > 1,
        },
      },
    );
    expect(result.violations.map((v) => v.name)).toEqual(['twice retried three times']);
    const giveUp = result.witnesses[0]?.trace ?? [];
    expect(giveUp.filter((s) => s.taskId === 'twice' && s.type !== 'task_started').map((s) => s.type)).toEqual(['task_failed', 'backoff_elapsed', 'task_timed_out']);
  });

  test('the model runs the real task machine: a broken guard shows as a dependency-order or retry violation', () => {
    const startsEarly = taskMachine.provide({ guards: { lastDependencies: () => true } });
    const early = verifyWorkflow({ tasks: [{ taskId: 'a' }, { taskId: 'b' }, { taskId: 'c', dependencies: ['a', 'b'] }] }, { taskMachine: startsEarly });
    const order = early.violations.find((v) => v.property === 'dependency_order');
    expect(order?.message).toBe("task 'c' queued to run after 1 of its 2 dependencies finished");
    expect(order?.trace.slice(-2).map((s) => `${s.type} ${s.taskId}`)).toEqual(['task_succeeded a', 'task_started c']);

    const retriesForever = taskMachine.provide({ guards: { canRetry: ({ context }) => context.retryOnFailure } });
    const unbounded = verifyWorkflow({ tasks: [{ taskId: 'a', retryPolicy: { maxRetries: 1 } }] }, { taskMachine: retriesForever, maxStates: 200 });
    expect(unbounded.violations[0]).toMatchObject({ property: 'bounded_retries', taskIds: ['a'] });
    expect(unbounded.violations[0]?.message).toMatch(/retry count 2 exceeds the policy \(maxRetries 1\)/);
  });

  test('a bound gives an incomplete result, never an endless search', () => {
    const tasks = Array.from({ length: 6 }, (_, i) => ({ taskId: `t${i}` }));
    const result = verifyWorkflow({ tasks }, { reduction: false, maxStates: 500 });
    expect(result).toMatchObject({ ok: false, status: 'incomplete', complete: false, statesExplored: 500 });
    expect(result.notes[0]).toBe('incomplete: explored 500 states, the maxStates bound; properties hold in the explored part only');
    expect(result.notes).toContain('termination not decided: the exploration is incomplete');
    expect(verifyWorkflow({ tasks }).ok).toBe(true);
  });

  test('reduction: independent and identical tasks collapse; declaring what an invariant reads keeps it', () => {
    const fanOut: Workflow = {
      tasks: [
        { taskId: 'root' },
        ...Array.from({ length: 3 }, (_, i) => ({ taskId: `leaf${i}`, dependencies: ['root'] })),
        { taskId: 'join', dependencies: ['leaf0', 'leaf1', 'leaf2'], onDependencyFailure: 'ignore' as const },
      ],
    };
    const reduced = verifyWorkflow(fanOut);
    const full = verifyWorkflow(fanOut, { reduction: false });
    expect(reduced.ok && full.ok).toBe(true);
    expect(reduced.statesExplored).toBeLessThan(full.statesExplored / 100);

    const noTimeout = (s: WorkflowState) => s.tasks.join?.state !== 'timedOut';
    const opaque = verifyWorkflow(fanOut, { invariants: noTimeout });
    const declared = verifyWorkflow(fanOut, { invariants: { name: 'join never times out', reads: ['join'], check: noTimeout } });
    for (const result of [opaque, declared]) {
      expect(result.violations[0]).toMatchObject({ property: 'invariant', name: expect.any(String) });
      expect(result.violations[0]?.trace.at(-1)).toMatchObject({ type: 'task_timed_out', taskId: 'join' });
      expect(result.violations[0]?.trace).toHaveLength(opaque.violations[0]?.trace.length ?? -1);
    }
    expect(declared.statesExplored).toBeLessThan(opaque.statesExplored / 100);
  });

  test('validation names the field or the tasks', () => {
    expect(() => verifyWorkflow({ tasks: [{ taskId: 'a', retryPolicy: { maxRetries: -1 } }] })).toThrow(ValidationError);
    try {
      verifyWorkflow({ tasks: [{ taskId: 'a' }, { taskId: 'b', retryPolicy: { maxRetries: -1 } }] });
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_VALIDATION', field: 'tasks.1.retryPolicy.maxRetries' });
    }
    expect(() => verifyWorkflow({ tasks: [] })).toThrow(/a workflow needs at least one task/);
    expect(() =>
      verifyWorkflow({
        tasks: [
          { taskId: 'a', dependencies: ['b'] },
          { taskId: 'b', dependencies: ['a'] },
        ],
      }),
    ).toThrow(WorkflowValidationError);
    expect(() => verifyWorkflow({ tasks: [{ taskId: 'a', dependencies: ['ghost'] }] })).toThrow(/depends on unknown task 'ghost'/);
    expect(() => verifyWorkflow(pipeline, { invariants: { name: 'x', reads: ['ghost'], check: () => true } })).toThrow(
      expect.objectContaining({ code: 'ERR_VALIDATION', field: 'invariants.x.reads.0' }),
    );
    expect(() => verifyWorkflow(pipeline, { maxStates: 0 })).toThrow(expect.objectContaining({ field: 'maxStates' }));
    expect(WorkflowSchema.safeParse({ tasks: [{}], agents: [{ agentId: 'a', capabilities: [], maxConcurrentTasks: 0 }] }).success).toBe(false);
  });

  test('a throwing invariant is reported, not thrown', () => {
    const result = verifyWorkflow(pipeline, {
      invariants: (s) => {
        if (s.tasks.fetch?.state === 'retrying') throw new Error('boom');
        return true;
      },
    });
    expect(result.violations[0]?.message).toBe('the invariant threw: boom');
  });

  test('the reductions keep every verdict (random small workflows against full exploration)', () => {
    const workflows = fc.integer({ min: 1, max: 4 }).chain((n) =>
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
              cap: fc.constantFrom('a', 'a', 'b', 'c'),
            }),
          ),
        ),
        agents: fc.option(fc.array(fc.record({ caps: fc.subarray(['a', 'b']), max: fc.integer({ min: 1, max: 2 }) }), { maxLength: 2 }), {
          nil: undefined,
        }),
        cancellations: fc.constantFrom('none' as const, 'inFlight' as const, 'anywhere' as const),
        agentLoss: fc.boolean(),
        reads: fc.subarray(
          Array.from({ length: n }, (_, k) => `t${k}`),
          { maxLength: Math.min(2, n) },
        ),
      }),
    );
    fc.assert(
      fc.property(workflows, (w) => {
        const workflow: Workflow = {
          tasks: w.tasks.map((t, i) => ({
            taskId: `t${i}`,
            dependencies: t.deps,
            retryPolicy: { maxRetries: t.maxRetries, retryOnFailure: t.retryOnFailure },
            onDependencyFailure: t.policy,
            requiredCapabilities: [t.cap],
          })),
          ...(w.agents && { agents: w.agents.map((a, i) => ({ agentId: `g${i}`, capabilities: a.caps, maxConcurrentTasks: a.max })) }),
        };
        const checks =
          w.reads.length === 0
            ? {}
            : {
                invariants: { name: 'not all failed', reads: w.reads, check: (s: WorkflowState) => !w.reads.every((id) => s.tasks[id]?.state === 'failed') },
                canReach: { name: 'all timed out', reads: w.reads, check: (s: WorkflowState) => w.reads.every((id) => s.tasks[id]?.state === 'timedOut') },
              };
        const verdict = (reduction: boolean) => {
          const r = verifyWorkflow(workflow, { ...checks, reduction, environment: { cancellations: w.cancellations, agentLoss: w.agentLoss } });
          return {
            complete: r.complete,
            violations: r.violations.map((v) => `${v.property}:${v.name ?? ''}:${(v.taskIds ?? []).join()}`).sort(),
            witnesses: r.witnesses.map((x) => x.goal),
          };
        };
        const reduced = verdict(true);
        const full = verdict(false);
        expect(reduced).toEqual(full);
      }),
      { numRuns: 60, seed: 20_240_601 },
    );
  });

  test('only built-in properties on scarce agents: one schedule per step, the verdicts of the full search, traces that replay', async () => {
    // Two chains of two and a join, one slot: the tasks compete for it at every step.
    const tasks: TaskInput[] = [
      { taskId: 'a1', requiredCapabilities: ['work'], retryPolicy: { maxRetries: 1 } },
      { taskId: 'b1', requiredCapabilities: ['work'], retryPolicy: { maxRetries: 1 } },
      { taskId: 'a2', requiredCapabilities: ['work'], dependencies: ['a1'] },
      { taskId: 'b2', requiredCapabilities: ['work'], dependencies: ['b1'], onDependencyFailure: 'ignore' },
      { taskId: 'join', requiredCapabilities: ['work'], dependencies: ['a2', 'b2'], onDependencyFailure: 'skip' },
    ];
    const agents = [{ agentId: 'solo', capabilities: ['work'], maxConcurrentTasks: 1 }];
    const fine = verifyWorkflow({ tasks, agents });
    const fineFull = verifyWorkflow({ tasks, agents }, { reduction: false });
    expect(fine.status).toBe('verified');
    expect(fineFull.status).toBe('verified');
    expect(fine.notes.join('\n')).toMatch(/one way of filling free slots per step/);
    expect(fine.statesExplored).toBeLessThan(fineFull.statesExplored / 10);

    // A task nobody can run, behind the join: deadlock and termination fail in both searches.
    const stuck: Workflow = { tasks: [...tasks, { taskId: 'train', requiredCapabilities: ['gpu'], dependencies: ['join'], onDependencyFailure: 'ignore' }], agents };
    const reduced = verifyWorkflow(stuck);
    const full = verifyWorkflow(stuck, { reduction: false });
    expect(full.complete).toBe(true);
    expect(violated(reduced)).toEqual(violated(full));
    expect(violated(reduced)).toEqual(['capability_coverage', 'deadlock', 'termination']);
    for (const violation of reduced.violations.filter((v) => v.trace.length > 0)) {
      const replay = await replayTrace(stuck, violation.trace);
      expect(replay.divergence).toBeUndefined();
      expect(replay.reproduced || !replay.realizable).toBe(true);
    }

    // An invariant turns it off: every fill is explored again.
    const checked = verifyWorkflow({ tasks, agents }, { invariants: { name: 'any', reads: ['join'], check: () => true } });
    expect(checked.notes.join('\n')).not.toMatch(/one way of filling/);
    expect(checked.statesExplored).toBeGreaterThan(fine.statesExplored);
  });
});
