import type { Actor, InspectionEvent, Observer } from 'xstate';
import type { RuntimeMachine } from '../../machines/runtime.machine';
import { CommunicationBus, type CommunicationBusOptions } from '../bus/communicationBus';
import { TaskOrchestrator, type TaskOrchestratorOptions } from '../orchestration/taskOrchestrator';
import { systemClock, type NeuroFluxClock } from './clock';
import { createRuntimeRoot } from './runtimeRoot';

/** Options of {@link createNeuroFlux}. */
export interface NeuroFluxOptions {
  /** Time source of every timer in the runtime. Default: the wall clock. */
  clock?: NeuroFluxClock;
  /** Bus options (mailbox capacity, overflow policy, batching, request timeout...). */
  bus?: Omit<CommunicationBusOptions, 'clock' | 'root'>;
  /** Orchestrator options (balancer, orchestrator id, history window). */
  orchestrator?: Omit<TaskOrchestratorOptions, 'bus'>;
  /** Receives XState's inspection events for every actor of the system. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Name of the root actor's system (shown by inspectors). */
  name?: string;
}

/** A running NeuroFlux system: one XState actor system and its components. */
export interface NeuroFlux {
  /** The root actor; every agent, task and conflict actor belongs to its system. */
  readonly system: Actor<RuntimeMachine>;
  readonly bus: CommunicationBus;
  readonly orchestrator: TaskOrchestrator;
  readonly clock: NeuroFluxClock;
  /** Starts delivery and every component (the root actor runs from creation). */
  start(): Promise<void>;
  /** Stops every component, then the root actor. */
  stop(): Promise<void>;
}

/**
 * Creates a NeuroFlux runtime: one XState actor system whose root actor is `system`,
 * with the communication bus attached.
 *
 * @example
 * ```ts
 * const nf = createNeuroFlux();
 * nf.bus.registerAgent('echo', { handler: (m, agent) => agent.respond(m, m.payload) });
 * await nf.start();
 * const reply = await nf.bus.sendRequest({ senderId: 'me', recipientId: 'echo', topic: 'ping', payload: 1 });
 * await nf.stop();
 * ```
 */
export function createNeuroFlux(options: NeuroFluxOptions = {}): NeuroFlux {
  const clock = options.clock ?? systemClock;
  const system = createRuntimeRoot({ clock, name: options.name, ...(options.inspect && { inspect: options.inspect }) });
  const bus = new CommunicationBus({ ...options.bus, clock, root: system });
  const orchestrator = new TaskOrchestrator({ ...options.orchestrator, bus });
  let started = false;
  return {
    system,
    bus,
    orchestrator,
    clock,
    async start() {
      if (started) return;
      started = true;
      await bus.start();
    },
    async stop() {
      await orchestrator.stop();
      await bus.stop();
      system.stop();
    },
  };
}
