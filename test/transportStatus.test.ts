/**
 * The transport's status stream: JetStream consumer problems that the client retries
 * silently, and connection changes, are reported on `status$` and counted (own
 * nats-server -js on a free port).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { createNeuroFlux, nats, type ConnectionStatusEvent } from '../src';
import { Subjects } from '../src/transport';
import { consumerProblem, connectionStatusOf } from '../src/transport/transportStatus';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, NATS_SERVER_BIN, natsClientForSuite, natsServerForSuite, startNatsServer, waitFor } from './support/servers';

describeWithServer(NATS_SERVER_BIN, 'NatsTransport status$', () => {
  const server = natsServerForSuite();
  const cleanup = cleanupAfterEach();
  const natsClient = natsClientForSuite(server);

  test('a consumer deleted under a running agent is reported on status$ and counted', async () => {
    const namespace = 'status';
    const subjects = new Subjects(namespace);
    const transport = nats({ servers: server().url, namespace });
    const nf = cleanup.add(createNeuroFlux({ transport, orchestrator: false }));
    nf.bus.registerAgent('worker', { handler: () => undefined });
    await nf.start();
    const events: ConnectionStatusEvent[] = [];
    transport.status$.subscribe((event) => events.push(event));
    expect(transport.getStats().status.errors).toBe(0);

    const jsm = await jetstreamManager(natsClient());
    const consumer = `nf_${subjects.agentToken('worker')}_high`;
    await jsm.consumers.delete(subjects.stream(), consumer);
    await waitFor(() => events.some((e) => e.kind === 'error' && e.source === `consumer ${consumer}`), 15_000, 'a consumer error event');
    const event = events.find((e) => e.source === `consumer ${consumer}`);
    expect(event).toMatchObject({ kind: 'error', error: expect.stringMatching(/consumer .*(deleted|not found)/), at: expect.any(Number) });
    expect(transport.getStats().status).toMatchObject({ lastError: { kind: 'error', source: `consumer ${consumer}` } });
    expect(transport.getStats().status.errors).toBeGreaterThan(0);
  }, 30_000);

  test('a durable publish the server keeps refusing is reported on status$ from its first failure (it is retried meanwhile)', async () => {
    const namespace = 'refused';
    const subjects = new Subjects(namespace);
    const transport = nats({ servers: server().url, namespace });
    const nf = cleanup.add(createNeuroFlux({ transport, orchestrator: false }));
    await nf.start();
    const events: ConnectionStatusEvent[] = [];
    transport.status$.subscribe((event) => events.push(event));
    // No stream takes the subject any more: every publish attempt fails.
    await (await jetstreamManager(natsClient())).streams.delete(subjects.stream());
    nf.bus.sendMessage({ senderId: 'someone', recipientId: 'elsewhere', messageType: 'command', topic: 'task_assignment', payload: {} });
    await waitFor(() => events.some((e) => e.kind === 'error' && e.source === 'publish'), 15_000, 'a publish error event');
    expect(transport.getStats().publishRetries).toBeGreaterThan(0);
  }, 30_000);

  test('a lost server is reported as an error and reconnecting, its return as ready', async () => {
    const own = await startNatsServer();
    cleanup.defer(() => own.stop());
    const transport = nats({ servers: own.url, namespace: 'reconnect', reconnectTimeWaitMs: 50 });
    const nf = cleanup.add(createNeuroFlux({ transport, orchestrator: false }));
    await nf.start();
    const events: ConnectionStatusEvent[] = [];
    transport.status$.subscribe((event) => events.push(event));

    await own.kill();
    await waitFor(() => events.some((e) => e.kind === 'reconnecting'), 15_000, 'reconnecting');
    expect(events.find((e) => e.kind === 'error')).toMatchObject({ source: 'connection', error: expect.stringContaining('disconnected') });
    await own.restart();
    await waitFor(() => events.some((e) => e.kind === 'ready'), 15_000, 'ready again');
    expect(transport.getStats().status.readies).toBe(1);
  }, 40_000);
});

describe('transport status mapping', () => {
  it('reports consumer problems and ignores informational notifications', () => {
    expect(consumerProblem({ type: 'consumer_deleted', code: 409, description: 'Consumer Deleted' })).toBe('consumer deleted (409 Consumer Deleted)');
    expect(consumerProblem({ type: 'heartbeats_missed', count: 2 })).toBe('2 heartbeats missed');
    expect(consumerProblem({ type: 'flow_control' })).toBeUndefined();
    expect(consumerProblem({ type: 'discard', messagesLeft: 1, bytesLeft: 0 })).toBeUndefined();
  });

  it('maps connection changes to status kinds', () => {
    expect(connectionStatusOf({ type: 'reconnecting' })).toEqual({ kind: 'reconnecting' });
    expect(connectionStatusOf({ type: 'reconnect', server: 'x' })).toEqual({ kind: 'ready' });
    expect(connectionStatusOf({ type: 'ping', pendingPings: 1 })).toBeUndefined();
  });
});
