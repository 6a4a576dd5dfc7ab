import { SimulatedClock } from 'xstate';
import {
  AssignmentRefusedError,
  DuplicateTaskError,
  UnknownTaskError,
  ValidationError,
  WorkflowValidationError,
  builtInBalancers,
  createNeuroFlux,
  defaultScore,
  recentPerformanceScore,
  weightedScore,
  type AgentView,
  type NeuroFlux,
  type TaskEvent,
  type TaskExecutor,
} from '../src';
import { settle } from './support/settle';

/** Advances the simulated clock in steps, letting promises settle in between. */
async function advance(clock: SimulatedClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.increment(Math.min(step, ms - t));
    await settle(2);
  }
}

function runtime(): { nf: NeuroFlux; clock: SimulatedClock } {
  const clock = new SimulatedClock();
  return { nf: createNeuroFlux({ clock }), clock };
}

/** An executor whose attempts the test resolves or rejects by hand. */
function controlledExecutor() {
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; signal: AbortSignal }>();
  const started: string[] = [];
  const execute: TaskExecutor = (task, { signal, attempt }) =>
    new Promise((resolve, reject) => {
      started.push(`${task.taskId}#${attempt}`);
      pending.set(task.taskId, { resolve, reject, signal });
    });
  return { execute, pending, started };
}

describe('TaskOrchestrator: scheduling', () => {
  test('eligible tasks are assigned in priority order, FIFO within a priority', async () => {
    const { nf } = runtime();
    const order: string[] = [];
    nf.orchestrator.registerAgent('solo', {
      capabilities: ['work'],
      maxConcurrentTasks: 1,
      execute: (task) => void order.push(task.taskId),
    });
    const tasks = [
      { taskId: 'low-1', priority: 'low' as const },
      { taskId: 'medium-1', priority: 'medium' as const },
      { taskId: 'critical-1', priority: 'critical' as const },
      { taskId: 'low-2', priority: 'low' as const },
      { taskId: 'high-1', priority: 'high' as const },
      { taskId: 'critical-2', priority: 'critical' as const },
    ];
    const ids = nf.orchestrator.submitWorkflow({ tasks: tasks.map((t) => ({ ...t, requiredCapabilities: ['work'] })) });
    await nf.start();
    await nf.orchestrator.waitForWorkflow(ids.map((s) => s.taskId));
    expect(order).toEqual(['critical-1', 'critical-2', 'high-1', 'medium-1', 'low-1', 'low-2']);
    await nf.stop();
  });

  test('a task becomes eligible only when every dependency completed, and gets their results', async () => {
    const { nf } = runtime();
    const seen: Record<string, unknown> = {};
    nf.orchestrator.registerAgent('a', {
      capabilities: ['x'],
      execute: (task, { dependencyResults }) => {
        seen[task.taskId] = dependencyResults;
        return `${task.taskId}-result`;
      },
    });
    await nf.start();
    const subs = nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'c', dependencies: ['a', 'b'], requiredCapabilities: ['x'] },
        { taskId: 'a', requiredCapabilities: ['x'] },
        { taskId: 'b', dependencies: ['a'], requiredCapabilities: ['x'] },
      ],
    });
    expect(subs).toEqual([
      { taskId: 'c', status: 'pending' },
      { taskId: 'a', status: 'pending' },
      { taskId: 'b', status: 'pending' },
    ]);
    expect(nf.orchestrator.getTask('c')?.state).toBe('waiting');
    const records = await nf.orchestrator.waitForWorkflow(['a', 'b', 'c']);
    expect(records.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    expect(seen).toEqual({ a: {}, b: { a: 'a-result' }, c: { a: 'a-result', b: 'b-result' } });
    const [a, b, c] = records;
    expect((b?.startedAt ?? 0) >= (a?.completedAt ?? Infinity)).toBe(true);
    expect((c?.startedAt ?? 0) >= (b?.completedAt ?? Infinity)).toBe(true);
    await nf.stop();
  });

  test('a task whose capabilities no agent has waits with a visible reason, and runs once one registers', async () => {
    const { nf } = runtime();
    await nf.start();
    const { taskId } = nf.orchestrator.submitTask({ requiredCapabilities: ['quantum'] });
    await settle();
    expect(nf.orchestrator.getTask(taskId)).toMatchObject({ status: 'pending', state: 'queued', reason: 'no_capable_agent' });
    nf.orchestrator.registerAgent('q', { capabilities: ['quantum'], execute: () => 42 });
    const record = await nf.orchestrator.waitForTask(taskId);
    expect(record).toMatchObject({ status: 'completed', result: 42, assignedAgent: 'q', reason: null });
    await nf.stop();
  });

  test('a task waits while every capable agent is full (reason no_agent_available)', async () => {
    const { nf } = runtime();
    const exec = controlledExecutor();
    nf.orchestrator.registerAgent('busy', { capabilities: ['x'], maxConcurrentTasks: 1, execute: exec.execute });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'first', requiredCapabilities: ['x'] });
    nf.orchestrator.submitTask({ taskId: 'second', requiredCapabilities: ['x'] });
    await settle();
    expect(nf.orchestrator.getTask('second')).toMatchObject({ state: 'queued', reason: 'no_agent_available' });
    exec.pending.get('first')?.resolve('done');
    await settle();
    expect(exec.started).toEqual(['first#0', 'second#0']);
    exec.pending.get('second')?.resolve('done');
    await nf.orchestrator.waitForTask('second');
    await nf.stop();
  });
});

describe('TaskOrchestrator: balancer scores', () => {
  const agent = (over: Partial<AgentView> & { spec?: Record<string, number> }): AgentView => ({
    agentId: over.agentId ?? 'a',
    capabilities: over.capabilities ?? new Set(['x']),
    maxConcurrentTasks: over.maxConcurrentTasks ?? 5,
    load: over.load ?? 0,
    performance: over.performance ?? 1,
    recentPerformance: over.recentPerformance ?? 0.5,
    registrationOrder: over.registrationOrder ?? 0,
    lastAssignedSeq: over.lastAssignedSeq ?? -1,
    specializationFor: (type) => over.spec?.[type] ?? 1,
  });

  test("the spec's default score: performance × specialization × (1 − load/max) × priority multiplier", () => {
    const a = agent({ performance: 0.8, load: 2, maxConcurrentTasks: 4, spec: { analysis: 1.5 } });
    expect(defaultScore(a, { taskType: 'analysis', priority: 'critical', requiredCapabilities: [] })).toBeCloseTo(0.8 * 1.5 * 0.5 * 1.5, 12);
    expect(defaultScore(a, { taskType: 'other', priority: 'low', requiredCapabilities: [] })).toBeCloseTo(0.4, 12);
    expect(defaultScore(a, { taskType: 'other', priority: 'medium', requiredCapabilities: [] })).toBeCloseTo(0.44, 12);
    expect(defaultScore(a, { taskType: 'other', priority: 'high', requiredCapabilities: [] })).toBeCloseTo(0.48, 12);
  });

  test("the guide's weighted score: 0.4/(1+load) + 0.4 × recent performance + 0.2 × capability match", () => {
    const generalist = agent({ load: 1, recentPerformance: 0.9, capabilities: new Set(['trading', 'market_data', 'order_execution', 'research']) });
    // 0.4 × 1/2 + 0.4 × 0.9 + 0.2 × (2 of 4 capabilities used)
    expect(weightedScore(generalist, { taskType: 't', priority: 'low', requiredCapabilities: ['trading', 'order_execution'] })).toBeCloseTo(0.2 + 0.36 + 0.1, 12);
    expect(weightedScore(agent({}), { taskType: 't', priority: 'low', requiredCapabilities: [] })).toBeCloseTo(0.4 + 0.2 + 0.2, 12);
  });

  test('recent performance: 0.7 × success rate + 0.3 × min(1, expected/actual), 0.5 without history', () => {
    expect(recentPerformanceScore([])).toBe(0.5);
    const entry = (outcome: 'completed' | 'failed', actual: number, expected: number) => ({
      taskId: 't',
      taskType: 'x',
      outcome,
      startedAt: 0,
      completedAt: actual,
      expectedMs: expected,
    });
    // 3 of 4 succeeded; completed took 3000 ms in all for 1500 expected → efficiency 0.5
    const score = recentPerformanceScore([entry('completed', 1000, 500), entry('completed', 1000, 500), entry('completed', 1000, 500), entry('failed', 10, 500)]);
    expect(score).toBeCloseTo(0.7 * 0.75 + 0.3 * 0.5, 12);
    expect(recentPerformanceScore([entry('failed', 1, 1)])).toBe(0);
  });

  test('the orchestrator picks the best default score, the first registered on ties, and updates performance exactly', async () => {
    const { nf, clock } = runtime();
    const exec = controlledExecutor();
    nf.orchestrator.registerAgent('first', { capabilities: ['x'], execute: exec.execute });
    nf.orchestrator.registerAgent('specialist', { capabilities: ['x'], execute: exec.execute, specializations: { analysis: 2 } });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'tie', requiredCapabilities: ['x'], estimatedDuration: 10 });
    nf.orchestrator.submitTask({ taskId: 'special', taskType: 'analysis', requiredCapabilities: ['x'], estimatedDuration: 10 });
    await settle();
    expect(nf.orchestrator.getTask('tie')?.assignedAgent).toBe('first');
    expect(nf.orchestrator.getTask('special')?.assignedAgent).toBe('specialist');
    clock.increment(20_000); // 20 s for a 10 s estimate
    exec.pending.get('tie')?.resolve(1);
    exec.pending.get('special')?.reject(new Error('bad data'));
    await settle();
    expect(nf.orchestrator.getAgent('first')?.performance).toBeCloseTo((1 + 10 / 20) / 2, 12);
    expect(nf.orchestrator.getAgent('specialist')?.performance).toBeCloseTo(0.9, 12);
    expect(nf.orchestrator.getAgentTaskHistory('first')).toEqual([
      expect.objectContaining({ taskId: 'tie', outcome: 'completed', startedAt: 0, completedAt: 20_000, expectedMs: 10_000 }),
    ]);
    expect(nf.orchestrator.getAgentTaskHistory('first', { hours: 0 })).toEqual([]);
    await nf.stop();
  });

  test('least_loaded, round_robin and user balancers, per orchestrator and per task', async () => {
    const { nf } = runtime();
    const placed: Record<string, string[]> = {};
    const exec: TaskExecutor = () => new Promise(() => undefined);
    for (const id of ['a', 'b', 'c']) nf.orchestrator.registerAgent(id, { capabilities: ['x'], execute: exec });
    await nf.start();
    for (let i = 0; i < 3; i++) nf.orchestrator.submitTask({ taskId: `rr${i}`, requiredCapabilities: ['x'], balancer: 'round_robin' });
    await settle();
    placed.rr = [0, 1, 2].map((i) => nf.orchestrator.getTask(`rr${i}`)?.assignedAgent ?? '');
    expect(new Set(placed.rr).size).toBe(3);
    expect(builtInBalancers.least_loaded.score({ load: 2, maxConcurrentTasks: 4 } as AgentView)).toBe(-0.5);
    await nf.stop();

    const clock = new SimulatedClock();
    const custom = createNeuroFlux({
      clock,
      orchestrator: {
        balancer: {
          name: 'last',
          choose: (_task, candidates) =>
            candidates
              .map((c) => c.agentId)
              .sort()
              .at(-1),
        },
      },
    });
    for (const id of ['a', 'b', 'c']) custom.orchestrator.registerAgent(id, { capabilities: ['x'], execute: () => 1 });
    await custom.start();
    const { taskId } = custom.orchestrator.submitTask({ requiredCapabilities: ['x'] });
    expect((await custom.orchestrator.waitForTask(taskId)).assignedAgent).toBe('c');
    expect(() => custom.orchestrator.submitTask({ balancer: 'nope' })).toThrow(ValidationError);
    await custom.stop();
  });
});

describe('TaskOrchestrator: failures, retries, timeouts', () => {
  test('a failing task retries after exponential backoff (1 s, 2 s, 4 s), then fails', async () => {
    const { nf, clock } = runtime();
    const attemptsAt: number[] = [];
    nf.orchestrator.registerAgent('flaky', {
      capabilities: ['x'],
      execute: () => {
        attemptsAt.push(clock.now());
        throw new Error('exchange down');
      },
    });
    await nf.start();
    const { taskId } = nf.orchestrator.submitTask({ requiredCapabilities: ['x'] });
    const done = nf.orchestrator.waitForTask(taskId);
    await settle();
    await advance(clock, 7000);
    const record = await done;
    expect(attemptsAt).toEqual([0, 1000, 3000, 7000]);
    expect(record).toMatchObject({ status: 'failed', retryCount: 3, error: 'exchange down', reason: 'execution_failed' });
    expect(nf.orchestrator.getStats()).toMatchObject({ tasksFailed: 1, retries: 3 });
    expect(nf.orchestrator.getAgent('flaky')?.performance).toBeCloseTo(0.9 ** 4, 12);
    await nf.stop();
  });

  test('retryOnFailure false fails at once; backoff factor and initial delay come from the policy', async () => {
    const { nf, clock } = runtime();
    const attemptsAt: number[] = [];
    nf.orchestrator.registerAgent('flaky', {
      capabilities: ['x'],
      execute: () => {
        attemptsAt.push(clock.now());
        throw new Error('no');
      },
    });
    await nf.start();
    const once = nf.orchestrator.submitTask({ requiredCapabilities: ['x'], retryPolicy: { retryOnFailure: false } });
    expect((await nf.orchestrator.waitForTask(once.taskId)).retryCount).toBe(0);
    attemptsAt.length = 0;
    const custom = nf.orchestrator.submitTask({
      requiredCapabilities: ['x'],
      retryPolicy: { maxRetries: 2, initialDelay: 0.5, backoffFactor: 3 },
    });
    const done = nf.orchestrator.waitForTask(custom.taskId);
    await settle();
    await advance(clock, 2000, 50);
    await done;
    expect(attemptsAt.map((t) => t - (attemptsAt[0] ?? 0))).toEqual([0, 500, 2000]);
    await nf.stop();
  });

  test('an attempt running past timeoutSeconds is aborted, retried, and finally times out; a late result is ignored', async () => {
    const { nf, clock } = runtime();
    const signals: AbortSignal[] = [];
    const finishers: (() => void)[] = [];
    nf.orchestrator.registerAgent('slow', {
      capabilities: ['x'],
      execute: (_task, { signal }) =>
        new Promise((resolve) => {
          signals.push(signal);
          finishers.push(() => resolve('late'));
        }),
    });
    await nf.start();
    const { taskId } = nf.orchestrator.submitTask({ requiredCapabilities: ['x'], timeoutSeconds: 10, retryPolicy: { maxRetries: 1 } });
    const done = nf.orchestrator.waitForTask(taskId);
    await settle();
    expect(nf.orchestrator.getTaskStatus(taskId)).toBe('running');
    await advance(clock, 10_000, 1000);
    expect(signals[0]?.aborted).toBe(true);
    expect(nf.orchestrator.getAgent('slow')?.performance).toBeCloseTo(0.8, 12);
    finishers[0]?.(); // the aborted first attempt answers late
    await advance(clock, 1000 + 10_000, 1000);
    const record = await done;
    expect(record).toMatchObject({ status: 'timeout', state: 'timedOut', retryCount: 1, reason: 'timed_out', error: 'timed out' });
    expect(signals[1]?.aborted).toBe(true);
    expect(nf.orchestrator.getStats()).toMatchObject({ tasksTimedOut: 1, lateResults: 1 });
    await nf.stop();
  });
});

describe('TaskOrchestrator: cancel', () => {
  test('cancel works from waiting, queued, assigned, running and retrying; running work is aborted', async () => {
    const { nf, clock } = runtime();
    const exec = controlledExecutor();
    nf.orchestrator.registerAgent('worker', { capabilities: ['run'], maxConcurrentTasks: 3, execute: exec.execute });
    // A remote agent that never starts: its tasks stay assigned.
    nf.bus.registerAgent('remote');
    nf.orchestrator.registerAgent('remote', { capabilities: ['remote'] });
    nf.orchestrator.registerAgent('failing', { capabilities: ['fail'], execute: () => Promise.reject(new Error('x')) });
    await nf.start();
    nf.orchestrator.submitWorkflow(
      {
        tasks: [
          { taskId: 'blocker', requiredCapabilities: ['run'] },
          { taskId: 'waiting', dependencies: ['blocker'], requiredCapabilities: ['run'] },
          { taskId: 'queued', requiredCapabilities: ['nobody'] },
          { taskId: 'assigned', requiredCapabilities: ['remote'] },
          { taskId: 'running', requiredCapabilities: ['run'] },
          { taskId: 'retrying', requiredCapabilities: ['fail'] },
        ],
      },
      { requireCapableAgents: false },
    );
    await settle();
    const states = Object.fromEntries(['waiting', 'queued', 'assigned', 'running', 'retrying'].map((id) => [id, nf.orchestrator.getTask(id)?.state]));
    expect(states).toEqual({ waiting: 'waiting', queued: 'queued', assigned: 'assigned', running: 'running', retrying: 'retrying' });
    for (const id of Object.keys(states)) expect(nf.orchestrator.cancelTask(id)).toBe(true);
    await settle();
    for (const id of Object.keys(states)) {
      expect(nf.orchestrator.getTask(id)).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    }
    expect(exec.pending.get('running')?.signal.aborted).toBe(true);
    // The cancel command is high priority, so it is read before the (medium) assignment.
    expect(nf.bus.getAgentMessages('remote').map((m) => m.topic)).toEqual(['task_cancel', 'task_assignment']);
    expect(nf.orchestrator.cancelTask('running')).toBe(false);
    expect(() => nf.orchestrator.cancelTask('ghost')).toThrow(UnknownTaskError);
    expect(nf.orchestrator.getAgent('worker')?.load).toBe(1); // only the blocker holds a slot
    clock.increment(10_000);
    await nf.stop();
  });
});

describe('TaskOrchestrator: dependency failure policies', () => {
  test.each([
    ['fail', 'failed', 'dependency_failed'],
    ['skip', 'cancelled', 'dependency_skipped'],
    ['ignore', 'completed', null],
  ] as const)('policy %s: the dependent ends %s', async (policy, status, reason) => {
    const { nf } = runtime();
    const ran: string[] = [];
    nf.orchestrator.registerAgent('a', {
      capabilities: ['x'],
      execute: (task) => {
        ran.push(task.taskId);
        if (task.taskId === 'upstream') throw new Error('broken');
        return 'ok';
      },
    });
    await nf.start();
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'upstream', requiredCapabilities: ['x'], retryPolicy: { retryOnFailure: false } },
        { taskId: 'dependent', dependencies: ['upstream'], requiredCapabilities: ['x'], onDependencyFailure: policy },
        { taskId: 'grandchild', dependencies: ['dependent'], requiredCapabilities: ['x'] },
      ],
    });
    const [, dependent, grandchild] = await nf.orchestrator.waitForWorkflow(['upstream', 'dependent', 'grandchild']);
    expect(dependent).toMatchObject({ status, reason });
    // Nothing is left waiting forever: the grandchild follows its own (default: fail) policy.
    expect(grandchild?.status).toBe(policy === 'ignore' ? 'completed' : 'failed');
    expect(ran.includes('dependent')).toBe(policy === 'ignore');
    // A dependency that had already failed when the dependent was submitted counts too.
    const late = nf.orchestrator.submitTask({ dependencies: ['upstream'], requiredCapabilities: ['x'], onDependencyFailure: policy });
    expect((await nf.orchestrator.waitForTask(late.taskId)).status).toBe(status);
    await nf.stop();
  });
});

describe('TaskOrchestrator: agents', () => {
  test('unregistering an agent puts its running tasks back in the queue (aborted), and another agent takes them', async () => {
    const { nf } = runtime();
    const exec = controlledExecutor();
    nf.orchestrator.registerAgent('leaving', { capabilities: ['x'], execute: exec.execute });
    await nf.start();
    const { taskId } = nf.orchestrator.submitTask({ requiredCapabilities: ['x'] });
    await settle();
    const firstSignal = exec.pending.get(taskId)?.signal;
    expect(nf.orchestrator.getTask(taskId)?.assignedAgent).toBe('leaving');
    expect(nf.orchestrator.unregisterAgent('leaving')).toBe(true);
    await settle();
    expect(firstSignal?.aborted).toBe(true);
    expect(nf.orchestrator.getTask(taskId)).toMatchObject({ state: 'queued', retryCount: 0, reason: 'no_capable_agent' });
    nf.orchestrator.registerAgent('arriving', { capabilities: ['x'], execute: () => 'ok' });
    const record = await nf.orchestrator.waitForTask(taskId);
    expect(record).toMatchObject({ status: 'completed', assignedAgent: 'arriving', retryCount: 0 });
    expect(nf.bus.getAgent('leaving')).toBeUndefined();
    expect(nf.orchestrator.unregisterAgent('leaving')).toBe(false);
    await nf.stop();
  });

  test('a remote agent works through the bus protocol: task_assignment in, task_started and task_result out', async () => {
    const { nf } = runtime();
    nf.bus.registerAgent('remote_risk', {
      handler: (message, agent) => {
        if (message.topic !== 'task_assignment') return;
        const { task, attempt } = message.payload as { task: { taskId: string; payload: { amount: number } }; attempt: number };
        agent.send({ recipientId: message.senderId, messageType: 'notification', topic: 'task_started', payload: { taskId: task.taskId, attempt } });
        agent.send({
          recipientId: message.senderId,
          messageType: 'notification',
          topic: 'task_result',
          payload: { taskId: task.taskId, attempt, status: 'completed', result: { approved: task.payload.amount < 1000 } },
        });
      },
    });
    nf.orchestrator.registerAgent('remote_risk', { capabilities: ['risk_assessment'] });
    await nf.start();
    const states: string[] = [];
    nf.orchestrator.events$.subscribe((e) => e.type === 'task_transition' && states.push(e.state));
    const { taskId } = nf.orchestrator.submitTask({ requiredCapabilities: ['risk_assessment'], payload: { amount: 500 } });
    expect(await nf.orchestrator.waitForTask(taskId)).toMatchObject({ status: 'completed', result: { approved: true } });
    expect(states).toEqual(['queued', 'assigned', 'running', 'completed']);
    // Malformed and foreign results are counted and ignored, never crash anything.
    nf.bus.sendMessage({ senderId: 'mallory', recipientId: 'orchestrator', messageType: 'notification', topic: 'task_result', payload: { nope: 1 } });
    nf.bus.sendMessage({
      senderId: 'mallory',
      recipientId: 'orchestrator',
      messageType: 'notification',
      topic: 'task_result',
      payload: { taskId, status: 'failed', error: 'forged' },
    });
    // Started and progress reports for an attempt that is over, or with a stranger's token, are counted too.
    nf.bus.sendMessage({
      senderId: 'remote_risk',
      recipientId: 'orchestrator',
      messageType: 'notification',
      topic: 'task_started',
      payload: { taskId, attempt: 0, dispatch: 'not-the-token' },
    });
    nf.bus.sendMessage({
      senderId: 'remote_risk',
      recipientId: 'orchestrator',
      messageType: 'notification',
      topic: 'task_progress',
      payload: { taskId, attempt: 0, progress: 0.5, dispatch: 'not-the-token' },
    });
    await settle();
    expect(nf.orchestrator.getStats()).toMatchObject({ invalidResults: 1, lateResults: 1, lateReports: 2, tasksCompleted: 1 });
    await nf.stop();
  });

  test('assignTaskToAgent and scheduleTask (guide APIs)', async () => {
    const { nf } = runtime();
    const exec = controlledExecutor();
    nf.orchestrator.registerAgent('a', { capabilities: ['x'], maxConcurrentTasks: 1, execute: exec.execute });
    nf.orchestrator.registerAgent('b', { capabilities: ['y'], execute: exec.execute });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'hold', requiredCapabilities: ['x'] });
    nf.orchestrator.submitTask({ taskId: 'next', requiredCapabilities: ['x'] });
    await settle();
    expect(() => nf.orchestrator.assignTaskToAgent('next', 'b')).toThrow(AssignmentRefusedError);
    expect(() => nf.orchestrator.assignTaskToAgent('next', 'a')).toThrow(/no free slot/);
    expect(() => nf.orchestrator.assignTaskToAgent('hold', 'a')).toThrow(/task is running/);
    exec.pending.get('hold')?.resolve(1);
    await settle();
    expect(nf.orchestrator.scheduleTask('next')).toBe('running');
    await nf.stop();
  });
});

describe('TaskOrchestrator: workflows and validation', () => {
  test("the guide's three-step trading workflow runs analysis → risk → trade", async () => {
    const { nf } = runtime();
    const log: string[] = [];
    nf.orchestrator.registerAgent('analysis_agent_1', {
      capabilities: ['technical_analysis', 'sentiment_analysis', 'research'],
      execute: (task) => {
        log.push(`analysis ${(task.payload as { symbol: string }).symbol}`);
        return { signal: 'BUY', confidence: 0.85 };
      },
    });
    nf.orchestrator.registerAgent('risk_agent_1', {
      capabilities: ['risk_assessment', 'portfolio_management', 'circuit_breaker'],
      maxConcurrentTasks: 2,
      execute: (task, { dependencyResults }) => {
        log.push(`risk sees ${JSON.stringify(Object.values(dependencyResults))}`);
        return { approved: true, maxAmount: (task.payload as { amount: number }).amount * 0.8 };
      },
    });
    nf.orchestrator.registerAgent('trading_agent_1', {
      capabilities: ['trading', 'market_data', 'order_execution'],
      maxConcurrentTasks: 3,
      execute: (_task, { dependencyResults }) => {
        const risk = Object.values(dependencyResults)[0] as { maxAmount: number };
        log.push(`trade ${risk.maxAmount}`);
        return { filled: risk.maxAmount };
      },
    });
    await nf.start();
    const events: TaskEvent[] = [];
    nf.orchestrator.events$.subscribe((e) => events.push(e));
    const subs = nf.orchestrator.submitWorkflow({
      tasks: [
        {
          taskId: 'analysis_BTC',
          name: 'Market Analysis for BTC/USD',
          requiredCapabilities: ['technical_analysis', 'sentiment_analysis'],
          payload: { symbol: 'BTC/USD', indicators: ['rsi', 'macd', 'bollinger'] },
          priority: 'high',
        },
        {
          taskId: 'risk_BTC',
          requiredCapabilities: ['risk_assessment'],
          dependencies: ['analysis_BTC'],
          payload: { symbol: 'BTC/USD', amount: 500 },
          priority: 'high',
        },
        {
          taskId: 'trade_BTC',
          requiredCapabilities: ['trading', 'order_execution'],
          dependencies: ['risk_BTC'],
          payload: { symbol: 'BTC/USD', amount: 500, type: 'market' },
          priority: 'critical',
        },
      ],
    });
    const records = await nf.orchestrator.waitForWorkflow(subs.map((s) => s.taskId));
    expect(records.map((r) => [r.taskId, r.status, r.assignedAgent])).toEqual([
      ['analysis_BTC', 'completed', 'analysis_agent_1'],
      ['risk_BTC', 'completed', 'risk_agent_1'],
      ['trade_BTC', 'completed', 'trading_agent_1'],
    ]);
    expect(log).toEqual(['analysis BTC/USD', 'risk sees [{"signal":"BUY","confidence":0.85}]', 'trade 400']);
    const trade = events.filter((e) => e.type === 'task_transition' && e.taskId === 'trade_BTC').map((e) => (e.type === 'task_transition' ? e.state : ''));
    // In-process executors start on assignment (remote agents pass through `assigned`).
    expect(trade).toEqual(['queued', 'running', 'completed']);
    const finished = events.find((e) => e.type === 'task_finished' && e.taskId === 'trade_BTC');
    expect(finished).toMatchObject({ producerAgentIds: ['risk_agent_1'], status: 'completed' });
    expect(nf.orchestrator.getStats()).toMatchObject({ tasksCreated: 3, tasksCompleted: 3, pendingTasks: 0, runningTasks: 0, utilization: 0 });
    await nf.stop();
  });

  test('a bad workflow is rejected whole, naming every problem and the tasks involved', async () => {
    const { nf } = runtime();
    nf.orchestrator.registerAgent('a', { capabilities: ['x'] });
    let error: unknown;
    try {
      nf.orchestrator.submitWorkflow({
        tasks: [
          { taskId: 'a', dependencies: ['c'], requiredCapabilities: ['x'] },
          { taskId: 'b', dependencies: ['a'], requiredCapabilities: ['x'] },
          { taskId: 'c', dependencies: ['b'], requiredCapabilities: ['x'] },
          { taskId: 'f', requiredCapabilities: ['x'] },
          { taskId: 'f', requiredCapabilities: ['x'] },
          { taskId: 'd', dependencies: ['ghost'], requiredCapabilities: ['x'] },
          { taskId: 'e', requiredCapabilities: ['telepathy'] },
        ],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WorkflowValidationError);
    const problems = (error as WorkflowValidationError).problems;
    expect(problems.map((p) => [p.kind, p.taskIds])).toEqual(
      expect.arrayContaining([
        ['duplicate_id', ['f']],
        ['unknown_dependency', ['d', 'ghost']],
        ['no_capable_agent', ['e']],
        ['cycle', expect.arrayContaining(['a', 'b', 'c'])],
      ]),
    );
    expect((error as WorkflowValidationError).code).toBe('ERR_WORKFLOW_INVALID');
    expect(nf.orchestrator.getStats().tasksCreated).toBe(0);
    // A duplicate id whose last task closes a cycle: both problems are named (the cycle check
    // walks the task an id names last, with dependencies or without).
    let both: unknown;
    try {
      nf.orchestrator.submitWorkflow({
        tasks: [
          { taskId: 'x', requiredCapabilities: ['x'] },
          { taskId: 'y', dependencies: ['x'], requiredCapabilities: ['x'] },
          { taskId: 'x', dependencies: ['y'], requiredCapabilities: ['x'] },
        ],
      });
    } catch (e) {
      both = e;
    }
    expect((both as WorkflowValidationError).problems.map((p) => p.kind).sort()).toEqual(['cycle', 'duplicate_id']);
    expect(() => nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'ok' }, { priority: 'urgent' } as never] })).toThrow(expect.objectContaining({ field: 'tasks.1.priority' }));
    expect(() => nf.orchestrator.submitWorkflow({} as never)).toThrow(expect.objectContaining({ field: 'tasks' }));
    nf.orchestrator.submitTask({ taskId: 'once' });
    expect(() => nf.orchestrator.submitTask({ taskId: 'once' })).toThrow(DuplicateTaskError);
    expect(() => nf.orchestrator.submitTask({ dependencies: ['ghost'] })).toThrow(WorkflowValidationError);
    expect(() => nf.orchestrator.submitTask({ timeoutSeconds: -1 } as never)).toThrow(expect.objectContaining({ field: 'timeoutSeconds' }));
    expect(() => nf.orchestrator.registerAgent('bad', { capabilities: 'x' } as never)).toThrow(ValidationError);
    await nf.stop();
  });

  test('stats count by status, with utilization per agent', async () => {
    const { nf } = runtime();
    const exec = controlledExecutor();
    nf.orchestrator.registerAgent('a', { capabilities: ['x'], maxConcurrentTasks: 4, execute: exec.execute });
    await nf.start();
    for (let i = 0; i < 3; i++) nf.orchestrator.submitTask({ requiredCapabilities: ['x'] });
    await settle();
    expect(nf.orchestrator.getStats()).toMatchObject({
      runningTasks: 3,
      utilization: 0.75,
      agents: { a: { load: 3, maxConcurrentTasks: 4, utilization: 0.75 } },
    });
    await nf.stop();
  });
});
