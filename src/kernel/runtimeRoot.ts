import { createActor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { runtimeMachine, type RuntimeMachine } from '../../machines/runtime.machine';
import { withLongTimers, type NeuroFluxClock } from './clock';
import { indexScheduledEvents } from './indexedScheduler';

/** @internal */
export interface RuntimeRootOptions {
  readonly clock: NeuroFluxClock;
  readonly name?: string;
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

/**
 * Creates and starts the root actor of a NeuroFlux system. It runs from creation (it has
 * no effects of its own) so that components can spawn their actors under it at once.
 * @internal
 */
export function createRuntimeRoot(options: RuntimeRootOptions): Actor<RuntimeMachine> {
  const root = createActor(runtimeMachine, {
    // Every `after` delay of the system goes through this clock: delays past a host timer's
    // limit are re-armed instead of firing at once.
    clock: withLongTimers(options.clock),
    systemId: 'neuroflux',
    input: { name: options.name },
    ...(options.inspect && { inspect: options.inspect }),
  });
  indexScheduledEvents(root.system);
  return root.start();
}
