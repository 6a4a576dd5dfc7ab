/**
 * `neuroflux/verify`: model checking of workflows and machines (`verifyWorkflow`,
 * `verifyMachine`), trace replay on the real runtime, and a model for model-based tests.
 * The Jest matchers are `neuroflux/jest`.
 *
 * @example
 * ```ts
 * import { verifyWorkflow } from 'neuroflux/verify';
 * const result = verifyWorkflow({ tasks: [{ taskId: 'a', taskType: 't', requiredCapabilities: ['x'] }] });
 * ```
 * @module neuroflux/verify
 * @packageDocumentation
 */
export {
  verifyWorkflow,
  verifyMachine,
  DEFAULT_MACHINE_MAX_STATES,
  replayTrace,
  WorkflowSchema,
  AgentDeclarationSchema,
  formatTrace,
  formatTraceStep,
  formatVerificationResult,
  WORKFLOW_PROPERTIES,
  DEFAULT_MAX_STATES,
  createWorkflowTestModel,
  InvalidTraceError,
  VerifyErrorCode,
  type VerifyWorkflowOptions,
  type WorkflowInvariant,
  type WorkflowGoal,
  type VerifyMachineOptions,
  type MachineInvariant,
  type MachineGoal,
  type MachineVerificationResult,
  type ReplayResult,
  type ReplayedStep,
  type ReplayDivergence,
  type ReplayStepInput,
  type Workflow,
  type AgentDeclaration,
  type Trace,
  type TraceStep,
  type TraceStepType,
  type VerificationResult,
  type Violation,
  type Witness,
  type PropertyName,
  type WorkflowProperty,
  type Checks,
  type NamedCheck,
  type EnvironmentOptions,
  type CancellationScope,
  type TaskStateView,
  type WorkflowState,
  type TaskPhase,
  type ReductionOptions,
  type VerificationProgress,
  type BudgetLimit,
  type WorkflowTestModel,
  type WorkflowModelEvent,
  type WorkflowModelState,
} from '../verify/index';
export { verificationMatchers, type VerificationMatcherOptions, type InvariantFor } from '../verify/verificationMatchers';
