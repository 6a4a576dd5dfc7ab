/** Guide: broadcast. An emergency reaches every agent but the sender, at critical priority. */
import { createNeuroFlux } from '../src';

export async function runBroadcast(): Promise<string[]> {
  const nf = createNeuroFlux();
  const halted: string[] = [];
  for (const id of ['trading_agent_1', 'trading_agent_2', 'analysis_agent_1']) {
    nf.bus.registerAgent(id, { handler: (m) => void (m.topic === 'emergency' && halted.push(id)) });
  }
  const risk = nf.bus.registerAgent('risk_agent_1');
  await nf.start();
  risk.broadcast({ topic: 'emergency', payload: { type: 'circuit_breaker', reason: 'Portfolio loss > 10%', action: 'halt_all_trading' }, priority: 'critical' });
  await nf.bus.whenIdle();
  await nf.stop();
  return halted.sort();
}

if (require.main === module) void runBroadcast().then((r) => console.log('halted:', r));
