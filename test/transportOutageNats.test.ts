/**
 * The review of issue #16 over a real nats-server (own server on a free port, killed and
 * restarted): an orchestrator that loses the server presumes no host dead for heartbeats it
 * could not hear, so the task running on a host runs once; and what a process publishes while
 * disconnected is bounded by `reconnectBufferBytes` (the JavaScript client has no bound). The
 * loopback suites (test/transportReachabilityOrchestrator.test.ts,
 * test/transportReconnectBuffer.test.ts) cover the cases on a simulated clock.
 */
import { randomBytes } from 'node:crypto';
import { AgentHost, createNeuroFlux, nats, silentLogger, type ConnectionStatusEvent, type Message } from '../src';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, NATS_SERVER_BIN, startNatsServer, waitFor } from './support/servers';

describeWithServer(NATS_SERVER_BIN, 'NATS: a lost server and what the runtimes do meanwhile', () => {
  const cleanup = cleanupAfterEach();

  test('an orchestrator cut off longer than the heartbeat window loses no host, and the running task runs once', async () => {
    const own = await startNatsServer();
    cleanup.defer(() => own.stop());
    const orchTransport = nats({ servers: own.url, namespace: 'outage', identity: 'orch', reconnectTimeWaitMs: 50 });
    const orch = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: orchTransport, orchestrator: { missedHeartbeats: 8 } }));
    const hostNf = cleanup.add(
      createNeuroFlux({ logger: silentLogger, transport: nats({ servers: own.url, namespace: 'outage', identity: 'h1', reconnectTimeWaitMs: 50 }), orchestrator: false }),
    );
    await Promise.all([orch.start(), hostNf.start()]);
    const host = cleanup.add(new AgentHost({ bus: hostNf.bus, hostId: 'h1', heartbeatIntervalMs: 500 }));
    let runs = 0;
    let finish: (value: string) => void = () => undefined;
    host.addAgent('h1-w', {
      capabilities: ['c'],
      execute: () => {
        runs++;
        return new Promise<string>((resolve) => (finish = resolve));
      },
    });
    host.start();
    await waitFor(() => orch.orchestrator.getAgent('h1-w') !== undefined, 10_000, 'the host announced');
    orch.orchestrator.submitTask({ taskId: 'a', requiredCapabilities: ['c'], timeoutSeconds: 600 });
    await waitFor(() => runs === 1, 10_000, 'the task running on the host');
    const reconnects = orchTransport.getStats().status.readies;

    await own.kill();
    // Past the 4 s window (8 × 500 ms): on the old code the host was lost here. The window is
    // wide so that a loaded CI machine's stalls (GC, other jest workers) cannot lapse it before
    // the kill or before the host's first heartbeat after the reconnect.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(orch.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 0 });
    await own.restart();
    await waitFor(() => orchTransport.getStats().status.readies > reconnects, 15_000, 'the orchestrator reconnected');
    // A full window after the reconnect: the host's heartbeats are heard again.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(orch.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 0 });
    expect(runs).toBe(1);

    finish('done');
    await waitFor(() => orch.orchestrator.getTask('a')?.status === 'completed', 15_000, 'the task completed');
    expect(runs).toBe(1);
    expect(orch.orchestrator.getTask('a')).toMatchObject({ result: 'done', assignedAgent: 'h1-w' });
  }, 60_000);

  test('frames published while disconnected past reconnectBufferBytes are dropped, counted and reported once', async () => {
    const own = await startNatsServer();
    cleanup.defer(() => own.stop());
    const transport = nats({ servers: own.url, namespace: 'outbuf', identity: 'b', reconnectTimeWaitMs: 50, reconnectBufferBytes: 4096 });
    const events: ConnectionStatusEvent[] = [];
    transport.status$.subscribe((e) => events.push(e));
    const sender = cleanup.add(createNeuroFlux({ logger: silentLogger, transport, orchestrator: false }));
    const receiver = cleanup.add(
      createNeuroFlux({ logger: silentLogger, transport: nats({ servers: own.url, namespace: 'outbuf', identity: 'a', reconnectTimeWaitMs: 50 }), orchestrator: false }),
    );
    await Promise.all([sender.start(), receiver.start()]);
    const received: string[] = [];
    receiver.bus.registerAgent('sink', { topics: ['t.*'], handler: (m: Message) => void received.push(String(m.payload)) });
    await new Promise((resolve) => setTimeout(resolve, 200));

    await own.kill();
    await waitFor(() => events.some((e) => e.kind === 'reconnecting'), 15_000, 'the sender reconnecting');
    // One frame per turn (frames of one turn go out as one batch): 20 frames of ~1 KB (random: not compressed).
    for (let i = 0; i < 20; i++) {
      sender.bus.publishEvent({ senderId: 'x', topic: 't.x', payload: `${i}:${randomBytes(750).toString('base64')}` });
      await new Promise((resolve) => setImmediate(resolve));
    }
    const lost = transport.getStats().lostWhileCutOff;
    expect(lost).toBeGreaterThan(10);
    expect(lost).toBeLessThan(20);
    expect(events.filter((e) => e.source === 'reconnect buffer')).toHaveLength(1);

    await own.restart();
    await waitFor(() => events.some((e) => e.kind === 'ready'), 15_000, 'the sender reconnected');
    // Published until it arrives: the receiver subscribes again on its own reconnect.
    await waitFor(
      () => {
        sender.bus.publishEvent({ senderId: 'x', topic: 't.x', payload: 'after' });
        return received.includes('after');
      },
      15_000,
      'a frame after the reconnect',
      100,
    );
    // What was dropped never arrives. (What was kept goes out on the reconnect, but core NATS
    // delivers it only if the receiver has subscribed again by then: not asserted.)
    expect(received.filter((p) => p !== 'after').length).toBeLessThanOrEqual(20 - lost);
    expect(transport.getStats().lostWhileCutOff).toBe(lost);
  }, 60_000);
});
