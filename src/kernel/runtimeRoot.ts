import { createActor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { runtimeMachine, type RuntimeMachine } from '../../machines/runtime.machine';
import type { NeuroFluxClock } from './clock';
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
    clock: options.clock,
    systemId: 'neuroflux',
    input: { name: options.name },
    ...(options.inspect && { inspect: options.inspect }),
  });
  indexScheduledEvents(root.system);
  return root.start();
}
