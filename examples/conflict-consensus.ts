/** Guide: conflict detection and consensus. Opposing signals are detected and settled by weighted consensus over the bus. */
import { createNeuroFlux, type ConflictResolution } from '../src';

export async function runConflictConsensus(): Promise<ConflictResolution> {
  const nf = createNeuroFlux();
  const views: Record<string, { decision: string; confidence: number }> = {
    analysis_agent_1: { decision: 'BUY', confidence: 0.9 },
    analysis_agent_2: { decision: 'BUY', confidence: 0.8 },
    sentiment_agent_1: { decision: 'SELL', confidence: 0.4 },
  };
  for (const [id, view] of Object.entries(views)) {
    nf.bus.registerAgent(id, {
      handler: (m, agent) => void (m.topic === 'conflict_vote' && agent.respond(m, { ...view, reasoning: `${id}'s indicators` })),
    });
  }
  nf.bus.registerAgent('trading_agent_1', { handler: () => undefined });
  await nf.start();
  const [conflict] = nf.conflicts.detectSignalConflict(
    Object.entries(views).map(([agentId, v]) => ({ agentId, symbol: 'BTC/USD', timeframe: '1h', signal: v.decision, confidence: v.confidence })),
    { rule: 'code' },
  );
  if (!conflict) throw new Error('expected a signal conflict');
  const resolution = await nf.conflicts.resolveConflict(conflict.conflictId, { algorithm: 'weighted_consensus' });
  nf.conflicts.recordOutcome(conflict.conflictId, 'BUY'); // the market agreed: wrong voters lose weight
  await nf.stop();
  return resolution;
}

if (require.main === module) void runConflictConsensus().then((r) => console.log(r.status, r.decision, r.confidence.toFixed(2), r.action));
