export { planScaling, type AgentInstance, type ScaleOutReason, type ScalingDecision, type ScalingMetrics, type ScalingPolicy } from './systemLoadRule';
export { ScalingManager, type ScaledRuntime, type ScalingManagerOptions } from './scalingManager';
export {
  CapacityPolicySchema,
  planCapacity,
  type CapacityFigures,
  type CapacityPlan,
  type CapacityPolicy,
  type CapacitySample,
  type ParsedCapacityPolicy,
  type PlannedHost,
} from './model/capacityPlan';
export type { HostLauncher, LaunchedHost } from './hostLauncher';
export { MemoryHostLauncher, type MemoryHostAgent, type MemoryHostLauncherOptions } from './memoryHostLauncher';
export { HostStartError, HostStopError, LocalHostLauncher, type LocalHostLauncherOptions } from './localHostLauncher';
export type { ScalingCompletedEvent, ScalingDecisionEvent, ScalingEvent, ScalingFailureEvent, ScalingFiguresRefusedEvent } from './scalingEvents';
export {
  MultiRegionCoordinator,
  NoRegionError,
  regionTaskSubject,
  scoreRegion,
  type MultiRegionCoordinatorOptions,
  type RegionScore,
  type RegionStatus,
} from './multiRegionCoordinator';
