import { describeError } from '../describeError';
import type { NeuroFlux } from '../runtime/createNeuroFlux';
import { diagnoseStall, type BlockedTask, type ProgressStateAgent, type StallDiagnosis } from '../orchestration/stallDiagnosis';
import { watchForStall } from '../orchestration/stallWatch';
import type { TaskInput, TaskRecord } from '../orchestration/taskTypes';
import { ExitCode, interruptionOf } from './exitCodes';
import type { CliOutput } from './main';
import { progressReporter } from './progressReporter';
import { compositeKey } from '../compositeKey';

/** How `neuroflux run` follows a workflow once its runtime started. @internal */
export interface WorkflowRunOptions {
  /** The workflow file's tasks. */
  readonly tasks: readonly TaskInput[];
  readonly json: boolean;
  /** A JSON line per task event on stdout (the summary goes to stderr). */
  readonly events: boolean;
  /** No progress on stderr (stall warnings are still written). */
  readonly quiet: boolean;
  /** How long a stall may last before the run gives up, ms. */
  readonly stallTimeoutMs: number;
  /** The agents come from `neuroflux host` processes. */
  readonly remoteAgents: boolean;
  /** A transport (NATS) is attached: agents declared without executor may be served by other processes. */
  readonly transport: boolean;
  readonly namespace: string;
  readonly stateDir: string | undefined;
  readonly stdout: (text: string) => void;
  readonly stderr: CliOutput;
  /** Settles on Ctrl-C (SIGINT), SIGTERM or stdout closed, with which ({@link interruptionOf}). */
  readonly interrupted: Promise<unknown> | undefined;
  /** With `remoteAgents`: how long "no agent host has announced itself" is held back, ms (on the runtime's clock). Default {@link HOST_ANNOUNCE_GRACE_MS}. */
  readonly hostAnnounceGraceMs?: number;
  /** How often a piped stderr gets a progress line without a new tenth reached, ms. Default 5000. */
  readonly progressLineIntervalMs?: number;
}

type Ending = { kind: 'finished'; records: TaskRecord[] } | { kind: 'interrupted'; by: unknown } | { kind: 'stalled'; diagnosis: StallDiagnosis };

/**
 * How long `run --remote-agents` waits for a host to announce itself before it says none has:
 * two of a host's default heartbeat intervals (1 s, `neuroflux host --heartbeat`), so a host
 * that was running before the run, heard of only at its next beat, is not reported missing
 * (it was, 3 runs out of 3, with --stall-timeout 0). @internal
 */
export const HOST_ANNOUNCE_GRACE_MS = 2000;

const MAX_NAMED_TASKS = 10;

/**
 * An id or name as the terminal may show it: JSON-quoted when it holds a control character
 * (an escape sequence would act on the terminal, a newline forge a line). Workflow files
 * refuse such ids; a stored state or a host's announcement might still carry one.
 * @internal
 */
export function printable(text: string): string {
  return /[\u0000-\u001f\u007f-\u009f]/.test(text) ? JSON.stringify(text) : text;
}

function taskList(ids: readonly string[]): string {
  const named = ids.slice(0, MAX_NAMED_TASKS).map(printable).join(', ');
  return ids.length > MAX_NAMED_TASKS ? `${named} and ${ids.length - MAX_NAMED_TASKS} more` : named;
}

/** What to tell the user about blocked tasks, grouped by cause: one line per cause. @internal */
export function blockedLines(diagnosis: StallDiagnosis, context: { namespace: string; stallTimeoutMs: number }): string[] {
  const groups = new Map<string, { task: BlockedTask; ids: string[] }>();
  for (const task of diagnosis.blocked) {
    const key = compositeKey([task.reason, compositeKey(task.requiredCapabilities)]);
    const group = groups.get(key);
    if (group) group.ids.push(task.taskId);
    else groups.set(key, { task, ids: [task.taskId] });
  }
  const count = diagnosis.blocked.length;
  const lines = [`${diagnosis.stalled ? 'stalled' : 'blocked'}: ${count} task${count === 1 ? '' : 's'} cannot be given to any agent`];
  for (const { task, ids } of groups.values()) {
    const needs = task.requiredCapabilities.map(printable).join(', ') || '(no capability)';
    const missing =
      task.missingCapabilities.length > 0
        ? `capabilit${task.missingCapabilities.length === 1 ? 'y' : 'ies'} ${task.missingCapabilities.map(printable).join(', ')}`
        : `all of ${needs} in one agent`;
    const cause =
      task.reason === 'no_host'
        ? `no agent host has announced itself on namespace '${context.namespace}' (start \`neuroflux host <file> --nats <url>\`); missing ${missing}`
        : task.reason === 'no_executor'
          ? `agent${task.agentsWithoutExecutor.length === 1 ? '' : 's'} ${task.agentsWithoutExecutor.map(printable).join(', ')} ha${task.agentsWithoutExecutor.length === 1 ? 's' : 've'} ${task.requiredCapabilities.length > 0 ? `${needs} but ` : ''}no executor`
          : `no agent has ${missing}`;
    lines.push(`  ${cause}: ${taskList(ids)}`);
  }
  lines.push(
    diagnosis.stalled
      ? `  nothing else can run: giving up in ${context.stallTimeoutMs / 1000} s unless an agent joins (--stall-timeout)`
      : '  other tasks still run; these wait for an agent with those capabilities',
  );
  return lines;
}

/** The causes of a diagnosis, without the tasks: what a line of {@link blockedLines} says apart from ids and counts. */
function blockedCauses(diagnosis: StallDiagnosis): string {
  const causes = new Set(diagnosis.blocked.map((t) => compositeKey([t.reason, compositeKey(t.requiredCapabilities), compositeKey(t.agentsWithoutExecutor)])));
  return compositeKey([String(diagnosis.stalled), ...[...causes].sort()]);
}

/**
 * Submits the workflow (or what a resumed state does not know yet), follows it to its
 * end with progress on stderr, stall detection and Ctrl-C, and prints the summary.
 * Resolves with the exit code.
 * @internal
 */
export async function superviseWorkflowRun(nf: NeuroFlux, options: WorkflowRunOptions): Promise<ExitCode> {
  const { stdout, stderr } = options;
  const started = Date.now();
  const finished = new Set<string>();
  let failedCount = 0;
  const subscription = nf.orchestrator.events$.subscribe((event) => {
    if (event.type === 'store_problem') return;
    if (options.events) stdout(`${JSON.stringify(event)}\n`);
    if (event.type === 'task_finished' && !finished.has(event.taskId)) {
      finished.add(event.taskId);
      if (event.status !== 'completed') failedCount++;
    }
  });
  const timers: unknown[] = [];
  let watch: ReturnType<typeof watchForStall> | undefined;
  const progress = options.quiet ? undefined : progressReporter(stderr, 'tasks finished');
  // Known from the file: progress, the stall watch and Ctrl-C all start before the submission,
  // which yields between slices but takes seconds for tens of thousands of tasks.
  const total = options.tasks.length;
  /** The tasks' ids once submitted; until then those the file names. */
  let ids: string[] | undefined;
  try {
    const detail = () => {
      const stats = nf.orchestrator.getStats();
      const parts = [
        failedCount > 0 && `${failedCount} failed`,
        stats.runningTasks > 0 && `${stats.runningTasks} running`,
        stats.assignedTasks > 0 && `${stats.assignedTasks} assigned`,
        stats.pendingTasks > 0 && `${stats.pendingTasks} waiting`,
      ].filter(Boolean);
      return `${parts.length > 0 ? `(${parts.join(', ')}) ` : ''}${((Date.now() - started) / 1000).toFixed(1)} s`;
    };
    if (progress) {
      progress.update(finished.size, total, detail());
      const lineEvery = options.progressLineIntervalMs ?? 5000;
      let sinceLine = 0;
      const tick = () => {
        sinceLine += 250;
        if (!stderr.isTTY && sinceLine >= lineEvery) {
          sinceLine = 0;
          progress.heartbeat(finished.size, total, detail());
        } else progress.update(finished.size, total, detail());
        timers[0] = nf.clock.setTimeout(tick, 250);
      };
      timers[0] = nf.clock.setTimeout(tick, 250);
    }

    const report = (lines: readonly string[]) => {
      progress?.done();
      for (const line of lines) stderr.write(`${line}\n`);
    };
    // With a transport an agent declared without executor may be served by a process this one does not know.
    const canRun = (agent: ProgressStateAgent) => agent.executesHere || agent.hostId !== undefined || (options.transport && !options.remoteAgents);
    // Hosts announce themselves on their heartbeat: one that ran before this run is heard of only at its next beat.
    const noHostFrom = nf.clock.now() + (options.remoteAgents ? (options.hostAnnounceGraceMs ?? HOST_ANNOUNCE_GRACE_MS) : 0);
    const withoutEarlyNoHost = (diagnosis: StallDiagnosis): StallDiagnosis => {
      if (nf.clock.now() >= noHostFrom || !diagnosis.blocked.some((t) => t.reason === 'no_host')) return diagnosis;
      return { ...diagnosis, blocked: diagnosis.blocked.filter((t) => t.reason !== 'no_host'), stalled: false };
    };
    let submitting = true;
    let reportedCauses: string | undefined;
    let onStalled: (diagnosis: StallDiagnosis) => void = () => undefined;
    const stalled = new Promise<StallDiagnosis>((resolve) => (onStalled = resolve));
    watch = watchForStall({
      clock: nf.clock,
      stallTimeoutMs: options.stallTimeoutMs,
      // A check scans the unfinished tasks: 100 000 queued tasks took 35-95 ms per check (state + diagnosis) on
      // the shared 2-core machine at load 13, so large runs are checked once a second, not four times.
      checkIntervalMs: total > 25_000 ? 1000 : 250,
      diagnose: () => withoutEarlyNoHost(diagnoseStall(nf.orchestrator.progressState(), { canRun, expectRemoteAgents: options.remoteAgents })),
      onBlocked: (diagnosis) => {
        // While tasks are still being inserted the blocked set grows every check: said again only for a new cause.
        const causes = blockedCauses(diagnosis);
        if (submitting && causes === reportedCauses) return;
        reportedCauses = causes;
        report(blockedLines(diagnosis, options));
      },
      onUnblocked: () => report(['unblocked: every waiting task can be given to an agent again']),
      onStallTimeout: onStalled,
      onError: (error) => report([`warning: stall detection stopped: ${describeError(error)}`]),
    });

    if (options.transport && !options.remoteAgents) {
      // Such an agent's tasks are sent to its mailbox on NATS: served by a process this run cannot see, or by
      // nobody. The stall watch cannot tell which, so the run says once what it is waiting for.
      const served = nf.orchestrator.progressState().agents.filter((a) => !a.executesHere && a.hostId === undefined);
      if (served.length > 0) {
        report([
          `note: agent${served.length === 1 ? '' : 's'} ${served.map((a) => printable(a.agentId)).join(', ')} ha${served.length === 1 ? 's' : 've'} no executor here: ${served.length === 1 ? 'its' : 'their'} tasks wait for a process serving ${served.length === 1 ? 'it' : 'them'} on NATS (namespace '${options.namespace}'); --stall-timeout does not apply to them`,
        ]);
      }
    }
    const submittedAndFinished = (async (): Promise<Ending> => {
      // Resuming: tasks the stored state already holds (running, or finished) are not submitted again.
      const known = await Promise.all(options.tasks.map(async (t) => t.taskId !== undefined && (await nf.orchestrator.findTask(t.taskId)) !== undefined));
      const fresh = options.tasks.filter((_, i) => !known[i]);
      const submitted = fresh.length === 0 ? [] : await nf.orchestrator.submitWorkflowAsync({ tasks: fresh }, { requireCapableAgents: !options.remoteAgents });
      let nextSubmitted = 0;
      const all = options.tasks.map((t, i) => (known[i] ? (t.taskId as string) : (submitted[nextSubmitted++]?.taskId as string)));
      ids = all;
      if (known.some(Boolean)) {
        const line = `resumed from ${options.stateDir}: ${known.filter(Boolean).length} of ${all.length} tasks were already known\n`;
        if (options.json || options.events) stderr.write(line);
        else stdout(line);
      }
      for (const id of all) {
        const record = nf.orchestrator.getTask(id);
        if (record && record.completedAt !== null && !finished.has(id)) {
          finished.add(id);
          if (record.status !== 'completed') failedCount++;
        }
      }
      submitting = false;
      // Every task is in: a piped stderr hears so now, not at the next tenth or heartbeat.
      progress?.heartbeat(finished.size, total, detail());
      return { kind: 'finished', records: await nf.orchestrator.waitForWorkflow(all) };
    })();
    // Interrupted or stalled mid-submission: the runtime stops under it; what it then rejects with is moot.
    submittedAndFinished.catch(() => undefined);
    const ending: Ending = await Promise.race([
      submittedAndFinished,
      ...(options.interrupted ? [options.interrupted.then((by): Ending => ({ kind: 'interrupted', by }))] : []),
      stalled.then((diagnosis): Ending => ({ kind: 'stalled', diagnosis })),
    ]);
    watch.stop();
    if (timers[0] !== undefined) nf.clock.clearTimeout(timers[0]);
    timers.length = 0;
    if (progress) {
      progress.update(finished.size, total, detail());
      progress.done();
    }
    const records = ending.kind === 'finished' ? ending.records : (ids ?? options.tasks.flatMap((t) => t.taskId ?? [])).flatMap((id) => nf.orchestrator.getTask(id) ?? []);
    const elapsed = Date.now() - started;
    const exitCode =
      ending.kind === 'interrupted'
        ? interruptionOf(ending.by).exitCode
        : ending.kind === 'stalled'
          ? ending.diagnosis.noAgents
            ? ExitCode.CANNOT_RUN
            : ExitCode.FAILED
          : records.every((r) => r.status === 'completed')
            ? ExitCode.SUCCESS
            : ExitCode.FAILED;
    const interruption = ending.kind === 'interrupted' ? interruptionOf(ending.by).said : undefined;
    if (interruption !== undefined) stderr.write(`${interruption}: the summary so far\n`);
    if (ending.kind === 'stalled') {
      stderr.write(
        `stalled for ${options.stallTimeoutMs / 1000} s: ${ending.diagnosis.blocked.length} task${ending.diagnosis.blocked.length === 1 ? '' : 's'} could not be given to any agent (${ending.diagnosis.noAgents ? 'no agent can run tasks: exit 3' : 'exit 1'})\n`,
      );
    }
    const summary = summaryLines(records, elapsed);
    if (options.json) stdout(`${JSON.stringify(records, null, 2)}\n`);
    else if (options.events) {
      stdout(
        `${JSON.stringify({ type: 'run_finished', outcome: ending.kind === 'finished' ? (exitCode === 0 ? 'completed' : 'failed') : ending.kind, exitCode, counts: statusCounts(records), elapsedMs: elapsed })}\n`,
      );
      for (const line of summary) stderr.write(`${line}\n`);
    } else for (const line of summary) stdout(`${line}\n`);
    return exitCode;
  } finally {
    watch?.stop();
    if (timers[0] !== undefined) nf.clock.clearTimeout(timers[0]);
    subscription.unsubscribe();
  }
}

function statusCounts(records: readonly TaskRecord[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return Object.fromEntries(counts);
}

/** One line per task, then the totals. @internal */
export function summaryLines(records: readonly TaskRecord[], elapsedMs: number): string[] {
  const lines = records.map((r) => {
    const detail = r.status === 'completed' ? JSON.stringify(r.result) : `${r.reason ?? ''} ${r.error ?? ''}`.trim();
    return `${r.status === 'completed' ? '✔' : '✘'} ${printable(r.taskId).padEnd(24)} ${r.status.padEnd(10)} ${printable(r.assignedAgent ?? '-').padEnd(20)} retries ${r.retryCount}  ${printable(detail)}`;
  });
  const counts = statusCounts(records);
  const done = counts['completed'] ?? 0;
  const others = Object.entries(counts)
    .filter(([status]) => status !== 'completed')
    .map(([status, n]) => `, ${n} ${status}`)
    .join('');
  lines.push(`${done}/${records.length} tasks completed${others} in ${elapsedMs} ms`);
  return lines;
}
