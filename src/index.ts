/**
 * NeuroFlux: an actor-model runtime for multi-agent coordination on XState v5.
 * This module is the whole public API.
 * @packageDocumentation
 */
export {
  ErrorCode,
  NeuroFluxError,
  ValidationError,
  RequestTimeoutError,
  QueueFullError,
  UnknownAgentError,
  DuplicateAgentError,
  NotRunningError,
  StandbyError,
  AgentsUnavailableError,
  WorkflowValidationError,
  UnknownTaskError,
  TaskNotRetryableError,
  DuplicateTaskError,
  AssignmentRefusedError,
  DeliveryFailedError,
  type NeuroFluxErrorOptions,
  type ValidationIssue,
  type WorkflowProblem,
} from './errors';
export { describeError } from './describeError';
export {
  findNonJson,
  replaceNonJson,
  JsonValueSchema,
  MAX_JSON_DEPTH,
  MAX_JSON_VALUES,
  type JsonProblem,
  type JsonRepair,
} from './jsonValue';
export { systemClock, type NeuroFluxClock } from './kernel/clock';
export {
  jsonLinesLogger,
  silentLogger,
  defaultLogger,
  logLevelFromEnvironment,
  LogLevelSchema,
  type NeuroFluxLogger,
  type LogFn,
  type LogLevel,
  type JsonLinesLoggerOptions,
} from './kernel/logger';
export type { RetentionOptions } from './kernel/recordRetention';
export type { ConnectionStatusEvent, ConnectionStatusKind, ConnectionStatusStats } from './kernel/connectionStatus';
export { EXECUTOR_NOT_ALLOWED, ExecutorNotAllowedError } from './orchestration/executorModule';
export { loadWorkflowFile } from './orchestration/workflowFileLoader';
export { WorkflowFileError, type WorkflowFileIssue } from './orchestration/workflowFileError';
export type { SourcePosition } from './orchestration/workflowFileSource';
export { WorkflowFileSchema, workflowJsonSchema, type WorkflowFile, type WorkflowFileInput } from './orchestration/workflowFile';
export { createNeuroFlux, type NeuroFlux, type NeuroFluxOptions } from './runtime/createNeuroFlux';
export { neuroFluxLogic, type NeuroFluxLogic } from './runtime/neuroFluxLogic';
export type {
  NeuroFluxEvent,
  NeuroFluxRegisterAgentEvent,
  NeuroFluxSubmitWorkflowEvent,
  NeuroFluxCancelTaskEvent,
  NeuroFluxParentEvent,
  NeuroFluxTaskFinishedEvent,
  NeuroFluxWorkflowFinishedEvent,
  NeuroFluxRejectedEvent,
} from './runtime/neuroFluxEvents';
export {
  LeaderElection,
  type LeaderElectionOptions,
  type LeadershipHooks,
  type LeadershipState,
} from './store/leaderElection';
export {
  MessageType,
  MessagePriority,
  MessageSchema,
  DEFAULT_TTL_SECONDS,
  DEFAULT_MAX_RETRIES,
  parseMessage,
  isExpired,
  type Message,
  type MessageInput,
} from './bus/message';
export {
  CommunicationBus,
  OverflowPolicy,
  BusOptionsSchema,
  type CommunicationBusOptions,
  type AgentRegistration,
  type PublishArgs,
  type RequestArgs,
} from './bus/communicationBus';
export { AgentHandle, type AgentMessageInput } from './bus/agentHandle';
export type { MessageHandler, AgentBehaviourInput, AgentMessageEvent } from './bus/registeredAgent';
export { DeadLetterReason, type DeadLetter, type InvalidDeadLetter, type AnyDeadLetter } from './bus/deadLetter';
export type { BusStats } from './bus/busStats';
export type { BusInstrumentation } from './bus/busInstrumentation';
export { topicMatches } from './bus/topicPattern';
export { messageOrigin, ORIGIN_HEADER, type MessageOrigin } from './bus/messageOrigin';
export { IDEMPOTENCY_HEADER } from './bus/executedKeys';
export {
  TaskOrchestrator,
  type TaskOrchestratorOptions,
  type OrchestratorAgentOptions,
  type TaskEvent,
  type TaskFinishedEvent,
  type TaskAttemptEvent,
  type TaskAttemptFailureKind,
  type OrchestratorStats,
  type CapabilityFigures,
} from './orchestration/taskOrchestrator';
export {
  TaskStatus,
  TaskPriority,
  TaskInputSchema,
  RetryPolicySchema,
  PRIORITY_MULTIPLIER,
  type TaskInput,
  type TaskSpec,
  type TaskRecord,
  type TaskState,
  type TaskSubmission,
  type RetryPolicy,
} from './orchestration/taskTypes';
export type { TaskExecutor, ExecutionContext } from './orchestration/taskExecutor';
export {
  builtInBalancers,
  defaultScore,
  weightedScore,
  capabilityMatch,
  type Balancer,
  type ScoringBalancer,
  type ChoosingBalancer,
  type TaskTraits,
  type BuiltInBalancerName,
} from './orchestration/balancers';
export { recentPerformanceScore, type AgentView, type TaskHistoryEntry } from './orchestration/orchestratorAgent';
export { TaskTopic, HostPresencePayloadSchema, type HostPresencePayload } from './orchestration/taskProtocol';
export { AgentHost, type AgentHostOptions, type AgentHostStats, type HostedAgentOptions } from './orchestration/agentHost';
export { findWorkflowProblems } from './orchestration/workflowGraph';
export {
  diagnoseStall,
  type StallDiagnosis,
  type StallDiagnosisOptions,
  type BlockedTask,
  type BlockedReason,
  type OrchestratorProgressState,
  type ProgressStateTask,
  type ProgressStateAgent,
} from './orchestration/stallDiagnosis';
export { watchForStall, type StallWatch, type StallWatchOptions } from './orchestration/stallWatch';
export { taskMachine, type TaskMachine, type TaskMachineEvent, type DependencyFailurePolicy } from '../machines/task.machine';
export { orchestratorMachine, type OrchestratorMachine } from '../machines/orchestrator.machine';
export { hostLivenessMachine, type HostLivenessMachine } from '../machines/hostLiveness.machine';
export { heartbeatMachine, type HeartbeatMachine } from '../machines/heartbeat.machine';
export { leaderElectionMachine, type LeaderElectionMachine } from '../machines/leaderElection.machine';
export { agentMachine, type AgentMachine, type AgentMachineEvent } from '../machines/agent.machine';
export { runtimeMachine, type RuntimeMachine } from '../machines/runtime.machine';
export * from './conflict/index';
export * from './swarm/index';
export * from './transport/index';
export * from './store/index';
export * from './cache/index';
export * from './scaling/index';
export * from './observability/index';
export * from './verify/index';
