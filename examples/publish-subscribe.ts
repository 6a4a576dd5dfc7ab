/** Guide: publish-subscribe. A data feed publishes prices; agents subscribe with topic patterns. */
import { createNeuroFlux } from '../src';

export async function runPublishSubscribe(): Promise<Record<string, string[]>> {
  const nf = createNeuroFlux();
  const seen: Record<string, string[]> = { analysis: [], btcTrader: [] };
  nf.bus.registerAgent('analysis_agent_1', { topics: ['market_data.>'], handler: (m) => void seen.analysis?.push(m.topic) });
  nf.bus.registerAgent('btc_trader', { topics: ['market_data.BTC.*'], handler: (m) => void seen.btcTrader?.push(m.topic) });
  const feed = nf.bus.registerAgent('data_feed_agent');
  await nf.start();
  feed.publish({ topic: 'market_data.BTC.price', payload: { price: 45000, volume: 1250000 }, priority: 'high' });
  feed.publish({ topic: 'market_data.ETH.price', payload: { price: 2400 } });
  await nf.bus.whenIdle();
  await nf.stop();
  return seen;
}

if (require.main === module) void runPublishSubscribe().then((r) => console.log(r));
