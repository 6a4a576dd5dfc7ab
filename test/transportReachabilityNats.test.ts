/**
 * Issue #16 over a real nats-server (own server on a free port, killed and restarted): the
 * agents of a host runtime read `offline` while its NATS connection is lost and `online`
 * once it is back. The loopback suite (test/transportReachability.test.ts) covers the cases.
 */
import { AgentHost, createNeuroFlux, nats, silentLogger, type NeuroFlux } from '../src';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, NATS_SERVER_BIN, startNatsServer, waitFor } from './support/servers';

function topState(nf: NeuroFlux, agentId: string): string {
  const snapshot = nf.bus.getAgent(agentId)?.actor.getSnapshot() as { value: Record<string, string> } | undefined;
  return Object.keys(snapshot?.value ?? {})[0] ?? 'none';
}

describeWithServer(NATS_SERVER_BIN, 'NATS: host-side agents and the connection', () => {
  const cleanup = cleanupAfterEach();

  test('a host agent reads offline while the server is gone and online once the connection is back', async () => {
    const own = await startNatsServer();
    cleanup.defer(() => own.stop());
    const transport = nats({ servers: own.url, namespace: 'reach', identity: 'host-1', reconnectTimeWaitMs: 50 });
    const nf = cleanup.add(createNeuroFlux({ logger: silentLogger, transport, orchestrator: false }));
    await nf.start();
    const host = new AgentHost({ bus: nf.bus, hostId: 'host-1' });
    cleanup.add(host);
    host.addAgent('host-1-worker', { capabilities: ['compute'], execute: () => 1 });
    expect(topState(nf, 'host-1-worker')).toBe('online');

    await own.kill();
    await waitFor(() => topState(nf, 'host-1-worker') === 'offline', 15_000, 'the agent offline');
    await own.restart();
    await waitFor(() => topState(nf, 'host-1-worker') === 'online', 15_000, 'the agent online again');
  }, 40_000);
});
