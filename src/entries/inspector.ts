/**
 * `neuroflux/inspector`: the live inspector (an HTTP and WebSocket server on loopback; `ws`
 * loads when one starts), the inspection hub it reads, and the wire format that carries a
 * remote runtime's inspection over the bus.
 *
 * @example
 * ```ts
 * import { createNeuroFlux } from 'neuroflux';
 * import { startInspector } from 'neuroflux/inspector';
 * const inspector = await startInspector(createNeuroFlux(), { port: 0 });
 * ```
 * @module neuroflux/inspector
 * @packageDocumentation
 */
export {
  InspectorAddressError,
  InspectorListenError,
  InspectorActionRefusedError,
  InspectionHub,
  createInspectionHub,
  combineInspectionObservers,
  startInspector,
  startRemoteInspector,
  publishInspection,
  INSPECTION_FRAME_TOPIC,
  INSPECTION_INTEREST_TOPIC,
  INSPECTOR_PROTOCOL_VERSION,
  describeStatechart,
  activeStatePaths,
  anyStatePath,
  statechartToMermaid,
  type InspectionHubOptions,
  type HubDelta,
  type HubCounters,
  type Inspector,
  type InspectorOptions,
  type DomainFeedOptions,
  type RemoteInspectorOptions,
  type InspectionPublisher,
  type InspectionPublisherOptions,
  type InspectorActions,
  type InspectionInterest,
  type RuntimeInspectionFrame,
  type RuntimeRole,
  type StatechartGraph,
  type StatechartNode,
  type StatechartEdge,
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
} from '../observability/index';
