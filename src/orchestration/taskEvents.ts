import type { SnapshotWriterProblem } from '../store/snapshotWriter';
import type { TaskRecord, TaskState, TaskStatus } from './taskTypes';

/** One change seen by `events$`. Times are clock milliseconds. */
export type TaskEvent =
  | {
      readonly type: 'task_transition';
      readonly taskId: string;
      readonly state: TaskState;
      readonly status: TaskStatus;
      readonly agentId: string | null;
      readonly retryCount: number;
      readonly at: number;
    }
  | { readonly type: 'task_progress'; readonly taskId: string; readonly progress: number; readonly at: number }
  | {
      /** A task finished; `producerAgentIds` ran the tasks it depended on (for learning). */
      readonly type: 'task_finished';
      readonly taskId: string;
      readonly taskType: string;
      readonly status: TaskStatus;
      readonly agentId: string | null;
      readonly producerAgentIds: readonly string[];
      readonly durationMs: number | null;
      /** Why it did not complete (`execution_failed`, `timed_out`, `dependency_failed`...); null when it completed. */
      readonly reason: TaskRecord['reason'];
      /** The text of its last error; null when there was none. */
      readonly error: string | null;
      /** What the runtime knows of its last failed attempt (see {@link TaskAttemptFailureKind}); null when it completed or never ran. */
      readonly failureKind: TaskAttemptFailureKind | null;
      readonly at: number;
    }
  /** The store keeps failing, works again, or was given the state with non-JSON parts as null (see `SnapshotWriterProblem`). */
  | { readonly type: 'store_problem'; readonly problem: SnapshotWriterProblem; readonly at: number };

/** A task reached a final state. */
export type TaskFinishedEvent = Extract<TaskEvent, { type: 'task_finished' }>;

/**
 * Why an attempt failed, decided by the runtime where it fails it (never read from error text):
 * - `execution`: the agent ran the task and threw or reported a failure;
 * - `timeout`: the attempt ran out of time;
 * - `invalid_result`: the agent returned a result that is not JSON (refused by the runtime);
 * - `agent_unreachable`: the assignment never reached the agent (not on the bus, not delivered);
 * - `runtime`: the task's actor crashed.
 */
export type TaskAttemptFailureKind = 'execution' | 'timeout' | 'invalid_result' | 'agent_unreachable' | 'runtime';

/** One attempt of a task ended on an agent (what the swarm learns from: a retried attempt counts too). */
export interface TaskAttemptEvent {
  readonly type: 'task_attempt';
  readonly taskId: string;
  readonly taskType: string;
  /** 0 for the first attempt, then one more per retry. */
  readonly attempt: number;
  readonly agentId: string;
  /** Agents that ran the task's completed dependencies. */
  readonly producerAgentIds: readonly string[];
  readonly outcome: 'completed' | 'failed';
  /** Null when it completed. */
  readonly failureKind: TaskAttemptFailureKind | null;
  /** The attempt's error text (null when it completed); for display only. */
  readonly error: string | null;
  /** From assignment to the end of the attempt, ms. */
  readonly durationMs: number;
  readonly at: number;
}
