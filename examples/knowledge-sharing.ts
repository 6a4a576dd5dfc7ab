/** Guide: inter-agent learning. The top performers teach their successful patterns over the bus. */
import { createNeuroFlux } from '../src';

export async function runKnowledgeSharing(): Promise<string[]> {
  const nf = createNeuroFlux();
  const received: string[] = [];
  for (const id of ['veteran_1', 'veteran_2', 'rookie']) {
    nf.bus.registerAgent(id, { handler: (m) => void (m.topic === 'knowledge_transfer' && received.push(`${m.senderId} → ${id}`)) });
    nf.swarm.addAgent(id);
  }
  await nf.start();
  // Veterans complete many tasks of one type: they become top performers with a pattern to teach.
  for (let i = 0; i < 15; i++) {
    for (const v of ['veteran_1', 'veteran_2']) {
      nf.swarm.recordTaskCompleted({ taskId: `${v}-${i}`, agentId: v, taskType: 'analysis', producerAgentIds: [] });
    }
  }
  nf.swarm.facilitateKnowledgeSharing();
  await nf.bus.whenIdle();
  await nf.stop();
  return received.sort();
}

if (require.main === module) void runKnowledgeSharing().then((r) => console.log(r));
