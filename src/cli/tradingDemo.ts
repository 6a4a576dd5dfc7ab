import { performance } from 'node:perf_hooks';
import type { BusStats } from '../bus/busStats';
import type { Message } from '../bus/message';
import type { NeuroFluxClock } from '../kernel/clock';
import { createNeuroFlux, type NeuroFlux, type NeuroFluxOptions } from '../runtime/createNeuroFlux';
import type { TaskStatus } from '../orchestration/taskTypes';
import { pairPosterior } from '../swarm/routingAffinity';
import { posteriorMean } from '../swarm/model/routingBandit';
import { compareRouting, type FillCount, type RoutingVerdict } from './routingVerdict';

/** Options of the trading demo. */
export interface TradingDemoOptions {
  /** Seed of every random choice: the same seed gives the same summary. */
  readonly seed: number;
  /** Agents per role (analysis, sentiment, risk, trading). */
  readonly agents: number;
  /** Workflows (analysis + sentiment → risk → trade) to submit. */
  readonly tasks: number;
  /** Stop submitting new workflows after this long (ms of wall time). */
  readonly durationMs?: number;
  /** Narrated lines. */
  readonly log: (line: string) => void;
  /** Called after each workflow finishes. */
  readonly progress?: (done: number, total: number) => void;
  readonly clock?: NeuroFluxClock;
  /** Extra runtime options (e.g. an inspection observer). */
  readonly runtime?: Omit<NeuroFluxOptions, 'clock' | 'swarm' | 'orchestrator'>;
  /** Called once the runtime exists, before the run. */
  readonly onRuntime?: (nf: NeuroFlux) => Promise<void> | void;
  /** Wall time between workflows, so a person can follow the run in the inspector. */
  readonly paceMs?: number;
  /** Called with the inspector's address once the runtime started (with `runtime.inspector`). */
  readonly onStarted?: (inspectorUrl: string) => void;
  /** Awaited after the summary, before the runtime stops (e.g. until Ctrl-C, to keep the inspector up). */
  readonly whenFinished?: () => Promise<unknown>;
  /**
   * How trades are routed to traders. With `swarm` (the default) the demo also replays the
   * same market with `round_robin`, embedded and silent, to say whether the swarm did better.
   */
  readonly routing?: DemoRouting;
}

/** The orchestrator balancer the demo routes trades with. */
export type DemoRouting = 'swarm' | 'round_robin';

/** The round-robin replay of the same seed and rounds, and what the comparison says. */
export interface TradingDemoBaseline extends FillCount {
  readonly routing: 'round_robin';
  readonly verdict: RoutingVerdict;
  /** Smallest difference in fills that counts as better or worse. */
  readonly marginFills: number;
}

/** One risk → trader pair in the demo's summary. */
export interface RoutingPosteriorFigures {
  /** Posterior mean of P(fill): alpha / (alpha + beta). */
  readonly mean: number;
  readonly alpha: number;
  readonly beta: number;
  /** Trades of this run whose risk input came from this desk and that went to this trader. */
  readonly routed: number;
  readonly filled: number;
}

/** What the demo reports. */
export interface TradingDemoSummary {
  readonly seed: number;
  readonly workflows: number;
  readonly tasksByStatus: Readonly<Record<TaskStatus, number>>;
  readonly retries: number;
  readonly conflicts: {
    readonly detected: number;
    readonly resolved: number;
    readonly escalated: number;
    readonly decisions: Readonly<Record<string, number>>;
  };
  readonly circuitBreakers: number;
  /**
   * What the `swarm` balancer reads, after the run, for every risk → trader pair (keyed
   * `risk→trader`): the Beta posterior of P(fill) and its mean, and the trades that pair
   * was given and filled in this run.
   */
  readonly routingPosteriors: Readonly<Record<string, RoutingPosteriorFigures>>;
  readonly routing: DemoRouting;
  /** Trades filled over the whole run. */
  readonly trades: FillCount;
  readonly tradeSuccess: { readonly firstHalf: number; readonly secondHalf: number };
  /** Absent when the run is itself the round-robin baseline. */
  readonly baseline?: TradingDemoBaseline;
  readonly messagesByPriority: BusStats['messagesByPriority'];
  readonly deadLetters: BusStats['deadLetters'];
  readonly timing: { readonly wallMs: number; readonly tasksPerSecond: number; readonly baselineMs?: number };
}

const SYMBOLS = ['BTC/USD', 'ETH/USD', 'SOL/USD'];

/** A random number in [0, 1) fixed by the seed and a key, whatever order things run in. */
function seeded(seed: number, key: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  h = (h + 0x6d2b79f5) >>> 0;
  let t = h;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/**
 * The guide's trading swarm end to end on embedded defaults: a simulated market feed,
 * analysis, sentiment, risk and trading agents as actors, the analysis + sentiment → risk →
 * trade workflow submitted repeatedly, opposing signals settled by weighted consensus, a
 * critical circuit-breaker broadcast, and the swarm routing each trade to a trader by
 * Thompson sampling over the risk → trader posteriors it learns from fills (a hidden
 * pairwise compatibility decides them).
 */
export async function runTradingDemo(options: TradingDemoOptions): Promise<TradingDemoSummary> {
  const { seed, agents, log } = options;
  const routing = options.routing ?? 'swarm';
  const nf = createNeuroFlux({
    ...options.runtime,
    ...(options.clock && { clock: options.clock }),
    orchestrator: { balancer: routing },
    swarm: { seed },
  });
  const role = (name: string) => Array.from({ length: agents }, (_, i) => `${name}_agent_${i + 1}`);
  const analysts = role('analysis');
  const sentiments = role('sentiment');
  const risks = role('risk');
  const traders = role('trading');
  const prices = new Map<string, number>(SYMBOLS.map((s, i) => [s, [45_000, 2_400, 140][i] as number]));
  let halted = false;
  let circuitBreakers = 0;

  // Signal agents keep the last price they saw and vote in conflicts with their own view.
  const views = new Map<string, { signal: string; confidence: number }>();
  const signalAgent = (agentId: string) => (message: Message, agent: { respond(m: Message, p: unknown): Message }) => {
    if (message.topic === 'conflict_vote') {
      const view = views.get(`${agentId}:${(message.payload as { conflictId: string }).conflictId}`) ?? { signal: 'HOLD', confidence: 0.5 };
      agent.respond(message, { decision: view.signal, confidence: view.confidence, reasoning: `${agentId} stands by its signal` });
    }
  };
  for (const id of [...analysts, ...sentiments]) nf.bus.registerAgent(id, { topics: ['market.>', 'emergency'], handler: signalAgent(id) });
  for (const id of traders) {
    nf.bus.registerAgent(id, {
      topics: ['emergency'],
      handler: (m) => {
        if (m.topic === 'emergency') halted = true;
      },
    });
  }
  const feed = nf.bus.registerAgent('market_feed');

  // Each signal agent reads the market right with its own hidden accuracy; consensus
  // weights learn who to trust from the outcomes.
  const truthOf = (round: number) => (seeded(seed, `truth:${round}`) < 0.5 ? 'BUY' : 'SELL');
  const signalAgents = [...analysts, ...sentiments];
  const accuracy = (agentId: string) => [0.85, 0.45, 0.7, 0.55][signalAgents.indexOf(agentId) % 4] as number;
  const signalOf = (agentId: string, round: number) => {
    const right = seeded(seed, `view:${agentId}:${round}`) < accuracy(agentId);
    const truth = truthOf(round);
    const signal = right ? truth : truth === 'BUY' ? 'SELL' : 'BUY';
    return { signal, confidence: Math.round((0.3 + 0.65 * seeded(seed, `conf:${agentId}:${round}`)) * 100) / 100 };
  };
  for (const id of analysts) {
    nf.orchestrator.registerAgent(id, {
      capabilities: ['technical_analysis'],
      execute: (task) => signalOf(id, (task.payload as { round: number }).round),
    });
  }
  for (const id of sentiments) {
    nf.orchestrator.registerAgent(id, {
      capabilities: ['sentiment_analysis'],
      execute: (task) => signalOf(id, (task.payload as { round: number }).round),
    });
  }
  for (const id of risks) {
    nf.orchestrator.registerAgent(id, {
      capabilities: ['risk_assessment'],
      maxConcurrentTasks: 2,
      execute: (task, { attempt }) => {
        const { round, amount } = task.payload as { round: number; amount: number };
        // The risk service times out now and then: the retry policy absorbs it.
        if (attempt === 0 && seeded(seed, `risk-glitch:${round}`) < 0.15) throw new Error('risk service unavailable');
        return { approved: true, maxAmount: amount * 0.8, riskAgent: id };
      },
    });
  }
  traders.forEach((id, index) => {
    nf.orchestrator.registerAgent(id, {
      capabilities: ['trading', 'order_execution'],
      maxConcurrentTasks: 3,
      execute: (task, { dependencyResults }) => {
        const { round } = task.payload as { round: number };
        if (halted) throw new Error('circuit breaker: trading halted');
        const [risk] = Object.values(dependencyResults) as { maxAmount: number; riskAgent: string }[];
        // Hidden compatibility: each trader settles reliably only the orders sized by "its" risk desk.
        const compatible = risks.indexOf(risk?.riskAgent ?? '') % traders.length === index;
        if (seeded(seed, `fill:${round}`) < (compatible ? 0.92 : 0.35)) return { filled: risk?.maxAmount ?? 0 };
        throw new Error('order rejected by the exchange');
      },
    });
  });

  await options.onRuntime?.(nf);
  await nf.start();
  if (nf.inspector) options.onStarted?.(nf.inspector.url);
  // Trades per risk → trader pair, as the orchestrator reports them.
  const pairTrades = new Map<string, { routed: number; filled: number }>();
  const tradeWatch = nf.orchestrator.finished$.subscribe((event) => {
    const [producer] = event.producerAgentIds;
    if (event.taskType !== 'trade' || event.agentId === null || producer === undefined) return;
    const key = `${producer}→${event.agentId}`;
    const counts = pairTrades.get(key) ?? { routed: 0, filled: 0 };
    counts.routed++;
    if (event.status === 'completed') counts.filled++;
    pairTrades.set(key, counts);
  });
  const routingPosteriors = () => {
    const state = nf.swarm.getNetworkState();
    const out: Record<string, RoutingPosteriorFigures> = {};
    for (const r of risks) {
      for (const t of traders) {
        const posterior = pairPosterior(state, r, t);
        const counts = pairTrades.get(`${r}→${t}`) ?? { routed: 0, filled: 0 };
        out[`${r}→${t}`] = { mean: posteriorMean(posterior), alpha: posterior.alpha, beta: posterior.beta, ...counts };
      }
    }
    return out;
  };
  log(`NeuroFlux trading swarm · seed ${seed} · ${agents} agent(s) per role · ${options.tasks} workflows`);

  const started = performance.now();
  const decisions: Record<string, number> = {};
  const tradeOutcomes: boolean[] = [];
  let workflows = 0;
  for (let round = 1; round <= options.tasks; round++) {
    if (options.durationMs !== undefined && performance.now() - started > options.durationMs) break;
    const symbol = SYMBOLS[round % SYMBOLS.length] as string;
    const price = (prices.get(symbol) as number) * (1 + (seeded(seed, `move:${round}`) - 0.5) * 0.02);
    prices.set(symbol, price);
    feed.publish({ topic: `market.${symbol.replace('/', '_')}.price`, payload: { symbol, price: Math.round(price * 100) / 100 }, priority: 'high' });

    // A drawdown: the risk desk broadcasts a circuit breaker at critical priority.
    if (seeded(seed, `drawdown:${round}`) < 0.04) {
      circuitBreakers++;
      nf.bus.getAgent('market_feed')?.broadcast({
        topic: 'emergency',
        payload: { type: 'circuit_breaker', reason: 'portfolio loss > 10%', action: 'halt_all_trading' },
        priority: 'critical',
      });
      log(`  round ${round}: ⚠ circuit breaker broadcast (critical): trading halted for this round`);
      await nf.bus.whenIdle();
    }

    const ids = { analysis: `analysis-${round}`, sentiment: `sentiment-${round}`, risk: `risk-${round}`, trade: `trade-${round}` };
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: ids.analysis, taskType: 'analysis', requiredCapabilities: ['technical_analysis'], priority: 'high', payload: { round, symbol } },
        { taskId: ids.sentiment, taskType: 'sentiment', requiredCapabilities: ['sentiment_analysis'], priority: 'high', payload: { round, symbol } },
        {
          taskId: ids.risk,
          taskType: 'risk',
          requiredCapabilities: ['risk_assessment'],
          dependencies: [ids.analysis, ids.sentiment],
          payload: { round, amount: 1000 },
          retryPolicy: { maxRetries: 2, initialDelay: 0 },
          // Risk desks take turns, so the swarm sees every desk → trader hand-off.
          balancer: 'round_robin',
        },
        {
          taskId: ids.trade,
          taskType: 'trade',
          requiredCapabilities: ['trading', 'order_execution'],
          dependencies: [ids.risk],
          priority: 'critical',
          payload: { round, symbol },
          retryPolicy: { retryOnFailure: false },
        },
      ],
    });
    await nf.orchestrator.waitForWorkflow([ids.analysis, ids.sentiment]);
    // Every signal agent's view of this round: opposing views become a conflict to settle.
    const signals = signalAgents.map((agentId) => ({ agentId, symbol, timeframe: '1h', ...signalOf(agentId, round) }));
    for (const conflict of nf.conflicts.detectSignalConflict(signals)) {
      const conflictId = conflict.conflictId; // detection reports it
      for (const s of signals) views.set(`${s.agentId}:${conflictId}`, { signal: s.signal, confidence: s.confidence });
      const resolution = await nf.conflicts.resolveConflict(conflictId, { algorithm: 'weighted_consensus' });
      const decision =
        resolution.status === 'escalated'
          ? 'escalated'
          : `${typeof resolution.decision === 'string' ? resolution.decision : JSON.stringify(resolution.decision)} (${resolution.action})`;
      decisions[decision] = (decisions[decision] ?? 0) + 1;
      // The market tells who was right one round later.
      nf.conflicts.recordOutcome(conflictId, truthOf(round));
    }
    const [trade] = await nf.orchestrator.waitForWorkflow([ids.risk, ids.trade]).then((r) => r.slice(1));
    tradeOutcomes.push(trade?.status === 'completed');
    halted = false;
    workflows++;
    options.progress?.(workflows, options.tasks);
    if (options.paceMs) await new Promise((resolve) => setTimeout(resolve, options.paceMs));
  }
  await nf.bus.whenIdle();
  const wallMs = performance.now() - started;

  // The same seed and rounds with round-robin routing: the fills the swarm is judged against.
  const baselineStarted = performance.now();
  const baselineRun = routing === 'swarm' ? await runTradingDemo({ seed, agents, tasks: workflows, log: () => undefined, routing: 'round_robin' }) : undefined;
  const baselineMs = performance.now() - baselineStarted;

  const stats = nf.orchestrator.getStats();
  const conflictStats = nf.conflicts.getStats();
  const busStats = nf.bus.getStats();
  const half = Math.floor(tradeOutcomes.length / 2);
  const share = (xs: boolean[]) => (xs.length === 0 ? 0 : Math.round((xs.filter(Boolean).length / xs.length) * 1000) / 1000);
  const trades = { filled: tradeOutcomes.filter(Boolean).length, total: tradeOutcomes.length };
  const summary: TradingDemoSummary = {
    seed,
    workflows,
    tasksByStatus: {
      pending: stats.pendingTasks,
      assigned: stats.assignedTasks,
      running: stats.runningTasks,
      completed: stats.tasksCompleted,
      failed: stats.tasksFailed,
      cancelled: stats.tasksCancelled,
      timeout: stats.tasksTimedOut,
    },
    retries: stats.retries,
    conflicts: {
      detected: conflictStats.conflictsDetected,
      resolved: conflictStats.conflictsResolved,
      escalated: conflictStats.conflictsEscalated,
      decisions,
    },
    circuitBreakers,
    routingPosteriors: routingPosteriors(),
    routing,
    trades,
    tradeSuccess: { firstHalf: share(tradeOutcomes.slice(0, half)), secondHalf: share(tradeOutcomes.slice(half)) },
    ...(baselineRun && {
      baseline: { routing: 'round_robin' as const, ...baselineRun.trades, ...compareRouting(trades, baselineRun.trades) },
    }),
    messagesByPriority: busStats.messagesByPriority,
    deadLetters: busStats.deadLetters,
    timing: {
      wallMs: Math.round(wallMs),
      tasksPerSecond: Math.round((stats.tasksCreated / wallMs) * 1000),
      ...(baselineRun && { baselineMs: Math.round(baselineMs) }),
    },
  };
  if (options.whenFinished) {
    for (const line of formatTradingSummary(summary)) log(line);
    log(`the inspector keeps serving ${nf.inspector?.url ?? ''}: Ctrl-C to exit`);
    await options.whenFinished();
  }
  tradeWatch.unsubscribe();
  await nf.stop();
  return summary;
}

/** The summary as the lines the CLI prints. */
export function formatTradingSummary(s: TradingDemoSummary): string[] {
  const lines = [
    `workflows: ${s.workflows} · tasks: ${Object.entries(s.tasksByStatus)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')} · retries: ${s.retries}`,
    `conflicts: ${s.conflicts.detected} detected, ${s.conflicts.resolved} resolved, ${s.conflicts.escalated} escalated · ${
      Object.entries(s.conflicts.decisions)
        .map(([d, n]) => `${d} ×${n}`)
        .join(', ') || 'none'
    }`,
    `circuit breakers: ${s.circuitBreakers}`,
    formatFills(s),
    `${routingName(s.routing)} by half: ${percent(s.tradeSuccess.firstHalf)} % of trades filled in the first half, ${percent(s.tradeSuccess.secondHalf)} % in the second`,
    'swarm routing (risk → trader): P(fill) mean [Beta α, β] · trades routed / filled',
    ...Object.entries(s.routingPosteriors).map(
      ([pair, p]) => `  ${pair}  ${p.mean.toFixed(2)} [${p.alpha.toFixed(1)}, ${p.beta.toFixed(1)}] · ${p.routed} routed, ${p.filled} filled`,
    ),
    `messages by priority: ${Object.entries(s.messagesByPriority)
      .map(([p, n]) => `${p} ${n}`)
      .join(', ')}`,
    `dead letters: ${s.deadLetters.total}${
      s.deadLetters.total > 0
        ? ` (${Object.entries(s.deadLetters)
            .filter(([k, n]) => k !== 'total' && n > 0)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')})`
        : ''
    }`,
    `time: ${s.timing.wallMs} ms · ${s.timing.tasksPerSecond} tasks/s${s.timing.baselineMs === undefined ? '' : ` · round-robin baseline ${s.timing.baselineMs} ms`}`,
  ];
  return lines;
}

const routingName = (routing: DemoRouting) => (routing === 'swarm' ? 'swarm routing' : 'round-robin routing');
const percent = (share: number) => (share * 100).toFixed(0);
const fills = (f: FillCount) => `${f.filled} of ${f.total} (${percent(f.total === 0 ? 0 : f.filled / f.total)} %)`;

/** The fills line: every figure and the verdict come from the run and its baseline. */
function formatFills(s: TradingDemoSummary): string {
  const own = `trades filled: ${routingName(s.routing)} ${fills(s.trades)}`;
  if (!s.baseline) return own;
  return `${own}, round-robin on the same market ${fills(s.baseline)}: ${s.baseline.verdict} (a difference of fewer than ${s.baseline.marginFills} fills counts as no better)`;
}
