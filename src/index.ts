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
  type ValidationIssue,
} from './errors';
export { systemClock, type NeuroFluxClock } from './kernel/clock';
export { createNeuroFlux, type NeuroFlux, type NeuroFluxOptions } from './kernel/createNeuroFlux';
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
export { topicMatches } from './bus/topicPattern';
export { agentMachine, type AgentMachine, type AgentMachineEvent } from '../machines/agent.machine';
export { runtimeMachine, type RuntimeMachine } from '../machines/runtime.machine';
