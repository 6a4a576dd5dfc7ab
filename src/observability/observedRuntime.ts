import type { Actor } from 'xstate';
import type { RuntimeMachine } from '../../machines/runtime.machine';
import type { CommunicationBus } from '../bus/communicationBus';
import type { ConflictResolutionEngine } from '../conflict/conflictResolutionEngine';
import type { NeuroFluxClock } from '../kernel/clock';
import type { TaskOrchestrator } from '../orchestration/taskOrchestrator';
import type { NeuralSwarmNetwork } from '../swarm/neuralSwarmNetwork';

/**
 * What the observability tools read of a runtime: its root actor and its components.
 * A `NeuroFlux` fits as it is. Spelled out here rather than picked from `NeuroFlux`: the
 * runtime (the composition root) builds on observability, not the other way round.
 */
export interface ObservedRuntime {
  readonly system: Actor<RuntimeMachine>;
  readonly bus: CommunicationBus;
  readonly orchestrator: TaskOrchestrator;
  readonly conflicts: ConflictResolutionEngine;
  readonly swarm: NeuralSwarmNetwork;
  readonly clock: NeuroFluxClock;
}

/**
 * The runtime's name as the inspector shows it. Read as `unknown`: the root may be a
 * stand-in whose context has no name, or not a string one; then it is 'neuroflux'.
 * @internal
 */
export function runtimeName(runtime: ObservedRuntime): string {
  const name = (runtime.system.getSnapshot().context as { name?: unknown }).name;
  return typeof name === 'string' ? name : 'neuroflux';
}
