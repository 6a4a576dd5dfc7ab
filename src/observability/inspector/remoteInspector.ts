import type { CommunicationBus } from '../../bus/communicationBus';
import { serveInspection, type Inspector, type InspectorOptions } from './inspectorServer';
import { remoteInspectionSource, type RemoteInspectionOptions } from './remoteInspectionSource';

/** Options of {@link startRemoteInspector}: the page's server and the interest it announces. */
export type RemoteInspectorOptions = Omit<InspectorOptions, 'hub' | 'hubOptions' | 'feed' | 'metrics'> & RemoteInspectionOptions;

/**
 * The live inspector of a whole deployment: every runtime of the NATS namespace that
 * publishes inspection (`publishInspection`; `neuroflux run --nats` and `neuroflux host` do)
 * appears in one page, each as a root of the actor tree with its actors, and the tasks,
 * workflows, messages and conflicts of all of them. Give it a runtime connected to the
 * namespace (it needs no orchestrator). The page's actions go, as bus requests, to the
 * runtimes that accept them (`publishInspection(nf, { actions: true })`); with none, they
 * are refused.
 *
 * @example
 * ```ts
 * const nf = createNeuroFlux({ transport: nats({ servers: 'nats://127.0.0.1:4222', namespace: 'prod' }), orchestrator: false });
 * await nf.start();
 * const inspector = await startRemoteInspector(nf, { port: 0 });
 * console.log(inspector.url);
 * ```
 */
export async function startRemoteInspector(runtime: { readonly bus: CommunicationBus }, options: RemoteInspectorOptions = {}): Promise<Inspector> {
  const { ttlMs, silentAfterMs, maxRuntimes, maxPerRuntime, ...server } = options;
  const source = remoteInspectionSource(runtime.bus, {
    ...(ttlMs !== undefined && { ttlMs }),
    ...(silentAfterMs !== undefined && { silentAfterMs }),
    ...(maxRuntimes !== undefined && { maxRuntimes }),
    ...(maxPerRuntime !== undefined && { maxPerRuntime }),
    ...(options.name !== undefined && { name: options.name }),
  });
  return serveInspection(source, server, { actions: source.actions });
}
