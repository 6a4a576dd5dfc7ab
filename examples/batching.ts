/** Guide: communication optimization. A busy route hands the agent batches: one actor step per batch, not per message. */
import { CommunicationBus } from '../src';

export async function runBatching(): Promise<{ messages: number; steps: number }> {
  const bus = new CommunicationBus({ batchSize: 10 });
  let messages = 0;
  const agent = bus.registerAgent('analysis_agent_1', { concurrency: 10, handler: () => void messages++ });
  const feed = bus.registerAgent('data_feed_agent');
  await bus.start();
  for (let i = 0; i < 100; i++) feed.send({ recipientId: 'analysis_agent_1', messageType: 'event', topic: 'tick', payload: { i } });
  await bus.whenIdle();
  const steps = agent.actor.getSnapshot().context.delivered / 10; // 100 messages in batches of 10
  await bus.stop();
  return { messages, steps };
}

if (require.main === module) void runBatching().then((r) => console.log(r));
