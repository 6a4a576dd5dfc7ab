import { assign, createMachine, fromPromise, setup } from 'xstate';
import { agentMachine, type AgentMachineEvent } from '../machines/agent.machine';
import { conflictMachine } from '../machines/conflict.machine';
import { taskMachine, type TaskMachineEvent, type TaskMachineInput } from '../machines/task.machine';
import { formatVerificationResult, verifyMachine } from '../src/verify';
import { machineConflictInput } from './support/conflictFixtures';

const taskInput: TaskMachineInput = {
  taskId: 't',
  timeoutMs: 1000,
  maxRetries: 2,
  backoffFactor: 2,
  initialDelayMs: 500,
  retryOnFailure: true,
  onDependencyFailure: 'fail',
  pendingDependencies: 1,
  dependencyFailedAtStart: false,
};

/** Events of the task machine for the current attempt (the attempt number is part of them). */
const taskEvents = (s: { context: { retryCount: number } }): TaskMachineEvent[] => [
  { type: 'DEPENDENCY_COMPLETED', dependencyId: 'd' },
  { type: 'DEPENDENCY_FAILED', dependencyId: 'd' },
  { type: 'AGENT_ASSIGNED', agentId: 'a', at: 0 },
  { type: 'AGENT_ASSIGNED', agentId: 'a', at: 0, startsAtOnce: true },
  { type: 'EXECUTION_STARTED', attempt: s.context.retryCount },
  { type: 'EXECUTION_SUCCEEDED', attempt: s.context.retryCount },
  { type: 'EXECUTION_FAILED', attempt: s.context.retryCount, error: 'x', at: 0 },
  { type: 'AGENT_LOST', agentId: 'a' },
  { type: 'CANCELLED' },
];

const reasonOf = (verdict: unknown) => (verdict as { reason?: string } | null)?.reason;

describe('verifyMachine', () => {
  test('finds a deadlock and a state that cannot terminate, with the events that lead there', () => {
    const door = createMachine({
      id: 'door',
      initial: 'closed',
      states: {
        closed: { on: { OPEN: 'open', LOCK: 'locked' } },
        open: { on: { CLOSE: 'closed' }, after: { 5000: 'closed' } },
        locked: {},
        gone: { type: 'final' },
      },
    });
    const result = verifyMachine(door, { properties: ['deadlock', 'termination'] });
    expect(result.status).toBe('violated');
    expect(result.violations).toEqual([
      { property: 'deadlock', message: 'state "locked" is not final and no event is enabled', trace: [{ type: 'LOCK' }] },
      { property: 'termination', message: 'from state "closed" no final state can be reached', trace: [] },
    ]);
    // The `after` timer was explored as an ordinary event.
    expect(result.transitions).toBeGreaterThanOrEqual(4);
    expect(result.stateValues).toEqual(['closed', 'open', 'locked']);
    expect(formatVerificationResult(result)).toMatch(/trace:\n {2}1\. \{"type":"LOCK"\}/);
  });

  test('our task machine: no deadlock, always terminates, retries bounded; every final state reachable', () => {
    const result = verifyMachine(taskMachine, {
      input: taskInput,
      events: taskEvents,
      properties: ['deadlock', 'termination'],
      invariants: { 'bounded retries': (s) => s.context.retryCount <= s.context.maxRetries },
      canReach: {
        completed: (s) => s.value === 'completed',
        'failed by its dependency': (s) => s.context.endReason === 'dependency_failed',
        'timed out after every retry': (s) => s.value === 'timedOut' && s.context.retryCount === 2,
      },
    });
    expect(result.ok).toBe(true);
    expect(result.stateValues).toEqual(expect.arrayContaining(['waiting', 'queued', 'assigned', 'running', 'retrying', 'completed', 'failed', 'timedOut', 'cancelled']));
    const timedOut = result.witnesses.find((w) => w.goal === 'timed out after every retry');
    expect(timedOut?.trace.filter((e) => e.type.startsWith('xstate.after.taskTimeout'))).toHaveLength(1);
    expect(timedOut?.trace.at(-1)?.type).toMatch(/^xstate\.after\.taskTimeout\.task\.(assigned|running)$/);
  });

  test('our conflict machine always ends resolved or escalated, whatever the tally says', () => {
    const input = machineConflictInput;
    const result = verifyMachine(conflictMachine, {
      input,
      events: [
        { type: 'RESOLUTION_REQUESTED', strategy: 'voting_consensus', algorithm: 'weighted_consensus', requestedAt: 0, stakes: {}, expertId: null },
        { type: 'RESOLUTION_REQUESTED', strategy: 'human_intervention', algorithm: 'weighted_consensus', requestedAt: 0, stakes: {}, expertId: null },
        { type: 'VOTE_RECEIVED', vote: { agentId: 'a', decision: 'buy', confidence: 1, reasoning: '', timestamp: 0, stake: 0.5 } },
        // Invoked actors' outcomes are events too: one per output worth exploring.
        { type: 'xstate.done.actor.tally', output: { status: 'resolved', result: null } },
        { type: 'xstate.done.actor.tally', output: { status: 'escalated', reason: 'no_consensus', detail: '', result: null } },
        { type: 'xstate.error.actor.tally', error: new Error('tally crashed') },
      ] as never,
      properties: ['deadlock', 'termination'],
      serializeState: (s) => JSON.stringify([s.value, s.context.awaitedVoters, s.context.votes.length, reasonOf(s.context.verdict)]),
      canReach: { 'tally crash escalates': (s) => s.value === 'escalated' && reasonOf(s.context.verdict) === 'internal_error' },
    });
    expect(result.ok).toBe(true);
    expect(result.stateValues).toEqual(expect.arrayContaining(['resolved', 'escalated', { open: 'awaitingHumanDecision' }]));
    const crash = result.witnesses[0]?.trace.map((e) => e.type) ?? [];
    expect(crash).toHaveLength(3);
    expect([crash[0], crash[2]]).toEqual(['RESOLUTION_REQUESTED', 'xstate.error.actor.tally']);
  });

  test('our agent machine never deadlocks (it is reactive: it does not terminate, by design)', () => {
    // idle/busy/saturated sit below online, paused and offline alike.
    const leafOf = (value: unknown): unknown => (typeof value === 'object' && value !== null ? Object.values(value)[0] : value);
    const full = (c: { inFlight: number; concurrency: number; taskLoad: number; taskCapacity: number }) =>
      c.inFlight >= c.concurrency || (c.taskCapacity > 0 && c.taskLoad >= c.taskCapacity);
    const result = verifyMachine(agentMachine, {
      input: { agentId: 'a', capacity: 2 },
      // What the bus and the orchestrator do: the bus settles only work it delivered; the
      // orchestrator reports its task count (any figure, even a hostile one) and pauses.
      events: (s): AgentMachineEvent[] => [
        { type: 'MESSAGES_DELIVERED', messages: [{} as never] },
        ...(s.context.inFlight > 0 ? [{ type: 'MESSAGES_SETTLED' as const, handled: 1, failed: 0 }] : []),
        { type: 'MESSAGES_SETTLED', handled: 5, failed: -3, returned: Number.NaN },
        { type: 'TASK_LOAD_CHANGED', taskLoad: s.context.taskLoad + 1, capacity: 2 },
        { type: 'TASK_LOAD_CHANGED', taskLoad: -1 },
        { type: 'AGENT_PAUSED' },
        { type: 'AGENT_RESUMED' },
        { type: 'WENT_OFFLINE' },
        { type: 'CAME_ONLINE' },
      ],
      serializeState: (s) => JSON.stringify([s.value, s.context.inFlight, s.context.taskLoad, s.context.paused]),
      properties: ['deadlock', 'termination'],
      invariants: {
        'load never negative': (s) => (s.context.inFlight >= 0 && s.context.taskLoad >= 0) || `inFlight ${s.context.inFlight}, taskLoad ${s.context.taskLoad}`,
        'load is messages plus tasks': (s) => s.context.load === s.context.inFlight + s.context.taskLoad,
        // Under online, paused and offline alike; saturated: one kind of slot all used (bus or task).
        'idle only without load': (s) => leafOf(s.value) !== 'idle' || s.context.load === 0,
        'busy only with a free slot of each kind': (s) => leafOf(s.value) !== 'busy' || (s.context.load > 0 && !full(s.context)),
        'saturated only with a kind of slot all used': (s) => leafOf(s.value) !== 'saturated' || full(s.context),
        'paused only when paused': (s) => !s.matches('paused') || s.context.paused,
      },
      maxStates: 200,
    });
    expect(result.violations.map((v) => v.property)).toEqual([]);
    expect(result.complete).toBe(false);
    expect(result.stateValues).toEqual(expect.arrayContaining([{ online: 'idle' }, { online: 'busy' }, { online: 'saturated' }, { paused: 'busy' }, { offline: 'saturated' }]));
    expect(result.stateValues).toHaveLength(9);

    // At most three messages in flight keeps the space finite.
    const bounded = verifyMachine(agentMachine, {
      input: { agentId: 'a' },
      events: (s): AgentMachineEvent[] => [
        ...(s.context.inFlight < 3 ? [{ type: 'MESSAGES_DELIVERED' as const, messages: [{} as never] }] : []),
        ...(s.context.inFlight > 0 ? [{ type: 'MESSAGES_SETTLED' as const, handled: 1, failed: 0 }] : []),
        { type: 'WENT_OFFLINE' },
        { type: 'CAME_ONLINE' },
      ],
      serializeState: (s) => JSON.stringify([s.value, s.context.inFlight]),
      properties: ['deadlock', 'termination'],
    });
    expect(bounded.complete).toBe(true);
    expect(bounded.violations).toEqual([
      expect.objectContaining({ property: 'termination', message: expect.stringMatching(/^from state .*idle.* no final state can be reached$/), trace: [] }),
    ]);
  });

  test('a user behaviour with a counter: bounded search says incomplete, an invariant catches the overflow', () => {
    const counter = setup({ types: { context: {} as { n: number }, events: {} as { type: 'INC' } | { type: 'RESET' } } }).createMachine({
      context: { n: 0 },
      on: { INC: { actions: assign({ n: ({ context }) => context.n + 1 }) }, RESET: { actions: assign({ n: 0 }) } },
    });
    const unbounded = verifyMachine(counter, { maxStates: 50 });
    expect(unbounded).toMatchObject({ status: 'incomplete', complete: false, statesExplored: 50 });
    const checked = verifyMachine(counter, { maxStates: 50, invariants: { 'n stays below 10': (s) => s.context.n < 10 } });
    expect(checked.status).toBe('violated');
    expect(checked.violations[0]?.trace).toHaveLength(10);
  });

  test('an event a guard cannot handle without payload is noted, not thrown', () => {
    const fetching = setup({ actors: { load: fromPromise(async () => ({ ok: true })) } }).createMachine({
      initial: 'loading',
      states: {
        loading: {
          invoke: {
            src: 'load',
            onDone: [{ guard: ({ event }) => (event.output as { ok: boolean }).ok, target: 'done' }, { target: 'failed' }],
          },
        },
        done: { type: 'final' },
        failed: {},
      },
    });
    const bare = verifyMachine(fetching);
    expect(bare.notes.join('\n')).toMatch(/event 'xstate.done.actor.0.\(machine\).loading' could not be explored/);
    const withOutputs = verifyMachine(fetching, {
      events: [
        { type: 'xstate.done.actor.0.(machine).loading', output: { ok: true } },
        { type: 'xstate.done.actor.0.(machine).loading', output: { ok: false } },
      ] as never,
    });
    expect(withOutputs.violations[0]).toMatchObject({ property: 'deadlock', trace: [{ output: { ok: false } }] });
  });
});
