export {
  ScalingManager,
  planScaling,
  type AgentInstance,
  type AgentLauncher,
  type ScaleOutReason,
  type ScalingDecision,
  type ScalingManagerOptions,
  type ScalingMetrics,
  type ScalingPolicy,
} from './scalingManager';
export {
  MultiRegionCoordinator,
  NoRegionError,
  regionTaskSubject,
  scoreRegion,
  type MultiRegionCoordinatorOptions,
  type RegionScore,
  type RegionStatus,
} from './multiRegionCoordinator';
