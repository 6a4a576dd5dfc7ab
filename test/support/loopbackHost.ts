import type { SimulatedClock } from 'xstate';
import { AgentHost, createNeuroFlux, LoopbackHub, silentLogger } from '../../src';
import type { Cleanup } from './cleanup';

/**
 * Two runtimes over one loopback hub, started on `clock`: `orch` with the orchestrator, and
 * `hostNf` without one, carrying an agent host `h1` (not started: add its agents first).
 */
export async function orchestratorAndHostOverLoopback(cleanup: Cleanup, clock: SimulatedClock) {
  const hub = new LoopbackHub({ clock });
  cleanup.defer(() => hub.close());
  const orch = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: hub.transport({ identity: 'orch' }), clock }));
  const hostNf = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: hub.transport({ identity: 'h1' }), clock, orchestrator: false }));
  await Promise.all([orch.start(), hostNf.start()]);
  const host = cleanup.add(new AgentHost({ bus: hostNf.bus, hostId: 'h1' }));
  return { hub, orch, hostNf, host };
}
