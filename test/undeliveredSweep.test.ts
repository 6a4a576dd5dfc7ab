/**
 * Commands for an agent that never comes back do not stay in the work-queue stream for
 * ever: once older than `undeliveredMaxAgeMs` (server time) with no process consuming the
 * agent, they move to `nf.<ns>.dlq` and become bus dead letters (`no_route`). Messages of an
 * agent that is consumed stay, whatever their age. Own nats-server -js on a free port; the
 * sweep is called with a `now` past the bound instead of waiting a day.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { createNeuroFlux, DeadLetterHeader, nats, ValidationError, type AnyDeadLetter, type NatsTransport, type NeuroFlux } from '../src';
import { durableConsumerOf } from '../src/transport/undeliveredSweep';
import { cleanupAfterEach } from './support/cleanup';
import { describeWithServer, NATS_SERVER_BIN, natsServerForSuite, waitFor } from './support/servers';

const DAY = 24 * 3_600_000;

describeWithServer(NATS_SERVER_BIN, 'undelivered durable messages', () => {
  const server = natsServerForSuite();
  const cleanup = cleanupAfterEach();

  async function runtime(namespace: string): Promise<{ nf: NeuroFlux; transport: NatsTransport; deadLetters: AnyDeadLetter[] }> {
    const transport = nats({ servers: server().url, namespace });
    const nf = cleanup.add(createNeuroFlux({ transport, orchestrator: false }));
    const deadLetters: AnyDeadLetter[] = [];
    nf.bus.deadLetters$.subscribe((d) => deadLetters.push(d));
    await nf.start();
    return { nf, transport, deadLetters };
  }

  async function streams(namespace: string) {
    const nc = cleanup.add(await connect({ servers: server().url }));
    const jsm = await jetstreamManager(nc);
    const stream = `NF_${namespace.replace(/-/g, '_')}`;
    return {
      pending: async () => (await jsm.streams.info(stream)).state.messages,
      waiting: async (consumer: string) => (await jsm.consumers.info(stream, consumer)).num_waiting,
      deadLettered: async () => {
        const info = await jsm.streams.info(`${stream}_DLQ`);
        const letters = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const m = await jsm.streams.getMessage(`${stream}_DLQ`, { seq }).catch(() => null);
          if (m) letters.push({ reason: m.header.get(DeadLetterHeader.REASON), agent: m.header.get(DeadLetterHeader.AGENT), error: m.header.get(DeadLetterHeader.ERROR) });
        }
        return letters;
      },
    };
  }

  test('a command for an agent nobody consumes moves to the DLQ once older than undeliveredMaxAgeMs, not before', async () => {
    const ns = `sweep-${randomUUID().slice(0, 8)}`;
    // An id that is not a plain subject token: the dead letter names the agent, not its token.
    const { nf, transport, deadLetters } = await runtime(ns);
    const wire = await streams(ns);
    nf.bus.sendMessage({ senderId: 'orchestrator', recipientId: 'ghost.one', messageType: 'command', topic: 'task_assignment', payload: { taskId: 't1' } });
    await waitFor(async () => (await wire.pending()) === 1, 10_000, 'the command stored in the work queue');

    expect(await transport.sweepUndelivered()).toBe(0); // younger than a day
    expect(await transport.sweepUndelivered(Date.now() + DAY - 60_000)).toBe(0);
    expect(await wire.pending()).toBe(1);

    expect(await transport.sweepUndelivered(Date.now() + DAY + 1000)).toBe(1);
    expect(await wire.pending()).toBe(0);
    expect(await wire.deadLettered()).toEqual([{ reason: 'no_route', agent: 'ghost.one', error: expect.stringMatching(/undeliveredMaxAgeMs.*agent gone/) }]);
    expect(transport.getStats().deadLettered).toBe(1);
    expect(deadLetters).toEqual([expect.objectContaining({ reason: 'no_route', message: expect.objectContaining({ recipientId: 'ghost.one', topic: 'task_assignment' }) })]);
    // Moved once: a second sweep (or another process's) finds nothing.
    expect(await transport.sweepUndelivered(Date.now() + DAY + 1000)).toBe(0);
  });

  test('messages of an agent that a process consumes stay, however old', async () => {
    const ns = `sweep-${randomUUID().slice(0, 8)}`;
    const sender = await runtime(ns);
    const receiver = await runtime(ns);
    const wire = await streams(ns);
    const received: string[] = [];
    // Holds what it gets: the message stays in the stream, unacknowledged, while it runs.
    receiver.nf.bus.registerAgent('busy', { handler: (m) => (received.push(m.topic), new Promise(() => undefined)) });
    sender.nf.bus.sendMessage({ senderId: 'x', recipientId: 'busy', messageType: 'command', topic: 'long_job' });
    await waitFor(() => received.length === 1, 10_000, 'the busy agent holding its command');
    sender.nf.bus.sendMessage({ senderId: 'x', recipientId: 'ghost', messageType: 'command', topic: 'lost' });
    await waitFor(async () => (await wire.pending()) === 2, 10_000, 'both stored');

    expect(await sender.transport.sweepUndelivered(Date.now() + 2 * DAY)).toBe(1);
    expect(await wire.pending()).toBe(1); // the busy agent's command is still there
    expect((await wire.deadLettered()).map((d) => d.agent)).toEqual(['ghost']);
  });

  test('an agent whose process went away keeps its consumer for consumerInactiveMs; its commands move once nobody pulls on it', async () => {
    const ns = `sweep-${randomUUID().slice(0, 8)}`;
    const sender = await runtime(ns);
    const leaver = await runtime(ns);
    const wire = await streams(ns);
    const received: string[] = [];
    leaver.nf.bus.registerAgent('leaver', { handler: (m) => void received.push(m.topic) });
    sender.nf.bus.sendMessage({ senderId: 'x', recipientId: 'leaver', messageType: 'command', topic: 'first' });
    await waitFor(() => received.length === 1, 10_000, 'the leaver consuming');
    await leaver.nf.stop();
    sender.nf.bus.sendMessage({ senderId: 'x', recipientId: 'leaver', messageType: 'command', topic: 'after-it-left' });
    await waitFor(async () => (await wire.pending()) === 1, 10_000, 'the command stored');
    // Its pulls end with its connection (or expire): then the consumer, still there, has nobody behind it.
    await waitFor(async () => (await wire.waiting('nf_leaver_medium')) === 0, 60_000, 'no pull outstanding on the consumer', 200);
    expect(await sender.transport.sweepUndelivered(Date.now() + 2 * DAY)).toBe(1);
    expect(await wire.deadLettered()).toEqual([expect.objectContaining({ agent: 'leaver', error: expect.stringMatching(/no process pulls on consumer 'nf_leaver_medium'/) })]);
  }, 90_000);

  test('undeliveredMaxAgeMs is validated; stored subjects map to their consumers', () => {
    for (const bad of [999, 1.5, -1, Number.NaN, Infinity]) {
      let error: unknown;
      try {
        nats({ servers: 'nats://127.0.0.1:1', undeliveredMaxAgeMs: bad });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('undeliveredMaxAgeMs');
    }
    expect(durableConsumerOf('nf.p.from.host-1.durable.agent.ghost.high')).toBe('nf_ghost_high');
    expect(durableConsumerOf('nf.p.durable.agent.~YS5i.normal')).toBe('nf_~YS5i_normal');
    expect(durableConsumerOf('nf.p.from.x.dlq')).toBeUndefined();
  });
});
