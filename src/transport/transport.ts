import type { Observable } from 'rxjs';
import type { BusPort } from '../bus/transportLink';
import type { ConnectionStatusEvent } from '../kernel/connectionStatus';

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
  /**
   * Changes of the connection, read by the runtime from the moment it is created: on
   * `reconnecting` (the link is down, the transport retries) every agent of the runtime reads
   * `offline` (`linkDown` in its context: the rest of the cluster cannot reach it), on
   * `ready` it is back; `error` alone changes nothing (a refused publish, a consumer problem).
   * The stream completes when the transport closes; closed under a running runtime, its
   * agents stay offline. Optional, so that a transport written before it still compiles: without
   * it the runtime cannot tell and its agents keep reading `online`. Both shipped transports
   * have it.
   */
  readonly status$?: Observable<ConnectionStatusEvent>;
}
