import type { SnapshotWriterStats } from '../store/snapshotWriter';

/** What the orchestrator knows now of the demand for, and supply of, one capability (what scaling reads). */
export interface CapabilityFigures {
  readonly capability: string;
  /** Ready tasks waiting for an agent with this capability. */
  readonly waitingTasks: number;
  /** How long the longest-waiting of them has waited, ms (0 when none waits). */
  readonly oldestWaitMs: number;
  /** Registered agents with this capability. */
  readonly agents: number;
  /** Tasks those agents hold now (assigned or running). */
  readonly usedSlots: number;
  /** Sum of their `maxConcurrentTasks`. */
  readonly capacity: number;
}

/** Counters of the orchestrator. Times in milliseconds. */
export interface OrchestratorStats {
  readonly tasksCreated: number;
  readonly tasksCompleted: number;
  readonly tasksFailed: number;
  readonly tasksCancelled: number;
  readonly tasksTimedOut: number;
  readonly retries: number;
  /** Mean run time (start to completion) of completed tasks. */
  readonly avgCompletionTime: number;
  readonly pendingTasks: number;
  readonly assignedTasks: number;
  readonly runningTasks: number;
  readonly registeredAgents: number;
  /** Running load over total capacity, 0..1. */
  readonly utilization: number;
  readonly agents: Readonly<Record<string, { load: number; maxConcurrentTasks: number; utilization: number; performance: number }>>;
  /** Results that arrived for an attempt already aborted, retried or finished, or with another dispatch's token (ignored). */
  readonly lateResults: number;
  /** `task_started` / `task_progress` reports for an attempt that is not the current one, or with another dispatch's token (ignored). */
  readonly lateReports: number;
  /** `task_result` / `task_started` messages that failed validation (ignored). */
  readonly invalidResults: number;
  /**
   * Reports (`task_started`, `task_progress`, `task_result`) from the network refused: without
   * the dispatch's token (`noToken`), or published by another NATS identity than the host of
   * the agent the task was dispatched to (`wrongHost`). A wrong token counts as late.
   */
  readonly refusedResults: { readonly noToken: number; readonly wrongHost: number };
  /** User balancer calls that threw (the task waited; the agent ranked last). */
  readonly balancerErrors: number;
  /** Writes to the store (null without one); `fenced`: another orchestrator took over the key; `archive`: sealed segments of finished tasks and those still in the rewritten value. */
  readonly persistence: SnapshotWriterStats | null;
  /** Agent hosts heard from (`agent_presence`) and still alive, and those presumed dead or gone since start. */
  readonly hosts: {
    readonly alive: number;
    readonly lost: number;
    /** Of `lost`, those that said they left (a clean stop) rather than fell silent. */
    readonly left: number;
    readonly invalidAnnouncements: number;
    /** Presence published under another NATS identity than the host id it names (refused). */
    readonly refusedAnnouncements: number;
  };
  /** False while the orchestrator is a standby (or disabled). */
  readonly active: boolean;
}
