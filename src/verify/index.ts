/**
 * Model checking of workflows and machines. The Jest matchers live apart, in `./jest`
 * (importing them registers them), so that this module has no test-runner dependency.
 */
export { verifyWorkflow, type VerifyWorkflowOptions, type WorkflowInvariant, type WorkflowGoal } from './verifyWorkflow';
export { verifyMachine, DEFAULT_MACHINE_MAX_STATES, type VerifyMachineOptions, type MachineInvariant, type MachineGoal, type MachineVerificationResult } from './verifyMachine';
export { replayTrace, type ReplayResult, type ReplayedStep, type ReplayDivergence, type ReplayStepInput } from './replayTrace';
export { WorkflowSchema, AgentDeclarationSchema, type Workflow, type AgentDeclaration } from './workflowSchema';
export { formatTrace, formatTraceStep, type Trace, type TraceStep, type TraceStepType } from './trace';
export {
  formatVerificationResult,
  WORKFLOW_PROPERTIES,
  type VerificationResult,
  type Violation,
  type Witness,
  type PropertyName,
  type WorkflowProperty,
} from './verificationResult';
export type { Checks, NamedCheck } from './checks';
export type { EnvironmentOptions, CancellationScope, TaskStateView, WorkflowState } from './workflowModel';
export type { TaskPhase } from './taskAutomaton';
export type { ReductionOptions } from './reduction';
export { DEFAULT_MAX_STATES } from './stateSpace';
export type { VerificationProgress, BudgetLimit } from './explorationBudget';
export { createWorkflowTestModel, type WorkflowTestModel, type WorkflowModelEvent, type WorkflowModelState } from './workflowTestModel';
export { InvalidTraceError, VerifyErrorCode } from './verifyErrors';
