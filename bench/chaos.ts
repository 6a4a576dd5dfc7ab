/**
 * Chaos run on a real NATS cluster: three `nats-server -js` nodes (streams and KV bucket with
 * three replicas), two orchestrator candidates under leader election, three agent hosts, each
 * its own process. Chaos DAGs (test/support/chaosWorkflow.ts) are submitted over most of the
 * run; every few seconds a random process is killed with SIGKILL (a NATS node, the leading
 * orchestrator, or a host) and started again. Afterwards the stored state is audited.
 *
 * `npm run chaos -- --duration 300 --tasks 5000 --kill-every 5 --ttl 3000` (not part of
 * `npm run bench`). Prints the report and one line `RESULT <json>`; exits 1 when a task is
 * lost or recorded twice. test/chaosCluster.test.ts runs a short version.
 */
import { connect } from '@nats-io/transport-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { NatsKvSnapshotStore } from '../src';
import { nextRandom } from '../src/swarm/model/seededRandom';
import { startReadyScript, stopChild } from '../test/support/childProcesses';
import { chaosTaskIds, CHAOS_DAG_SIZE } from '../test/support/chaosWorkflow';
import { startNatsCluster, type NatsCluster } from '../test/support/natsCluster';

const ROOT = join(__dirname, '..');
const CANDIDATE = join(ROOT, 'test', 'support', 'chaosCandidate.ts');
const HOST = join(ROOT, 'examples', 'multi-process', 'host.ts');
const HOST_IDS = ['host-1', 'host-2', 'host-3'] as const;
const SLOTS = ['a', 'b'] as const;
const REPLICAS = 3;

export const ChaosOptionsSchema = z.object({
  /** Seconds of chaos (kills); DAGs are submitted over the first 80 % of it. */
  durationSeconds: z.number().positive().default(600),
  /** Tasks in all, in DAGs of {@link CHAOS_DAG_SIZE}. */
  tasks: z.number().int().positive().default(5000),
  /** Mean seconds between kills (each interval drawn in [0.5, 1.5] × this). */
  killEverySeconds: z.number().positive().default(5),
  /** Lease period of the leader election, ms. */
  ttlMs: z.number().int().positive().default(3000),
  /**
   * Seconds a killed NATS node stays down before it restarts. At 0 its clients often reconnect
   * to it at once and then get "jetstream is not enabled" for seconds while its JetStream
   * rejoins the cluster (measured: leaders deposed, failovers of 7 – 9 s with a 3 s lease).
   */
  natsDownSeconds: z.number().nonnegative().default(2),
  /** Host heartbeat interval, ms (a host is presumed dead after three missed). */
  heartbeatMs: z.number().int().positive().default(500),
  /** Seconds to wait, after the chaos, for every task to finish. */
  drainSeconds: z.number().positive().default(180),
  /** Seed of the kill schedule (which process, when). */
  seed: z.number().int().default(1),
  /**
   * `random`: each kill picks a NATS node, the leader or a host at random. `cycle`: leader,
   * NATS node, host in turn (the short test run hits each kind whatever the machine's speed).
   */
  schedule: z.enum(['random', 'cycle']).default('random'),
  /** Kills at least this many times, even past `durationSeconds`. */
  minKills: z.number().int().nonnegative().default(0),
  /** A file that gets every candidate's `trace` lines (lease and state writes), prefixed with its holder. */
  traceFile: z.string().min(1).optional(),
});
export type ChaosOptions = z.input<typeof ChaosOptionsSchema>;

export type KillTarget = 'nats' | 'leader' | 'host';

/** What a chaos run measured. */
export interface ChaosReport {
  readonly options: z.output<typeof ChaosOptionsSchema>;
  readonly tasks: number;
  /** Tasks completed in the final stored state. */
  readonly completed: number;
  /** Final stored records by status. */
  readonly statuses: Record<string, number>;
  /** Tasks with no final record in the stored state (missing, or not finished). */
  readonly lost: string[];
  /** Tasks with more than one record in the stored state and archive. */
  readonly storedTwice: string[];
  /** Tasks an orchestrator reported finished a second time (`double` lines of the candidates). */
  readonly finishedTwice: string[];
  /** Task finishes emitted again by a later leader after the leader that emitted them died before persisting them. */
  readonly refinishedAfterFailover: number;
  /** Executions by the hosts (one per attempt started), and those of an attempt already started before. */
  readonly executions: number;
  readonly executionsRepeated: number;
  readonly tasksExecutedAgain: number;
  readonly kills: Record<KillTarget, number>;
  /** Leaders elected after the first. */
  readonly leaderChanges: number;
  /** Times a candidate began to lead while an earlier one had not yet noticed it no longer did. */
  readonly overlaps: number;
  /** Candidates and hosts that exited before they were ready (NATS timed out at start); each was started again. */
  readonly startFailures: number;
  /** Candidates and hosts that exited by themselves after they were ready, with their stderr. */
  readonly processErrors: string[];
  /** Leaders that lost their lease without being killed. */
  readonly deposed: number;
  /** Per leader kill: ms from the SIGKILL to a new leader that restored the state. */
  readonly failoverMs: number[];
  /** Per deposed leader: ms from its `deposed` to a new leader that restored the state. */
  readonly afterDeposedMs: number[];
  /** Of the completed tasks: running → completed as the orchestrator measured it, ms. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly elapsedMs: number;
  readonly allDone: boolean;
}

interface Candidate {
  readonly slot: string;
  readonly holder: string;
  readonly child: ChildProcess;
  ready: boolean;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Runs the chaos and audits the stored state afterwards. `log` gets progress lines. */
export async function runChaos(input: ChaosOptions = {}, log: (line: string) => void = () => undefined): Promise<ChaosReport> {
  const options = ChaosOptionsSchema.parse(input);
  const dags = Math.max(1, Math.round(options.tasks / CHAOS_DAG_SIZE));
  const ids = chaosTaskIds(dags);
  const namespace = `chaos-${Date.now().toString(36)}`;
  const logs = mkdtempSync(join(tmpdir(), 'nf-chaos-'));
  let random = options.seed >>> 0;
  const draw = () => {
    const d = nextRandom(random);
    random = d.state;
    return d.value;
  };

  const started = Date.now();
  const cluster: NatsCluster = await startNatsCluster();
  const servers = [...cluster.urls];
  log(`cluster up: ${servers.join(' ')}`);
  let shuttingDown = false;
  const candidates = new Map<string, Candidate>();
  const hosts = new Map<string, ChildProcess>();
  const incarnations = { candidate: 0, host: 0 };
  // Candidates that printed `leader` and have neither exited nor been deposed since, in that
  // order: the last is the leader. Two at once means one still believed it led after another
  // took the lease over (counted in `overlaps`; fencing must keep its writes out).
  const leading: Candidate[] = [];
  const currentLeader = (): Candidate | undefined => leading.at(-1);
  const dropLeader = (candidate: Candidate): boolean => {
    const i = leading.indexOf(candidate);
    if (i >= 0) leading.splice(i, 1);
    return i >= 0 && leading.length === 0;
  };
  let overlaps = 0;
  let leaderKilledAt: number | undefined;
  let deposedAt: number | undefined;
  const failoverMs: number[] = [];
  const afterDeposedMs: number[] = [];
  let leaders = 0;
  let deposed = 0;
  const kills: Record<KillTarget, number> = { nats: 0, leader: 0, host: 0 };
  const finishedBy = new Map<string, number>();
  const lastDuration = new Map<string, number>();
  const finishedTwice: string[] = [];
  const allDoneBy = new Set<string>();
  const errors: string[] = [];
  const startFailures: string[] = [];
  const submitOverMs = options.durationSeconds * 800;
  const startAt = Date.now() + 2000;

  const onLine = (candidate: Candidate, line: string) => {
    const [kind, a, b, c] = line.split(' ');
    if (kind === 'trace') {
      if (options.traceFile) appendFileSync(options.traceFile, `${new Date().toISOString().slice(11, 23)} ${candidate.holder} ${line}\n`);
    } else if (kind === 'ready') candidate.ready = true;
    else if (kind === 'open' || kind === 'stats') log(`${candidate.holder} at the end: ${line}`);
    else if (kind === 'finished' && a !== undefined) {
      finishedBy.set(a, (finishedBy.get(a) ?? 0) + 1);
      if (b === 'completed' && c !== undefined && c !== '-') lastDuration.set(a, Number(c));
    } else if (kind === 'double' && a !== undefined) finishedTwice.push(a);
    else if (kind === 'leader') {
      leaders++;
      if (leading.length > 0) {
        overlaps++;
        log(`${candidate.holder} leads while ${leading.map((c) => c.holder).join(', ')} still claims to`);
      }
      leading.push(candidate);
      const since = leaderKilledAt ?? deposedAt;
      if (leaderKilledAt !== undefined) failoverMs.push(Date.now() - leaderKilledAt);
      else if (deposedAt !== undefined) afterDeposedMs.push(Date.now() - deposedAt);
      log(`leader ${a} (restored ${b} finished tasks)${since === undefined ? '' : ` ${Date.now() - since} ms after the last one went`}`);
      leaderKilledAt = deposedAt = undefined;
    } else if (kind === 'alldone') allDoneBy.add(candidate.holder);
    else if (kind === 'deposed') {
      deposed++;
      if (dropLeader(candidate)) deposedAt = Date.now();
      log(`${candidate.holder} deposed (${line.slice('deposed '.length) || 'no reason given'})`);
    }
  };

  const startCandidate = (slot: string): void => {
    const holder = `cand-${slot}-${++incarnations.candidate}`;
    const dagEveryMs = dags > 1 ? submitOverMs / (dags - 1) : 0;
    const args = JSON.stringify({ servers, namespace, holder, ttlMs: options.ttlMs, replicas: REPLICAS, dags, startAt, dagEveryMs, trace: options.traceFile !== undefined });
    const child = spawn(process.execPath, ['-r', '@swc-node/register', CANDIDATE, args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const candidate: Candidate = { slot, holder, child, ready: false };
    candidates.set(slot, candidate);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => onLine(candidate, line));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    child.once('exit', (code, signal) => {
      dropLeader(candidate);
      if (shuttingDown) return;
      if (signal !== 'SIGKILL' && code !== 0) {
        // Not started (NATS did not answer while a node was down): started again, counted.
        if (!candidate.ready) startFailures.push(`${holder}: ${stderr.split('\n')[0]}`);
        else errors.push(`${holder} exited with ${code}: ${stderr}`);
      }
      startCandidate(slot);
    });
  };

  const startHostProcess = async (hostId: string): Promise<void> => {
    for (;;) {
      try {
        const child = await startReadyScript(HOST, [servers.join(','), hostId, namespace, String(options.heartbeatMs), join(logs, `${hostId}.${++incarnations.host}.log`)], hostId);
        hosts.set(hostId, child);
        child.once('exit', (code, signal) => {
          // Killed by the chaos loop (which starts it again itself), or stopped at the end.
          if (shuttingDown || signal === 'SIGKILL') return;
          errors.push(`${hostId} exited with ${code ?? signal}`);
          void startHostProcess(hostId);
        });
        return;
      } catch (error) {
        if (shuttingDown) return;
        startFailures.push(`${hostId}: ${String(error).split('\n')[0]}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };

  const report = async (allDone: boolean): Promise<ChaosReport> => {
    const nc = await connect({ servers });
    const store = await NatsKvSnapshotStore.open(nc, { bucket: `nf_${namespace}`, replicas: REPLICAS });
    const records = new Map<string, { status: string; count: number }>();
    const count = (items: unknown) => {
      for (const item of Array.isArray(items) ? (items as { record?: { taskId?: string; status?: string } }[]) : []) {
        const id = item.record?.taskId;
        if (id === undefined) continue;
        const seen = records.get(id);
        records.set(id, { status: item.record?.status ?? '?', count: (seen?.count ?? 0) + 1 });
      }
    };
    const stored = await store.load<{ state?: { tasks?: unknown }; archive?: { segments?: string[]; tail?: unknown } }>('orchestrator');
    count(stored?.value.state?.tasks);
    count(stored?.value.archive?.tail);
    for (const key of stored?.value.archive?.segments ?? []) count((await store.load(key))?.value);
    await nc.close();

    const statuses: Record<string, number> = {};
    for (const { status } of records.values()) statuses[status] = (statuses[status] ?? 0) + 1;
    const lost = ids.filter((id) => !['completed', 'failed', 'cancelled'].includes(records.get(id)?.status ?? ''));
    const storedTwice = [...records].filter(([, r]) => r.count > 1).map(([id]) => id);

    const attempts = new Map<string, number>();
    for (const file of readdirSync(logs)) {
      for (const line of readFileSync(join(logs, file), 'utf8').split('\n')) {
        // `<taskId> <attempt> <epoch ms>`: an attempt is the first two.
        const attempt = line.split(' ').slice(0, 2).join(' ');
        if (line) attempts.set(attempt, (attempts.get(attempt) ?? 0) + 1);
      }
    }
    let executions = 0;
    let executionsRepeated = 0;
    const again = new Set<string>();
    for (const [line, n] of attempts) {
      executions += n;
      executionsRepeated += n - 1;
      if (n > 1) again.add(line.split(' ')[0] as string);
    }
    const durations = [...lastDuration.values()].sort((x, y) => x - y);
    let refinished = 0;
    for (const n of finishedBy.values()) refinished += n - 1;
    return {
      options,
      tasks: ids.length,
      completed: statuses['completed'] ?? 0,
      statuses,
      lost,
      storedTwice,
      finishedTwice: [...new Set(finishedTwice)],
      refinishedAfterFailover: refinished - finishedTwice.length,
      executions,
      executionsRepeated,
      tasksExecutedAgain: again.size,
      kills,
      leaderChanges: Math.max(0, leaders - 1),
      overlaps,
      startFailures: startFailures.length,
      processErrors: errors,
      deposed,
      failoverMs,
      afterDeposedMs,
      latencyMs: { p50: percentile(durations, 50), p99: percentile(durations, 99), max: durations.at(-1) ?? NaN },
      elapsedMs: Date.now() - started,
      allDone,
    };
  };

  try {
    // Candidates first: they create the replicated streams before a host could create them with one replica.
    for (const slot of SLOTS) startCandidate(slot);
    const waitUntil = async (condition: () => boolean, ms: number): Promise<boolean> => {
      const deadline = Date.now() + ms;
      while (!condition()) {
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 100));
      }
      return true;
    };
    if (!(await waitUntil(() => currentLeader() !== undefined, 60_000))) throw new Error(`no leader within 60 s: ${errors.join('\n')}`);
    await Promise.all(HOST_IDS.map((id) => startHostProcess(id)));
    log(`${dags} DAGs (${ids.length} tasks) over ${Math.round(submitOverMs / 1000)} s; a kill every ~${options.killEverySeconds} s for ${options.durationSeconds} s`);

    const chaosEnd = started + options.durationSeconds * 1000;
    const CYCLE: readonly KillTarget[] = ['leader', 'nats', 'host'];
    let killed = 0;
    while (Date.now() < chaosEnd || killed < options.minKills) {
      await new Promise((r) => setTimeout(r, options.killEverySeconds * 1000 * (0.5 + draw())));
      if (Date.now() >= chaosEnd && killed >= options.minKills) break;
      const pick = draw();
      let target: KillTarget = options.schedule === 'cycle' ? (CYCLE[killed % CYCLE.length] as KillTarget) : pick < 1 / 3 ? 'nats' : pick < 2 / 3 ? 'leader' : 'host';
      if (target === 'leader' && currentLeader() === undefined) {
        // No leader to kill while a failover is under way: kill something else, or (cycle) wait for one.
        if (options.schedule === 'random') target = draw() < 0.5 ? 'nats' : 'host';
        else await waitUntil(() => currentLeader() !== undefined, 60_000);
      }
      killed++;
      kills[target]++;
      if (target === 'nats') {
        const node = Math.floor(draw() * cluster.nodes.length);
        log(`kill -9 nats node n${node}`);
        await cluster.kill(node);
        await new Promise((r) => setTimeout(r, options.natsDownSeconds * 1000));
        await cluster.restart(node);
      } else if (target === 'leader' && currentLeader()) {
        const leader = currentLeader() as Candidate;
        log(`kill -9 leader ${leader.holder}`);
        leaderKilledAt = Date.now();
        leader.child.kill('SIGKILL');
        dropLeader(leader);
      } else {
        const hostId = HOST_IDS[Math.floor(draw() * HOST_IDS.length)] as string;
        log(`kill -9 ${hostId}`);
        await stopChild(hosts.get(hostId), 'SIGKILL');
        await startHostProcess(hostId);
      }
    }
    log('chaos over; waiting for every task to finish');
    const allDone = await waitUntil(() => allDoneBy.has(currentLeader()?.holder ?? ''), options.drainSeconds * 1000);
    shuttingDown = true;
    // The leader's clean stop writes its last state; hosts after it, so that nothing is left running.
    await Promise.all([...candidates.values()].map((c) => stopChild(c.child)));
    await Promise.all([...hosts.values()].map((h) => stopChild(h)));
    if (startFailures.length > 0) log(`processes that failed to start (started again):\n${startFailures.join('\n')}`);
    if (errors.length > 0) log(`process errors:\n${errors.join('\n')}`);
    return await report(allDone);
  } finally {
    shuttingDown = true;
    for (const c of candidates.values()) c.child.kill('SIGKILL');
    for (const h of hosts.values()) h.kill('SIGKILL');
    await cluster.stop();
    // Traced runs keep the hosts' execution logs next to the trace, to line the two up.
    if (options.traceFile) log(`hosts' execution logs kept in ${logs}`);
    else rmSync(logs, { recursive: true, force: true });
  }
}

/** The report as text. */
export function formatChaosReport(r: ChaosReport): string {
  const fo = [...r.failoverMs].sort((a, b) => a - b);
  return [
    `tasks ${r.tasks}: completed ${r.completed}, lost ${r.lost.length}, recorded twice ${r.storedTwice.length} (store) / ${r.finishedTwice.length} (events); statuses ${JSON.stringify(r.statuses)}`,
    `executions ${r.executions} (attempts started), repeated ${r.executionsRepeated} (${r.tasksExecutedAgain} tasks); finishes re-emitted by a later leader ${r.refinishedAfterFailover}`,
    `kills: nats ${r.kills.nats}, leader ${r.kills.leader}, host ${r.kills.host}; leader changes ${r.leaderChanges} (deposed without a kill ${r.deposed}, overlapping leaders ${r.overlaps})`,
    `failover ms (kill → new leader live, lease ${r.options.ttlMs} ms): ${fo.join(', ') || '-'}${fo.length ? ` (max ${fo.at(-1)})` : ''}`,
    `after a deposed leader (lease lost without a kill) → new leader live, ms: ${r.afterDeposedMs.join(', ') || '-'}`,
    `task latency (running → completed) p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
    `processes that failed to start and were started again ${r.startFailures}, exited by themselves ${r.processErrors.length}`,
    `elapsed ${(r.elapsedMs / 1000).toFixed(0)} s, every task finished: ${r.allDone}`,
  ].join('\n');
}

function flag(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (i >= 0 && (value === undefined || !Number.isFinite(Number(value)))) throw new Error(`--${name} needs a number`);
  return value === undefined ? undefined : Number(value);
}

async function main(): Promise<void> {
  const given = {
    durationSeconds: flag('duration'),
    tasks: flag('tasks'),
    killEverySeconds: flag('kill-every'),
    ttlMs: flag('ttl'),
    heartbeatMs: flag('heartbeat'),
    drainSeconds: flag('drain'),
    seed: flag('seed'),
    minKills: flag('min-kills'),
    natsDownSeconds: flag('nats-down'),
  };
  const trace = process.argv.indexOf('--trace');
  const options = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as ChaosOptions;
  if (process.argv.includes('--cycle')) options.schedule = 'cycle';
  if (trace >= 0) options.traceFile = process.argv[trace + 1];
  const report = await runChaos(options, (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`));
  console.log(formatChaosReport(report));
  console.log(`RESULT ${JSON.stringify({ ...report, lost: report.lost.slice(0, 50) })}`);
  if (report.lost.length > 0 || report.storedTwice.length > 0 || report.finishedTwice.length > 0) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
