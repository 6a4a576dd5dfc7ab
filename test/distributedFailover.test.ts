/**
 * Failures across processes on one NATS server (own `nats-server -js`):
 * - kill -9 an agent host: its heartbeats stop, the orchestrator unregisters its agent and
 *   the tasks it was running move to the other host;
 * - kill -9 the leading orchestrator: a standby takes the lease within one lease period,
 *   restores the state from NATS KV and finishes the workflow.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startHost } from '../examples/multi-process/run';
import { stopChild } from './support/childProcesses';
import { NatsKvSnapshotStore, createNeuroFlux, nats, type NeuroFlux } from '../src';
import { failoverWorkflow } from './support/failoverWorkflow';
import { describeWithServer, NATS_SERVER_BIN, startNatsServer, waitFor, type TestServer } from './support/servers';

const ROOT = join(__dirname, '..');

function report(nf: NeuroFlux, hostId: string): Promise<{ executed: string[] }> {
  const client = nf.bus.getAgent('test-client') ?? nf.bus.registerAgent('test-client');
  return client.request({ recipientId: `${hostId}-reporter`, topic: 'report', payload: {}, timeoutMs: 5000 }).then((m) => m.payload as { executed: string[] });
}

describeWithServer(NATS_SERVER_BIN, 'failures across processes (own nats-server -js)', () => {
  let server: TestServer;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('kill -9 an agent host: the tasks it was running move to the other host and every task completes', async () => {
    const namespace = `hostdeath-${Date.now().toString(36)}`;
    const [host1, host2] = await Promise.all([startHost(server.url, 'host-1', namespace, 200), startHost(server.url, 'host-2', namespace, 200)]);
    children.push(host1, host2);
    const nf = createNeuroFlux({ transport: nats({ servers: server.url, namespace }) });
    try {
      await nf.start();
      await waitFor(() => nf.orchestrator.getAgent('host-1-worker') !== undefined && nf.orchestrator.getAgent('host-2-worker') !== undefined, 10_000, 'both hosts announced');
      const ids = Array.from({ length: 8 }, (_, i) => `w${i}`);
      nf.orchestrator.submitWorkflow({
        tasks: ids.map((taskId, n) => ({ taskId, requiredCapabilities: ['compute'], timeoutSeconds: 120, payload: { n, workMs: 1500 } })),
      });
      await waitFor(
        () => ids.some((id) => nf.orchestrator.getTask(id)?.state === 'running' && nf.orchestrator.getTask(id)?.assignedAgent === 'host-1-worker'),
        10_000,
        'work running on host-1',
      );
      const onHost1 = ids.filter((id) => nf.orchestrator.getTask(id)?.assignedAgent === 'host-1-worker');
      host1.kill('SIGKILL');

      const records = await Promise.race([
        nf.orchestrator.waitForWorkflow(ids),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('workflow did not finish in 30 s')), 30_000).unref()),
      ]);
      expect(records.every((r) => r.status === 'completed')).toBe(true);
      // Moved because the host was lost, not because the attempt timed out and was retried.
      for (const id of onHost1) expect(nf.orchestrator.getTask(id)).toMatchObject({ assignedAgent: 'host-2-worker', retryCount: 0 });
      expect(nf.orchestrator.getAgent('host-1-worker')).toBeUndefined();
      expect(nf.orchestrator.getStats().hosts).toMatchObject({ alive: 1, lost: 1 });
      const { executed } = await report(nf, 'host-2');
      expect(executed).toEqual(expect.arrayContaining(onHost1));
    } finally {
      await nf.stop();
      await stopChild(host2);
    }
  }, 60_000);

  test('kill -9 the leading orchestrator: a standby takes the lease within one lease period and finishes the workflow', async () => {
    const ttlMs = 2000;
    const namespace = `leader-${Date.now().toString(36)}`;
    const host = await startHost(server.url, 'host-1', namespace, 200);
    children.push(host);
    const leader = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'support', 'leaderCandidate.ts'), server.url, namespace, 'first', String(ttlMs)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(leader);
    let out = '';
    let err = '';
    leader.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    leader.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(() => out.includes('leader first') || leader.exitCode !== null, 30_000, 'the first candidate to lead');
    expect({ err, leading: out.includes('leader first') }).toEqual({ err: '', leading: true });

    let connection: NatsConnection | undefined;
    const standby = await (async () => {
      connection = await connect({ servers: server.url });
      const store = await NatsKvSnapshotStore.open(connection, { bucket: `nf_${namespace}` });
      return createNeuroFlux({
        transport: nats({ servers: server.url, namespace, name: 'second' }),
        orchestrator: { store, leaderElection: { holder: 'second', ttlMs } },
      });
    })();
    try {
      await standby.start();
      await waitFor(() => (out.match(/^finished /gm) ?? []).length >= 3, 20_000, 'three tasks finished under the first leader');
      expect(standby.leadership?.state).toBe('standby');
      const finishedByFirst = (out.match(/^finished (\S+)/gm) ?? []).length;
      leader.kill('SIGKILL');
      const killedAt = Date.now();
      await standby.leadership?.whenLeader();
      const takeoverMs = Date.now() - killedAt;
      // The lease was renewed at most a third of a period before the kill.
      expect(takeoverMs).toBeLessThanOrEqual(ttlMs + 500);

      const ids = failoverWorkflow().map((t) => t.taskId as string);
      const records = await Promise.race([
        standby.orchestrator.waitForWorkflow(ids),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('workflow did not finish in 30 s')), 30_000).unref()),
      ]);
      expect(records.map((r) => r.status)).toEqual(ids.map(() => 'completed'));
      expect(records.map((r) => (r.result as { value: number }).value)).toEqual(ids.map((_, n) => n));
      // What the first leader recorded was restored, not run again by the second.
      expect(standby.orchestrator.getStats().tasksCompleted).toBe(12);
      expect(finishedByFirst).toBeGreaterThanOrEqual(3);
    } finally {
      await standby.stop();
      await connection?.close();
      await stopChild(host);
    }
  }, 90_000);
});
