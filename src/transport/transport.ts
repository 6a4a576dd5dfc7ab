import type { BusPort } from '../bus/transportLink';

// Defined by the bus (src/bus/transportLink.ts), re-exported here where transports look for them.
export type { BusPort, FrameReceipt, TransportLink } from '../bus/transportLink';

/**
 * Carries bus traffic between processes. A transport is attached to one bus, started
 * before it and closed after it (`createNeuroFlux({ transport })` does both). Two ship with
 * NeuroFlux: `nats(...)` (processes on a NATS server) and `LoopbackHub#transport(...)`
 * (runtimes of one process connected in memory, with the same frames and checks: for tests).
 *
 * @example
 * ```ts
 * const hub = new LoopbackHub();
 * const nf = createNeuroFlux({ transport: hub.transport({ identity: 'host-1' }) });
 * ```
 */
export interface Transport {
  /** Connects the transport to a bus (before `start`). */
  attach(bus: BusPort): void;
  start(): Promise<void>;
  /** Drains what is in flight and closes; awaited. */
  close(): Promise<void>;
}
