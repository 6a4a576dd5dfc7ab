/**
 * Model-based tests of our machines: XState's graph tools generate paths over the pure
 * machine (timers and invoked actors' outcomes are ordinary events there), and each path
 * is replayed on a real actor driven by a simulated clock, checking after every step
 * that the actor's snapshot is the model's.
 */
import {
  createActor,
  fromCallback,
  fromPromise,
  SimulatedClock,
  type AnyActorLogic,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type EventObject,
} from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { flush, withTimers, type Path } from './support/modelPaths';
import { agentMachine, type AgentMachineEvent } from '../machines/agent.machine';
import { conflictMachine, type ConflictMachineEvent } from '../machines/conflict.machine';
import { orchestratorMachine, type OrchestratorMachineEvent } from '../machines/orchestrator.machine';
import { taskMachine, type TaskMachineEvent, type TaskMachineInput } from '../machines/task.machine';
import type { ConflictVerdict } from '../src/conflict/model/conflictTypes';
import { machineConflictInput } from './support/conflictFixtures';

/**
 * Replays a path on a real actor. Timer events advance the simulated clock to the timer's
 * due time (entry time of its state + its delay); a path whose timer would not fire first
 * on a real clock is reported unrealizable rather than replayed. `deliver` handles events
 * that come from invoked actors (resolve a promise) instead of being sent.
 */
async function replayOnActor(
  model: AnyStateMachine,
  logic: AnyActorLogic,
  path: Path,
  options: { input?: unknown; deliver?: (event: EventObject) => boolean; same?: (snapshot: AnyMachineSnapshot) => unknown } = {},
): Promise<'replayed' | 'unrealizable'> {
  const clock = new SimulatedClock();
  const actor = createActor(logic, { clock, ...(options.input !== undefined && { input: options.input }) }).start();
  const due = new Map<string, number>();
  let active = new Set<AnyStateNode>();
  const track = () => {
    const snapshot = actor.getSnapshot() as AnyMachineSnapshot;
    const nodes = new Set<AnyStateNode>(snapshot._nodes);
    for (const node of active) if (!nodes.has(node)) for (const t of node.after) due.delete(t.eventType);
    for (const node of nodes) {
      if (active.has(node)) continue;
      for (const t of node.after) {
        const named = model.implementations.delays[t.delay as string] as number | ((args: unknown) => number);
        const delay = typeof t.delay === 'number' ? t.delay : typeof named === 'number' ? named : named({ context: snapshot.context, event: { type: '' } });
        due.set(t.eventType, clock.now() + delay);
      }
    }
    active = nodes;
  };
  const same = options.same ?? ((s: AnyMachineSnapshot) => ({ value: s.value, context: s.context }));
  track();
  try {
    for (const step of path.steps.slice(1)) {
      const { event } = step;
      if (event.type.startsWith('xstate.after.')) {
        const at = due.get(event.type);
        if (at === undefined || [...due].some(([type, other]) => type !== event.type && other <= at)) return 'unrealizable';
        clock.increment(at - clock.now());
      } else if (!options.deliver?.(event)) {
        actor.send(event);
      }
      await flush();
      track();
      expect(same(actor.getSnapshot() as AnyMachineSnapshot)).toEqual(same(step.state));
    }
    return 'replayed';
  } finally {
    actor.stop();
  }
}

describe('model-based: task machine', () => {
  const input: TaskMachineInput = {
    taskId: 't',
    timeoutMs: 10_000,
    maxRetries: 2,
    backoffFactor: 2,
    initialDelayMs: 1000,
    retryOnFailure: true,
    onDependencyFailure: 'ignore',
    pendingDependencies: 2,
    dependencyFailedAtStart: false,
  };
  // A final task takes no more events (the pure machine would still compute transitions).
  const events = (s: AnyMachineSnapshot): TaskMachineEvent[] =>
    withTimers<TaskMachineEvent>(s, [
      { type: 'DEPENDENCY_COMPLETED', dependencyId: 'd' },
      // Two dependencies completed in one burst (the orchestrator merges a burst's completions).
      { type: 'DEPENDENCY_COMPLETED', dependencyId: 'd', count: 2 },
      { type: 'DEPENDENCY_FAILED', dependencyId: 'd' },
      { type: 'AGENT_ASSIGNED', agentId: 'a', at: 0 },
      { type: 'AGENT_ASSIGNED', agentId: 'a', at: 0, startsAtOnce: true },
      { type: 'EXECUTION_STARTED', attempt: s.context.retryCount },
      { type: 'EXECUTION_SUCCEEDED', attempt: s.context.retryCount },
      { type: 'EXECUTION_FAILED', attempt: s.context.retryCount, error: 'boom', at: 0 },
      { type: 'AGENT_LOST', agentId: 'a' },
      { type: 'CANCELLED' },
    ]);

  test('every shortest path replays on a real actor, timeouts and backoffs by the clock', async () => {
    const paths = getShortestPaths(taskMachine, { input, events }) as unknown as Path[];
    expect(paths.length).toBeGreaterThan(40);
    const outcomes = await Promise.all(paths.map((path) => replayOnActor(taskMachine, taskMachine, path, { input })));
    expect(outcomes.every((o) => o === 'replayed')).toBe(true);
    // The paths cover every state of the machine.
    const values = new Set(paths.map((p) => p.steps.at(-1)?.state.value));
    expect([...values].sort()).toEqual(['assigned', 'cancelled', 'completed', 'failed', 'queued', 'retrying', 'running', 'timedOut', 'waiting']);
  });
});

describe('model-based: agent machine', () => {
  // What the bus does: at most two batches in flight, settling only delivered work.
  const events = (s: { context: { inFlight: number } }): AgentMachineEvent[] => [
    ...(s.context.inFlight < 2 ? [{ type: 'MESSAGES_DELIVERED' as const, messages: [{} as never] }] : []),
    ...(s.context.inFlight > 0
      ? [
          { type: 'MESSAGES_SETTLED' as const, handled: 1, failed: 0 },
          { type: 'MESSAGES_SETTLED' as const, handled: 0, failed: 0, returned: 1 },
        ]
      : []),
    { type: 'WENT_OFFLINE' },
    { type: 'CAME_ONLINE' },
  ];

  // Delivered/handled counters grow forever; a state is the phase and the work in flight.
  const serializeState = (s: AnyMachineSnapshot) => JSON.stringify([s.value, s.context.inFlight]);

  test('every shortest path replays on a real actor', async () => {
    const paths = getShortestPaths(agentMachine, { input: { agentId: 'a' }, events, serializeState }) as unknown as Path[];
    expect(paths.length).toBeGreaterThan(5);
    const processed: unknown[] = [];
    const logic = agentMachine.provide({ actions: { processMessages: (_, params) => processed.push(params) } });
    for (const path of paths) {
      expect(await replayOnActor(agentMachine, logic, path, { input: { agentId: 'a' }, same: serializeState })).toBe('replayed');
    }
    expect(processed.length).toBeGreaterThan(0);
  });
});

describe('model-based: conflict machine', () => {
  const input = machineConflictInput;
  const resolved: ConflictVerdict = { status: 'resolved', result: null } as unknown as ConflictVerdict;
  const escalated = { status: 'escalated', reason: 'no_consensus', detail: 'split', result: null } as unknown as ConflictVerdict;
  const vote = (agentId: string) => ({ agentId, decision: 'buy', confidence: 0.9, reasoning: '', timestamp: 0, stake: 0.5 });
  const events = [
    { type: 'RESOLUTION_REQUESTED', strategy: 'voting_consensus', algorithm: 'weighted_consensus', requestedAt: 0, stakes: {}, expertId: null },
    { type: 'RESOLUTION_REQUESTED', strategy: 'expert_precedence', algorithm: 'weighted_consensus', requestedAt: 0, stakes: {}, expertId: 'a' },
    { type: 'RESOLUTION_REQUESTED', strategy: 'human_intervention', algorithm: 'weighted_consensus', requestedAt: 0, stakes: {}, expertId: null },
    { type: 'VOTE_RECEIVED', vote: vote('a') },
    { type: 'VOTE_RECEIVED', vote: vote('b') },
    { type: 'HUMAN_DECISION_SUBMITTED', decision: { decision: 'hold', decidedBy: 'ops', decidedAt: 0 } },
    { type: 'xstate.done.actor.tally', output: resolved },
    { type: 'xstate.done.actor.tally', output: escalated },
    { type: 'xstate.error.actor.tally', error: new Error('tally crashed') },
    { type: 'xstate.done.actor.expert', output: { decision: 'buy', confidence: 1 } },
    { type: 'xstate.error.actor.expert', error: new Error('expert unreachable') },
  ] as unknown as ConflictMachineEvent[];

  test('every shortest path replays on a real actor: votes, expert, human, tally outcomes and both timers', async () => {
    const paths = getShortestPaths(conflictMachine, { input, events: (s) => withTimers(s, events) }) as unknown as Path[];
    expect(paths.length).toBeGreaterThan(15);
    let replayed = 0;
    const unrealizable: Path[] = [];
    for (const path of paths) {
      // Invoked actors answer when the path says so.
      const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
      const deferred = (id: string) => fromPromise<unknown, unknown>(() => new Promise((resolve, reject) => pending.set(id, { resolve, reject })));
      const executeDecision = jest.fn();
      const escalate = jest.fn();
      const logic = conflictMachine.provide({
        actors: { collectVotes: fromCallback(() => {}), tally: deferred('tally') as never, consultExpert: deferred('expert') as never },
        actions: { executeDecision, escalate },
      });
      const deliver = (event: EventObject) => {
        const match = /^xstate\.(done|error)\.actor\.(tally|expert)$/.exec(event.type);
        if (!match) return false;
        const answer = pending.get(match[2] as string);
        pending.delete(match[2] as string);
        if (match[1] === 'done') answer?.resolve((event as unknown as { output: unknown }).output);
        else answer?.reject((event as unknown as { error: unknown }).error);
        return true;
      };
      const outcome = await replayOnActor(conflictMachine, logic, path, { input, deliver });
      if (outcome === 'replayed') {
        replayed++;
        const end = path.steps.at(-1)?.state.value;
        // Effects ran exactly once, at the end the model reached.
        expect(escalate).toHaveBeenCalledTimes(end === 'escalated' ? 1 : 0);
        expect(executeDecision).toHaveBeenCalledTimes(end === 'resolved' ? 1 : 0);
      } else unrealizable.push(path);
    }
    // A path where the deadline beats a vote window opened at the same instant is not
    // realizable on a clock (the window closes first); every other path replays.
    for (const path of unrealizable) {
      const before = path.steps.at(-2)?.state.value as { open?: string };
      expect(path.steps.at(-1)?.event.type).toBe('xstate.after.resolutionDeadline.conflict.open');
      expect(['collectingVotes', 'consultingExpert']).toContain(before.open);
    }
    expect(replayed + unrealizable.length).toBe(paths.length);
    expect(replayed).toBeGreaterThan(40);
  });
});

describe('model-based: orchestrator machine', () => {
  const events = (s: { context: { tasksSubmitted: number; tasksFinished: number; registeredAgents: number } }): OrchestratorMachineEvent[] =>
    [
      ...(s.context.tasksSubmitted < 2 ? [{ type: 'TASKS_SUBMITTED' as const, count: 1 }] : []),
      ...(s.context.tasksFinished < s.context.tasksSubmitted ? [{ type: 'TASKS_FINISHED' as const, taskIds: ['t'] }] : []),
      ...(s.context.registeredAgents < 1 ? [{ type: 'AGENT_REGISTERED' as const, agentId: 'a' }] : [{ type: 'AGENT_UNREGISTERED' as const, agentId: 'a' }]),
      { type: 'SCHEDULING_REQUESTED' },
      { type: 'ACTIVATION_REQUESTED' },
      { type: 'ORCHESTRATOR_STOPPED' },
      // What the invoked takeover and flush answer (delivered by resolving their promises).
      { type: 'xstate.done.actor.takeOver', output: { tasks: [] } },
      { type: 'xstate.error.actor.takeOver', error: new Error('store unreachable') },
      { type: 'xstate.done.actor.flushStore', output: undefined },
    ] as unknown as OrchestratorMachineEvent[];

  test.each(['active', 'standby', 'disabled'] as const)('every shortest path replays on a real actor with the injected effects (role %s)', async (role) => {
    // Scheduling rounds count up forever; the model forgets them beyond one.
    const serializeState = (s: AnyMachineSnapshot) =>
      JSON.stringify([s.value, { ...s.context, schedulingRounds: Math.min(1, s.context.schedulingRounds), activationError: s.context.activationError !== null }]);
    const input = { role };
    const paths = getShortestPaths(orchestratorMachine, { input, events, serializeState }) as unknown as Path[];
    expect(paths.length).toBeGreaterThan(role === 'standby' ? 40 : 15);
    const states = new Set(paths.map((p) => JSON.stringify(p.steps.at(-1)?.state.value)));
    // The lifecycle: a standby reaches every state; a disabled one never activates.
    if (role === 'standby') expect([...states].sort()).toEqual(['"activating"', '"active"', '"standby"', '"stopped"', '"stopping"']);
    if (role === 'disabled') expect(states.has('"activating"') || states.has('"active"')).toBe(false);
    if (role === 'active') expect(states.has('"standby"') || states.has('"activating"')).toBe(false);
    for (const path of paths) {
      const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
      const deferred = (id: string) => fromPromise<unknown, unknown>(() => new Promise((resolve, reject) => pending.set(id, { resolve, reject })));
      const calls = { goLive: jest.fn(), restoreTasks: jest.fn(), haltIntake: jest.fn(), releaseResources: jest.fn(), runBalancer: jest.fn(), releaseTasks: jest.fn() };
      const logic = orchestratorMachine.provide({ actors: { takeOver: deferred('takeOver'), flushStore: deferred('flushStore') as never }, actions: calls });
      const deliver = (event: EventObject) => {
        const match = /^xstate\.(done|error)\.actor\.(takeOver|flushStore)$/.exec(event.type);
        if (!match) return false;
        const answer = pending.get(match[2] as string);
        pending.delete(match[2] as string);
        if (match[1] === 'done') answer?.resolve((event as unknown as { output: unknown }).output);
        else answer?.reject((event as unknown as { error: unknown }).error);
        return true;
      };
      expect(await replayOnActor(orchestratorMachine, logic, path, { input, deliver, same: serializeState })).toBe('replayed');
      const sent = path.steps.map((s) => s.event.type);
      const values = path.steps.map((s) => s.state.value);
      // Scheduling runs only while active; release of finished actors in any state.
      const roundsWhileActive = path.steps.filter((s, k) => s.event.type === 'SCHEDULING_REQUESTED' && values[k - 1] === 'active').length;
      expect(calls.runBalancer).toHaveBeenCalledTimes(roundsWhileActive);
      expect(calls.releaseTasks).toHaveBeenCalledTimes(sent.filter((t) => t === 'TASKS_FINISHED').length);
      // Live once per activation, tasks restored only by a takeover; each lifecycle effect at most once.
      expect(calls.goLive).toHaveBeenCalledTimes(values.includes('active') ? 1 : 0);
      expect(calls.restoreTasks).toHaveBeenCalledTimes(role === 'standby' && values.includes('active') ? 1 : 0);
      expect(calls.haltIntake).toHaveBeenCalledTimes(values.includes('stopping') ? 1 : 0);
      expect(calls.releaseResources).toHaveBeenCalledTimes(values.includes('stopped') ? 1 : 0);
    }
  });
});
