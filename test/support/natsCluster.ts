/**
 * A three-node `nats-server -js` cluster on loopback for the chaos run: free client and route
 * ports, a store directory per node in one temp folder, every node routing to the other two.
 * A node killed with SIGKILL restarts on the same ports and storage and rejoins; JetStream
 * assets created with 3 replicas survive one node down.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { ChildProcess } from 'node:child_process';
import { freePort, startNatsServerWith, type TestServer } from './servers';

/** One node of a {@link NatsCluster}. */
export interface ClusterNode {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
}

/** Three routed `nats-server -js` nodes. */
export interface NatsCluster {
  readonly nodes: readonly ClusterNode[];
  /** Every node's client URL: give them all to clients so that they fail over. */
  readonly urls: readonly string[];
  /** SIGKILL node `index` and wait for it to exit (its storage is kept). */
  kill(index: number): Promise<void>;
  /** Start node `index` again on its ports and storage (killing it first if it runs). */
  restart(index: number): Promise<void>;
  /** Kill every node and remove the storage. */
  stop(): Promise<void>;
}

const CLUSTER_NAME = 'nf-chaos';

/** Starts `size` routed JetStream nodes and resolves once JetStream answers (a meta leader is elected). */
export async function startNatsCluster(size = 3, readyTimeoutMs = 30_000): Promise<NatsCluster> {
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const route = (i: number) => `nats://127.0.0.1:${routePorts[i]}`;
  const clusterArgs = (i: number): string[] => [
    '-n',
    `n${i}`,
    '--cluster_name',
    CLUSTER_NAME,
    '--cluster',
    route(i),
    '--routes',
    routePorts
      .map((_, j) => j)
      .filter((j) => j !== i)
      .map(route)
      .join(','),
  ];
  const started = await Promise.allSettled(routePorts.map((_, i) => startNatsServerWith(clusterArgs(i))));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = () => Promise.all(servers.map((s) => s.stop())).then(() => undefined);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const node = (i: number) => servers[i] as TestServer;
  const cluster: NatsCluster = {
    get nodes() {
      return servers.map((s, i) => ({ name: `n${i}`, port: s.port, url: s.url, process: s.process }));
    },
    urls: servers.map((s) => s.url),
    kill: (i) => node(i).kill(),
    restart: (i) => node(i).restart(),
    stop,
  };
  try {
    await whenJetStreamAnswers(cluster.urls, readyTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return cluster;
}

/** JetStream in a cluster answers once its meta group has a leader (the routes formed). */
async function whenJetStreamAnswers(urls: readonly string[], timeoutMs: number): Promise<void> {
  const nc = await connect({ servers: [...urls] });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        await jsm.getAccountInfo();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`the NATS cluster's JetStream did not answer within ${timeoutMs} ms: ${String(error)}`, { cause: error });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await nc.close();
  }
}
