/**
 * Ids named like `Object.prototype` members (`__proto__`, `constructor`, `toString`, …) and
 * random strings, through every public entry that takes an id: bus agents and topics,
 * orchestrator agents, capabilities, task types, task ids and dependencies, host presence,
 * conflicts and their voters, the swarm, and stored state. Each one works end to end.
 * (A plain object indexed by such an id once lost the entry, read an inherited function,
 * or, for one `agent_presence` frame with hostId `__proto__`, threw from a microtask: an
 * uncaught exception, which fails the test here and ends a real process.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { SimulatedClock } from 'xstate';
import {
  AgentHost,
  CommunicationBus,
  ConflictResolutionEngine,
  MemorySnapshotStore,
  NeuralSwarmNetwork,
  TaskTopic,
  ValidationError,
  allocateByStake,
  computeSwarmStats,
  createNeuroFlux,
  detectPriorityConflicts,
  detectResourceConflicts,
  sameDecision,
  type NeuroFlux,
  type SnapshotStore,
  type TaskExecutor,
} from '../../src';
import { systemClock } from '../../src/kernel/clock';
import { loadWorkflowFile, resolveWorkflowExecutors } from '../../src/orchestration/workflowFileLoader';
import { nats } from '../../src/transport';
import { cleanupAfterEach } from '../support/cleanup';
import { signalConflict } from '../support/conflictFixtures';
import { describeWithServer, NATS_SERVER_BIN, natsServerForSuite, waitFor } from '../support/servers';
import { settle } from '../support/settle';

/** The helpers' own ids; a random id never takes one of them. */
const HELPERS = new Set(['peer', 'b', 'c', 'next', 'worker']);
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);
const RANDOM_IDS = fc
  .sample(fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }), { seed: 15, numRuns: 6 })
  .filter((id) => !HELPERS.has(id) && !PROTOTYPE_NAMES.includes(id));
const IDS = [...PROTOTYPE_NAMES, ...RANDOM_IDS];

const cleanup = cleanupAfterEach();

async function runtime(options: { store?: SnapshotStore } = {}): Promise<{ nf: NeuroFlux; clock: SimulatedClock }> {
  const clock = new SimulatedClock();
  const nf = cleanup.add(createNeuroFlux({ clock, ...(options.store && { orchestrator: { store: options.store } }) }));
  await nf.start();
  return { nf, clock };
}

test('the prototype names are all covered', () => {
  expect(PROTOTYPE_NAMES).toEqual(expect.arrayContaining(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']));
  expect(RANDOM_IDS.length).toBeGreaterThan(0);
});

describe('bus', () => {
  test.each(IDS)('agent %j gets direct, topic, broadcast and request messages, and speaks itself', async (id) => {
    const { nf } = await runtime();
    // A random id may hold `*`, `>` or `.`: as a topic it would be a pattern; prototype names are topics too.
    const topic = PROTOTYPE_NAMES.includes(id) ? id : 'random.topic';
    const got: [string, unknown][] = [];
    nf.bus.registerAgent(id, {
      topics: [topic],
      handler: (message, agent) => {
        got.push([message.topic, message.payload]);
        if (message.messageType === 'request') agent.respond(message, 'pong');
      },
    });
    const peer = nf.bus.registerAgent('peer', { handler: (message, agent) => void (message.messageType === 'request' && agent.respond(message, 'ack')) });
    peer.send({ recipientId: id, messageType: 'command', topic: 'direct', payload: 1 });
    peer.publish({ topic, payload: 2 });
    peer.broadcast({ topic: 'all', payload: 3 });
    const reply = await peer.request({ recipientId: id, topic: 'ask', payload: 4 });
    expect(reply).toMatchObject({ senderId: id, payload: 'pong' });
    await settle();
    expect(got).toEqual([
      ['direct', 1],
      [topic, 2],
      ['all', 3],
      ['ask', 4],
    ]);

    const agent = nf.bus.getAgent(id);
    expect(agent?.agentId).toBe(id);
    expect(nf.bus.getAgentIds()).toEqual(expect.arrayContaining([id, 'peer']));
    expect(await agent?.request({ recipientId: 'peer', topic: 'ask', payload: 5 })).toMatchObject({ senderId: 'peer', recipientId: id, payload: 'ack' });
    agent?.unsubscribe(topic);
    peer.publish({ topic, payload: 6 });
    await settle();
    expect(got).toHaveLength(4);

    expect(nf.bus.unregisterAgent(id)).toBe(true);
    expect(nf.bus.getAgent(id)).toBeUndefined();
    peer.send({ recipientId: id, messageType: 'command', topic: 'direct', payload: 7 });
    await settle();
    expect(nf.bus.getDeadLetters().map((d) => d.reason)).toContain('no_route');
    // Registered again under the same id: a fresh agent.
    nf.bus.registerAgent(id);
    peer.send({ recipientId: id, messageType: 'command', topic: 'direct', payload: 8 });
    expect(nf.bus.getAgentMessages(id).map((m) => m.payload)).toEqual([8]);
  });

  test('ids that are not non-empty strings get a ValidationError naming agentId', async () => {
    const { nf } = await runtime();
    for (const bad of ['', 42, null, undefined, { toString: () => 'x' }]) {
      expect(() => nf.bus.registerAgent(bad as never)).toThrow(ValidationError);
      expect(() => nf.bus.registerAgent(bad as never)).toThrow(/agentId/);
    }
    expect(nf.bus.getAgentIds()).toEqual(['orchestrator']);
  });
});

describe('orchestrator', () => {
  test.each(IDS)('agent, capability, task type and task id %j; its dependent gets its result', async (id) => {
    const { nf } = await runtime();
    const execute: TaskExecutor = (task, { dependencyResults }) => ({ ran: task.taskId, inputs: dependencyResults });
    nf.orchestrator.registerAgent(id, { capabilities: [id], specializations: { [id]: 2 }, execute });
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: id, taskType: id, requiredCapabilities: [id] },
        { taskId: 'next', dependencies: [id], requiredCapabilities: [id] },
      ],
    });
    const [first, next] = await nf.orchestrator.waitForWorkflow([id, 'next']);
    expect(first).toMatchObject({ taskId: id, status: 'completed', assignedAgent: id, result: { ran: id, inputs: {} } });
    expect(next?.status).toBe('completed');
    // Computed key: `__proto__` as an own key, as the orchestrator must hand it over.
    expect(next?.result).toEqual({ ran: 'next', inputs: { [id]: { ran: id, inputs: {} } } });
    expect(Object.hasOwn((next?.result as { inputs: object }).inputs, id)).toBe(true);
    expect(nf.orchestrator.getAgent(id)).toMatchObject({ agentId: id });
    const { agents } = nf.orchestrator.getStats();
    expect(Object.keys(agents)).toEqual([id]);
    expect(Object.hasOwn(agents, id) && agents[id]).toMatchObject({ load: 0, maxConcurrentTasks: expect.any(Number) });
    expect(nf.orchestrator.getAgentTaskHistory(id)).toHaveLength(2);
  });

  test.each(IDS)('task %j waiting for an agent is cancelled', async (id) => {
    const { nf } = await runtime();
    nf.orchestrator.submitTask({ taskId: id, requiredCapabilities: ['nobody'] });
    expect(nf.orchestrator.getTask(id)?.taskId).toBe(id);
    expect(nf.orchestrator.cancelTask(id)).toBe(true);
    expect(await nf.orchestrator.waitForTask(id)).toMatchObject({ taskId: id, status: 'cancelled' });
  });

  test.each(['__proto__', 'constructor', 'toString'])('task %j and its dependent survive a restart from the store', async (id) => {
    const store = new MemorySnapshotStore();
    const first = await runtime({ store });
    first.nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: (task) => (task.taskId === id ? 'A' : new Promise(() => undefined)) });
    first.nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: id, requiredCapabilities: ['x'] },
        { taskId: 'next', dependencies: [id], requiredCapabilities: ['x'] },
      ],
    });
    await settle();
    expect(first.nf.orchestrator.getTask('next')?.state).toBe('running');
    await settle(); // the write of this state lands; then the first process "dies"

    const second = await runtime({ store });
    second.nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: (task, { dependencyResults }) => ({ ...dependencyResults }) });
    const [restored, next] = await second.nf.orchestrator.waitForWorkflow([id, 'next']);
    expect(restored).toMatchObject({ taskId: id, status: 'completed', result: 'A' });
    expect(next).toMatchObject({ status: 'completed', result: { [id]: 'A' } });
  });

  test('task and agent ids that are not non-empty strings get a ValidationError', async () => {
    const { nf } = await runtime();
    expect(() => nf.orchestrator.registerAgent('', { capabilities: ['x'], execute: () => 1 })).toThrow(ValidationError);
    expect(() => nf.orchestrator.submitTask({ taskId: '' })).toThrow(ValidationError);
    expect(() => nf.orchestrator.submitTask({ taskId: 7 as never })).toThrow(ValidationError);
    expect(() => nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'a', dependencies: [''] }] })).toThrow(ValidationError);
  });
});

describe('workflow files', () => {
  const workflowWith = (executor: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-ids-'));
    cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'agents.js'), 'exports.run = (task) => task.taskId;\n');
    const file = join(dir, 'workflow.json');
    const agents = [{ agentId: '__proto__', capabilities: ['__proto__'], executor }];
    writeFileSync(file, JSON.stringify({ agents, tasks: [{ taskId: '__proto__', requiredCapabilities: ['__proto__'] }] }));
    return { file, workflow: loadWorkflowFile(file) };
  };

  test('agent, capability and task ids __proto__ load, and the executor is found', () => {
    const { file, workflow } = workflowWith('./agents.js#run');
    expect(workflow.tasks[0]?.taskId).toBe('__proto__');
    const executors = resolveWorkflowExecutors(workflow, file, { clock: systemClock, seed: 1 });
    expect([...executors.keys()]).toEqual(['__proto__']);
  });

  test.each(PROTOTYPE_NAMES.filter((name) => /^[A-Za-z_$][\w$]*$/.test(name)))('an executor export %j the module lacks is refused, not inherited', (name) => {
    const { file, workflow } = workflowWith(`./agents.js#${name}`);
    expect(() => resolveWorkflowExecutors(workflow, file, { clock: systemClock, seed: 1 })).toThrow(
      expect.objectContaining({
        name: 'WorkflowFileError',
        message: expect.stringMatching(new RegExp(` agents\\[0\\]\\.executor: .*no function export '${name.replace(/\$/g, '\\$')}'`)),
      }),
    );
  });
});

describe('agent hosts (agent_presence)', () => {
  const announce = (nf: NeuroFlux, hostId: string, status: 'alive' | 'leaving', agents: string[]) =>
    nf.bus.publishEvent({
      senderId: hostId || 'nameless',
      topic: TaskTopic.PRESENCE,
      payload: { hostId, status, heartbeatIntervalMs: 1000, agents: agents.map((agentId) => ({ agentId, capabilities: ['work'], maxConcurrentTasks: 5 })) },
    });

  test.each(IDS)('host %j is heard, lost when its heartbeats stop, back, and leaves', async (id) => {
    const { nf, clock } = await runtime();
    nf.bus.registerAgent('worker'); // the hosted agent's mailbox: nobody reads it
    announce(nf, id, 'alive', ['worker']);
    await settle();
    expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 0, invalidAnnouncements: 0 });
    expect(nf.orchestrator.getAgent('worker')).toBeDefined();
    const { taskId } = nf.orchestrator.submitTask({ requiredCapabilities: ['work'] });
    await settle();
    expect(nf.orchestrator.getTask(taskId)?.assignedAgent).toBe('worker');

    clock.increment(3_000); // three missed heartbeats: the host is presumed dead
    await settle();
    expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 0, lost: 1 });
    expect(nf.orchestrator.getAgent('worker')).toBeUndefined();
    expect(nf.orchestrator.getTask(taskId)?.assignedAgent).toBeNull();

    announce(nf, id, 'alive', ['worker']);
    await settle();
    expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 1 });
    announce(nf, id, 'leaving', []);
    await settle();
    expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 0, lost: 2 });
    expect(nf.orchestrator.getAgent('worker')).toBeUndefined();
  });

  test('a host id that is not a non-empty string is counted as invalid, not heard', async () => {
    const { nf } = await runtime();
    announce(nf, '', 'alive', ['worker']);
    await settle();
    expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 0, invalidAnnouncements: 1 });
  });
});

describeWithServer(NATS_SERVER_BIN, 'agent_presence over NATS', () => {
  const server = natsServerForSuite();

  test('a host "__proto__" in another runtime is heard, runs a task, leaves and is lost; the orchestrator stays up', async () => {
    const clock = new SimulatedClock();
    clock.set(Date.now()); // the other runtime's clock is the real one: message TTLs compare the two
    const transport = () => nats({ servers: server().url, namespace: 'ids' });
    const here = cleanup.add(createNeuroFlux({ clock, transport: transport() }));
    await here.start();
    const there = cleanup.add(createNeuroFlux({ transport: transport(), orchestrator: false }));
    await there.start();
    const host = cleanup.add(new AgentHost({ bus: there.bus, hostId: '__proto__' }));
    host.addAgent('remote-worker', { capabilities: ['work'], execute: () => 'done remotely' });
    host.start();
    await waitFor(() => here.orchestrator.getStats().hosts.alive === 1, 10_000, 'the host to be heard');
    const { taskId } = here.orchestrator.submitTask({ requiredCapabilities: ['work'] });
    expect(await here.orchestrator.waitForTask(taskId)).toMatchObject({ status: 'completed', result: 'done remotely', assignedAgent: 'remote-worker' });

    await host.stop(); // announces `leaving`
    await waitFor(() => here.orchestrator.getStats().hosts.lost === 1, 10_000, 'the host to be lost');
    clock.increment(10_000); // past any heartbeat timeout: nothing is left to expire
    await settle();
    expect(here.orchestrator.getStats().hosts).toMatchObject({ alive: 0, lost: 1 });
    here.orchestrator.registerAgent('local', { capabilities: ['work'], execute: () => 'done here' });
    const next = here.orchestrator.submitTask({ requiredCapabilities: ['work'] });
    expect(await here.orchestrator.waitForTask(next.taskId)).toMatchObject({ status: 'completed', result: 'done here' });
  });
});

describe('conflicts', () => {
  const voter = (bus: CommunicationBus, agentId: string, decision: string | undefined) =>
    bus.registerAgent(agentId, {
      handler: (message, agent) => {
        if (message.topic === 'conflict_vote' && decision !== undefined) agent.respond(message, { decision, confidence: 0.9 });
      },
    });

  test.each(IDS)('conflict id and voter %j: the conflict resolves by the votes', async (id) => {
    const { nf } = await runtime();
    for (const agentId of [id, 'b', 'c']) voter(nf.bus, agentId, 'BUY');
    const conflictId = nf.conflicts.reportConflict(signalConflict({ conflictId: id, involvedAgents: [id, 'b', 'c'] }));
    expect(conflictId).toBe(id);
    const resolution = await nf.conflicts.resolveConflict(id);
    expect(resolution).toMatchObject({ conflictId: id, achieved: true, decision: 'BUY', participants: expect.arrayContaining([id]) });
    const votes = nf.conflicts.getConflict(id)?.votes ?? [];
    expect(votes.map((v) => v.agentId).sort()).toEqual([id, 'b', 'c'].sort());
    for (const vote of votes) expect(typeof vote.stake).toBe('number');
  });

  test.each(['__proto__', 'constructor', 'toString'])('voter %j keeps its stake through the store', async (id) => {
    const store = new MemorySnapshotStore();
    const stakeProvider = (agentId: string) => (agentId === id ? 1.7 : 1);
    const processOn = async (at: number, withProvider: boolean) => {
      const clock = new SimulatedClock();
      clock.set(at);
      const bus = cleanup.add(new CommunicationBus({ clock }));
      await bus.start();
      const engine = cleanup.add(new ConflictResolutionEngine({ bus, store, voteTimeoutMs: 30_000, ...(withProvider && { stakeProvider }) }));
      return { bus, clock, engine };
    };
    const first = await processOn(0, true);
    voter(first.bus, id, undefined); // silent in the first process
    voter(first.bus, 'b', 'BUY');
    voter(first.bus, 'c', undefined);
    await first.engine.restore();
    const conflictId = first.engine.reportConflict(signalConflict({ involvedAgents: [id, 'b', 'c'], resolutionDeadline: 300_000 }));
    void first.engine.resolveConflict(conflictId).catch(() => undefined);
    await settle();
    await first.engine.flush();

    // The second process has no stake provider: the stake it uses is the stored one.
    const second = await processOn(10_000, false);
    voter(second.bus, id, 'BUY');
    voter(second.bus, 'c', 'BUY');
    await second.engine.restore();
    const resolution = await second.engine.resolveConflict(conflictId);
    expect(resolution).toMatchObject({ achieved: true, decision: 'BUY' });
    const vote = second.engine.getConflict(conflictId)?.votes.find((v) => v.agentId === id);
    expect(vote?.stake).toBe(1.7);
  });

  test.each(IDS)('detectors, allocation and decisions take %j as a key like any other', (id) => {
    expect(
      allocateByStake(
        100,
        [
          { agentId: id, amount: 80 },
          { agentId: 'b', amount: 80 },
        ],
        () => 1,
      ),
    ).toEqual({ [id]: 50, b: 50 });
    // `slots` as a record without the agent: no free slots (not an inherited member).
    const claims = ['t1', 't2'].map((taskId) => ({ agentId: id, taskId, priority: 'high' as const }));
    expect(detectPriorityConflicts(claims, {}, 0)).toHaveLength(1);
    expect(detectPriorityConflicts(claims, { [id]: 2 }, 0)).toHaveLength(0);
    const requests = [{ agentId: 'b', resourceType: id, amount: 1 }];
    expect(detectResourceConflicts(requests, {}, 0)).toHaveLength(1);
    expect(detectResourceConflicts(requests, { [id]: 5 }, 0)).toHaveLength(0);
    const decision = JSON.parse(`{${JSON.stringify(id)}: "BUY"}`) as object;
    expect(sameDecision(decision as never, {} as never)).toBe(false);
    expect(sameDecision(decision as never, JSON.parse(JSON.stringify(decision)) as never)).toBe(true);
  });

  test('conflict and voter ids that are not non-empty strings get a ValidationError', async () => {
    const { nf } = await runtime();
    expect(() => nf.conflicts.reportConflict(signalConflict({ conflictId: '' }))).toThrow(ValidationError);
    expect(() => nf.conflicts.reportConflict(signalConflict({ involvedAgents: ['a', ''] }))).toThrow(ValidationError);
  });
});

describe('swarm', () => {
  test.each(IDS)('agent and knowledge key %j: neurons, connections, signals, knowledge, learning, metrics', async (id) => {
    const swarm = cleanup.add(new NeuralSwarmNetwork({ networkId: 'ids', clock: new SimulatedClock() }));
    swarm.addAgent(id);
    swarm.addAgent('b');
    expect(swarm.getNeuron(id)?.agentId).toBe(id);
    const out = swarm.createConnection(id, 'b', { initialStrength: 0.9 });
    const back = swarm.createConnection('b', id, { initialStrength: 0.8 });
    expect(swarm.getConnection(id, 'b')?.connectionId).toBe(out.connectionId);
    expect(swarm.getConnection('b', id)?.connectionId).toBe(back.connectionId);
    expect(swarm.propagateSignal(id, 1).reached).toEqual([id, 'b']);
    expect(swarm.shareKnowledge(id, id, 42)).toBe(1);
    expect(swarm.getNeuron('b')?.knowledgeBase[id]).toBe(42);
    swarm.recordTaskCompleted({ taskId: 't', taskType: id, agentId: 'b', producerAgentIds: [id], durationMs: 1 });
    expect(swarm.routingAffinity('b', [id])).toBeGreaterThan(0);
    expect(Object.keys(swarm.getAgentPerformanceScores()).sort()).toEqual([id, 'b'].sort());
    expect(Object.hasOwn(swarm.getActivationPatterns(), id)).toBe(true);
    expect(computeSwarmStats(swarm.getNetworkState())).toMatchObject({ neuronCount: 2, connectionCount: 2 });
    expect(swarm.removeConnection(id, 'b')).toBe(true);
    expect(swarm.getConnection(id, 'b')).toBeUndefined();
    expect(swarm.removeAgent(id)).toBe(true);
    expect(swarm.getNeuron(id)).toBeUndefined();
    expect(swarm.getConnection('b', id)).toBeUndefined();
  });

  test('an absent agent named like a prototype member is absent, not inherited', async () => {
    const swarm = cleanup.add(new NeuralSwarmNetwork({ networkId: 'ids', clock: new SimulatedClock() }));
    swarm.addAgent('b');
    for (const name of PROTOTYPE_NAMES) {
      expect(swarm.getNeuron(name)).toBeUndefined();
      expect(swarm.getConnection('b', name)).toBeUndefined();
      expect(swarm.removeAgent(name)).toBe(false);
    }
    expect(() => swarm.addAgent('')).toThrow(ValidationError);
  });
});
