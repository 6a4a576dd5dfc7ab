import { SimulatedClock, createActor } from 'xstate';
import { CommunicationBus } from '../src/bus/communicationBus';
import { NotRunningError, UnknownAgentError, ValidationError } from '../src/errors';
import {
  DuplicateNetworkError,
  NeuralSwarmNetwork,
  UnknownConnectionError,
  connectionOf,
  listConnections,
  listNeurons,
  neuronOf,
  swarmMachine,
  shardPath,
  pairsOf,
  type NeuralSwarmNetworkOptions,
} from '../src/swarm';

function network(options: Partial<NeuralSwarmNetworkOptions> = {}) {
  const clock = new SimulatedClock();
  const swarm = new NeuralSwarmNetwork({ networkId: 'test', clock, ...options });
  return { clock, swarm };
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('network structure', () => {
  test('agents, connections, strengths (guide topology)', () => {
    const { swarm } = network();
    swarm.addAgent('trading_agent_1', { activationThreshold: 0.7 });
    swarm.addAgent('analysis_agent_1', { activationThreshold: 0.6 });
    swarm.addAgent('risk_agent_1', { activationThreshold: 0.8 });
    const neuron = swarm.getNeuron('risk_agent_1')!;
    expect(neuron).toMatchObject({ activationThreshold: 0.8, bias: 0, refractoryPeriodMs: 1000, performance: 0.5 });

    const c = swarm.createConnection('analysis_agent_1', 'trading_agent_1', { initialStrength: 0.9 });
    expect(c).toMatchObject({ source: 'analysis_agent_1', target: 'trading_agent_1', strength: 0.9 });
    expect(c.learningRate).toBe(0.1);
    expect(swarm.createConnection('analysis_agent_1', 'trading_agent_1')).toEqual(c); // unchanged
    expect(swarm.createConnection('risk_agent_1', 'trading_agent_1').strength).toBe(0.5);
    expect(swarm.getConnection('analysis_agent_1', 'trading_agent_1')?.connectionId).toBe(c.connectionId);
    expect(swarm.getConnectionStrength(c.connectionId)).toBe(0.9);

    swarm.adjustConnectionStrength(c.connectionId, 0.4);
    expect(swarm.getConnectionStrength(c.connectionId)).toBe(0.4);

    expect(swarm.removeConnection('analysis_agent_1', 'trading_agent_1')).toBe(true);
    expect(swarm.removeConnection('analysis_agent_1', 'trading_agent_1')).toBe(false);
    expect(caught(() => swarm.getConnectionStrength(c.connectionId))).toBeInstanceOf(UnknownConnectionError);

    expect(swarm.removeAgent('trading_agent_1')).toBe(true);
    expect(listConnections(swarm.getNetworkState())).toEqual([]);
    expect(pairsOf(swarm.getNeuron('risk_agent_1')!.outgoing)).toEqual([]);
  });

  test('outside input is validated, errors name the field', () => {
    const { swarm } = network();
    swarm.addAgent('a');
    swarm.addAgent('b');
    const fieldOf = (fn: () => unknown) => {
      const error = caught(fn);
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).field;
    };
    expect(fieldOf(() => swarm.addAgent(''))).toBe('agentId');
    expect(fieldOf(() => swarm.addAgent('c', { activationThreshold: 1.5 }))).toBe('activationThreshold');
    expect(fieldOf(() => swarm.createConnection('a', 'a'))).toBe('target');
    expect(fieldOf(() => swarm.createConnection('a', 'b', { initialStrength: -0.1 }))).toBe('initialStrength');
    const c = swarm.createConnection('a', 'b');
    expect(fieldOf(() => swarm.adjustConnectionStrength(c.connectionId, 2))).toBe('strength');
    expect(fieldOf(() => swarm.propagateSignal('a', Number.NaN))).toBe('signal');
    expect(fieldOf(() => swarm.propagateSignal('a', 1, { maxLayers: 0 }))).toBe('maxLayers');
    expect(fieldOf(() => swarm.recordTaskCompleted({ taskId: '', agentId: 'a', producerAgentIds: [] }))).toBe('taskId');
    expect(
      fieldOf(() =>
        swarm.recordConsensusOutcome({
          conflictId: 'c',
          conflictType: 'signal_conflict',
          voters: [{ agentId: 'a', decision: 'BUY', correct: 'yes' as unknown as boolean }],
        }),
      ),
    ).toBe('voters.0.correct');
    expect(fieldOf(() => swarm.shareKnowledge('a', 'k', () => 1))).toBe('value');
    expect(fieldOf(() => new NeuralSwarmNetwork({ networkId: '' }))).toBe('networkId');
    expect(fieldOf(() => new NeuralSwarmNetwork({ networkId: 'n', seed: -1 }))).toBe('seed');
    expect(fieldOf(() => new NeuralSwarmNetwork({ networkId: 'n', cycleIntervalMs: 0 }))).toBe('cycleIntervalMs');
    expect(fieldOf(() => new NeuralSwarmNetwork({ networkId: 'n', rules: { pruneThreshold: 2 } }))).toBe('rules.pruneThreshold');
    expect(fieldOf(() => new NeuralSwarmNetwork({ networkId: 'n', rules: { minThreshold: 0.95 } }))).toBe('rules.minThreshold');
    expect(fieldOf(() => new NeuralSwarmNetwork({ networkId: 'n', rules: { bogus: 1 } as never }))).toBe('rules');
    expect(new NeuralSwarmNetwork({ networkId: 'n', rules: { pruneThreshold: undefined } }).getNetworkState().rules).toMatchObject({ pruneThreshold: 0.1 });
    expect(caught(() => swarm.createConnection('a', 'ghost'))).toBeInstanceOf(UnknownAgentError);
    expect(caught(() => swarm.propagateSignal('ghost', 1))).toBeInstanceOf(UnknownAgentError);
    expect(caught(() => swarm.adjustConnectionStrength('conn-404', 0.5))).toBeInstanceOf(UnknownConnectionError);
    expect((caught(() => swarm.getConnectionStrength('conn-404')) as UnknownConnectionError).code).toBe('ERR_UNKNOWN_CONNECTION');
  });

  test('the state is immutable: every update makes a new snapshot', () => {
    const { swarm } = network();
    swarm.addAgent('a');
    const before = swarm.getNetworkState();
    swarm.addAgent('b');
    expect(neuronOf(before, 'b')).toBeUndefined();
    expect(Object.isFrozen(neuronOf(swarm.getNetworkState(), 'a'))).toBe(true);
  });

  test('an event copies only what it changes: untouched neurons and shards are shared', () => {
    const { swarm } = network();
    for (let i = 0; i < 300; i++) swarm.addAgent(`agent${i}`, { activationThreshold: 0.1 });
    const c = swarm.createConnection('agent0', 'agent1');
    const before = swarm.getNetworkState();
    swarm.propagateSignal('agent0', 1);
    const after = swarm.getNetworkState();
    expect(neuronOf(after, 'agent0')).not.toBe(neuronOf(before, 'agent0'));
    expect(neuronOf(after, 'agent150')).toBe(neuronOf(before, 'agent150'));
    // Groups and shards off the path to agent0, agent1 and the connection are the same objects.
    const touched = new Set([shardPath('agent0')[0], shardPath('agent1')[0]]);
    const untouched = before.neurons.map((_, group) => group).filter((group) => before.neurons[group] !== undefined && !touched.has(group));
    expect(untouched.length).toBeGreaterThan(50);
    for (const group of untouched) expect(after.neurons[group]).toBe(before.neurons[group]);
    const shardsOffPath = (record: typeof before.neurons | typeof before.connections, onPath: string[]) => {
      const path = new Set(onPath.map((key) => shardPath(key).join('/')));
      return record.flatMap((shards, group) => (shards ?? []).flatMap((entries, shard) => (entries && !path.has(`${group}/${shard}`) ? [[group, shard] as const] : [])));
    };
    for (const [group, shard] of shardsOffPath(before.neurons, ['agent0', 'agent1'])) expect(after.neurons[group]?.[shard]).toBe(before.neurons[group]?.[shard]);
    expect(shardsOffPath(before.neurons, []).length).toBeGreaterThan(250);
    expect(shardsOffPath(before.connections, [c.connectionId])).toEqual([]);
    expect(after.connections[shardPath(c.connectionId)[0]]?.[shardPath(c.connectionId)[1]]).toEqual([c.connectionId, connectionOf(after, c.connectionId)]);
  });

  test('public types: snapshots are read-only, inputs are typed', () => {
    const { swarm } = network();
    swarm.addAgent('a');
    const neuron = neuronOf(swarm.getNetworkState(), 'a')!;
    // @ts-expect-error the snapshot is read-only (and its parts frozen at run time)
    expect(() => (neuron.activationThreshold = 0.1)).toThrow(TypeError);
    // @ts-expect-error a signal is a number
    expect(() => swarm.propagateSignal('a', 'strong')).toThrow(ValidationError);
    // @ts-expect-error a task outcome names the producers of its inputs
    swarm.recordTaskCompleted({ taskId: 't', agentId: 'a' });
    // @ts-expect-error the machine refuses unknown events at compile time
    swarm.actor.send({ type: 'SIGNAL_SENT' });
  });

  test('stop() ends the actor; later calls throw NotRunningError', async () => {
    const { swarm } = network();
    await swarm.initialize();
    await swarm.stop();
    expect(swarm.actor.getSnapshot().status).toBe('stopped');
    expect(caught(() => swarm.addAgent('a'))).toBeInstanceOf(NotRunningError);
  });
});

describe('signal propagation', () => {
  test('the source fires without a self-connection (fixed upstream bug)', () => {
    const { swarm } = network();
    swarm.addAgent('lonely', { activationThreshold: 0.5 });
    const result = swarm.propagateSignal('lonely', 0.8);
    expect(result.fired).toEqual([{ agentId: 'lonely', layer: 0, output: 0.8 }]);
    expect(swarm.getNeuron('lonely')!.activation).toBe(0);
  });

  test('a weak signal accumulates in the source until the threshold', () => {
    const { swarm, clock } = network();
    swarm.addAgent('a', { activationThreshold: 0.5 });
    expect(swarm.propagateSignal('a', 0.3).fired).toEqual([]);
    clock.increment(10);
    expect(swarm.propagateSignal('a', 0.3).fired[0]!.output).toBeCloseTo(0.6);
  });

  test('one activation per hop: each connection learns once (fixed upstream double activation)', () => {
    const { swarm } = network();
    swarm.addAgent('a', { activationThreshold: 0.5 });
    swarm.addAgent('b', { activationThreshold: 0.4 });
    const c = swarm.createConnection('a', 'b', { initialStrength: 0.5 });
    const result = swarm.propagateSignal('a', 1);
    expect(result.fired).toEqual([
      { agentId: 'a', layer: 0, output: 1 },
      { agentId: 'b', layer: 1, output: 0.5 },
    ]);
    const after = swarm.getConnection('a', 'b')!;
    expect(after.activationCount).toBe(1);
    expect(after.strength).toBeCloseTo(0.6);
    expect(after.lastOutput).toBeCloseTo(0.5);
    expect(result.activatedConnections).toEqual([c.connectionId]);
  });

  test('firing and the 1 s refractory period on a simulated clock', () => {
    const { swarm, clock } = network();
    swarm.addAgent('a', { activationThreshold: 0.5 });
    swarm.addAgent('b', { activationThreshold: 0.4 });
    swarm.createConnection('a', 'b', { initialStrength: 0.5 });
    expect(swarm.propagateSignal('a', 1).fired.map((f) => f.agentId)).toEqual(['a', 'b']);

    clock.increment(500);
    const refractory = swarm.propagateSignal('a', 1);
    expect(refractory.fired).toEqual([]);
    expect(swarm.getNeuron('a')!.activation).toBe(1); // kept for later

    clock.increment(500);
    const again = swarm.propagateSignal('a', 0.2);
    expect(again.fired.map((f) => f.agentId)).toEqual(['a', 'b']);
    expect(again.fired[0]!.output).toBeCloseTo(1.2);
    expect(again.fired[1]!.output).toBeCloseTo(1.2 * 0.6);
    expect(swarm.getConnection('a', 'b')!.strength).toBeCloseTo(0.72);
  });

  test('at most maxLayers firing waves (default 3)', () => {
    const { swarm } = network();
    const chain = ['a', 'b', 'c', 'd', 'e'];
    for (const id of chain) swarm.addAgent(id, { activationThreshold: 0.1 });
    for (let i = 0; i + 1 < chain.length; i++) swarm.createConnection(chain[i]!, chain[i + 1]!, { initialStrength: 1 });
    const result = swarm.propagateSignal('a', 1);
    expect(result.fired.map((f) => [f.agentId, f.layer])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
    expect(result.reached).toEqual(['a', 'b', 'c', 'd']);
    expect(swarm.getNeuron('d')!.activation).toBeCloseTo(1); // reached by the last wave, not fired
    expect(swarm.getNeuron('e')!.activation).toBe(0);
    const { swarm: one } = network();
    for (const id of chain) one.addAgent(id, { activationThreshold: 0.1 });
    one.createConnection('a', 'b', { initialStrength: 1 });
    expect(one.propagateSignal('a', 1, { maxLayers: 1 }).fired.map((f) => f.agentId)).toEqual(['a']);
  });

  test('no feedback within one propagation; inputs of one wave add up', () => {
    const { swarm } = network();
    for (const id of ['a', 'b', 'c', 'd']) swarm.addAgent(id, { activationThreshold: 0.1 });
    swarm.createConnection('a', 'b', { initialStrength: 0.5 });
    swarm.createConnection('a', 'c', { initialStrength: 0.5 });
    swarm.createConnection('b', 'd', { initialStrength: 0.5 });
    swarm.createConnection('c', 'd', { initialStrength: 0.4 });
    const back = swarm.createConnection('b', 'a', { initialStrength: 0.5 });
    const result = swarm.propagateSignal('a', 1);
    expect(result.fired.map((f) => f.agentId)).toEqual(['a', 'b', 'c', 'd']);
    // b and c fire 0.5 each: d receives 0.5 × 0.5 + 0.5 × 0.4 in the same wave.
    expect(result.fired.find((f) => f.agentId === 'd')!.output).toBeCloseTo(0.45);
    expect(swarm.getConnection('b', 'a')!.activationCount).toBe(0);
    expect(result.activatedConnections).not.toContain(back.connectionId);
  });
});

describe('statistics and topology metrics', () => {
  test('density 2E / (N(N − 1)) and graphology metrics', () => {
    const { swarm } = network();
    for (const id of ['a', 'b', 'c', 'd']) swarm.addAgent(id);
    swarm.createConnection('a', 'b');
    swarm.createConnection('b', 'c');
    swarm.createConnection('a', 'c');
    const stats = swarm.getStats();
    expect(stats.networkDensity).toBeCloseTo(0.5); // 2 × 3 / (4 × 3)
    expect(stats.directedDensity).toBeCloseTo(0.25);
    expect(stats.clusteringCoefficient).toBeCloseTo(0.75); // a, b, c in a triangle; d alone
    expect(stats.averagePathLength).toBeCloseTo(1);
    expect(stats.degreeCentrality).toEqual({ a: 2 / 3, b: 2 / 3, c: 2 / 3, d: 0 });
    expect(stats.activeConnections).toBe(3);
    expect(stats.totalSignals).toBe(0);
  });

  test('betweenness and path length on a chain', () => {
    const { swarm } = network();
    for (const id of ['a', 'b', 'c']) swarm.addAgent(id);
    swarm.createConnection('a', 'b');
    swarm.createConnection('b', 'c');
    const stats = swarm.getStats();
    expect(stats.betweennessCentrality.b).toBeGreaterThan(0);
    expect(stats.betweennessCentrality.a).toBe(0);
    expect(stats.betweennessCentrality.c).toBe(0);
    expect(stats.averagePathLength).toBeCloseTo(4 / 3); // a→b 1, b→c 1, a→c 2
    expect(stats.clusteringCoefficient).toBe(0);
  });

  test('an empty or single-agent network has zero metrics', () => {
    const { swarm } = network();
    expect(swarm.getStats()).toMatchObject({ networkDensity: 0, averagePathLength: 0, clusteringCoefficient: 0 });
    swarm.addAgent('a');
    expect(swarm.getStats()).toMatchObject({ networkDensity: 0, degreeCentrality: { a: 0 } });
  });
});

describe('network cycle', () => {
  test('initialize() runs a cycle every cycleIntervalMs on the injected clock; decay is not compounded', async () => {
    const { swarm, clock } = network({ cycleIntervalMs: 1000 });
    swarm.addAgent('a');
    swarm.addAgent('b');
    const c = swarm.createConnection('a', 'b', { initialStrength: 0.8 });
    await swarm.initialize();
    for (let i = 0; i < 10; i++) clock.increment(1000);
    const state = swarm.getNetworkState();
    expect(state.counters.cycles).toBe(10);
    expect(state.lastCycleAt).toBe(10_000);
    expect(swarm.getConnectionStrength(c.connectionId)).toBeCloseTo(0.8 * Math.exp(-0.01 * 10), 10);
  });

  test('a late timer still cycles at the clock time', async () => {
    const { swarm, clock } = network({ cycleIntervalMs: 1000 });
    await swarm.initialize();
    clock.increment(3500); // the simulated clock jumps: one cycle, at 3.5 s
    expect(swarm.getNetworkState().lastCycleAt).toBe(3500);
    clock.increment(1000);
    expect(swarm.getNetworkState().lastCycleAt).toBe(4500);
  });

  test('a cycle prunes connections that decayed below 0.1', () => {
    const { swarm, clock } = network();
    swarm.addAgent('a');
    swarm.addAgent('b');
    const c = swarm.createConnection('a', 'b', { initialStrength: 0.11 });
    clock.increment(20_000); // 0.11 × e^−0.2 ≈ 0.09
    const { adaptation } = swarm.runNetworkCycle();
    expect(adaptation?.pruned).toEqual([c.connectionId]);
    expect(swarm.getConnection('a', 'b')).toBeUndefined();
  });

  test('a manual cycle before initialize() works and no timer runs', () => {
    const { swarm, clock } = network({ cycleIntervalMs: 1000 });
    clock.increment(5000);
    expect(swarm.getNetworkState().counters.cycles).toBe(0);
    expect(swarm.runNetworkCycle().at).toBe(5000);
  });
});

describe('deterministic adaptation', () => {
  function run(seed: number) {
    const { swarm } = network({ seed });
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const id of ids) swarm.addAgent(id);
    for (let i = 0; i < 6; i++) {
      swarm.recordConsensusOutcome({
        conflictId: `c${i}`,
        conflictType: 'strategy_conflict',
        voters: ids.map((agentId) => ({ agentId, decision: 'GO', correct: true })),
      });
    }
    const created: string[][] = [];
    for (let i = 0; i < 10; i++) {
      created.push(
        swarm.adaptTopology().created.map((id) => {
          const c = connectionOf(swarm.getNetworkState(), id)!;
          return `${c.source}->${c.target}`;
        }),
      );
    }
    return { created, state: swarm.getNetworkState() };
  }

  test('two networks with the same seed grow the same links; another seed differs', () => {
    const first = run(1234);
    const second = run(1234);
    expect(first.created).toEqual(second.created);
    expect(listConnections(first.state)).toEqual(listConnections(second.state));
    expect(first.state.rngState).toBe(second.state.rngState);
    expect(first.created.flat().length).toBeGreaterThan(0);
    expect(run(99).created).not.toEqual(first.created);
  });

  test('every link grows between high performers (> 0.7) at strength 0.3', () => {
    const { state } = run(5);
    for (const c of listConnections(state)) {
      expect(c.strength).toBe(0.3);
      expect(neuronOf(state, c.source)!.performance).toBeGreaterThan(0.7);
      expect(neuronOf(state, c.source)!.seq).toBeLessThan(neuronOf(state, c.target)!.seq);
    }
  });
});

describe('the swarm actor in a runtime', () => {
  test('with a bus, the swarm actor joins the bus runtime as swarm:<networkId>', async () => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    const swarm = new NeuralSwarmNetwork({ networkId: 'trading', bus });
    const other = new NeuralSwarmNetwork({ networkId: 'research', bus });
    expect(bus.root.system.get('swarm:trading')).toBe(swarm.actor);
    expect(bus.root.system.get('swarm:research')).toBe(other.actor);
    expect(caught(() => new NeuralSwarmNetwork({ networkId: 'trading', bus }))).toBeInstanceOf(DuplicateNetworkError);
    expect(caught(() => new NeuralSwarmNetwork({ networkId: 'x', bus, clock: new SimulatedClock() }))).toBeInstanceOf(ValidationError);
    swarm.addAgent('a');
    await swarm.initialize();
    clock.increment(10_000);
    expect(swarm.getNetworkState().counters.cycles).toBe(1);
    await swarm.stop();
    expect(bus.root.system.get('swarm:trading')).toBeUndefined();
    const again = new NeuralSwarmNetwork({ networkId: 'trading', bus });
    expect(listNeurons(again.getNetworkState())).toEqual([]);
    await bus.stop();
  });

  test('the pure machine runs on its own with the default cycle request', () => {
    const clock = new SimulatedClock();
    const actor = createActor(swarmMachine, {
      clock,
      input: { networkId: 'pure', seed: 1, rules: { cycleIntervalMs: 500 } },
    }).start();
    actor.send({ type: 'AGENT_ADDED', agentId: 'a', at: 0 });
    actor.send({ type: 'NETWORK_STARTED', at: 0 });
    clock.increment(500);
    clock.increment(500);
    expect(actor.getSnapshot().context.counters.cycles).toBe(2);
    expect(actor.getSnapshot().context.lastCycleAt).toBe(1000);
    expect(actor.getSnapshot().value).toBe('running');
    actor.stop();
  });
});
