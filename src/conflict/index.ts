/**
 * Conflict resolution: detectors, consensus algorithms (pure), strategies, stakes, and
 * the engine facade that runs one conflict actor per conflict.
 */
export {
  ConflictType,
  ConsensusAlgorithm,
  ResolutionStrategy,
  ConflictStatus,
  EscalationReason,
  ConflictTopic,
  ConsensusFailure,
  DecisionAction,
  ConflictInputSchema,
  VoteSchema,
  VoteAnswerSchema,
  DecisionSchema,
  type Conflict,
  type ConflictInput,
  type Decision,
  type Vote,
  type VoteAnswer,
  type ConsensusResult,
  type ConflictVerdict,
  type HumanDecision,
  type HumanDecisionOptions,
} from './model/conflictTypes';
export { achieveConsensus, MAJORITY_THRESHOLD, SUPERMAJORITY_THRESHOLD, MIN_QUORUM, type ConsensusOptions } from './model/consensus';
export { computeStake, clampStake, MIN_STAKE, MAX_STAKE, ABSTENTION_STAKE, DEFAULT_PERFORMANCE, type StakeProvider } from './model/stakes';
export { PerformanceLedger, type AgentPerformance, type VoterOutcome, type WeightUpdateOptions } from './performanceLedger';
export { allocateByStake, weightedMedian, proposeCompromise, type ResourceClaim, type WeightedValue, type CompromiseOutcome } from './model/compromise';
export {
  tallyConflict,
  selectExpert,
  FALLBACK_DECISIONS,
  FALLBACK_CONFIDENCE,
  DEFAULT_EXPERT_CONFIDENCE,
  DEFAULT_EXECUTION_THRESHOLD,
  type TallyInput,
  type ExpertAnswer,
} from './model/strategies';
export { decisionKey, sameDecision } from './model/decisionKey';
export { planExecution, decisionRecipients, executorsOf, executionKey, escalationNotice, type ExecutionCommand, type DecisionExecutors } from './decisionExecution';
export { detectSignalConflicts, SignalRule, TradingSignalSchema, type TradingSignalInput, type SignalDetectionOptions } from './detectors/signalDetector';
export { detectResourceConflicts, ResourceRequestSchema, type ResourceRequest, type ResourceAvailability } from './detectors/resourceDetector';
export { detectPriorityConflicts, TaskClaimSchema, type TaskClaim, type AgentSlots } from './detectors/priorityDetector';
export {
  detectTimingConflicts,
  DEFAULT_OPPOSING_ACTIONS,
  DEFAULT_TIMING_WINDOW_MS,
  TimedActionSchema,
  type TimedAction,
  type TimingDetectionOptions,
} from './detectors/timingDetector';
export { type VoteFunction, type VoteRequest, type VoteRequestPayload } from './voteCollection';
export { ConflictErrorCode, UnknownConflictError, DuplicateConflictError, ConflictStateError, RemoteConflictError } from './conflictErrors';
export { CONFLICT_INTAKE_AGENT, ConflictForwardTopic } from './conflictForwarding';
export type { ConflictEvent, ConsensusOutcome } from './conflictEvents';
export type { ConflictRecord, ConflictResolution } from './conflictRecord';
export type { ConflictStats } from './conflictStats';
export {
  ConflictResolutionEngine,
  DEFAULT_DEADLINE_MS,
  type ConflictResolutionEngineOptions,
  type ResolveOptions,
  type ConflictDetectionContext,
} from './conflictResolutionEngine';
export {
  conflictMachine,
  conflictStatusOf,
  type ConflictMachine,
  type ConflictMachineInput,
  type ConflictMachineEvent,
  type ConflictPhase,
  type ConflictResume,
} from '../../machines/conflict.machine';
