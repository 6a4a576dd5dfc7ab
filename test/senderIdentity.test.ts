/**
 * Who may report on a task across processes (own nats-server -js on a free port, no
 * permissions: what the orchestrator itself refuses). Each process publishes under
 * `nf.<ns>.from.<identity>.`; the orchestrator reads the publisher from the subject, takes
 * results only with the dispatch's token and only from the host it dispatched to, and
 * refuses a presence published under another identity than the host id it names.
 */
import { jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { AgentHost, createNeuroFlux, nats, ORIGIN_HEADER, type NeuroFlux } from '../src';
import { decodeEnvelope } from '../src/transport';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, NATS_SERVER_BIN, natsServerForSuite, waitFor } from './support/servers';

describeWithServer(NATS_SERVER_BIN, 'sender identity across processes', () => {
  const server = natsServerForSuite();
  const cleanup = cleanupAfterEach();

  /** A runtime of its own (as if another process) publishing under `identity`. */
  async function runtime(namespace: string, identity: string | undefined, orchestrator: boolean): Promise<NeuroFlux> {
    const nf = cleanup.add(
      createNeuroFlux({ transport: nats({ servers: server().url, namespace, ...(identity !== undefined && { identity }) }), orchestrator: orchestrator ? {} : false }),
    );
    await nf.start();
    return nf;
  }

  /** Copies of the task assignments on the wire: anyone who can subscribe can read them (and their tokens). */
  async function snoop(namespace: string): Promise<{ nc: NatsConnection; assignments: { taskId: string; attempt: number; dispatch: string }[] }> {
    const nc = cleanup.add(await connect({ servers: server().url }));
    const assignments: { taskId: string; attempt: number; dispatch: string }[] = [];
    nc.subscribe(`nf.${namespace}.from.*.durable.>`, {
      callback: (_err, msg: Msg) => {
        const decoded = decodeEnvelope(msg.data, (h) => msg.headers?.get(h) || undefined, { maxFrameBytes: 1 << 20 });
        const frame = decoded.ok ? (decoded.frame as { topic?: string; payload?: { task: { taskId: string }; attempt: number; dispatch: string } }) : undefined;
        if (frame?.topic === 'task_assignment' && frame.payload) {
          assignments.push({ taskId: frame.payload.task.taskId, attempt: frame.payload.attempt, dispatch: frame.payload.dispatch });
        }
      },
    });
    await nc.flush();
    return { nc, assignments };
  }

  test('a result from another host is refused even with the stolen token; one without the token too; the real one completes the task', async () => {
    const ns = 'ident-results';
    const orchestrator = await runtime(ns, 'orch', true);
    const wire = await snoop(ns);
    const hostRuntime = await runtime(ns, 'host-1', false);
    let release: (value: unknown) => void = () => undefined;
    const host = new AgentHost({ bus: hostRuntime.bus, hostId: 'host-1' });
    cleanup.add(host);
    host.addAgent('host-1-worker', { capabilities: ['x'], execute: () => new Promise((resolve) => (release = resolve)) });
    host.start();
    await waitFor(() => orchestrator.orchestrator.getAgent('host-1-worker') !== undefined, 10_000, 'host-1 registered');

    const { taskId } = orchestrator.orchestrator.submitTask({ requiredCapabilities: ['x'] });
    await waitFor(() => orchestrator.orchestrator.getTask(taskId)?.status === 'running', 10_000, 'the task running on host-1');
    // The snooper is another connection: it may see the assignment after host-1 did.
    await waitFor(() => wire.assignments.some((a) => a.taskId === taskId), 10_000, 'the assignment seen on the wire');
    const assignment = wire.assignments.find((a) => a.taskId === taskId);
    expect(assignment?.dispatch).toMatch(/^[0-9a-f-]{36}$/);

    // host-3 forges results in the worker's name: with the token it read off the wire, and without one.
    const attacker = await runtime(ns, 'host-3', false);
    const forge = (payload: Record<string, unknown>) =>
      attacker.bus.sendMessage({ senderId: 'host-1-worker', recipientId: 'orchestrator', messageType: 'notification', topic: 'task_result', payload });
    forge({ taskId, attempt: 0, dispatch: assignment?.dispatch, status: 'completed', result: 'forged' });
    forge({ taskId, attempt: 0, status: 'completed', result: 'forged' });
    // Claiming the origin in the message itself changes nothing: the receiver writes it from the subject.
    attacker.bus.sendMessage({
      senderId: 'host-1-worker',
      recipientId: 'orchestrator',
      messageType: 'notification',
      topic: 'task_result',
      headers: { [ORIGIN_HEADER]: 'host-1' },
      payload: { taskId, attempt: 0, dispatch: assignment?.dispatch, status: 'completed', result: 'forged' },
    });
    // A process without any identity is no better.
    const anonymous = await runtime(ns, undefined, false);
    anonymous.bus.sendMessage({
      senderId: 'host-1-worker',
      recipientId: 'orchestrator',
      messageType: 'notification',
      topic: 'task_result',
      payload: { taskId, attempt: 0, dispatch: assignment?.dispatch, status: 'completed', result: 'forged' },
    });
    await waitFor(
      () => {
        const { refusedResults } = orchestrator.orchestrator.getStats();
        return refusedResults.wrongHost + refusedResults.noToken === 4;
      },
      10_000,
      'the four forged results refused',
    );
    expect(orchestrator.orchestrator.getStats().refusedResults).toEqual({ noToken: 1, wrongHost: 3 });
    expect(orchestrator.orchestrator.getTask(taskId)?.status).toBe('running');

    release('real');
    expect(await orchestrator.orchestrator.waitForTask(taskId)).toMatchObject({ status: 'completed', result: 'real', assignedAgent: 'host-1-worker' });
  }, 40_000);

  test('streams created by a version without the publisher prefix get the new subjects; commands go through', async () => {
    const ns = 'ident-upgrade';
    const nc = cleanup.add(await connect({ servers: server().url }));
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: `NF_${ns.replace(/-/g, '_')}`, subjects: [`nf.${ns}.durable.>`], retention: RetentionPolicy.Workqueue });
    await jsm.streams.add({ name: `NF_${ns.replace(/-/g, '_')}_DLQ`, subjects: [`nf.${ns}.dlq`] });
    const receiver = await runtime(ns, 'b', false);
    const got: string[] = [];
    receiver.bus.registerAgent('worker', { handler: (m) => void got.push(m.topic) });
    const sender = await runtime(ns, 'a', false);
    sender.bus.registerAgent('client').send({ recipientId: 'worker', messageType: 'command', topic: 'after-upgrade' });
    await waitFor(() => got.length === 1, 10_000, 'the command');
    expect((await jsm.streams.info(`NF_${ns.replace(/-/g, '_')}`)).config.subjects).toEqual([`nf.${ns}.durable.>`, `nf.${ns}.from.*.durable.>`]);
    expect((await jsm.streams.info(`NF_${ns.replace(/-/g, '_')}_DLQ`)).config.subjects).toEqual([`nf.${ns}.dlq`, `nf.${ns}.from.*.dlq`]);
  }, 40_000);

  test('a presence for another host id is refused; its agents are not registered', async () => {
    const ns = 'ident-presence';
    const orchestrator = await runtime(ns, 'orch', true);
    const attacker = await runtime(ns, 'host-3', false);
    const forged = new AgentHost({ bus: attacker.bus, hostId: 'host-1' });
    cleanup.add(forged);
    forged.addAgent('planted', { capabilities: ['x'], execute: () => 'stolen' });
    forged.start();
    await waitFor(() => orchestrator.orchestrator.getStats().hosts.refusedAnnouncements >= 1, 10_000, 'the forged presence refused');
    expect(orchestrator.orchestrator.getAgent('planted')).toBeUndefined();
    expect(orchestrator.orchestrator.getStats().hosts.alive).toBe(0);

    // Under its own identity the same host is welcome.
    const honest = await runtime(ns, 'host-1', false);
    const host = new AgentHost({ bus: honest.bus, hostId: 'host-1' });
    cleanup.add(host);
    host.addAgent('host-1-worker', { capabilities: ['x'], execute: () => 'ok' });
    host.start();
    await waitFor(() => orchestrator.orchestrator.getAgent('host-1-worker') !== undefined, 10_000, 'host-1 registered');
    // Now that host-1 is known under its identity, an unidentified process cannot speak for it either.
    const before = orchestrator.orchestrator.getStats().hosts.refusedAnnouncements;
    const anonymous = await runtime(ns, undefined, false);
    anonymous.bus.publishEvent({
      senderId: 'host-1',
      topic: 'agent_presence',
      payload: { hostId: 'host-1', status: 'leaving', heartbeatIntervalMs: 1000, agents: [] },
    });
    await waitFor(() => orchestrator.orchestrator.getStats().hosts.refusedAnnouncements > before, 10_000, 'the unidentified presence refused');
    expect(orchestrator.orchestrator.getAgent('host-1-worker')).toBeDefined();
  }, 40_000);
});
