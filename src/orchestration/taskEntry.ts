import type { ActorRefFrom } from 'xstate';
import type { taskMachine } from '../../machines/task.machine';
import type { AgentPool } from './agentPool';
import type { Balancer } from './balancers';
import type { TaskAttemptFailureKind } from './taskEvents';
import type { TaskRecord } from './taskTypes';

/**
 * One row of the orchestrator's task table: the record users read, the task's actor, and
 * what scheduling and dispatch keep per task (its pool, its balancer, the current dispatch).
 * @internal
 */
export interface TaskEntry {
  readonly record: TaskRecord;
  actor: ActorRefFrom<typeof taskMachine> | undefined;
  readonly pool: AgentPool;
  readonly chooser: Balancer;
  dependents: string[] | undefined;
  waiters: ((record: TaskRecord) => void)[] | undefined;
  /** Clock time of the current attempt's assignment (for the performance ratio). */
  assignedAt: number | null;
  /**
   * Identity of the current dispatch. An attempt number is not enough: an agent lost and
   * re-registered under the same id gets the same attempt again, and the old run's late
   * result must not pass for the new one.
   */
  dispatchToken: string;
  /** Set by the runtime where it fails the current attempt itself; read (and cleared) when the attempt ends. */
  attemptFailureKind?: TaskAttemptFailureKind;
  /** The kind of the last failed attempt (for `task_finished`). */
  lastFailureKind?: TaskAttemptFailureKind;
}
