import type { NeuroFluxClock } from '../kernel/clock';
import type { BusCounters } from './busStats';
import { isExpired, type Message } from './message';
import type { RegisteredAgent } from './registeredAgent';

/** Deliveries (redeliveries included) a chain of flushes makes before it yields to timers and I/O. */
const TURN_DELIVERY_BUDGET = 4096;
/** Flushes chained in microtasks before one waits for `setImmediate`. */
const TURN_FLUSH_BUDGET = 64;
/** How long the agent actors' reports of synchronous drains wait (on the bus's clock, see `flush`). */
const REPORT_DELAY_MS = 5;

/**
 * What the delivery loop asks of its bus, one object per bus. Plain method calls, not actor
 * events: the loop runs per message (bench/bus.ts: 40 000 – 170 000 messages/s on the
 * reference machine, 6 – 25 µs each), and one XState event costs ≈ 2 µs, i.e. 10 – 30 % of
 * the throughput if the loop spoke to the bus by events. They are rare here anyway (an
 * expired message, a sweep).
 * @internal
 */
export interface DeliveryLoopBus {
  /** An expired message taken out of `agentId`'s mailbox. */
  expired(message: Message, agentId: string): void;
  /** Redeliveries waiting for their delay (the bus is not idle while there are any). */
  redeliveriesWaiting(): number;
  /** A TTL sweep ran at `now` (the bus forgets the open correlations of expired requests). */
  swept(now: number): void;
}

/**
 * The delivery loop of a bus: agents with deliverable mail are queued once (`scheduleDrain`)
 * and drained together once the current synchronous burst of sends is over (one flush per
 * microtask, yielding to timers and I/O now and then); mailboxes nobody drains (offline and
 * pull agents) are swept for expired messages on a timer; `whenIdle` resolves once nothing
 * deliverable is left. Kept imperative and allocation-free per message: it is the bus's hot
 * path.
 * @internal
 */
export class DeliveryLoop {
  /** Between the bus's `start()` and `stop()`. */
  private running = false;
  private stopped = false;
  private ready: RegisteredAgent[] = [];
  private flushScheduled = false;
  private chainedFlushes = 0;
  /** `counters.delivered` when delivery last yielded to the event loop. */
  private deliveredAtYield = 0;
  private sweepTimer: unknown = undefined;
  /** Agents whose synchronous handler was handed messages directly, to report to their actors. */
  private unreported: RegisteredAgent[] = [];
  private reportTimer: unknown = undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly agents: ReadonlyMap<string, RegisteredAgent>,
    private readonly counters: BusCounters,
    private readonly clock: NeuroFluxClock,
    private readonly ttlSweepIntervalMs: number,
    private readonly bus: DeliveryLoopBus,
  ) {}

  /** Starts delivering: every agent is drained, and sweeps start for mailboxes nobody drains. */
  start(): void {
    this.running = true;
    for (const agent of this.agents.values()) {
      this.scheduleDrain(agent);
      // Messages queued before start for offline or pull agents expire like any others.
      if (agent.mailbox.size > 0 && !(agent.pushes && agent.online)) this.armSweep();
    }
  }

  /** Stops for good (no more drains or sweeps); `whenIdle` resolves from now on. */
  stop(): void {
    this.running = false;
    this.stopped = true;
    this.clock.clearTimeout(this.sweepTimer);
    this.report();
  }

  /** A message was put in `agent`'s mailbox: drained soon, or swept if nobody drains it. */
  queued(agent: RegisteredAgent): void {
    if (agent.pushes && agent.online) this.scheduleDrain(agent);
    else this.armSweep();
  }

  /** Queues `agent` for the next flush (once however often it is called before it). */
  scheduleDrain(agent: RegisteredAgent): void {
    if (agent.drainScheduled || !this.running) return;
    agent.drainScheduled = true;
    this.ready.push(agent);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Deliveries run once the current synchronous burst of sends is over, so a burst
      // reaches each agent as a few batches, most urgent first. A long chain of flushes
      // (handlers answering each other synchronously) yields to timers and I/O now and
      // then, or request timeouts and TTL sweeps would never run. Deliveries count as well
      // as flushes (redeliveries among them), so a flush chain holds the thread for at most
      // TURN_DELIVERY_BUDGET handler calls or so.
      if (++this.chainedFlushes < TURN_FLUSH_BUDGET && this.counters.delivered - this.deliveredAtYield < TURN_DELIVERY_BUDGET) queueMicrotask(this.flush);
      else {
        this.chainedFlushes = 0;
        this.deliveredAtYield = this.counters.delivered;
        setImmediate(this.flush);
      }
    }
  }

  /** Next unexpired message of an agent's mailbox; expired ones are dead-lettered on the way. */
  take(agent: RegisteredAgent, now: number): Message | undefined {
    let message: Message | undefined;
    while ((message = agent.mailbox.dequeue()) !== undefined) {
      if (isExpired(message, now)) {
        this.bus.expired(message, agent.agentId);
        continue;
      }
      this.counters.delivered++;
      return message;
    }
    return undefined;
  }

  /** Arms the TTL sweep (once) while the loop runs. */
  armSweep(): void {
    if (this.sweepTimer !== undefined || !this.running) return;
    this.sweepTimer = this.clock.setTimeout(this.sweep, this.ttlSweepIntervalMs);
  }

  /**
   * Resolves once nothing deliverable is queued and no handler is running: every
   * accepted message has been handled, dead-lettered, or waits for an offline or pull agent.
   */
  whenIdle(): Promise<void> {
    // Whoever waits for idle reads the agents' figures next: they are told now.
    this.report();
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves the `whenIdle` waiters if the bus is idle now. */
  notifyIdle(): void {
    if (this.idleWaiters.length === 0) return;
    this.report();
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private isIdle(): boolean {
    if (this.stopped) return true;
    if (this.flushScheduled || this.bus.redeliveriesWaiting() > 0) return false;
    for (const agent of this.agents.values()) {
      if (!agent.active) continue;
      if (agent.actor.getSnapshot().context.inFlight > 0) return false;
      if (this.running && agent.pushes && agent.online && agent.mailbox.size > 0) return false;
    }
    return true;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const ready = this.ready;
    this.ready = [];
    // One clock read per flush: a flush runs in one synchronous slice of time.
    const now = this.clock.now();
    const take = (agent: RegisteredAgent) => this.take(agent, now);
    for (const agent of ready) {
      agent.drainScheduled = false;
      if (this.running && this.agents.get(agent.agentId) === agent && agent.drain(take)) this.scheduleDrain(agent);
      if (agent.unreported) this.unreported.push(agent);
    }
    if (this.unreported.length > 0 && this.reportTimer === undefined) {
      // Later, on the runtime's clock: the report of a drain where the handler stayed synchronous
      // changes only the actor's counts (delivered = handled + failed + returned, so neither
      // `inFlight` nor the state moves), and it costs an XState macrostep, which in a runtime
      // (inspection on) measured ≈ 45 µs on a request/reply round trip when sent in the same
      // turn, even two microtasks after the response's socket write (bench/profiles, the
      // runtimes of bench/nats.ts in one process). One report per REPORT_DELAY_MS serves every
      // drain meanwhile; `whenIdle()` and `stop()` report at once. On the runtime's clock like
      // every bus timer (a test's SimulatedClock decides when it fires); a host timer is
      // unref'd, so a pending report never keeps the process alive (stop() clears it anyway).
      this.reportTimer = this.clock.setTimeout(this.report, REPORT_DELAY_MS);
      (this.reportTimer as { unref?: () => void } | null)?.unref?.();
    }
    this.notifyIdle();
  };

  /** Tells the agent actors what their handlers did since the last report (one event per agent). */
  private readonly report = (): void => {
    if (this.reportTimer !== undefined) this.clock.clearTimeout(this.reportTimer);
    this.reportTimer = undefined;
    if (this.unreported.length === 0) return;
    const agents = this.unreported;
    this.unreported = [];
    for (const agent of agents) agent.reportDirect();
  };

  /** Dead-letters expired messages that nobody is draining; re-arms while any remain. */
  private readonly sweep = (): void => {
    this.sweepTimer = undefined;
    const now = this.clock.now();
    let waiting = false;
    for (const agent of this.agents.values()) {
      if (agent.mailbox.size === 0 || (agent.pushes && agent.online)) continue;
      for (const message of agent.mailbox.removeWhere((m) => isExpired(m, now))) this.bus.expired(message, agent.agentId);
      waiting ||= agent.mailbox.size > 0;
    }
    this.bus.swept(now);
    if (waiting) this.armSweep();
  };
}
