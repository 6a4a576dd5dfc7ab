/**
 * `orchestrator.waitForAgents(capabilities, { timeoutMs })`: resolves once registered
 * agents (local, or announced by agent hosts) cover the capabilities; rejects naming what
 * is missing after the timeout (the runtime's clock), or when the orchestrator stops.
 * Over NATS: the host announces itself after the orchestrator started waiting.
 */
import { SimulatedClock } from 'xstate';
import { AgentHost, AgentsUnavailableError, NotRunningError, ValidationError, createNeuroFlux, jsonLinesLogger, nats } from '../src';
import { cleanupAfterEach } from './support/cleanup';
import { NATS_SERVER_BIN, describeWithServer, natsServerForSuite } from './support/servers';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

async function runtime(): Promise<{ nf: ReturnType<typeof createNeuroFlux>; clock: SimulatedClock }> {
  const clock = new SimulatedClock();
  const nf = cleanup.add(createNeuroFlux({ clock }));
  await nf.start();
  return { nf, clock };
}

describe('waitForAgents in one process', () => {
  test('resolves at once when agents already cover the capabilities, and on the registration that covers them', async () => {
    const { nf } = await runtime();
    nf.orchestrator.registerAgent('a', { capabilities: ['x'], execute: () => 1 });
    await expect(nf.orchestrator.waitForAgents(['x'])).resolves.toBeUndefined();
    await expect(nf.orchestrator.waitForAgents([])).resolves.toBeUndefined();
    let resolved = false;
    const waiting = nf.orchestrator.waitForAgents(['x', 'y', ['y', 'z']]).then(() => (resolved = true));
    nf.orchestrator.registerAgent('b', { capabilities: ['y'], execute: () => 1 });
    nf.orchestrator.registerAgent('c', { capabilities: ['z'], execute: () => 1 });
    await settle();
    expect(resolved).toBe(false); // y and z are held, but not by one agent
    nf.orchestrator.registerAgent('d', { capabilities: ['y', 'z'], execute: () => 1 });
    await waiting;
    expect(resolved).toBe(true);
  });

  test('an agent announced by an in-process host counts', async () => {
    const { nf } = await runtime();
    const waiting = nf.orchestrator.waitForAgents(['risk_assessment'], { timeoutMs: 5000 });
    const host = new AgentHost({ bus: nf.bus, hostId: 'h1' });
    host.addAgent('h1-risk', { capabilities: ['risk_assessment'], execute: () => ({ approved: true }) });
    host.start();
    await waiting;
    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'risk', requiredCapabilities: ['risk_assessment'] }] });
    expect(await nf.orchestrator.waitForTask('risk')).toMatchObject({ status: 'completed', result: { approved: true } });
    await host.stop();
  });

  test('rejects after timeoutMs on the runtime clock with a typed error naming what is missing', async () => {
    const { nf, clock } = await runtime();
    nf.orchestrator.registerAgent('a', { capabilities: ['x'], execute: () => 1 });
    nf.orchestrator.registerAgent('b', { capabilities: ['y'], execute: () => 1 });
    let settled: unknown;
    const waiting = nf.orchestrator.waitForAgents(['x', 'gpu', ['x', 'y']], { timeoutMs: 2000 }).then(
      () => (settled = 'resolved'),
      (error: unknown) => (settled = error),
    );
    clock.increment(1999);
    await settle();
    expect(settled).toBeUndefined();
    clock.increment(1);
    await waiting;
    expect(settled).toBeInstanceOf(AgentsUnavailableError);
    expect(settled).toMatchObject({
      code: 'ERR_AGENTS_UNAVAILABLE',
      unmet: [['gpu'], ['x', 'y']],
      missingCapabilities: ['gpu'],
      timeoutMs: 2000,
      message: 'no agent with gpu, x + y (in one agent) registered within 2000 ms',
    });
  });

  test('the default timeout is 30 s; a late registration after the rejection changes nothing', async () => {
    const logged: string[] = [];
    const clock = new SimulatedClock();
    const nf = cleanup.add(createNeuroFlux({ clock, logger: jsonLinesLogger({ level: 'warn', write: (line) => logged.push(line) }) }));
    await nf.start();
    const settlements: string[] = [];
    const waiting = nf.orchestrator.waitForAgents(['x']);
    waiting.then(
      () => settlements.push('resolved'),
      (error: unknown) => settlements.push(error instanceof AgentsUnavailableError ? 'rejected' : `rejected with ${String(error)}`),
    );
    clock.increment(29_999);
    await settle();
    expect(settlements).toEqual([]);
    clock.increment(1);
    await expect(waiting).rejects.toBeInstanceOf(AgentsUnavailableError);
    expect(() => nf.orchestrator.registerAgent('a', { capabilities: ['x'], execute: () => 1 })).not.toThrow();
    clock.increment(60_000);
    await settle();
    // Settled once, nothing logged as a problem, and a new waiter is answered by the agent at once.
    expect(settlements).toEqual(['rejected']);
    expect(logged).toEqual([]);
    await expect(nf.orchestrator.waitForAgents(['x'], { timeoutMs: 0 })).resolves.toBeUndefined();
  });

  test('stopping the orchestrator rejects the waiters with NotRunningError; so does a call after stop', async () => {
    const { nf } = await runtime();
    const waiting = nf.orchestrator.waitForAgents(['x'], { timeoutMs: 60_000 });
    await nf.stop();
    await expect(waiting).rejects.toBeInstanceOf(NotRunningError);
    await expect(nf.orchestrator.waitForAgents(['x'])).rejects.toBeInstanceOf(NotRunningError);
  });

  test('bad arguments are rejected with a ValidationError naming the field', async () => {
    const { nf } = await runtime();
    await expect(nf.orchestrator.waitForAgents([''])).rejects.toMatchObject({ field: 'capabilities.0' });
    await expect(nf.orchestrator.waitForAgents(['x'], { timeoutMs: -1 })).rejects.toMatchObject({ field: 'timeoutMs' });
    await expect(nf.orchestrator.waitForAgents('x' as unknown as string[])).rejects.toBeInstanceOf(ValidationError);
    await expect(nf.orchestrator.waitForAgents([[]])).rejects.toMatchObject({ field: 'capabilities.0' });
    await expect(nf.orchestrator.waitForAgents([1n as unknown as string])).rejects.toBeInstanceOf(ValidationError);
    await expect(nf.orchestrator.waitForAgents(['x'], { timeoutMs: Number.NaN })).rejects.toMatchObject({ field: 'timeoutMs' });
  });

  test('hostile capability names are plain data', async () => {
    const { nf } = await runtime();
    const waiting = nf.orchestrator.waitForAgents(['__proto__', 'constructor']);
    nf.orchestrator.registerAgent('toString', { capabilities: ['__proto__', 'constructor'], execute: () => 1 });
    await expect(waiting).resolves.toBeUndefined();
  });
});

describeWithServer(NATS_SERVER_BIN, 'waitForAgents over NATS', () => {
  const server = natsServerForSuite();

  test('the orchestrator waits; a host process announces itself later; the workflow then runs on it', async () => {
    const namespace = 'wfa';
    const orchestrator = cleanup.add(createNeuroFlux({ transport: nats({ servers: server().url, namespace }) }));
    await orchestrator.start();
    let resolved = false;
    const waiting = orchestrator.orchestrator.waitForAgents(['risk_assessment'], { timeoutMs: 1e9 }).then(() => (resolved = true));
    // Nothing announced yet: submitting now would be refused.
    expect(() => orchestrator.orchestrator.submitWorkflow({ tasks: [{ taskId: 'early', requiredCapabilities: ['risk_assessment'] }] })).toThrow(/risk_assessment/);
    expect(resolved).toBe(false);

    const hostRuntime = cleanup.add(createNeuroFlux({ transport: nats({ servers: server().url, namespace }), orchestrator: false }));
    const host = new AgentHost({ bus: hostRuntime.bus, hostId: 'host-1', heartbeatIntervalMs: 200 });
    host.addAgent('host-1-risk', { capabilities: ['risk_assessment'], execute: (task) => ({ assessed: task.payload }) });
    await hostRuntime.start();
    host.start();
    cleanup.defer(() => host.stop());

    await waiting;
    orchestrator.orchestrator.submitWorkflow({ tasks: [{ taskId: 'risk', requiredCapabilities: ['risk_assessment'], payload: { amount: 10 } }] });
    expect(await orchestrator.orchestrator.waitForTask('risk')).toMatchObject({ status: 'completed', assignedAgent: 'host-1-risk', result: { assessed: { amount: 10 } } });
  }, 30_000);
});
