import { SimulatedClock } from 'xstate';
import { CommunicationBus } from '../src/bus/communicationBus';
import type { Message } from '../src/bus/message';
import { NotRunningError, ValidationError } from '../src/errors';
import {
  ConflictResolutionEngine,
  ConflictStateError,
  DuplicateConflictError,
  UnknownConflictError,
  type ConflictEvent,
  type ConflictInput,
  type ConflictResolutionEngineOptions,
  type ConsensusOutcome,
} from '../src/conflict';
import { signalConflict } from './support/conflictFixtures';

type Answer = unknown | ((message: Message) => unknown);

/** Lets bus deliveries, responses and promise chains run to the end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function setup(options: Omit<ConflictResolutionEngineOptions, 'bus'> = {}) {
  const clock = new SimulatedClock();
  const bus = new CommunicationBus({ clock });
  await bus.start();
  const engine = new ConflictResolutionEngine({ bus, ...options });
  const events: ConflictEvent[] = [];
  engine.events$.subscribe((event) => events.push(event));
  /** Everything agents received that was not a vote request, with who received it. */
  const inbox: (Message & { receivedBy: string })[] = [];
  /** Registers an agent that answers vote and expert requests with `answer` (undefined: never answers). */
  const agent = (agentId: string, answer?: Answer) =>
    bus.registerAgent(agentId, {
      handler: (message, handle) => {
        if (message.topic === 'conflict_vote' || message.topic === 'expert_resolution') {
          if (answer !== undefined) handle.respond(message, typeof answer === 'function' ? (answer as (m: Message) => unknown)(message) : answer);
          return;
        }
        inbox.push({ ...message, receivedBy: handle.agentId });
      },
    });
  const cleanup = async () => {
    await engine.stop();
    await bus.stop();
  };
  return { clock, bus, engine, events, inbox, agent, cleanup };
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});
async function scenario(options: Omit<ConflictResolutionEngineOptions, 'bus'> = {}) {
  const s = await setup(options);
  cleanups.push(s.cleanup);
  return s;
}

describe('ConflictResolutionEngine: voting over the bus', () => {
  it('collects conflict_vote answers, reaches weighted consensus and sends execute_trade', async () => {
    const { engine, agent, inbox, events, bus } = await scenario();
    agent('a', { decision: 'BUY', confidence: 0.9, reasoning: 'breakout' });
    agent('b', { decision: 'BUY', confidence: 0.8, reasoning: 'momentum' });
    agent('c', { decision: 'SELL', confidence: 0.4, reasoning: 'overbought', evidence: { rsi: 78 } });
    const id = engine.reportConflict(signalConflict());
    expect(engine.getConflict(id)?.status).toBe('detected');

    const resolution = await engine.resolveConflict(id);

    expect(resolution).toMatchObject({
      conflictId: id,
      status: 'resolved',
      achieved: true,
      decision: 'BUY',
      algorithm: 'weighted_consensus',
      strategy: 'voting_consensus',
      action: 'execute',
      participants: ['a', 'b', 'c'],
    });
    expect(resolution.agreement).toBeCloseTo(2 / 3, 12); // stakes 0.5 each
    expect(resolution.confidence).toBeCloseTo(0.85, 12);
    await settle();
    const trades = inbox.filter((m) => m.topic === 'execute_trade');
    // c voted SELL: only the winning voters trade.
    expect(trades.map((m) => m.recipientId).sort()).toEqual(['a', 'b']);
    expect(trades[0]).toMatchObject({
      senderId: 'conflict_resolver',
      messageType: 'command',
      priority: 'high',
      payload: { conflictId: id, symbol: 'BTC', signal: 'BUY', reason: 'Consensus resolution' },
    });
    const record = engine.getConflict(id);
    expect(record?.status).toBe('resolved');
    expect(record?.votes.find((v) => v.agentId === 'c')).toMatchObject({ decision: 'SELL', evidence: { rsi: 78 }, stake: 0.5 });
    expect(events.map((e) => e.type)).toEqual([
      'CONFLICT_DETECTED',
      'RESOLUTION_STARTED',
      'VOTE_RECEIVED',
      'VOTE_RECEIVED',
      'VOTE_RECEIVED',
      'CONFLICT_RESOLVED',
      'DECISION_EXECUTED',
    ]);
    // The finished actor is stopped and released; only the record remains.
    expect(bus.root.system.get(`conflict:${id}`)).toBeUndefined();
    expect(engine.getStats()).toMatchObject({
      conflictsDetected: 1,
      conflictsResolved: 1,
      consensusAttempts: 1,
      consensusSuccessRate: 1,
      activeConflicts: 0,
      decisionsExecuted: 1,
      votesReceived: 3,
    });
  });

  it('sends the vote request with the conflict and its options', async () => {
    const { engine, agent } = await scenario();
    const payloads: unknown[] = [];
    agent('a', (m: Message) => {
      payloads.push(m.payload);
      return { decision: 'HOLD', confidence: 0.9 };
    });
    const id = engine.reportConflict(signalConflict({ involvedAgents: ['a'] }));
    await engine.resolveConflict(id);
    expect(payloads).toEqual([
      expect.objectContaining({
        conflictId: id,
        conflictType: 'signal_conflict',
        options: ['BUY', 'SELL', 'HOLD'],
        conflict: expect.objectContaining({ conflictId: id, involvedAgents: ['a'] }) as unknown,
      }),
    ]);
  });

  it('counts a voter that does not answer in time as an abstention with stake 0.1', async () => {
    const { engine, agent, clock } = await scenario();
    agent('a', { decision: 'BUY', confidence: 0.9 });
    agent('b', { decision: 'BUY', confidence: 0.7 });
    agent('c'); // receives the request, never answers
    const id = engine.reportConflict(signalConflict());
    let resolved = false;
    const pending = engine.resolveConflict(id).then((r) => {
      resolved = true;
      return r;
    });
    await settle();
    clock.increment(29_999);
    await settle();
    expect(resolved).toBe(false);
    expect(engine.getConflict(id)?.status).toBe('resolving');
    clock.increment(1);
    const resolution = await pending;
    expect(resolution).toMatchObject({ status: 'resolved', decision: 'BUY', participants: ['a', 'b'] });
    expect(resolution.agreement).toBeCloseTo(1 / 1.1, 12);
    expect(engine.getConflict(id)?.votes.find((v) => v.agentId === 'c')).toEqual({
      agentId: 'c',
      decision: null,
      confidence: 0,
      reasoning: 'vote timeout',
      timestamp: 30_000,
      stake: 0.1,
    });
    expect(engine.getStats().abstentions).toBe(1);
  });

  it('treats a malformed answer, an answer outside the options and an unknown agent as abstentions', async () => {
    const { engine, agent } = await scenario();
    agent('a', { decision: 'BUY', confidence: 0.9 });
    agent('b', { decision: 'BUY', confidence: 7 });
    agent('c', { decision: 'MOON', confidence: 0.9 });
    const id = engine.reportConflict(signalConflict({ involvedAgents: ['a', 'b', 'c', 'ghost'] }));
    const resolution = await engine.resolveConflict(id);
    const reasons = Object.fromEntries(engine.getConflict(id)?.votes.map((v) => [v.agentId, v.reasoning]) ?? []);
    expect(reasons).toEqual({
      a: '',
      b: expect.stringMatching(/^invalid vote: confidence/) as unknown,
      c: 'invalid vote: decision: not one of the options',
      ghost: 'agent not registered',
    });
    expect(resolution).toMatchObject({ status: 'resolved', decision: 'BUY' });
    expect(resolution.agreement).toBeCloseTo(0.5 / 0.8, 12);
  });

  it('lets an agent vote through a registered function instead of the bus', async () => {
    const { engine } = await scenario();
    const asked: string[] = [];
    engine.registerVoter('x', (conflict, request) => {
      asked.push(`${conflict.conflictId}:${request.topic}`);
      return { decision: 'SELL', confidence: 0.9, reasoning: 'model' };
    });
    engine.registerVoter('y', async () => ({ decision: 'SELL', confidence: 0.8 }));
    engine.registerVoter('z', () => {
      throw new Error('model offline');
    });
    const resolution = await engine.resolveConflict(signalConflict({ conflictId: 'sig-1', involvedAgents: ['x', 'y', 'z'] }));
    expect(asked).toEqual(['sig-1:conflict_vote']);
    expect(resolution).toMatchObject({ conflictId: 'sig-1', status: 'resolved', decision: 'SELL' });
    expect(engine.getConflict('sig-1')?.votes.find((v) => v.agentId === 'z')?.reasoning).toBe('vote failed: model offline');
  });

  it('escalates without consensus and broadcasts conflict_escalation once', async () => {
    const { engine, agent, inbox } = await scenario();
    agent('a', { decision: 'BUY', confidence: 0.9 });
    agent('b', { decision: 'SELL', confidence: 0.9 });
    agent('observer');
    const resolution = await engine.resolveConflict(signalConflict({ involvedAgents: ['a', 'b'] }), { algorithm: 'supermajority' });
    expect(resolution).toMatchObject({
      status: 'escalated',
      achieved: false,
      decision: null,
      action: 'escalate',
      reason: 'no_consensus',
      detail: 'supermajority: no_majority',
      agreement: 0.5,
    });
    await settle();
    const notices = inbox.filter((m) => m.topic === 'conflict_escalation');
    expect(notices.map((m) => m.receivedBy).sort()).toEqual(['a', 'b', 'observer']);
    expect(notices[0]?.payload).toMatchObject({ reason: 'no_consensus', conflictId: resolution.conflictId });
    expect(engine.getStats()).toMatchObject({ consensusAttempts: 1, consensusSuccessRate: 0, escalationRate: 1 });
  });
});

describe('ConflictResolutionEngine: deadlines', () => {
  it('escalates an open conflict once when its deadline passes', async () => {
    const { engine, agent, bus, clock, events } = await scenario({ voteTimeoutMs: 60_000 });
    agent('a'); // never answers
    agent('b');
    const escalations: Message[] = [];
    bus.messages$.subscribe((m) => m.topic === 'conflict_escalation' && escalations.push(m));
    const id = engine.reportConflict(signalConflict({ involvedAgents: ['a', 'b'], resolutionDeadline: 10_000 }));
    const pending = engine.resolveConflict(id);
    await settle();
    clock.increment(10_000);
    const resolution = await pending;
    expect(resolution).toMatchObject({ status: 'escalated', reason: 'deadline_passed', finishedAt: 10_000 });
    for (let i = 0; i < 10; i++) {
      clock.increment(10_000);
      await settle();
    }
    expect(escalations).toHaveLength(1);
    expect(events.filter((e) => e.type === 'CONFLICT_ESCALATED')).toHaveLength(1);
    // A cut-short vote is not a consensus attempt.
    expect(engine.getStats()).toMatchObject({ consensusAttempts: 0, conflictsEscalated: 1 });
  });

  it('escalates a conflict nobody resolves, at its default deadline by type (signal: 60 s)', async () => {
    const { engine, clock, events } = await scenario();
    const id = engine.reportConflict(signalConflict());
    expect(engine.getConflict(id)?.conflict.resolutionDeadline).toBe(60_000);
    clock.increment(59_999);
    expect(engine.getConflict(id)?.status).toBe('detected');
    clock.increment(1);
    expect(engine.getConflict(id)?.resolution).toMatchObject({ status: 'escalated', reason: 'deadline_passed', strategy: null });
    expect(events.at(-1)).toMatchObject({ type: 'CONFLICT_ESCALATED', conflictId: id });
    await expect(engine.resolveConflict(id)).resolves.toMatchObject({ status: 'escalated' });
  });
});

describe('ConflictResolutionEngine: other strategies', () => {
  it('human intervention waits for submitHumanDecision', async () => {
    const { engine, agent, inbox, events } = await scenario();
    agent('a');
    agent('b');
    const id = engine.reportConflict(signalConflict({ involvedAgents: ['a', 'b'] }));
    expect(() => engine.submitHumanDecision(id, 'HOLD')).toThrow(ConflictStateError);
    const pending = engine.resolveConflict(id, { strategy: 'human_intervention' });
    expect(engine.getConflict(id)?.status).toBe('awaiting_human');
    expect(events.at(-1)).toMatchObject({ type: 'HUMAN_DECISION_REQUESTED', conflictId: id });
    // @ts-expect-error null is an abstention, not a decision
    expect(() => engine.submitHumanDecision(id, null)).toThrow(ValidationError);
    engine.submitHumanDecision(id, { signal: 'SELL', symbol: 'BTC', agentId: 'a' }, { decidedBy: 'ops', confidence: 0.95 });
    const resolution = await pending;
    expect(resolution).toMatchObject({
      status: 'resolved',
      decision: { signal: 'SELL', symbol: 'BTC', agentId: 'a' },
      confidence: 0.95,
      participants: ['ops'],
      action: 'execute',
    });
    await settle();
    expect(inbox.filter((m) => m.topic === 'execute_trade').map((m) => m.recipientId)).toEqual(['a']);
    expect(() => engine.submitHumanDecision(id, 'HOLD')).toThrow(ConflictStateError);
    expect(() => engine.submitHumanDecision('nope', 'HOLD')).toThrow(UnknownConflictError);
  });

  it('expert precedence asks the agent with the best record (expert_resolution, default confidence 0.8)', async () => {
    const { engine, agent } = await scenario();
    const topics: string[] = [];
    agent('a', (m: Message) => (topics.push(`a:${m.topic}`), { decision: 'BUY', confidence: 1 }));
    agent('b', (m: Message) => (topics.push(`b:${m.topic}`), { decision: 'SELL', reasoning: 'I know this market' }));
    engine.setAgentPerformance('b', { byType: { signal_conflict: 0.9 } });
    const resolution = await engine.resolveConflict(signalConflict({ involvedAgents: ['a', 'b'] }), { strategy: 'expert_precedence' });
    expect(topics).toEqual(['b:expert_resolution']);
    expect(resolution).toMatchObject({ status: 'resolved', decision: 'SELL', confidence: 0.8, participants: ['b'], action: 'execute' });
  });

  it('expert precedence escalates when the expert does not answer in time', async () => {
    const { engine, agent, clock } = await scenario({ voteTimeoutMs: 5_000 });
    agent('a');
    const pending = engine.resolveConflict(signalConflict({ involvedAgents: ['a'] }), { strategy: 'expert_precedence' });
    await settle();
    clock.increment(5_000);
    await expect(pending).resolves.toMatchObject({ status: 'escalated', reason: 'expert_unavailable' });
  });

  it('fallback holds a signal conflict (HOLD at confidence 0.5 sends nothing)', async () => {
    const { engine, agent, inbox, events } = await scenario();
    agent('a');
    const resolution = await engine.resolveConflict(signalConflict({ involvedAgents: ['a'] }), { strategy: 'fallback_protocol' });
    expect(resolution).toMatchObject({ status: 'resolved', decision: 'HOLD', confidence: 0.5, action: 'hold' });
    await settle();
    expect(inbox).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'DECISION_HELD', confidence: 0.5 });
    expect(engine.getStats()).toMatchObject({ decisionsHeld: 1, decisionsExecuted: 0, consensusAttempts: 0 });
  });

  it('compromise splits an oversubscribed resource by stake and commands each agent', async () => {
    const { engine, agent, inbox } = await scenario();
    agent('a');
    agent('b');
    engine.setAgentPerformance('a', { overall: 1.5, byType: { resource_conflict: 1.5 } }); // stake 1.5
    const [conflict] = engine.detectResourceConflict(
      [
        { agentId: 'a', resourceType: 'gpu', amount: 3 },
        { agentId: 'b', resourceType: 'gpu', amount: 3 },
      ],
      { gpu: 4 },
    );
    expect(conflict).toMatchObject({ severity: 0.5, resolutionDeadline: 120_000 });
    const resolution = await engine.resolveConflict(conflict?.conflictId ?? '', { strategy: 'compromise_solution' });
    expect(resolution).toMatchObject({
      status: 'resolved',
      decision: { action: 'allocate', resourceType: 'gpu', allocations: { a: 3, b: 1 } },
      action: 'execute',
    });
    await settle();
    expect(inbox.map((m) => [m.topic, m.recipientId])).toEqual([
      ['execute_decision', 'a'],
      ['execute_decision', 'b'],
    ]);
  });

  it('compromise takes the stake-weighted median of numeric votes', async () => {
    const { engine, agent } = await scenario();
    agent('a', { decision: 100, confidence: 0.9 });
    agent('b', { decision: 300, confidence: 0.9 });
    agent('c', { decision: 150, confidence: 0.9 });
    const resolution = await engine.resolveConflict(
      { conflictType: 'strategy_conflict', involvedAgents: ['a', 'b', 'c'], severity: 0.3, description: 'position size' },
      { strategy: 'compromise_solution' },
    );
    expect(resolution).toMatchObject({ status: 'resolved', decision: 150, confidence: 0.9, action: 'execute' });
  });
});

describe('ConflictResolutionEngine: stakes and outcomes', () => {
  it('updates weights after recordOutcome (wrong voters × β) and later stakes follow', async () => {
    const { engine, agent } = await scenario();
    agent('a', { decision: 'BUY', confidence: 0.9 });
    agent('b', { decision: 'BUY', confidence: 0.9 });
    agent('c', { decision: 'SELL', confidence: 0.9 });
    const outcomes: ConsensusOutcome[] = [];
    engine.outcomes$.subscribe((o) => outcomes.push(o));
    const first = await engine.resolveConflict(signalConflict());
    expect(first.decision).toBe('BUY');

    const outcome = engine.recordOutcome(first.conflictId, 'SELL');
    expect(outcome).toMatchObject({ consensusDecision: 'BUY', consensusCorrect: false, actualDecision: 'SELL' });
    expect(outcome.voters).toEqual([
      { agentId: 'a', decision: 'BUY', correct: false, stake: 0.5, stakeAfter: 0.25 },
      { agentId: 'b', decision: 'BUY', correct: false, stake: 0.5, stakeAfter: 0.25 },
      { agentId: 'c', decision: 'SELL', correct: true, stake: 0.5, stakeAfter: 0.5 },
    ]);
    expect(outcomes).toEqual([outcome]);
    expect(engine.getStake('a', 'signal_conflict')).toBe(0.25);
    expect(() => engine.recordOutcome(first.conflictId, 'SELL')).toThrow(ConflictStateError);

    // Before the update a and c would have tied; now c's 0.5 outweighs a's 0.25.
    const second = await engine.resolveConflict(signalConflict({ involvedAgents: ['a', 'c'] }));
    expect(second).toMatchObject({ status: 'resolved', decision: 'SELL' });
    expect(second.agreement).toBeCloseTo(0.5 / 0.75, 12);
  });

  it('refuses an outcome for an open or unknown conflict', async () => {
    const { engine } = await scenario();
    const id = engine.reportConflict(signalConflict());
    expect(() => engine.recordOutcome(id, 'BUY')).toThrow(ConflictStateError);
    expect(() => engine.recordOutcome('nope', 'BUY')).toThrow(UnknownConflictError);
  });

  it('takes stakes from a pluggable provider, clamped to [0.1, 2.0]', async () => {
    const asked: string[] = [];
    const { engine, agent } = await scenario({
      stakeProvider: (agentId, conflictType) => {
        asked.push(`${agentId}:${conflictType}`);
        return agentId === 'a' ? 5 : 0;
      },
    });
    agent('a', { decision: 'BUY', confidence: 0.9 });
    agent('b', { decision: 'SELL', confidence: 0.9 });
    agent('c', { decision: 'SELL', confidence: 0.9 });
    const resolution = await engine.resolveConflict(signalConflict());
    expect(asked).toEqual(['a:signal_conflict', 'b:signal_conflict', 'c:signal_conflict']);
    expect(resolution).toMatchObject({ decision: 'BUY' });
    expect(resolution.agreement).toBeCloseTo(2 / 2.2, 12);
  });
});

describe('ConflictResolutionEngine: input, records and lifecycle', () => {
  it('validates reported conflicts and options', async () => {
    const { engine, bus } = await scenario();
    expect(() => engine.reportConflict(signalConflict({ severity: 2 }))).toThrow(expect.objectContaining({ field: 'severity' }) as Error);
    expect(() => engine.reportConflict(signalConflict({ involvedAgents: [] }))).toThrow(ValidationError);
    expect(() => engine.reportConflict({ ...signalConflict(), conflictType: 'mood_conflict' } as unknown as ConflictInput)).toThrow(ValidationError);
    engine.reportConflict(signalConflict({ conflictId: 'dup' }));
    expect(() => engine.reportConflict(signalConflict({ conflictId: 'dup' }))).toThrow(DuplicateConflictError);
    await expect(engine.resolveConflict('nope')).rejects.toBeInstanceOf(UnknownConflictError);
    // @ts-expect-error not a strategy: refused by the types, and at run time
    await expect(engine.resolveConflict('dup', { strategy: 'coin_flip' })).rejects.toBeInstanceOf(ValidationError);
    // @ts-expect-error null is an abstention, not a decision
    expect(() => engine.submitHumanDecision('dup', null)).toThrow(ConflictStateError);
    expect(() => new ConflictResolutionEngine({ bus, executionThreshold: 3 })).toThrow(ValidationError);
  });

  it('runs every detector from detectConflicts and reports what they find', async () => {
    const { engine, events } = await scenario();
    const found = engine.detectConflicts({
      signals: [
        { agentId: 'a', symbol: 'BTC', signal: 'BUY', confidence: 0.9 },
        { agentId: 'b', symbol: 'BTC', signal: 'SELL', confidence: 0.4 },
      ],
      resourceRequests: [{ agentId: 'a', resourceType: 'gpu', amount: 2 }],
      availability: { gpu: 1 },
      taskClaims: [
        { taskId: 't1', agentId: 'w', priority: 'critical' },
        { taskId: 't2', agentId: 'w', priority: 'critical' },
      ],
      agentSlots: { w: 1 },
      actions: [
        { agentId: 'a', resource: 'BTC', action: 'buy', timestamp: 0 },
        { agentId: 'b', resource: 'BTC', action: 'sell', timestamp: 100 },
      ],
    });
    expect(found.map((c) => c.conflictType)).toEqual(['signal_conflict', 'resource_conflict', 'priority_conflict', 'timing_conflict']);
    expect(events.filter((e) => e.type === 'CONFLICT_DETECTED')).toHaveLength(4);
    expect(engine.getStats()).toMatchObject({ conflictsDetected: 4, activeConflicts: 4 });
    for (const conflict of found) expect(engine.getConflict(conflict.conflictId)?.status).toBe('detected');
  });

  it('keeps at most maxFinishedRecords finished conflicts', async () => {
    const { engine } = await scenario({ maxFinishedRecords: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await engine.resolveConflict(signalConflict({ involvedAgents: ['a'] }), { strategy: 'fallback_protocol' });
      ids.push(r.conflictId);
    }
    expect(ids.map((id) => engine.getConflict(id)?.status)).toEqual([undefined, 'resolved', 'resolved']);
    expect(engine.getStats().conflictsResolved).toBe(3);
  });

  it('a second resolveConflict on a running conflict waits for the same outcome', async () => {
    const { engine, agent, clock } = await scenario();
    agent('a');
    const id = engine.reportConflict(signalConflict({ involvedAgents: ['a'] }));
    const first = engine.resolveConflict(id);
    const second = engine.resolveConflict(id, { strategy: 'fallback_protocol' }); // keeps the first strategy
    await settle();
    clock.increment(30_000);
    const [r1, r2] = await Promise.all([first, second]);
    // The same outcome, each caller its own copy.
    expect(r1).toEqual(r2);
    expect(r1).not.toBe(r2);
    expect(r1).toMatchObject({ strategy: 'voting_consensus', status: 'escalated', reason: 'no_consensus' });
  });

  it('stop() rejects waiting resolutions and completes the streams', async () => {
    const { engine, agent } = await scenario();
    agent('a');
    let completed = false;
    engine.events$.subscribe({ complete: () => (completed = true) });
    const pending = engine.resolveConflict(signalConflict({ involvedAgents: ['a'] }));
    await engine.stop();
    await expect(pending).rejects.toBeInstanceOf(NotRunningError);
    expect(completed).toBe(true);
    expect(() => engine.reportConflict(signalConflict())).toThrow(NotRunningError);
  });

  it('a stopped bus stops open conflicts: waiting resolutions reject', async () => {
    const { engine, agent, bus } = await scenario();
    agent('a');
    const id = engine.reportConflict(signalConflict({ involvedAgents: ['a'] }));
    const pending = engine.resolveConflict(id);
    await bus.stop();
    await expect(pending).rejects.toBeInstanceOf(NotRunningError);
    expect(engine.getStats().activeConflicts).toBe(0);
    expect(engine.getConflict(id)?.resolution).toBeNull();
  });
});
