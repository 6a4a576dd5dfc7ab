/**
 * Observability: the live inspector, OpenTelemetry tracing, Prometheus metrics and the
 * profiler. Nothing here costs anything until it is started.
 */
export { statechartToMermaid } from './statechartDiagram';
export type { ObservedRuntime } from './observedRuntime';
export { attachBusHooks } from './busHooks';
export { ObservabilityErrorCode, InspectorAddressError, InspectorListenError, InspectorActionRefusedError } from './observabilityErrors';

export { InspectionHub, createInspectionHub, type InspectionHubOptions, type HubDelta, type HubCounters } from './inspector/inspectionHub';
export { combineInspectionObservers } from './inspector/combineInspectionObservers';
export { startInspector, type Inspector, type InspectorOptions } from './inspector/inspectorServer';
export type { DomainFeedOptions } from './inspector/domainFeed';
export { startRemoteInspector, type RemoteInspectorOptions } from './inspector/remoteInspector';
export { publishInspection, type InspectionPublisher, type InspectionPublisherOptions } from './inspector/inspectionPublisher';
export type { InspectorActions } from './inspector/inspectorActions';
export { INSPECTION_FRAME_TOPIC, INSPECTION_INTEREST_TOPIC, type InspectionInterest, type RuntimeInspectionFrame, type RuntimeRole } from './inspector/inspectionWire';
export { describeStatechart, activeStatePaths, anyStatePath, type StatechartGraph, type StatechartNode, type StatechartEdge } from './inspector/statechartGraph';
export {
  INSPECTOR_PROTOCOL_VERSION,
  type ActorView,
  type XStateEventView,
  type MessageView,
  type DeadLetterView,
  type TaskView,
  type WorkflowView,
  type VoteView,
  type ConflictView,
  type SwarmView,
  type StatsView,
  type SamplingView,
  type SnapshotFrame,
  type DeltaFrame,
  type StatechartFrame,
  type ServerFrame,
  type ClientFrame,
  type ActionRequest,
  type ActionReply,
} from './inspector/inspectorProtocol';

export { instrumentTracing, type TracingOptions } from './tracing/instrumentTracing';
export { DistributedTracer, type SpanLogLevel, type TraceSummary } from './tracing/distributedTracer';
export { w3cTraceContextPropagator, traceHeaders, traceContextOf, parseTraceparent, formatTraceparent, TRACEPARENT_HEADER, TRACESTATE_HEADER } from './tracing/traceContext';

export { createMetrics, type MetricsOptions, type RuntimeMetrics } from './runtimeMetrics';

export { profileSystemPerformance, formatProfileReport, type ProfileOptions, type PerformanceReport, type AgentResponsiveness } from './profiler/profileSystemPerformance';
export {
  measureCommunicationLatency,
  percentile,
  LATENCY_PROBE_TOPIC,
  LATENCY_PROBE_HEADER,
  type LatencyProbeOptions,
  type CommunicationLatency,
  type PairLatency,
} from './profiler/communicationLatency';
export { sampleResourceUsage, startResourceSampler, type ResourceUsage, type ResourceSampler } from './profiler/resourceUsage';
export { taskPerformance, type TaskPerformance, type DurationStats } from './profiler/taskPerformance';
export { identifyBottlenecks, DEFAULT_BOTTLENECK_THRESHOLDS, type Bottleneck, type BottleneckThresholds } from './profiler/bottlenecks';

export { setUpDemoWorkload, type DemoWorkload, type DemoWorkloadOptions, type DemoRun } from './demoWorkload';
