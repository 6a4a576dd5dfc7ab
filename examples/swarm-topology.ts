/** Guide: network topology and connections. Agents as neurons; a signal propagates over directed connections. */
import { NeuralSwarmNetwork } from '../src';

export async function runSwarmTopology() {
  const swarm = new NeuralSwarmNetwork({ networkId: 'trading_swarm', seed: 1 });
  for (const id of ['analysis', 'sentiment', 'risk', 'trading']) swarm.addAgent(id, { activationThreshold: 0.3 });
  swarm.createConnection('analysis', 'risk', { initialStrength: 0.8 });
  swarm.createConnection('sentiment', 'risk', { initialStrength: 0.6 });
  swarm.createConnection('risk', 'trading', { initialStrength: 0.9 });
  const propagation = swarm.propagateSignal('analysis', 0.9, { maxLayers: 3 });
  const stats = swarm.getStats();
  swarm.stop();
  return { fired: propagation.fired.map((f) => f.agentId), density: stats.networkDensity, connections: stats.activeConnections };
}

if (require.main === module) void runSwarmTopology().then((r) => console.log(r));
