import type { NeuroFlux } from '../runtime/createNeuroFlux';

/**
 * What the observability tools read of a runtime: its root actor and its components.
 * A `NeuroFlux` fits as it is.
 */
export type ObservedRuntime = Pick<NeuroFlux, 'system' | 'bus' | 'orchestrator' | 'conflicts' | 'swarm' | 'clock'>;
