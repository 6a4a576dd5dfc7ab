/**
 * The guide's workflow section: analysis → risk assessment → trade execution, with
 * dependency results flowing from one step to the next. Run: `npx tsx examples/trading-workflow.ts`
 * (or `node -r @swc-node/register examples/trading-workflow.ts` in this repository).
 */
import { createNeuroFlux, type TaskRecord } from '../src';

/** Runs the workflow for one symbol and returns the three final task records. */
export async function runTradingWorkflow(symbol = 'BTC/USD', amount = 500): Promise<TaskRecord[]> {
  const nf = createNeuroFlux();
  nf.orchestrator.registerAgent('analysis_agent_1', {
    capabilities: ['technical_analysis', 'sentiment_analysis', 'research'],
    maxConcurrentTasks: 5,
    execute: async (task) => {
      const { indicators } = task.payload as { indicators: string[] };
      return { signal: 'BUY', confidence: 0.85, indicators };
    },
  });
  nf.orchestrator.registerAgent('risk_agent_1', {
    capabilities: ['risk_assessment', 'portfolio_management', 'circuit_breaker'],
    maxConcurrentTasks: 2,
    execute: async (task, { dependencyResults }) => {
      const [analysis] = Object.values(dependencyResults) as { confidence: number }[];
      const requested = (task.payload as { amount: number }).amount;
      return { approved: (analysis?.confidence ?? 0) > 0.7, maxAmount: requested * 0.8 };
    },
  });
  nf.orchestrator.registerAgent('trading_agent_1', {
    capabilities: ['trading', 'market_data', 'order_execution'],
    maxConcurrentTasks: 3,
    execute: async (_task, { dependencyResults }) => {
      const [risk] = Object.values(dependencyResults) as { approved: boolean; maxAmount: number }[];
      if (!risk?.approved) throw new Error('risk check refused the trade');
      return { status: 'filled', quantity: risk.maxAmount };
    },
  });
  await nf.start();

  const stamp = Date.now();
  const analysis = `analysis_${symbol}_${stamp}`;
  const risk = `risk_${symbol}_${stamp}`;
  const trade = `trade_${symbol}_${stamp}`;
  nf.orchestrator.submitWorkflow({
    tasks: [
      {
        taskId: analysis,
        name: `Market Analysis for ${symbol}`,
        requiredCapabilities: ['technical_analysis', 'sentiment_analysis'],
        payload: { symbol, indicators: ['rsi', 'macd', 'bollinger'] },
        priority: 'high',
      },
      {
        taskId: risk,
        name: `Risk Assessment for ${symbol}`,
        requiredCapabilities: ['risk_assessment'],
        dependencies: [analysis],
        payload: { symbol, amount },
        priority: 'high',
      },
      {
        taskId: trade,
        name: `Execute Trade for ${symbol}`,
        requiredCapabilities: ['trading', 'order_execution'],
        dependencies: [risk],
        payload: { symbol, amount, type: 'market' },
        priority: 'critical',
      },
    ],
  });
  const records = await nf.orchestrator.waitForWorkflow([analysis, risk, trade]);
  await nf.stop();
  return records;
}

if (require.main === module) {
  runTradingWorkflow()
    .then((records) => {
      for (const r of records) console.log(`${r.status === 'completed' ? '✅' : '❌'} ${r.name}: ${JSON.stringify(r.result ?? r.error)}`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
