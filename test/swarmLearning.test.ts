import { produce } from 'immer';
import { SimulatedClock } from 'xstate';
import {
  NeuralSwarmNetwork,
  PatternType,
  SWARM_DEFAULTS,
  agentPerformance,
  amplifyPatterns,
  detectPatterns,
  connectionOf,
  initialSwarmState,
  neuronOf,
  routingAffinity,
  type SwarmState,
} from '../src/swarm';
import { addNeuron, connect } from '../src/swarm/model/swarmState';
import { pairOf } from '../src/swarm/model/pairIndex';

function network(seed = 1) {
  const clock = new SimulatedClock();
  const swarm = new NeuralSwarmNetwork({ networkId: 'learning', clock, seed });
  return { clock, swarm };
}

describe('learning from task outcomes', () => {
  test('TASK_COMPLETED strengthens producer → consumer, creating it at 0.5 when missing', () => {
    const { swarm } = network();
    swarm.recordTaskCompleted({ taskId: 't1', agentId: 'trader', taskType: 'trade', producerAgentIds: ['analyst'] });
    // Unknown agents join; the connection is created at 0.5 and the success rate (1) adds 0.1.
    expect(swarm.getConnection('analyst', 'trader')!.strength).toBeCloseTo(0.6);
    expect(swarm.agentPerformance('trader')).toBeCloseTo(0.55);
    expect(swarm.agentPerformance('analyst')).toBe(0.5);
    swarm.recordTaskCompleted({ taskId: 't2', agentId: 'trader', taskType: 'trade', producerAgentIds: ['analyst'] });
    expect(swarm.getConnection('analyst', 'trader')!.strength).toBeCloseTo(0.7);
    expect(swarm.getNeuron('trader')!.patterns['task:trade']).toEqual({ uses: 2, successes: 2 });
  });

  test('TASK_FAILED weakens down to the floor 0.1; a mixed window holds the strength', () => {
    const { swarm } = network();
    const fail = (i: number) => swarm.recordTaskFailed({ taskId: `f${i}`, agentId: 'trader', producerAgentIds: ['noisy'] });
    fail(0);
    expect(swarm.getConnection('noisy', 'trader')!.strength).toBeCloseTo(0.4);
    for (let i = 1; i < 6; i++) fail(i);
    expect(swarm.getConnection('noisy', 'trader')!.strength).toBeCloseTo(0.1);
    expect(swarm.agentPerformance('trader')).toBeCloseTo(0.5 * 0.9 ** 6);

    const { swarm: mixed } = network();
    for (let i = 0; i < 4; i++) mixed.recordTaskCompleted({ taskId: `s${i}`, agentId: 'c', producerAgentIds: ['p'] });
    const strong = mixed.getConnection('p', 'c')!.strength; // 0.5 + 4 × 0.1
    expect(strong).toBeCloseTo(0.9);
    mixed.recordTaskFailed({ taskId: 'f', agentId: 'c', producerAgentIds: ['p'] }); // rate 0.8: not above
    expect(mixed.getConnection('p', 'c')!.strength).toBeCloseTo(0.9);
  });

  test('several producers, self-production skipped, durations reported', () => {
    const { swarm } = network();
    swarm.recordTaskCompleted({
      taskId: 't',
      agentId: 'c',
      producerAgentIds: ['p1', 'p2', 'p1', 'c'],
      durationMs: 300,
    });
    expect(swarm.getConnection('p1', 'c')!.outcomes).toHaveLength(1);
    expect(swarm.getConnection('p2', 'c')!.strength).toBeCloseTo(0.6);
    expect(swarm.getConnection('c', 'c')).toBeUndefined();
    expect(swarm.getPerformanceMetrics()).toMatchObject({
      tasksCompleted: 1,
      tasksFailed: 0,
      taskSuccessRate: 1,
      averageTaskDurationMs: 300,
    });
  });

  test('events sent straight to the actor (as the orchestrator will) use their own time', () => {
    const { swarm, clock } = network();
    swarm.actor.send({ type: 'TASK_FAILED', taskId: 't0', agentId: 'c', producerAgentIds: ['p'], at: 0 });
    clock.increment(SWARM_DEFAULTS.successWindowMs + 1);
    swarm.actor.send({
      type: 'TASK_COMPLETED',
      taskId: 't1',
      agentId: 'c',
      producerAgentIds: ['p'],
      at: clock.now(),
    });
    // The failure left the 24 h window: the rate is 1, so +0.1 after the first −0.1.
    const c = swarm.getConnection('p', 'c')!;
    expect(c.outcomes).toHaveLength(1);
    expect(c.strength).toBeCloseTo(0.5);
    expect(c.lastActivatedAt).toBe(clock.now());
  });

  test('a used connection decays from its last use', () => {
    const { swarm, clock } = network();
    swarm.recordTaskCompleted({ taskId: 't', agentId: 'c', producerAgentIds: ['p'] });
    clock.increment(100_000);
    swarm.recordTaskCompleted({ taskId: 't2', agentId: 'c', producerAgentIds: ['p'] }); // 0.7 at 100 s
    clock.increment(10_000);
    swarm.runNetworkCycle();
    expect(swarm.getConnection('p', 'c')!.strength).toBeCloseTo(0.7 * Math.exp(-0.1), 10);
  });
});

describe('learning from consensus outcomes', () => {
  test('CONSENSUS_OUTCOME moves voters toward 1 when right and 0 when wrong (EMA 0.1)', () => {
    const { swarm } = network();
    swarm.recordConsensusOutcome({
      conflictId: 'c1',
      conflictType: 'signal_conflict',
      voters: [
        { agentId: 'right', decision: 'BUY', correct: true },
        { agentId: 'wrong', decision: 'SELL', correct: false },
        { agentId: 'abstained', decision: null, correct: false },
      ],
    });
    expect(swarm.agentPerformance('right')).toBeCloseTo(0.55);
    expect(swarm.agentPerformance('wrong')).toBeCloseTo(0.45);
    expect(swarm.getAgentPerformanceScores()).toEqual({
      right: expect.closeTo(0.55),
      wrong: expect.closeTo(0.45),
      abstained: expect.closeTo(0.45),
    });
    expect(swarm.getNeuron('right')!.patterns['consensus:signal_conflict']).toEqual({ uses: 1, successes: 1 });
    expect(swarm.getPerformanceMetrics().voteAccuracy).toBeCloseTo(1 / 3);
    expect(swarm.agentPerformance('never-seen')).toBe(0.5);
  });

  test('voters that keep being right together form a successful_consensus pattern that lowers thresholds', () => {
    const { swarm } = network();
    for (let i = 0; i < 4; i++) {
      swarm.recordConsensusOutcome({
        conflictId: `c${i}`,
        conflictType: 'strategy_conflict',
        voters: [
          { agentId: 'x', decision: 'GO', correct: true },
          { agentId: 'y', decision: 'GO', correct: true },
          { agentId: 'z', decision: 'WAIT', correct: false },
        ],
      });
    }
    swarm.createConnection('x', 'y', { initialStrength: 0.5 });
    const patterns = swarm.detectEmergentPatterns();
    expect(patterns).toHaveLength(1);
    expect(patterns[0]).toMatchObject({
      type: PatternType.SUCCESSFUL_CONSENSUS,
      involvedAgents: ['x', 'y'],
      confidence: 1,
    });
    expect(swarm.getNeuron('x')!.activationThreshold).toBeCloseTo(0.45);
    expect(swarm.getNeuron('y')!.activationThreshold).toBeCloseTo(0.45);
    expect(swarm.getNeuron('z')!.activationThreshold).toBe(0.5);
    expect(swarm.getConnection('x', 'y')!.strength).toBeCloseTo(0.51);
  });

  test('on risk conflicts the pattern is risk_avoidance and raises thresholds (at most 0.9)', () => {
    const { swarm } = network();
    for (let i = 0; i < 3; i++) {
      swarm.recordConsensusOutcome({
        conflictId: `r${i}`,
        conflictType: 'risk_conflict',
        voters: [
          { agentId: 'r1', decision: 'CONSERVATIVE', correct: true },
          { agentId: 'r2', decision: 'CONSERVATIVE', correct: true },
        ],
      });
    }
    swarm.addAgent('r3', { activationThreshold: 0.88 });
    const patterns = swarm.detectEmergentPatterns();
    expect(patterns.map((p) => p.type)).toEqual([PatternType.RISK_AVOIDANCE]);
    expect(swarm.getNeuron('r1')!.activationThreshold).toBeCloseTo(0.55);
    for (let i = 0; i < 10; i++) swarm.detectEmergentPatterns();
    expect(swarm.getNeuron('r1')!.activationThreshold).toBeCloseTo(0.9);
  });
});

describe('emergent patterns from activation histories', () => {
  function stateWithHistory(series: Record<string, number[]>): SwarmState {
    return produce(initialSwarmState({ networkId: 'p', seed: 1 }), (draft) => {
      for (const id of Object.keys(series)) addNeuron(draft, id);
      connect(draft, 'a', 'b', 0.5, 0);
      const length = Object.values(series)[0]!.length;
      for (let i = 0; i < length; i++) {
        const activations: Record<string, number> = {};
        for (const [id, values] of Object.entries(series)) if (values[i] !== 0) activations[id] = values[i]!;
        draft.history.push({ signalId: i, source: 'a', at: i * 1000, activations });
      }
    });
  }

  test('correlated agents form a correlation_cluster; confident clusters are amplified', () => {
    const a = [1, 0.5, 0.8, 0.2, 0.9, 0.4, 0.7, 0.1];
    const state = stateWithHistory({
      a,
      b: a.map((v) => v * 0.5),
      c: [0.3, 0.9, 0.1, 0.7, 0.2, 0.8, 0.6, 0.3],
      d: [0.2, 0.8, 0.2, 0.8, 0.3, 0.7, 0.5, 0.4],
    });
    const patterns = detectPatterns(state, 9000);
    const clusters = patterns.filter((p) => p.type === PatternType.CORRELATION_CLUSTER);
    expect(clusters.map((p) => p.involvedAgents)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(clusters[0]!.confidence).toBeCloseTo(1);
    const ab = pairOf(neuronOf(state, 'a')!.outgoing, 'b')!;
    expect(clusters[0]!.involvedConnections).toEqual([ab]);
    const next = produce(state, (draft) => {
      amplifyPatterns(draft, patterns);
    });
    expect(connectionOf(next, ab)!.strength).toBeCloseTo(0.51);
    expect(neuronOf(next, 'a')!.activationThreshold).toBe(0.5); // clusters change strengths only
  });

  test('too short a history yields no pattern', () => {
    const state = stateWithHistory({ a: [1, 0.5, 0.2], b: [0.5, 0.25, 0.1] });
    expect(detectPatterns(state, 0)).toEqual([]);
  });

  test('propagations through a strong link produce a detectable cluster', () => {
    const { swarm, clock } = network();
    for (const id of ['a', 'b', 'c']) swarm.addAgent(id, { activationThreshold: 0.05 });
    swarm.createConnection('a', 'b', { initialStrength: 1 });
    const strengths = [0.9, 0.3, 0.6, 0.2, 1, 0.5, 0.7, 0.4];
    strengths.forEach((s, i) => {
      clock.increment(1000);
      swarm.propagateSignal('a', s);
      if (i % 3 === 0) {
        clock.increment(1000);
        swarm.propagateSignal('c', 0.5);
      }
    });
    const series = swarm.getActivationPatterns();
    expect(series.a).toHaveLength(11);
    expect(series.b).toEqual(series.a!.map((v) => expect.closeTo(v, 10)));
    const patterns = swarm.detectEmergentPatterns();
    expect(patterns.map((p) => [p.type, p.involvedAgents])).toEqual([[PatternType.CORRELATION_CLUSTER, ['a', 'b']]]);
  });
});

describe('hooks for routing and consensus', () => {
  test('routingAffinity is the mean producer → candidate strength, missing links counting 0', () => {
    const { swarm } = network();
    for (const id of ['p1', 'p2', 'c1', 'c2']) swarm.addAgent(id);
    swarm.createConnection('p1', 'c1', { initialStrength: 0.8 });
    swarm.createConnection('p2', 'c1', { initialStrength: 0.6 });
    swarm.createConnection('p1', 'c2', { initialStrength: 0.4 });
    const state = swarm.getNetworkState();
    expect(routingAffinity(state, 'c1', ['p1', 'p2'])).toBeCloseTo(0.7);
    expect(routingAffinity(state, 'c2', ['p1', 'p2'])).toBeCloseTo(0.2);
    expect(routingAffinity(state, 'c1', [])).toBe(0);
    expect(routingAffinity(state, 'c1', ['unknown'])).toBe(0);
    expect(routingAffinity(state, 'p1', ['p1'])).toBe(0);
    expect(swarm.routingAffinity('c1', ['p1'])).toBeCloseTo(0.8);
  });

  test('outcomes feed routing: the candidate downstream of successful work wins', () => {
    const { swarm } = network();
    for (let i = 0; i < 3; i++) {
      swarm.recordTaskCompleted({ taskId: `g${i}`, agentId: 'good', producerAgentIds: ['producer'] });
      swarm.recordTaskFailed({ taskId: `b${i}`, agentId: 'bad', producerAgentIds: ['producer'] });
    }
    expect(swarm.routingAffinity('good', ['producer'])).toBeGreaterThan(swarm.routingAffinity('bad', ['producer']));
    expect(swarm.agentPerformance('good')).toBeGreaterThan(swarm.agentPerformance('bad'));
    expect(agentPerformance(swarm.getNetworkState(), 'good')).toBe(swarm.agentPerformance('good'));
  });
});
