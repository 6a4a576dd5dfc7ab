/** Every example runs, so none rots. */
import { runTradingWorkflow } from '../examples/trading-workflow';

describe('examples', () => {
  test('trading-workflow: analysis → risk → trade, each step fed by the previous one', async () => {
    const records = await runTradingWorkflow('ETH/USD', 1000);
    expect(records.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    expect(records[2]?.result).toEqual({ status: 'filled', quantity: 800 });
  });
});
