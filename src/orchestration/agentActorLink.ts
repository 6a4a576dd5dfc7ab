import type { AnyActorRef } from 'xstate';

/**
 * What the orchestrator tells an agent's actor (machines/agent.machine.ts) on the local
 * bus: how many tasks it runs on the agent here, and whether it paused it. Without this
 * an agent whose executor the orchestrator calls directly (no bus message per task) read
 * `idle` while it ran tasks (issue #16).
 *
 * Only the figures the chart needs cross: the task count is absolute (a lost or repeated
 * report cannot leave it off for good), and only changes are sent. Cost: one event per
 * assignment and one per release, ~2 µs each against ~100–200 µs per task
 * (docs/benchmarks.md, `npm run bench -- orchestrator`).
 * @internal
 */
export class AgentActorLink {
  private reportedLoad = 0;
  private reportedPaused = false;

  /**
   * @param actor the agent's actor on the local bus.
   * @param capacity the orchestrator's `maxConcurrentTasks` for the agent.
   * @param reportsTasks true when the orchestrator runs the tasks here (an executor): an
   *   agent answering assignments over the bus already counts them as messages in flight.
   */
  constructor(
    private readonly actor: AnyActorRef,
    private readonly capacity: number,
    private readonly reportsTasks: boolean,
  ) {}

  /** The task count changed (assigned or released). */
  taskLoadChanged(load: number): void {
    if (!this.reportsTasks || load === this.reportedLoad) return;
    this.reportedLoad = load;
    this.send({ type: 'TASK_LOAD_CHANGED', taskLoad: load, capacity: this.capacity });
  }

  pausedChanged(paused: boolean): void {
    if (paused === this.reportedPaused) return;
    this.reportedPaused = paused;
    this.send({ type: paused ? 'AGENT_PAUSED' : 'AGENT_RESUMED' });
  }

  /** States the current figures at once (when the link is made). */
  announce(load: number, paused: boolean): void {
    if (this.reportsTasks) this.send({ type: 'TASK_LOAD_CHANGED', taskLoad: load, capacity: this.capacity });
    this.reportedLoad = load;
    this.pausedChanged(paused);
  }

  /**
   * The orchestrator lets go of the agent (unregistered) while its bus agent stays: no
   * task of it runs here any more, and nobody pauses it.
   */
  detach(): void {
    if (this.reportsTasks && this.reportedLoad !== 0) this.send({ type: 'TASK_LOAD_CHANGED', taskLoad: 0 });
    this.reportedLoad = 0;
    this.pausedChanged(false);
  }

  private send(event: { type: string; taskLoad?: number; capacity?: number }): void {
    // A stopped actor (its bus agent was unregistered) has nothing left to show.
    if (this.actor.getSnapshot().status === 'active') this.actor.send(event);
  }
}
