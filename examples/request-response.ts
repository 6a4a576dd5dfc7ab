/** Guide: request-response pattern. A trading agent asks the risk agent and awaits the answer. */
import { createNeuroFlux } from '../src';

export async function runRequestResponse(): Promise<unknown> {
  const nf = createNeuroFlux();
  nf.bus.registerAgent('risk_agent_1', {
    handler: (request, agent) => {
      const { amount } = request.payload as { amount: number };
      agent.respond(request, { approved: amount <= 1000, maxAmount: Math.min(amount, 800) });
    },
  });
  const trader = nf.bus.registerAgent('trading_agent_1');
  await nf.start();
  const response = await trader.request({ recipientId: 'risk_agent_1', topic: 'risk_check', payload: { amount: 1000, symbol: 'BTC/USD' }, timeoutMs: 5000 });
  await nf.stop();
  return response.payload;
}

if (require.main === module) void runRequestResponse().then((r) => console.log('risk check answered:', r));
