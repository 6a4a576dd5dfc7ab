/**
 * A child process for the leader-failover test: an orchestrator candidate on NATS (KV store
 * for the lease and the state). Once it leads it submits the workflow unless the restored
 * state has it, prints `leader <holder>`, `finished <taskId>` for each finished task and
 * `done` when all are final.
 * Usage: leaderCandidate.ts <natsUrl> <namespace> <holder> <ttlMs>
 */
import { connect } from '@nats-io/transport-node';
import { NatsKvSnapshotStore, createNeuroFlux, nats } from '../../src';
import { failoverWorkflow } from './failoverWorkflow';

async function main(): Promise<void> {
  const [servers, namespace, holder, ttl] = process.argv.slice(2) as [string, string, string, string];
  const connection = await connect({ servers });
  const store = await NatsKvSnapshotStore.open(connection, { bucket: `nf_${namespace}` });
  const nf = createNeuroFlux({
    transport: nats({ servers, namespace, name: holder }),
    orchestrator: { store, leaderElection: { holder, ttlMs: Number(ttl) } },
  });
  nf.orchestrator.finished$.subscribe((event) => process.stdout.write(`finished ${event.taskId}\n`));
  await nf.start();
  await nf.leadership?.whenLeader();
  process.stdout.write(`leader ${holder}\n`);
  const tasks = failoverWorkflow();
  if (nf.orchestrator.getStats().tasksCreated === 0) nf.orchestrator.submitWorkflow({ tasks }, { requireCapableAgents: false });
  await nf.orchestrator.waitForWorkflow(tasks.map((t) => t.taskId as string));
  process.stdout.write('done\n');
  await nf.stop();
  await connection.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exitCode = 1;
});
