import { SimulatedClock } from 'xstate';
import { runBusDemo } from '../src/cli/busDemo';
import { buildCli } from '../src/cli/main';

describe('neuroflux demo', () => {
  test('the bus scenario shows each behaviour and ends with stats', async () => {
    const clock = new SimulatedClock();
    const lines: string[] = [];
    const summary = await runBusDemo({
      log: (line) => lines.push(line),
      clock,
      wait: async (ms) => clock.increment(ms),
    });
    expect(summary.processingOrder).toEqual(['hold_position', 'halt_trading', 'rebalance', 'rebalance', 'rebalance']);
    expect(lines.join('\n')).toMatch(/answered \{"approved":true,"maxAmount":800\}/);
    expect(lines.join('\n')).toMatch(/dead letter: 'daily_report' to archive_agent \(expired\)/);
    expect(summary.stats.deadLetters.expired).toBe(1);
    expect(summary.stats.messagesByPriority.critical).toBe(2);
  });

  test('unknown commands exit non-zero with a message', async () => {
    let out = '';
    const cli = buildCli((text) => (out += text));
    await expect(cli.parseAsync(['node', 'neuroflux', 'nonsense'])).rejects.toMatchObject({ exitCode: 1 });
    expect(out).toMatch(/unknown command/);
  });
});
