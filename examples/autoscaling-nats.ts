/**
 * Autoscaling over NATS: an orchestrator process scales `neuroflux host` processes up under a
 * burst of tasks and back down when idle. The ScalingManager reads the orchestrator's figures
 * for the `compute` capability (tasks waiting, oldest wait, utilisation) every 500 ms, decides,
 * and starts or drains hosts through a LocalHostLauncher; each host runs the workflow file's
 * `worker` agent (simulated, ~300 ms a task, 2 at a time) under an id of its own.
 *
 * Usage:
 *   node -r @swc-node/register examples/autoscaling-nats.ts                  # starts its own nats-server -js
 *   node -r @swc-node/register examples/autoscaling-nats.ts nats://host:4222 # uses a running server (with JetStream)
 *
 * Prints every decision, then one line `RESULT <json>` (read by test/autoscalingNats.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { createNeuroFlux, LocalHostLauncher, nats, ScalingManager, type ScalingEvent } from '../src';
import { withNatsUrl } from '../test/support/servers';

/** What the example measured. */
export interface AutoscalingReport {
  readonly tasks: number;
  readonly completed: number;
  /** Hosts running at once, at most (from the launcher, sampled on task events and completed scalings). */
  readonly peakHosts: number;
  /** Hosts when the run ended (the minimum, once scaled down). */
  readonly hostsAtEnd: number;
  /** Every decision, `scale_up 1→4 (reason)`, in order. */
  readonly decisions: string[];
  /** Tasks each host completed (from the orchestrator's records). */
  readonly perHost: Record<string, number>;
  /** From the burst's submission to its last task's completion, ms. */
  readonly burstMs: number;
  /** From the burst's submission until the hosts it called for were running, ms. */
  readonly scaleUpMs: number;
  /** From the last task's completion to the decision that brought the hosts back to the minimum, ms. */
  readonly scaleDownMs: number;
  /** Host processes still alive after the manager stopped (must be none). */
  readonly orphans: number;
  /** Hosts the orchestrator presumed dead (heartbeats missed) rather than saw leave (must be none). */
  readonly hostsLost: number;
  /** Tasks whose execution the hosts logged more than once (must be none). */
  readonly tasksRunTwice: number;
}

/** One host alone needs about BURST × 300 ms / 2 = 24 s: longer than hosts take to start (seconds, from the TypeScript sources). */
const BURST = 160;

/** The agent template the hosts run (a workflow file needs a task; this one is never submitted). */
function agentsFile(dir: string): string {
  const file = join(dir, 'agents.json');
  writeFileSync(
    file,
    JSON.stringify({
      agents: [{ agentId: 'worker', capabilities: ['compute'], maxConcurrentTasks: 2, executor: { simulated: { durationMs: { mean: 300, jitter: 100 } } } }],
      tasks: [{ taskId: 'template', requiredCapabilities: ['compute'] }],
    }),
  );
  return file;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the example against `servers` (a NATS URL with JetStream); `log` gets each decision as it is taken. */
export async function runAutoscaling(servers: string, log: (line: string) => void = () => undefined): Promise<AutoscalingReport> {
  // Each execution a host finishes (completed, failed or aborted) is one of its log lines.
  const runs = new Map<string, number>();
  const countRun = (line: string) => {
    if (!line.startsWith('{')) return;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; taskId?: unknown };
      if (typeof entry.taskId === 'string' && typeof entry.msg === 'string' && /^task (completed|failed|aborted)$/.test(entry.msg))
        runs.set(entry.taskId, (runs.get(entry.taskId) ?? 0) + 1);
    } catch {
      // Not a log line.
    }
  };
  const namespace = `autoscale-${process.pid}-${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), 'nf-autoscale-'));
  const nf = createNeuroFlux({ transport: nats({ servers, namespace, name: 'orchestrator' }) });
  const launcher = new LocalHostLauncher({
    nats: servers,
    namespace,
    workflowFile: agentsFile(dir),
    // From the sources (no build needed); an installed package leaves `command` out.
    command: [process.execPath, '-r', '@swc-node/register', join(__dirname, 'autoscaling', 'neurofluxFromSource.ts')],
    stopGraceMs: 15_000,
    startTimeoutMs: 60_000,
    onOutput: (hostId, line) => {
      countRun(line);
      log(`  [${hostId}] ${line}`);
    },
  });
  const minHosts = 1;
  const scaling = new ScalingManager({
    runtime: nf,
    launcher,
    intervalMs: 500,
    capabilities: { compute: { minHosts, maxHosts: 4, scaleUpWaitingTasks: 4, cooldownMs: 1000, scaleDownAfterMs: 2000 } },
  });
  const decisions: string[] = [];
  const pids = new Set<number>();
  let peakHosts = 0;
  let burstAt: number | undefined;
  let scaledUpAt: number | undefined;
  const sub = scaling.events$.subscribe((e: ScalingEvent) => {
    const line =
      e.type === 'scale_up' || e.type === 'scale_down'
        ? `${e.type} ${e.capability} ${e.from}→${e.to} (${e.reason}; waiting ${e.figures.waitingTasks}, used ${e.figures.usedSlots}/${e.figures.capacity} slots, oldest wait ${e.figures.oldestWaitMs} ms)`
        : e.type === 'scaling_completed'
          ? `  ${e.action} done: ${e.hosts} host(s) of ${e.capability}`
          : `${e.type} ${e.capability}: ${e.type === 'scaling_failed' ? e.error : e.reason}`;
    if (e.type !== 'scaling_completed') decisions.push(line);
    else {
      peakHosts = Math.max(peakHosts, e.hosts);
      if (e.action === 'scale_up' && e.hosts > 1 && burstAt !== undefined) scaledUpAt ??= Date.now();
    }
    for (const h of launcher.hosts()) if (h.pid !== undefined) pids.add(h.pid);
    log(line);
  });
  try {
    await nf.start();
    scaling.start();
    // The first check starts the minimum host; its agent joins with its first heartbeat.
    await nf.orchestrator.waitForAgents(['compute'], { timeoutMs: 120_000 });
    const hostsNow = () => {
      const hosts = launcher.hosts();
      for (const h of hosts) if (h.pid !== undefined) pids.add(h.pid);
      peakHosts = Math.max(peakHosts, hosts.filter((h) => h.state === 'running').length);
    };
    const sampling = nf.orchestrator.events$.subscribe(() => hostsNow());
    const started = Date.now();
    burstAt = started;
    const burst = Array.from({ length: BURST }, (_, i) => nf.orchestrator.submitTask({ taskId: `job-${i}`, requiredCapabilities: ['compute'] }));
    const records = await nf.orchestrator.waitForWorkflow(burst.map((s) => s.taskId));
    const burstDone = Date.now();
    // Back to the minimum: wait for the scale-down that got there to complete (its host
    // drained and exited), on the manager's events, not with a sleep.
    if (launcher.hosts().length > minHosts) {
      await firstValueFrom(scaling.events$.pipe(filter((e) => e.type === 'scaling_completed' && e.action === 'scale_down' && e.hosts === minHosts)));
    }
    const scaleDownMs = Date.now() - burstDone;
    hostsNow();
    sampling.unsubscribe();
    const hostsAtEnd = launcher.hosts().length;
    const perHost: Record<string, number> = {};
    for (const r of records) {
      const host = r.assignedAgent?.replace(/-worker$/, '') ?? '(none)';
      if (r.status === 'completed') perHost[host] = (perHost[host] ?? 0) + 1;
    }
    await scaling.stop();
    const orphans = [...pids].filter(alive).length;
    const { lost, left } = nf.orchestrator.getStats().hosts;
    return {
      tasks: records.length,
      completed: records.filter((r) => r.status === 'completed').length,
      peakHosts,
      hostsAtEnd,
      decisions,
      perHost,
      burstMs: burstDone - started,
      scaleUpMs: scaledUpAt === undefined ? Number.NaN : scaledUpAt - started,
      scaleDownMs,
      orphans,
      hostsLost: lost - left,
      tasksRunTwice: [...runs.values()].filter((n) => n > 1).length,
    };
  } finally {
    sub.unsubscribe();
    await scaling.stop();
    await nf.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await withNatsUrl(process.argv[2], async (url) => {
    console.log(`NATS ${url}: orchestrator pid ${process.pid}; ${BURST} tasks in one burst`);
    const report = await runAutoscaling(url, (line) => {
      if (!line.startsWith('  [')) console.log(line);
    });
    console.log(
      `${report.completed}/${report.tasks} tasks completed in ${report.burstMs} ms on ${Object.keys(report.perHost).length} hosts (peak ${report.peakHosts} running at once, ${report.scaleUpMs} ms after the burst)`,
    );
    for (const [host, n] of Object.entries(report.perHost)) console.log(`  ${host}: ${n} tasks`);
    console.log(
      `back to ${report.hostsAtEnd} host ${report.scaleDownMs} ms after the last task; ${report.orphans} host processes left after stop; ${report.hostsLost} hosts lost, ${report.tasksRunTwice} tasks run twice`,
    );
    console.log(`RESULT ${JSON.stringify(report)}`);
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
