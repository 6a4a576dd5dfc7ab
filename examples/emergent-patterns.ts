/** Guide: emergent behavior and learning. Agents that fire together are found as a cluster pattern. */
import { NeuralSwarmNetwork } from '../src';

export async function runEmergentPatterns() {
  const swarm = new NeuralSwarmNetwork({ networkId: 'patterns', seed: 2 });
  for (const id of ['a', 'b', 'c', 'd']) swarm.addAgent(id, { activationThreshold: 0.2, refractoryPeriodMs: 0 });
  swarm.createConnection('a', 'b', { initialStrength: 0.9 });
  swarm.createConnection('b', 'c', { initialStrength: 0.9 });
  // a, b and c fire together on every signal from a; d stays silent.
  for (let i = 0; i < 8; i++) swarm.propagateSignal(i % 3 === 0 ? 'd' : 'a', 0.9);
  const patterns = swarm.detectEmergentPatterns();
  swarm.stop();
  return patterns.map((p) => ({ type: p.type, agents: [...p.involvedAgents].sort(), confidence: p.confidence }));
}

if (require.main === module) void runEmergentPatterns().then((r) => console.log(r));
