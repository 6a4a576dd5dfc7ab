import { setTimeout as sleep } from 'node:timers/promises';
import type { ConflictResolution } from '../conflict/conflictRecord';
import type { TaskInput, TaskRecord } from '../orchestration/taskTypes';
import type { ObservedRuntime } from './observedRuntime';

/** Options of {@link setUpDemoWorkload}. */
export interface DemoWorkloadOptions {
  /** Wall time each task's work takes, ms (so that a person can watch it). Default 150. */
  readonly taskDelayMs?: number;
  /** Report and resolve a signal conflict with each workflow. Default true. */
  readonly conflicts?: boolean;
}

/** What one run of the demo workflow produced. */
export interface DemoRun {
  readonly run: number;
  readonly records: readonly TaskRecord[];
  readonly resolution: ConflictResolution | null;
}

/** A small trading desk on a runtime: agents, voters, and a workflow to run once or in a loop. */
export interface DemoWorkload {
  readonly agents: readonly string[];
  /** Runs one workflow (and one conflict) to the end. */
  runOnce(): Promise<DemoRun>;
  /** Runs workflows one after another, `intervalMs` apart, until `signal` aborts. */
  loop(signal: AbortSignal, intervalMs?: number): Promise<void>;
}

const AGENTS = [
  { agentId: 'market_data', capability: 'market_data' },
  { agentId: 'technical_analyst', capability: 'technical_analysis' },
  { agentId: 'sentiment_analyst', capability: 'sentiment_analysis' },
  { agentId: 'risk_manager', capability: 'risk_assessment' },
  { agentId: 'trader', capability: 'trading' },
] as const;

const SIGNALS = ['BUY', 'SELL', 'HOLD'] as const;

/**
 * Sets up the workload `neuroflux inspect` and `neuroflux profile` run: five agents with
 * in-process executors, a `portfolio` agent answering requests, a `compliance` agent
 * voting over the bus, analysts publishing signals, and a five-task workflow (fetch → technical and sentiment analysis → risk →
 * trade) whose risk step fails its first attempt every third run (a retry to watch),
 * plus a signal conflict voted on by the analysts and the risk manager.
 *
 * @example
 * ```ts
 * const demo = setUpDemoWorkload(nf, { taskDelayMs: 20 });
 * await nf.start();
 * const { records } = await demo.runOnce();
 * ```
 */
export function setUpDemoWorkload(runtime: ObservedRuntime, options: DemoWorkloadOptions = {}): DemoWorkload {
  const { bus, orchestrator, conflicts } = runtime;
  const delay = options.taskDelayMs ?? 150;
  let runs = 0;
  const work = async (signal: AbortSignal, factor = 1) => {
    if (delay > 0) await sleep(delay * factor, undefined, { signal });
  };

  bus.registerAgent('portfolio', {
    handler: (message, agent) => {
      if (message.messageType === 'request') agent.respond(message, { maxPosition: 25_000, openPositions: 3 });
    },
  });
  // A voter that lives on the bus: it answers `conflict_vote` requests itself.
  bus.registerAgent('compliance', {
    handler: (message, agent) => {
      if (message.messageType !== 'request') return;
      agent.respond(message, { decision: 'HOLD', confidence: 0.55, reasoning: 'position limits close to the cap' });
    },
  });
  const executors: Record<(typeof AGENTS)[number]['agentId'], Parameters<typeof orchestrator.registerAgent>[1]['execute']> = {
    market_data: async (task, { signal }) => {
      await work(signal);
      return { symbol: 'BTC/USD', price: 45_000 + ((task.payload as { run: number }).run % 7) * 150 };
    },
    technical_analyst: async (task, { signal }) => {
      await work(signal, 1.5);
      const signalName = SIGNALS[(task.payload as { run: number }).run % 3] as string;
      bus.publishEvent({ senderId: 'technical_analyst', topic: 'signals.btc.technical', payload: { signal: signalName }, priority: 'high' });
      return { signal: signalName, rsi: 61 };
    },
    sentiment_analyst: async (_task, { signal }) => {
      await work(signal, 1.2);
      bus.publishEvent({ senderId: 'sentiment_analyst', topic: 'signals.btc.sentiment', payload: { score: 0.4 } });
      return { sentiment: 0.4 };
    },
    risk_manager: async (task, { signal, attempt }) => {
      await work(signal);
      const payload = task.payload as { run: number };
      if (payload.run % 3 === 0 && attempt === 0) throw new Error('risk model timed out');
      const limits = await bus.sendRequest({ senderId: 'risk_manager', recipientId: 'portfolio', topic: 'position_limits', payload: { symbol: 'BTC/USD' } });
      return { approved: true, limits: limits.payload };
    },
    trader: async (_task, { signal }) => {
      await work(signal, 0.5);
      return { executed: true };
    },
  };
  for (const { agentId, capability } of AGENTS) {
    orchestrator.registerAgent(agentId, { capabilities: [capability], maxConcurrentTasks: 2, execute: executors[agentId] });
  }
  bus.subscribe('trader', 'signals.>');
  bus.subscribe('risk_manager', 'signals.btc.*');

  const functionVoters = ['technical_analyst', 'sentiment_analyst', 'risk_manager'];
  const voters = [...functionVoters, 'compliance'];
  if (options.conflicts !== false) {
    functionVoters.forEach((agentId, i) => {
      conflicts.registerVoter(agentId, () => {
        const decision = SIGNALS[(runs + (i === 2 ? 1 : 0)) % 3] as string;
        return { decision, confidence: 0.6 + 0.1 * i, reasoning: `${agentId} reads the market as ${decision}` };
      });
    });
  }

  const workflowOf = (run: number): TaskInput[] => {
    const id = (name: string) => `run${run}.${name}`;
    const retryPolicy = { maxRetries: 2, initialDelay: 0.2, backoffFactor: 2 };
    const payload = { run };
    return [
      { taskId: id('fetch_prices'), name: 'fetch prices', taskType: 'fetch', requiredCapabilities: ['market_data'], payload, priority: 'high' },
      { taskId: id('technical'), name: 'technical analysis', taskType: 'analysis', requiredCapabilities: ['technical_analysis'], dependencies: [id('fetch_prices')], payload },
      { taskId: id('sentiment'), name: 'sentiment analysis', taskType: 'analysis', requiredCapabilities: ['sentiment_analysis'], dependencies: [id('fetch_prices')], payload },
      {
        taskId: id('risk'),
        name: 'risk check',
        taskType: 'risk',
        requiredCapabilities: ['risk_assessment'],
        dependencies: [id('technical'), id('sentiment')],
        payload,
        retryPolicy,
      },
      { taskId: id('trade'), name: 'execute trade', taskType: 'trade', requiredCapabilities: ['trading'], dependencies: [id('risk')], payload, priority: 'critical' },
    ];
  };

  const runOnce = async (): Promise<DemoRun> => {
    const run = ++runs;
    const submitted = orchestrator.submitWorkflow({ tasks: workflowOf(run) });
    let resolution: ConflictResolution | null = null;
    if (options.conflicts !== false) {
      resolution = await conflicts.resolveConflict({
        conflictType: 'signal_conflict',
        description: `run ${run}: analysts disagree on BTC/USD`,
        involvedAgents: voters,
        severity: 0.6,
        options: [...SIGNALS],
      });
      if (resolution.decision !== null) conflicts.recordOutcome(resolution.conflictId, SIGNALS[run % 3] as string);
    }
    const records = await orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
    return { run, records, resolution };
  };

  return {
    agents: ['portfolio', 'compliance', ...AGENTS.map((a) => a.agentId)],
    runOnce,
    async loop(signal, intervalMs = 2000) {
      while (!signal.aborted) {
        await runOnce();
        try {
          await sleep(intervalMs, undefined, { signal });
        } catch {
          return;
        }
      }
    },
  };
}
