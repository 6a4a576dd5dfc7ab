import type { OrchestratorAgentOptions } from '../orchestration/taskOrchestrator';
import type { TaskInput, TaskRecord } from '../orchestration/taskTypes';

/** Registers an agent with the embedded orchestrator (as `orchestrator.registerAgent`). */
export interface NeuroFluxRegisterAgentEvent {
  readonly type: 'neuroflux.registerAgent';
  readonly agentId: string;
  readonly capabilities: readonly string[];
  /** Tasks the agent runs at once. Default 5. */
  readonly maxConcurrentTasks?: number;
  /** Runs the agent's tasks in this process (functions travel in events: in-process only). */
  readonly execute?: OrchestratorAgentOptions['execute'];
}

/**
 * Submits a workflow (as `orchestrator.submitWorkflow`): checked as a whole, all or nothing.
 * `workflowId` names it in `neuroflux.workflowFinished` (default `workflow-<n>`); an id of a
 * workflow still running is refused.
 */
export interface NeuroFluxSubmitWorkflowEvent {
  readonly type: 'neuroflux.submitWorkflow';
  readonly workflowId?: string;
  readonly tasks: readonly TaskInput[];
}

/** Cancels a task (as `orchestrator.cancelTask`); a task already final is left as it is. */
export interface NeuroFluxCancelTaskEvent {
  readonly type: 'neuroflux.cancelTask';
  readonly taskId: string;
}

/** What a parent may send to `neuroFluxLogic`. */
export type NeuroFluxEvent = NeuroFluxRegisterAgentEvent | NeuroFluxSubmitWorkflowEvent | NeuroFluxCancelTaskEvent;

/** Sent to the parent for every task that reached a final state: the record `waitForTask` resolves with. */
export interface NeuroFluxTaskFinishedEvent {
  readonly type: 'neuroflux.taskFinished';
  readonly record: TaskRecord;
}

/** Sent to the parent once every task of a submitted workflow is final; records in submission order. */
export interface NeuroFluxWorkflowFinishedEvent {
  readonly type: 'neuroflux.workflowFinished';
  readonly workflowId: string;
  readonly records: readonly TaskRecord[];
}

/**
 * Sent to the parent instead of running a command, or when the runtime cannot start. `error`
 * is the error the API would have thrown: a `ValidationError` naming the field, an
 * `UnknownTaskError`, a `DuplicateAgentError`, a `WorkflowValidationError`, a `NotRunningError`
 * (the runtime did not start)... `command` is the refused event's type (`null`: the runtime's start).
 */
export interface NeuroFluxRejectedEvent {
  readonly type: 'neuroflux.rejected';
  readonly error: Error;
  readonly command: NeuroFluxEvent['type'] | null;
}

/** What `neuroFluxLogic` sends its parent. */
export type NeuroFluxParentEvent = NeuroFluxTaskFinishedEvent | NeuroFluxWorkflowFinishedEvent | NeuroFluxRejectedEvent;
