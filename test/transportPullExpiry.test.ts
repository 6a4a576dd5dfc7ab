/**
 * How long an agent's pull requests last (own nats-server -js on a free port). When the NATS
 * node holding a pending pull dies, the client pulls again only after two missed idle
 * heartbeats (half the pull's `expires`): with the client's default 30 s, nothing reached the
 * agent for 15 – 45 s in the chaos run on a cluster (bench/chaos.ts). Read off the pull
 * requests themselves, so no timing is involved.
 */
import { createNeuroFlux, nats } from '../src';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, NATS_SERVER_BIN, natsClientForSuite, natsServerForSuite, waitFor } from './support/servers';

const NANOS_PER_MS = 1_000_000;

describeWithServer(NATS_SERVER_BIN, 'NatsTransport pull requests', () => {
  const server = natsServerForSuite();
  const cleanup = cleanupAfterEach();
  const natsClient = natsClientForSuite(server);

  test("an agent's pulls expire within 5 s, with a heartbeat at most half that: a pull lost with its node is replaced within seconds", async () => {
    const pulls: { expires?: number; idle_heartbeat?: number }[] = [];
    // Pull requests are published on the JetStream API subject of the consumer: a plain subscriber sees them.
    const sub = natsClient().subscribe('$JS.API.CONSUMER.MSG.NEXT.>', { callback: (_, m) => void pulls.push(m.json()) });
    cleanup.defer(() => sub.unsubscribe());
    await natsClient().flush();

    const host = cleanup.add(createNeuroFlux({ transport: nats({ servers: server().url, namespace: 'pulls' }), orchestrator: false }));
    host.bus.registerAgent('worker', { handler: () => undefined });
    await host.start();
    await waitFor(() => pulls.length >= 4, 10_000, 'a pull per priority');

    for (const pull of pulls) {
      expect(pull.expires).toBeLessThanOrEqual(5000 * NANOS_PER_MS);
      expect(pull.idle_heartbeat).toBeLessThanOrEqual(2500 * NANOS_PER_MS);
    }
  });
});
