import type { AnyActorRef, Subscription } from 'xstate';

/**
 * What the orchestrator and an agent's actor (machines/agent.machine.ts) on the local bus
 * tell each other: the orchestrator, how many tasks it has assigned to the agent and
 * whether it paused it (without this an agent whose executor the orchestrator calls
 * directly read `idle` while it ran tasks, issue #16); the actor, that the agent went
 * offline or came back (its emitted `agent.offline` / `agent.online`), so that an offline
 * agent gets no task. A new actor (the bus agent registered again) gets a new link.
 *
 * The task count is absolute (a lost or repeated report cannot leave it off for good) and
 * told once per turn of the event loop (in the check phase, `setImmediate`), only when it
 * differs from what the actor shows: the chart is true at every turn boundary, which is
 * when anything outside the runtime (an inspector, a timer, I/O, a test's `setImmediate`)
 * can read it. Measured: an event to an agent actor costs 13–20 µs of CPU on the shared
 * 2-core machine; one per assignment and one per release took the orchestrator to
 * 0.80–0.82× of its throughput (3 000 tasks on 100 agents × 5, 21 interleaved rounds).
 * Told once per microtask turn it was still 1.81 events per task on the 10 000-task bench
 * (1 000 agents × 5, instant executors: an assignment and its release fall in different
 * microtask turns) and `reportQueuedLinks` ~8 % of its CPU profile; told once per
 * event-loop turn it is 0 there (each agent ends every turn at the count it began with)
 * and the bench's CPU time 0.815× (paired A/B in one process, 11 rounds, A/A 0.992).
 * @internal
 */
export class AgentActorLink {
  private reportedLoad = 0;
  private reportedPaused = false;
  /** The count to tell at the end of the event loop's turn. */
  private pendingLoad = 0;
  private queued = false;
  private readonly listeners: Subscription[] = [];

  /**
   * @param actor the agent's actor on the local bus.
   * @param capacity the orchestrator's `maxConcurrentTasks` for the agent.
   * @param reportsTasks false when a handler on the bus takes each assignment as a message
   *   (it counts as a message in flight while handled); true for an executor the
   *   orchestrator calls and for a mailbox read with the pull API (the assignment waits
   *   there, nothing else counts it).
   * @param onlineChanged told whether the actor is online now (at `announce`) and then at
   *   each change.
   */
  constructor(
    private readonly actor: AnyActorRef,
    private readonly capacity: number,
    private reportsTasks: boolean,
    private readonly onlineChanged: (online: boolean) => void = () => {},
  ) {}

  /** The task count changed (assigned or released): told at the end of the turn. */
  taskLoadChanged(load: number): void {
    if (!this.reportsTasks) return;
    this.pendingLoad = load;
    if (this.queued) return;
    this.queued = true;
    queueReport(this);
  }

  /** Tells the actor the count, if it changed since the last report. @internal */
  report(): void {
    this.queued = false;
    if (this.pendingLoad === this.reportedLoad) return;
    this.reportedLoad = this.pendingLoad;
    this.send({ type: 'TASK_LOAD_CHANGED', taskLoad: this.pendingLoad, capacity: this.capacity });
  }

  pausedChanged(paused: boolean): void {
    if (paused === this.reportedPaused) return;
    this.reportedPaused = paused;
    this.send({ type: paused ? 'AGENT_PAUSED' : 'AGENT_RESUMED' });
  }

  /** States the current figures at once and starts listening (when the link is made). */
  announce(load: number, paused: boolean): void {
    if (this.reportsTasks) this.send({ type: 'TASK_LOAD_CHANGED', taskLoad: load, capacity: this.capacity });
    this.reportedLoad = this.pendingLoad = load;
    this.pausedChanged(paused);
    // `switchedOff` (machines/agent.machine.ts): an agent offline only because the transport is down still takes this process's tasks.
    const snapshot = this.actor.getSnapshot() as { status: string; context: { switchedOff?: boolean } };
    if (snapshot.status !== 'active') return;
    this.listeners.push(
      this.actor.on('agent.offline', () => this.onlineChanged(false)),
      this.actor.on('agent.online', () => this.onlineChanged(true)),
    );
    this.onlineChanged(snapshot.context.switchedOff !== true);
  }

  /**
   * The orchestrator lets go of the agent (unregistered) while its bus agent stays: no
   * task of it runs here any more, and nobody pauses it.
   */
  detach(): void {
    if (this.reportsTasks && this.reportedLoad !== 0) this.send({ type: 'TASK_LOAD_CHANGED', taskLoad: 0 });
    // A report still queued finds nothing to tell.
    this.reportedLoad = this.pendingLoad = 0;
    this.reportsTasks = false;
    this.pausedChanged(false);
    for (const listener of this.listeners) listener.unsubscribe();
    this.listeners.length = 0;
  }

  private send(event: { type: string; taskLoad?: number; capacity?: number }): void {
    // A stopped actor (its bus agent was unregistered) has nothing left to show.
    if ((this.actor.getSnapshot() as { status: string }).status === 'active') this.actor.send(event);
  }
}

/**
 * Links whose task count changed this turn of the event loop; reported together in one
 * `setImmediate` callback (a host callback, not the runtime clock's timer: a simulated
 * clock that tests advance by hand would otherwise hold the reports back forever).
 */
let queuedLinks: AgentActorLink[] = [];
let reportQueued = false;

function queueReport(link: AgentActorLink): void {
  queuedLinks.push(link);
  armAgentLoadReports();
}

/**
 * Makes sure this turn's reports go out in a callback queued now, if none is queued yet.
 * The scheduler arms it when a round is requested, before the round's assignments: so a
 * caller that submits and then waits one `setImmediate` finds the chart already told.
 * @internal
 */
export function armAgentLoadReports(): void {
  if (reportQueued) return;
  reportQueued = true;
  setImmediate(reportQueuedLinks);
}

/**
 * Tells every queued count now. The orchestrator calls it before it answers a wait for
 * tasks (`waitForTask`, `waitForWorkflow`: once per wait, not per task), so that whoever
 * learns that a task finished reads its agent's chart with the task released.
 * @internal
 */
export function flushAgentLoadReports(): void {
  if (queuedLinks.length === 0) return;
  const links = queuedLinks;
  queuedLinks = [];
  for (const link of links) link.report();
}

function reportQueuedLinks(): void {
  reportQueued = false;
  flushAgentLoadReports();
}

/** `flushAgentLoadReports`, then the value: a `then` step for the orchestrator's waits. @internal */
export function afterLoadReports<T>(value: T): T {
  flushAgentLoadReports();
  return value;
}
