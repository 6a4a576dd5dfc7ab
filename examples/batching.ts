/**
 * Guide: communication optimization. Batching: a busy route hands the agent batches, one
 * actor step per batch, not per message. Compression: a payload over 1 KiB is gzipped when
 * it crosses a process boundary (the NATS transport's envelope), flagged in a header.
 */
import { CommunicationBus, EnvelopeHeader, decodeEnvelope, encodeEnvelope } from '../src';

export async function runBatching(): Promise<{ messages: number; steps: number; compressed: boolean; bytes: { json: number; sent: number }; roundTrip: boolean }> {
  const bus = new CommunicationBus({ batchSize: 10 });
  let messages = 0;
  const agent = bus.registerAgent('analysis_agent_1', { concurrency: 10, handler: () => void messages++ });
  const feed = bus.registerAgent('data_feed_agent');
  await bus.start();
  for (let i = 0; i < 100; i++) feed.send({ recipientId: 'analysis_agent_1', messageType: 'event', topic: 'tick', payload: { i } });
  await bus.whenIdle();
  const steps = agent.actor.getSnapshot().context.delivered / 10; // 100 messages in batches of 10

  // A large market snapshot: what the transport puts on the wire.
  const snapshot = feed.send({
    recipientId: 'analysis_agent_1',
    messageType: 'event',
    topic: 'order_book',
    payload: { bids: Array.from({ length: 200 }, (_, i) => [45_000 - i, 1.5]) },
  });
  await bus.whenIdle();
  await bus.stop();
  const envelope = encodeEnvelope(snapshot, {});
  const decoded = decodeEnvelope(envelope.body, (name) => envelope.headers[name], { maxFrameBytes: 1 << 20 });
  return {
    messages: messages - 1,
    steps,
    compressed: envelope.headers[EnvelopeHeader.ENCODING] === 'gzip',
    bytes: { json: JSON.stringify(snapshot).length, sent: envelope.body.byteLength },
    roundTrip: decoded.ok && JSON.stringify(decoded.frame) === JSON.stringify(snapshot),
  };
}

if (require.main === module) void runBatching().then((r) => console.log(r));
