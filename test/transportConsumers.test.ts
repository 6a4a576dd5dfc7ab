/**
 * Durable consumers of agents that are gone: the server deletes them after
 * `consumerInactiveMs`, and a command sent meanwhile is still delivered when the agent
 * registers again (own nats-server -js on a free port).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { createNeuroFlux, nats, type Message } from '../src';
import { Subjects } from '../src/transport';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, NATS_SERVER_BIN, natsClientForSuite, natsServerForSuite, waitFor } from './support/servers';

describeWithServer(NATS_SERVER_BIN, 'NatsTransport durable consumers of departed agents', () => {
  const server = natsServerForSuite();
  const cleanup = cleanupAfterEach();
  const natsClient = natsClientForSuite(server);

  test('an agent gone for consumerInactiveMs leaves no consumers; its commands wait in the stream for its return', async () => {
    const namespace = 'inactive';
    const subjects = new Subjects(namespace);
    const options = { servers: server().url, namespace, consumerInactiveMs: 1000 };
    const consumersOf = async () => {
      const jsm = await jetstreamManager(natsClient());
      const names: string[] = [];
      // The server lists a consumer it is deleting as null.
      for await (const info of jsm.consumers.list(subjects.stream())) if (info?.name.includes('worker')) names.push(info.name);
      return names;
    };

    const host = cleanup.add(createNeuroFlux({ transport: nats(options), orchestrator: false }));
    host.bus.registerAgent('worker', { handler: () => undefined });
    await host.start();
    await waitFor(async () => (await consumersOf()).length === 4, 10_000, 'one consumer per priority');
    const jsm = await jetstreamManager(natsClient());
    const [name] = await consumersOf();
    expect((await jsm.consumers.info(subjects.stream(), name as string)).config.inactive_threshold).toBe(1_000_000_000);
    await host.stop(); // the agent's process is gone

    const sender = cleanup.add(createNeuroFlux({ transport: nats(options), orchestrator: false }));
    const client = sender.bus.registerAgent('client');
    await sender.start();
    const sent = client.send({ recipientId: 'worker', messageType: 'command', topic: 'while-away', payload: { n: 1 } });
    // The server's own clock: it removes the idle consumers after about a second.
    await waitFor(async () => (await consumersOf()).length === 0, 15_000, 'the idle consumers deleted by the server');

    const back = cleanup.add(createNeuroFlux({ transport: nats(options), orchestrator: false }));
    const received: Message[] = [];
    back.bus.registerAgent('worker', { handler: (m) => void received.push(m) });
    await back.start();
    await waitFor(() => received.length === 1, 10_000, 'the command sent while the agent was away');
    expect(received[0]).toMatchObject({ messageId: sent.messageId, topic: 'while-away', payload: { n: 1 } });
  }, 40_000);
});
