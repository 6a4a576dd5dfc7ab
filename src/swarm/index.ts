/**
 * The swarm network: agents as neurons, learned connection strengths, emergent patterns.
 */
export {
  NeuralSwarmNetwork,
  MAX_HELD_OUTCOMES,
  type NeuralSwarmNetworkOptions,
  type AddAgentOptions,
  type KnowledgeTransferDelivery,
  type NetworkCycleResult,
} from './neuralSwarmNetwork';
export {
  SWARM_DEFAULTS,
  PatternType,
  type SwarmRules,
  type SwarmState,
  type SwarmSnapshot,
  type SwarmNeuron,
  type SwarmConnection,
  type ConnectionOutcome,
  type DecisionPattern,
  type ActivationRecord,
  type ConsensusVoter,
  type ConsensusOutcome as SwarmConsensusOutcome,
  type ConsensusRecord,
  type TaskOutcome,
  type TaskOutcomeEvent,
  type EmergentPattern,
  type PatternPair,
  type FiringRecord,
  type PropagationResult,
  type AdaptationResult,
  type TransferredPattern,
  type KnowledgeTransfer,
  type SwarmCounters,
  type SwarmMachineInput,
  type SwarmEvent,
} from './model/swarmTypes';
export { SwarmErrorCode, UnknownConnectionError, DuplicateNetworkError } from './swarmErrors';
export {
  SwarmRulesSchema,
  SwarmOptionsSchema,
  TaskOutcomeSchema,
  ConsensusOutcomeSchema as SwarmConsensusOutcomeSchema,
  MAX_PRODUCERS_PER_OUTCOME,
  MAX_PAIRS_PER_PRODUCER,
  PAIRS_DROPPED_AT_CAP,
} from './model/swarmSchemas';
export { routingAffinity, pairPosterior } from './routingAffinity';
export {
  PRIOR as ROUTING_PRIOR,
  betaPosterior,
  discountedCounts,
  evidenceAt,
  MAX_EVIDENCE,
  updatePosterior,
  posteriorMean,
  sampleBeta,
  sampleGamma,
  type PairPosterior,
  type BetaParameters,
  type RandomSource,
} from './model/routingBandit';
export { failureCauseOf, TASK_FAILURE_CAUSES, type TaskFailureCause, type FinishedTaskFailure } from './model/failureAttribution';
export { agentPerformance, canFire, isRefractory } from './model/neuron';
export { activateConnection, decayConnection, connectionSuccessRate, successRateAdjustedStrength } from './model/connection';
export { initialSwarmState, neuronOf, connectionOf, findConnection, listNeurons, listConnections, neuronsInOrder } from './model/swarmState';
export { PAIR_SHARDS, pairCount, pairOf, pairsOf, type PairIndex, type ReadonlyPairIndex } from './model/pairIndex';
export { SHARD_COUNT, shardPath, type Shard, type ShardGroup, type ShardedRecord, type ReadonlyShardedRecord } from './model/shardedRecord';
export type { PackedEntries, ReadonlyPackedEntries } from './model/packedEntries';
export { propagate } from './model/propagation';
export { adaptTopology, decayConnections } from './model/adaptation';
export { learnFromTask, learnFromTasks, learnFromConsensus, type TaskOutcomeBatch } from './model/outcomeLearning';
export { SwarmWorkingCopy } from './model/swarmWorkingCopy';
export { activationPatterns, pearsonCorrelation, detectPatterns, amplifyPatterns } from './model/emergentPatterns';
export { runCycle, detectAndAmplify } from './model/networkCycle';
export {
  KNOWLEDGE_TRANSFER_TOPIC,
  knowledgeTransferMessage,
  performanceRanking,
  teachablePatterns,
  planKnowledgeTransfers,
  shareKnowledge,
  type KnowledgeTransferPayload,
} from './model/knowledgeSharing';
export { computeSwarmStats, toGraph, type SwarmStats } from './topologyMetrics';
export { performanceMetrics, type SwarmPerformanceMetrics } from './performanceMetrics';
export { nextRandom, randomSource, seedFromString, type RandomDraw } from './model/seededRandom';
export { swarmMachine, type SwarmMachine } from '../../machines/swarm.machine';
export { swarmBalancer, type SwarmBalancerOptions } from './swarmBalancer';
