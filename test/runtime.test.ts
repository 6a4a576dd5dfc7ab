import { SimulatedClock } from 'xstate';
import { CommunicationBus, createNeuroFlux, type Message } from '../src';
import { MAX_PRODUCERS_PER_OUTCOME } from '../src/swarm/model/swarmSchemas';
import { settle } from './support/settle';

describe('createNeuroFlux: one system, components wired', () => {
  test('every component joins the root actor system; stop() ends every actor', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: () => new Promise(() => undefined) });
    await nf.start();
    nf.orchestrator.submitTask({ taskId: 'long', requiredCapabilities: ['x'] });
    await settle();
    const system = nf.system.system;
    expect(system.get('agent:worker')).toBeDefined();
    expect(system.get('orchestrator')).toBe(nf.orchestrator.actor);
    const task = system.get('task:long');
    expect(task?.getSnapshot().value).toBe('running');
    await nf.stop();
    expect(task?.getSnapshot().status).toBe('stopped');
    expect(nf.orchestrator.actor.getSnapshot().status).not.toBe('active');
    expect(nf.system.getSnapshot().status).toBe('stopped');
  });

  test('the swarm learns from finished tasks: a successful producer → consumer pair gets stronger', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.orchestrator.registerAgent('producer', { capabilities: ['make'], execute: () => 'made' });
    nf.orchestrator.registerAgent('consumer', { capabilities: ['use'], execute: () => 'used' });
    await nf.start();
    for (let i = 0; i < 5; i++) {
      nf.orchestrator.submitWorkflow({
        tasks: [
          { taskId: `make${i}`, requiredCapabilities: ['make'] },
          { taskId: `use${i}`, dependencies: [`make${i}`], requiredCapabilities: ['use'] },
        ],
      });
      await nf.orchestrator.waitForWorkflow([`make${i}`, `use${i}`]);
    }
    await settle();
    const connection = nf.swarm.getConnection('producer', 'consumer');
    expect(connection?.strength).toBeGreaterThan(0.5);
    expect(nf.swarm.routingAffinity('consumer', ['producer'])).toBeGreaterThan(0.5);
    await nf.stop();
  });

  test('a task learns each distinct producer once: several dependencies on one agent, and a fan-in past the cap (its first distinct producers)', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    const cap = MAX_PRODUCERS_PER_OUTCOME;
    // cap + 6 producers, each running two dependencies of `join`, so its list holds each twice.
    for (let i = 0; i < cap + 6; i++) nf.orchestrator.registerAgent(`p${i}`, { capabilities: [`make${i}`], execute: () => i });
    nf.orchestrator.registerAgent('consumer', { capabilities: ['use'], execute: () => 'used' });
    nf.orchestrator.registerAgent('small', { capabilities: ['small'], execute: () => 'done' });
    await nf.start();
    const makers = Array.from({ length: 2 * (cap + 6) }, (_, i) => ({ taskId: `m${i}`, requiredCapabilities: [`make${i % (cap + 6)}`] }));
    const tasks = [
      ...makers,
      { taskId: 'join', dependencies: makers.map((t) => t.taskId), requiredCapabilities: ['use'] },
      { taskId: 'pair', dependencies: ['m0', 'm1', `m${cap + 6}`], requiredCapabilities: ['small'] },
    ];
    nf.orchestrator.submitWorkflow({ tasks });
    await nf.orchestrator.waitForWorkflow(tasks.map((t) => t.taskId));
    await settle();
    const incoming = (agentId: string) => Array.from({ length: cap + 6 }, (_, i) => nf.swarm.getConnection(`p${i}`, agentId));
    // `join`'s producers are p0 … p(cap + 5), twice over: the first `cap` distinct ones learn, once.
    expect(incoming('consumer').filter((c) => c !== undefined).length).toBe(cap);
    for (const connection of incoming('consumer').filter((c) => c !== undefined)) expect(connection!.outcomes).toHaveLength(1);
    // `pair` depends on p0 twice (m0 and m(cap + 6)) and on p1 once: one outcome each.
    expect(nf.swarm.getConnection('p0', 'small')?.outcomes).toHaveLength(1);
    expect(nf.swarm.getConnection('p1', 'small')?.outcomes).toHaveLength(1);
    expect(nf.swarm.getNetworkState().counters.tasksCompleted).toBe(tasks.length);
    await nf.stop();
  });

  test("conflict stakes can come from the swarm's learned performance", async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock(), conflicts: { stakeSource: 'swarm' } });
    nf.swarm.addAgent('good');
    nf.swarm.addAgent('bad');
    nf.swarm.recordConsensusOutcome({
      conflictId: 'c0',
      conflictType: 'signal_conflict',
      voters: [
        { agentId: 'good', decision: 'BUY', correct: true },
        { agentId: 'bad', decision: 'SELL', correct: false },
      ],
    });
    await settle();
    const good = nf.swarm.agentPerformance('good');
    const bad = nf.swarm.agentPerformance('bad');
    expect(good).toBeGreaterThan(bad);
    // Stake = 0.6 × overall + 0.4 × per type, both from the swarm here.
    expect(nf.conflicts.getStake('good', 'signal_conflict')).toBeCloseTo(good, 12);
    expect(nf.conflicts.getStake('bad', 'signal_conflict')).toBeCloseTo(Math.max(0.1, bad), 12);
    await nf.stop();
  });
});

describe('createNeuroFlux: metrics', () => {
  test('metrics() returns the Prometheus text format, counting from creation with { metrics: true }', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock(), metrics: true });
    nf.bus.registerAgent('a', { handler: () => undefined });
    await nf.start();
    nf.bus.sendMessage({ senderId: 's', recipientId: 'a', messageType: 'command', topic: 't', priority: 'critical' });
    await nf.bus.whenIdle();
    const text = await nf.metrics();
    expect(text).toMatch(/# TYPE neuroflux_\w+/);
    expect(text).toMatch(/critical/);
    expect(nf.inspector).toBeUndefined();
    await nf.stop();
  });
});

describe('bus instrumentation hooks', () => {
  test('called around each delivery with the duration and the error; removable', async () => {
    const bus = new CommunicationBus();
    const seen: string[] = [];
    bus.registerAgent('ok', { handler: () => undefined });
    bus.registerAgent('bad', { handler: () => Promise.reject(new Error('x')) });
    const remove = bus.instrument({
      onAccepted: (m: Message) => {
        m.headers = { ...m.headers, traceparent: '00-abc-def-01' };
        seen.push(`accepted ${m.topic}`);
      },
      aroundDelivery: (m, agentId, run) => {
        seen.push(`deliver ${m.topic} to ${agentId} with ${m.headers?.traceparent}`);
        return run();
      },
      onSettled: (m, agentId, durationMs, error) => {
        seen.push(`settled ${m.topic} at ${agentId}${error ? ' with error' : ''}`);
        expect(durationMs).toBeGreaterThanOrEqual(0);
      },
    });
    await bus.start();
    bus.sendMessage({ senderId: 's', recipientId: 'ok', messageType: 'command', topic: 'a' });
    bus.sendMessage({ senderId: 's', recipientId: 'bad', messageType: 'command', topic: 'b', maxRetries: 0 });
    await bus.whenIdle();
    expect(seen).toEqual([
      'accepted a',
      'accepted b',
      'deliver a to ok with 00-abc-def-01',
      'settled a at ok',
      'deliver b to bad with 00-abc-def-01',
      'settled b at bad with error',
    ]);
    remove();
    bus.sendMessage({ senderId: 's', recipientId: 'ok', messageType: 'command', topic: 'c' });
    await bus.whenIdle();
    expect(seen).toHaveLength(6);
    await bus.stop();
  });
});
