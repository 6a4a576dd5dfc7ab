import { setTimeout as sleep } from 'node:timers/promises';
import { createNeuroFlux } from '../runtime/createNeuroFlux';
import type { BusStats } from '../bus/busStats';
import type { Message } from '../bus/message';
import type { NeuroFluxClock } from '../kernel/clock';

/** What the bus demo reports at the end. */
export interface BusDemoSummary {
  readonly steps: string[];
  readonly processingOrder: string[];
  readonly stats: BusStats;
}

/** Options of {@link runBusDemo}. */
export interface BusDemoOptions {
  /** Where the narrated lines go. */
  readonly log: (line: string) => void;
  /** The runtime's clock (a simulated one in tests). */
  readonly clock?: NeuroFluxClock;
  /** Lets time pass; by default a real sleep. Tests advance a simulated clock instead. */
  readonly wait?: (ms: number) => Promise<void>;
}

/**
 * A short scripted scenario on embedded defaults: agents register, a request/response,
 * a broadcast, a pub/sub event, a critical message overtaking lower ones, a TTL expiry
 * landing in dead letters, then the bus's stats.
 */
export async function runBusDemo(options: BusDemoOptions): Promise<BusDemoSummary> {
  const { log, clock } = options;
  const wait = options.wait ?? ((ms: number) => sleep(ms).then(() => undefined));
  const nf = createNeuroFlux({ ...(clock && { clock }) });
  const { bus } = nf;
  const steps: string[] = [];
  const step = (line: string) => {
    steps.push(line);
    log(line);
  };
  bus.deadLetters$.subscribe((d) => {
    if (d.reason !== 'invalid') step(`  dead letter: '${d.message.topic}' to ${d.agentId ?? d.message.recipientId ?? '-'} (${d.reason})`);
  });

  const processingOrder: string[] = [];
  let releaseTrader!: () => void;
  const traderBusy = new Promise<void>((resolve) => (releaseTrader = resolve));
  bus.registerAgent('risk_agent_1', {
    topics: ['emergency'],
    handler: (m, agent) => {
      if (m.topic === 'risk_check') {
        const amount = (m.payload as { amount: number }).amount;
        agent.respond(m, { approved: true, maxAmount: amount * 0.8 });
      }
    },
  });
  bus.registerAgent('analysis_agent_1', {
    topics: ['market.>'],
    handler: (m) => step(`  analysis_agent_1 got ${m.messageType} '${m.topic}' from ${m.senderId}: ${JSON.stringify(m.payload)}`),
  });
  const trader = bus.registerAgent('trading_agent_1', {
    topics: ['market.btc.*'],
    handler: async (m: Message) => {
      if (m.topic.startsWith('market')) step(`  trading_agent_1 got ${m.messageType} '${m.topic}': ${JSON.stringify(m.payload)}`);
      if (m.messageType === 'broadcast') step(`  trading_agent_1 got ${m.priority} broadcast '${m.topic}': ${JSON.stringify(m.payload)}`);
      if (m.topic === 'hold_position') await traderBusy;
      if (m.topic === 'rebalance' || m.topic === 'halt_trading' || m.topic === 'hold_position') processingOrder.push(m.topic);
    },
  });
  const feed = bus.registerAgent('data_feed_agent');
  const archive = bus.registerAgent('archive_agent', { handler: () => undefined });
  await nf.start();
  step(`1. registered agents: ${bus.getAgentIds().join(', ')}`);

  const reply = await trader.request({ recipientId: 'risk_agent_1', topic: 'risk_check', payload: { amount: 1000, symbol: 'BTC/USD' } });
  step(`2. request/response: trading_agent_1 → risk_agent_1 'risk_check' answered ${JSON.stringify(reply.payload)}`);

  step(`3. publish/subscribe: data_feed_agent publishes 'market.btc.price'`);
  feed.publish({ topic: 'market.btc.price', payload: { symbol: 'BTC/USD', price: 45_000 }, priority: 'high' });
  await bus.whenIdle();

  step(`4. broadcast: risk_agent_1 → everyone else, critical 'emergency'`);
  bus.getAgent('risk_agent_1')?.broadcast({
    topic: 'emergency',
    payload: { type: 'circuit_breaker', action: 'halt_all_trading' },
    priority: 'critical',
  });
  await bus.whenIdle();

  step(`5. priorities: trading_agent_1 is busy; 3 low 'rebalance' then 1 critical 'halt_trading' queue behind it`);
  trader.send({ recipientId: 'trading_agent_1', messageType: 'command', topic: 'hold_position', priority: 'medium' });
  await new Promise<void>((resolve) => setImmediate(resolve)); // let it pick up hold_position
  for (let i = 0; i < 3; i++) feed.send({ recipientId: 'trading_agent_1', messageType: 'command', topic: 'rebalance', priority: 'low' });
  feed.send({ recipientId: 'trading_agent_1', messageType: 'command', topic: 'halt_trading', priority: 'critical' });
  releaseTrader();
  await bus.whenIdle();
  step(`  processing order: ${processingOrder.join(' → ')}`);

  step(`6. TTL: archive_agent goes offline; a message with ttl 0.05 s waits 100 ms, then it comes back`);
  archive.setOnline(false);
  feed.send({ recipientId: 'archive_agent', messageType: 'notification', topic: 'daily_report', ttl: 0.05 });
  await wait(100);
  archive.setOnline(true);
  await bus.whenIdle();

  const stats = bus.getStats();
  step(
    `7. stats: sent ${stats.messagesSent}, delivered ${stats.messagesDelivered}, processed ${stats.messagesProcessed}, ` +
      `dead letters ${stats.deadLetters.total} (expired ${stats.deadLetters.expired}), avg handler ${stats.avgProcessingTime.toFixed(3)} ms`,
  );
  step(
    `   by priority: ${Object.entries(stats.messagesByPriority)
      .map(([p, n]) => `${p} ${n}`)
      .join(', ')}`,
  );
  await nf.stop();
  return { steps, processingOrder, stats };
}
