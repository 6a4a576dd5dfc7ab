/** Guide: message routing and priority. Critical messages overtake a backlog of lower ones. */
import { createNeuroFlux } from '../src';

export async function runPriorityRouting(): Promise<string[]> {
  const nf = createNeuroFlux();
  const order: string[] = [];
  const agent = nf.bus.registerAgent('trading_agent_1', { handler: (m) => void order.push(`${m.priority}:${m.topic}`) });
  const sender = nf.bus.registerAgent('router');
  agent.setOnline(false); // a backlog builds up while the agent is away
  await nf.start();
  sender.send({ recipientId: 'trading_agent_1', messageType: 'command', topic: 'rebalance', priority: 'low' });
  sender.send({ recipientId: 'trading_agent_1', messageType: 'command', topic: 'market_update', priority: 'medium' });
  sender.send({ recipientId: 'trading_agent_1', messageType: 'command', topic: 'risk_alert', priority: 'high' });
  sender.send({ recipientId: 'trading_agent_1', messageType: 'command', topic: 'halt', priority: 'critical' });
  agent.setOnline(true);
  await nf.bus.whenIdle();
  await nf.stop();
  return order;
}

if (require.main === module) void runPriorityRouting().then((r) => console.log(r.join(' → ')));
