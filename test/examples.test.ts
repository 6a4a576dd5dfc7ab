/** Every example runs, so none rots. */
import { runBatching } from '../examples/batching';
import { runCachingAndPools } from '../examples/caching-and-pools';
import { runProfiling } from '../examples/profiling';
import { runScaling } from '../examples/scaling';
import { runTracing } from '../examples/tracing';
import { runBroadcast } from '../examples/broadcast';
import { runConflictConsensus } from '../examples/conflict-consensus';
import { runEmergentPatterns } from '../examples/emergent-patterns';
import { runKnowledgeSharing } from '../examples/knowledge-sharing';
import { runLoadBalancing } from '../examples/load-balancing';
import { runParallelProcessing } from '../examples/parallel-processing';
import { runPriorityRouting } from '../examples/priority-routing';
import { runPublishSubscribe } from '../examples/publish-subscribe';
import { runRequestResponse } from '../examples/request-response';
import { runSwarmTopology } from '../examples/swarm-topology';
import { runTradingWorkflow } from '../examples/trading-workflow';
import { runEmbedInXState } from '../examples/embed-in-xstate';

describe('examples (one per guide section)', () => {
  test('request-response', async () => {
    expect(await runRequestResponse()).toEqual({ approved: true, maxAmount: 800 });
  });

  test('publish-subscribe', async () => {
    expect(await runPublishSubscribe()).toEqual({
      analysis: ['market_data.BTC.price', 'market_data.ETH.price'],
      btcTrader: ['market_data.BTC.price'],
    });
  });

  test('broadcast', async () => {
    expect(await runBroadcast()).toEqual(['analysis_agent_1', 'trading_agent_1', 'trading_agent_2']);
  });

  test('priority-routing', async () => {
    expect(await runPriorityRouting()).toEqual(['critical:halt', 'high:risk_alert', 'medium:market_update', 'low:rebalance']);
  });

  test('trading-workflow: analysis → risk → trade, each step fed by the previous one', async () => {
    const records = await runTradingWorkflow('ETH/USD', 1000);
    expect(records.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    expect(records[2]?.result).toEqual({ status: 'filled', quantity: 800 });
  });

  test('load-balancing: the weighted balancer spreads work and prefers the specialist', async () => {
    const perAgent = await runLoadBalancing();
    expect((perAgent.specialist ?? 0) + (perAgent.generalist ?? 0)).toBe(12);
    expect(perAgent.specialist ?? 0).toBeGreaterThan(perAgent.generalist ?? 0);
  });

  test('conflict-consensus', async () => {
    const resolution = await runConflictConsensus();
    expect(resolution).toMatchObject({ status: 'resolved', decision: 'BUY', achieved: true });
  });

  test('swarm-topology', async () => {
    const result = await runSwarmTopology();
    expect(result.fired).toEqual(['analysis', 'risk', 'trading']);
    expect(result.connections).toBe(3);
  });

  test('emergent-patterns', async () => {
    const patterns = await runEmergentPatterns();
    expect(patterns.some((p) => p.agents.includes('a') && p.agents.includes('b'))).toBe(true);
  });

  test('knowledge-sharing', async () => {
    expect(await runKnowledgeSharing()).toEqual(['veteran_1 → rookie', 'veteran_2 → rookie']);
  });

  test('batching and compression', async () => {
    const result = await runBatching();
    expect(result).toMatchObject({ messages: 100, compressed: true, roundTrip: true });
    expect(result.steps).toBeGreaterThanOrEqual(10);
    expect(result.bytes.sent).toBeLessThan(result.bytes.json / 2);
  });

  test('parallel-processing', async () => {
    const result = await runParallelProcessing();
    expect(result).toMatchObject({ completed: 20, retries: 2 });
    expect(result.peak).toBeLessThanOrEqual(4);
  });

  test('caching-and-pools', async () => {
    expect(await runCachingAndPools()).toEqual({ cached: { price: 45000 }, afterInvalidate: undefined, sameConnection: true });
  });

  test('scaling: a burst scales compute hosts up to four, calm brings them back to one, every task completes', async () => {
    const result = await runScaling();
    expect({ peakHosts: result.peakHosts, afterCalm: result.afterCalm, completed: result.completed }).toEqual({ peakHosts: 4, afterCalm: 1, completed: 24 });
    expect(result.decisions[0]).toMatch(/^scale_up compute 0→1/);
    expect(result.decisions[1]).toMatch(/^scale_up compute 1→4: \d+ tasks waiting/);
    expect(result.decisions.slice(2)).toEqual([
      expect.stringMatching(/^scale_down compute 4→3/),
      expect.stringMatching(/^scale_down compute 3→2/),
      expect.stringMatching(/^scale_down compute 2→1/),
    ]);
  });

  test('tracing: one workflow, one trace', async () => {
    const result = await runTracing();
    expect(result.traces).toBe(1);
    expect(result.spans.length).toBeGreaterThan(2);
  });

  test('profiling: latency between agents, task statistics, bottlenecks', async () => {
    const report = await runProfiling();
    expect(report.taskPerformance).toMatchObject({ completed: 20 });
    expect(Object.keys(report.communicationLatency).length).toBeGreaterThan(0);
    expect(Array.isArray(report.bottlenecks)).toBe(true);
  });

  test('embed-in-xstate: a user machine invokes NeuroFlux, hears each task and the workflow, and stops it by ending', async () => {
    const result = await runEmbedInXState();
    expect(result.refusal).toBeNull();
    expect(result.finished).toEqual(['analysis:completed', 'risk:completed', 'trade:completed']);
    expect(result.records.map((r) => r.taskId)).toEqual(['analysis', 'risk', 'trade']);
    expect(result.records[2]?.result).toEqual({ status: 'filled', quantity: 800 });
  });
});
