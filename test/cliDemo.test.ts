import { SimulatedClock } from 'xstate';
import { runBusDemo } from '../src/cli/busDemo';
import { buildCli } from '../src/cli/main';
import { formatTradingSummary, runTradingDemo } from '../src/cli/tradingDemo';

describe('neuroflux demo', () => {
  test('the trading swarm: deterministic with a seed, with conflicts, a circuit breaker and learned routing posteriors', async () => {
    const run = () => runTradingDemo({ seed: 7, agents: 2, tasks: 40, log: () => undefined });
    const [a, b] = [await run(), await run()];
    const { timing: _ta, ...first } = a;
    const { timing: _tb, ...second } = b;
    expect(second).toEqual(first);
    expect(a.workflows).toBe(40);
    expect(a.tasksByStatus.completed + a.tasksByStatus.failed).toBe(160);
    expect(a.conflicts.detected).toBeGreaterThan(0);
    expect(a.conflicts.resolved + a.conflicts.escalated).toBe(a.conflicts.detected);
    expect(a.messagesByPriority.critical).toBe(a.circuitBreakers);
    const pairs = Object.values(a.routingPosteriors);
    expect(pairs).toHaveLength(4);
    // Learned: some pair reads clearly above the prior's 0.5, some clearly below.
    expect(pairs.some((p) => p.mean > 0.7)).toBe(true);
    expect(pairs.some((p) => p.mean < 0.5)).toBe(true);
    // Every trade routed to an agent is in exactly one pair; a filled one too.
    expect(pairs.reduce((n, p) => n + p.filled, 0)).toBe(a.trades.filled);
    expect(pairs.reduce((n, p) => n + p.routed, 0)).toBeLessThanOrEqual(a.trades.total);
    const text = formatTradingSummary(a).join('\n');
    expect(text).toMatch(/conflicts: \d+ detected/);
    expect(text).toMatch(/swarm routing \(risk → trader\): P\(fill\) mean \[Beta α, β\] · trades routed \/ filled/);
  });

  test('piped output prints plain progress lines and the summary; --json prints JSON', async () => {
    let out = '';
    await buildCli({ write: (t) => (out += t), isTTY: false }).parseAsync(['node', 'neuroflux', 'demo', '--tasks', '10', '--seed', '3']);
    expect(out).toMatch(/progress: 10\/10 workflows/);
    expect(out).not.toMatch(/\r/);
    expect(out).toMatch(/messages by priority/);
    let json = '';
    await buildCli({ write: (t) => (json += t), isTTY: true }).parseAsync(['node', 'neuroflux', 'demo', '--tasks', '5', '--json']);
    expect(JSON.parse(json)).toMatchObject({ seed: 42, workflows: 5 });
    let tty = '';
    await buildCli({ write: (t) => (tty += t), isTTY: true }).parseAsync(['node', 'neuroflux', 'demo', '--tasks', '5']);
    expect(tty).toMatch(/\r\[#+\] 5\/5 workflows/);
  });

  test('--inspect serves the live inspector during the run and until interrupted', async () => {
    let out = '';
    let page = '';
    const cli = buildCli(
      { write: (t) => (out += t), isTTY: false },
      {
        untilInterrupted: async () => {
          const url = /inspector: (http:\S+)/.exec(out)?.[1] ?? '';
          page = await (await fetch(url)).text();
          const metrics = await (await fetch(`${url}metrics`)).text();
          expect(metrics).toMatch(/neuroflux_/);
        },
      },
    );
    await cli.parseAsync(['node', 'neuroflux', 'demo', '--tasks', '1', '--inspect']);
    expect(out).toMatch(/inspector: http:\/\/127\.0\.0\.1:\d+\//);
    expect(page).toMatch(/NeuroFlux inspector/);
    expect(out.match(/swarm routing \(risk → trader\)/g)).toHaveLength(1);
  });

  test("the fills sentence states both runs' figures and a verdict that follows from them, in text and --json", async () => {
    const cli = async (args: string[]) => {
      let out = '';
      await buildCli({ write: (t) => (out += t), isTTY: false }).parseAsync(['node', 'neuroflux', 'demo', '--tasks', '20', ...args]);
      return out;
    };
    for (const seed of ['1', '3', '11', '42']) {
      const text = await cli(['--seed', seed]);
      const line = /^trades filled: .*$/m.exec(text)?.[0] ?? '';
      const parsed =
        /^trades filled: swarm routing (\d+) of (\d+) \((\d+) %\), round-robin on the same market (\d+) of (\d+) \((\d+) %\): (better|no better|worse) \(a difference of fewer than (\d+) fills counts as no better\)$/.exec(
          line,
        );
      expect(parsed).not.toBeNull();
      const [, filled, total, pct, baseFilled, baseTotal, basePct, verdict, margin] = parsed as RegExpExecArray;
      const n = (x: string | undefined) => Number(x);
      expect(n(total)).toBe(20);
      expect(n(baseTotal)).toBe(20);
      expect(n(pct)).toBe(Math.round((n(filled) / n(total)) * 100));
      expect(n(basePct)).toBe(Math.round((n(baseFilled) / n(baseTotal)) * 100));
      const difference = n(filled) - n(baseFilled);
      expect(verdict).toBe(difference >= n(margin) ? 'better' : difference <= -n(margin) ? 'worse' : 'no better');
      expect(text).not.toMatch(/compatible desks/);

      const json = JSON.parse(await cli(['--seed', seed, '--json'])) as {
        trades: { filled: number; total: number };
        baseline: { routing: string; filled: number; total: number; verdict: string; marginFills: number };
        routingPosteriors: Record<string, { mean: number; alpha: number; beta: number; routed: number; filled: number }>;
      };
      expect(json.trades).toEqual({ filled: n(filled), total: n(total) });
      expect(json.baseline).toEqual({ routing: 'round_robin', filled: n(baseFilled), total: n(baseTotal), verdict, marginFills: n(margin) });

      // The routing lines: what the balancer reads, each mean that of its Beta, the fills adding up, the same in --json.
      const pairLines = [...text.matchAll(/^ {2}(\S+→\S+) {2}(\d\.\d\d) \[(\d+\.\d), (\d+\.\d)\] · (\d+) routed, (\d+) filled$/gm)];
      expect(pairLines).toHaveLength(4);
      let routedSum = 0;
      let filledSum = 0;
      for (const [, pair, mean, alpha, beta, routed, pairFilled] of pairLines) {
        expect(Math.abs(n(mean) - n(alpha) / (n(alpha) + n(beta)))).toBeLessThan(0.02);
        expect(n(pairFilled)).toBeLessThanOrEqual(n(routed));
        routedSum += n(routed);
        filledSum += n(pairFilled);
        const figures = json.routingPosteriors[pair as string];
        expect(figures?.mean.toFixed(2)).toBe(mean);
        expect(figures?.alpha.toFixed(1)).toBe(alpha);
        expect(figures?.beta.toFixed(1)).toBe(beta);
        expect([figures?.routed, figures?.filled]).toEqual([n(routed), n(pairFilled)]);
      }
      expect(filledSum).toBe(n(filled));
      expect(routedSum).toBeLessThanOrEqual(n(total));
    }
  });

  test('bad options are refused with an error naming the option', async () => {
    const cli = buildCli({ write: () => undefined, isTTY: false });
    await expect(cli.parseAsync(['node', 'neuroflux', 'demo', '--agents', 'many'])).rejects.toMatchObject({ field: '--agents' });
  });

  test('--bus: the bus tour shows each behaviour and ends with stats', async () => {
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
    let err = '';
    const cli = buildCli({ write: (text) => (out += text), isTTY: false }, { errorOutput: { write: (text) => (err += text), isTTY: false } });
    await expect(cli.parseAsync(['node', 'neuroflux', 'nonsense'])).rejects.toMatchObject({ exitCode: 1 });
    // Usage errors belong on stderr (docs/cli.md), stdout stays for results.
    expect(err).toMatch(/unknown command/);
    expect(out).toBe('');
  });
});
