/**
 * A NATS transport closed while its start() still waits on the server (nf.stop() during
 * nf.start()): the connection made meanwhile is closed, and nothing is set up after it.
 */
import { CommunicationBus } from '../src/bus/communicationBus';
import { nats } from '../src/transport';
import { describeWithServer, NATS_SERVER_BIN, natsServerForSuite } from './support/servers';

interface TransportInternals {
  readonly nc?: { isClosed(): boolean; closed(): Promise<unknown> };
  readonly coreSubs: readonly unknown[];
  readonly heartbeat?: unknown;
  readonly state: string;
}

describeWithServer(NATS_SERVER_BIN, 'NATS transport: close() during start()', () => {
  const server = natsServerForSuite();

  test('the connection made after close() is closed, with no subscription, timer or running state', async () => {
    const bus = new CommunicationBus();
    const transport = nats({ servers: server().url, namespace: 'closing' });
    transport.attach(bus);
    const starting = transport.start();
    await transport.close();
    await starting;
    const internals = transport as unknown as TransportInternals;
    expect(internals.state).toBe('closed');
    expect(internals.coreSubs).toEqual([]);
    expect(internals.heartbeat).toBeUndefined();
    await internals.nc?.closed();
    expect(internals.nc?.isClosed() ?? true).toBe(true);
    await bus.stop();
  });
});
