/**
 * The short chaos run (bench/chaos.ts, `npm run chaos` for the long one) on a three-node NATS
 * cluster with replicated streams and KV: two orchestrator candidates, three agent hosts, DAGs
 * with retries, and a SIGKILL of the leader, a NATS node and a host in turn (each restarted).
 * Asserts correctness only, never timing: every task completes, none is lost, none is
 * recorded twice (in the stored state and archive, or in what the orchestrators emitted).
 */
import { runChaos } from '../bench/chaos';
import { describeWithServer, NATS_SERVER_BIN } from './support/servers';

describeWithServer(NATS_SERVER_BIN, 'chaos on a three-node NATS cluster (own nats-server -js ×3)', () => {
  test('kill -9 the leader, a NATS node and a host in turn: every task completes once', async () => {
    const report = await runChaos({ durationSeconds: 30, tasks: 200, killEverySeconds: 4, ttlMs: 3000, schedule: 'cycle', minKills: 3, drainSeconds: 120 }, (line) =>
      process.stdout.write(`chaos: ${line}\n`),
    );
    expect(report.kills.leader).toBeGreaterThanOrEqual(1);
    expect(report.kills.nats).toBeGreaterThanOrEqual(1);
    expect(report.kills.host).toBeGreaterThanOrEqual(1);
    expect(report.leaderChanges).toBeGreaterThanOrEqual(1);
    expect({ allDone: report.allDone, lost: report.lost, storedTwice: report.storedTwice, finishedTwice: report.finishedTwice }).toEqual({
      allDone: true,
      lost: [],
      storedTwice: [],
      finishedTwice: [],
    });
    expect(report.statuses).toEqual({ completed: report.tasks });
    // At least once: every task ran, some maybe more than once (reported, not bounded).
    expect(report.executions).toBeGreaterThanOrEqual(report.tasks);
  }, 300_000);
});
