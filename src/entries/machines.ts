/**
 * `neuroflux/machines`: the pure statecharts NeuroFlux runs (no I/O, timers or globals:
 * their effects are named in `setup` and provided by the runtime), for model checking,
 * visualisation, or a runtime of your own.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { heartbeatMachine } from 'neuroflux/machines';
 * ```
 * @module neuroflux/machines
 * @packageDocumentation
 */
export { agentMachine, MAX_AGENT_COUNT, type AgentMachine, type AgentMachineContext, type AgentMachineEvent, type AgentMachineEmitted } from '../../machines/agent.machine';
export { autoscalerMachine, type AutoscalerMachine, type AutoscalerInput, type AutoscalerContext, type AutoscalerDecision } from '../../machines/autoscaler.machine';
export {
  conflictMachine,
  CONFLICT_PHASES,
  type ConflictMachine,
  type ConflictMachineInput,
  type ConflictMachineContext,
  type ConflictMachineEvent,
  type ConflictMachineEmitted,
  type ConflictPhase,
} from '../../machines/conflict.machine';
export { heartbeatMachine, type HeartbeatMachine } from '../../machines/heartbeat.machine';
export { hostLivenessMachine, type HostLivenessMachine, type HostLivenessInput, type HostLivenessContext, type HostLivenessEvent } from '../../machines/hostLiveness.machine';
export { leaderElectionMachine, type LeaderElectionMachine, type LeaderElectionContext, type LeaderElectionEvent } from '../../machines/leaderElection.machine';
export {
  orchestratorMachine,
  type OrchestratorMachine,
  type OrchestratorMachineInput,
  type OrchestratorMachineContext,
  type OrchestratorMachineEvent,
} from '../../machines/orchestrator.machine';
export {
  neuroFluxMachine,
  neuroFluxMachineOf,
  type NeuroFluxMachine,
  type NeuroFluxCommand,
  type NeuroFluxCommandType,
  type NeuroFluxStatsChangedEvent,
} from '../../machines/neuroFlux.machine';
export { runtimeMachine, type RuntimeMachine } from '../../machines/runtime.machine';
export { supervisorMachine, type SupervisorMachine, type ChildSpec, type SupervisorEvent } from '../../machines/supervisor.machine';
export { swarmMachine, type SwarmMachine } from '../../machines/swarm.machine';
export { taskMachine, type TaskMachine, type TaskMachineInput, type TaskMachineContext, type TaskMachineEvent, type DependencyFailurePolicy } from '../../machines/task.machine';
