/**
 * Multi-process example: one orchestrator process (this one) and two agent-host
 * processes, all on one NATS server. The hosts announce their agents by heartbeat
 * (`AgentHost`); the orchestrator registers them from the announcements, sends their task
 * assignments over NATS (JetStream) and gets the results back the same way.
 *
 * Usage:
 *   npx node -r @swc-node/register examples/multi-process/run.ts                 # starts its own nats-server -js
 *   npx node -r @swc-node/register examples/multi-process/run.ts nats://host:4222 # uses a running server (with JetStream)
 *
 * Prints the per-host counts, then one line `RESULT <json>` (read by test/distributedExample.test.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createNeuroFlux, nats, type TaskInput } from '../../src';
import { startReadyScript, stopChild } from '../../test/support/childProcesses';
import { waitFor, withNatsUrl } from '../../test/support/servers';

const HOSTS = ['host-1', 'host-2'] as const;

/** What the example reports. */
export interface MultiProcessReport {
  readonly tasks: number;
  readonly completed: number;
  /** Tasks completed per host, from the orchestrator's records. */
  readonly perHost: Record<string, number>;
  /** How many times each task was executed, from the hosts' own logs. */
  readonly executions: Record<string, number>;
  readonly hostPids: Record<string, number>;
  /** The final task's value: the sum over the whole workflow. */
  readonly total: number;
  readonly elapsedMs: number;
}

/** Starts `host.ts` as a process; resolves once it is ready. */
export function startHost(url: string, hostId: string, namespace: string, heartbeatMs = 1000): Promise<ChildProcess> {
  return startReadyScript(join(__dirname, 'host.ts'), [url, hostId, namespace, String(heartbeatMs)], hostId);
}

/**
 * A workflow of 20 tasks: 12 independent `map` tasks, 6 `combine` tasks each over two
 * of them, 1 `reduce` over the combines and 1 `report` after it.
 */
export function workflow(): TaskInput[] {
  const tasks: TaskInput[] = [];
  for (let i = 0; i < 12; i++) tasks.push({ taskId: `map-${i}`, requiredCapabilities: ['compute'], payload: { n: i, workMs: 30 } });
  for (let i = 0; i < 6; i++) {
    tasks.push({ taskId: `combine-${i}`, dependencies: [`map-${2 * i}`, `map-${2 * i + 1}`], requiredCapabilities: ['compute'], payload: { n: 0, workMs: 10 } });
  }
  tasks.push({ taskId: 'reduce', dependencies: Array.from({ length: 6 }, (_, i) => `combine-${i}`), requiredCapabilities: ['compute'], payload: { n: 0, workMs: 5 } });
  tasks.push({ taskId: 'report', dependencies: ['reduce'], requiredCapabilities: ['compute'], payload: { n: 0, workMs: 1 } });
  return tasks;
}

/** Runs the example against `servers` (a NATS URL with JetStream) and reports. */
export async function runMultiProcess(servers: string): Promise<MultiProcessReport> {
  const namespace = `example-${process.pid}-${Date.now().toString(36)}`;
  const hosts = await Promise.all(HOSTS.map((id) => startHost(servers, id, namespace)));
  const nf = createNeuroFlux({ transport: nats({ servers, namespace, name: 'orchestrator' }) });
  try {
    const client = nf.bus.registerAgent('example-client');
    await nf.start();
    // The hosts' agents join when their next heartbeat arrives.
    await waitFor(() => HOSTS.every((id) => nf.orchestrator.getAgent(`${id}-worker`) !== undefined), 10_000, 'both hosts announced');
    const started = Date.now();
    const submissions = nf.orchestrator.submitWorkflow({ tasks: workflow() });
    const records = await Promise.race([
      nf.orchestrator.waitForWorkflow(submissions.map((s) => s.taskId)),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('workflow did not finish within 60 s')), 60_000).unref()),
    ]);
    const elapsedMs = Date.now() - started;
    const perHost: Record<string, number> = Object.fromEntries(HOSTS.map((id) => [id, 0]));
    for (const r of records) {
      const host = r.assignedAgent?.replace(/-worker$/, '');
      if (r.status === 'completed' && host !== undefined) perHost[host] = (perHost[host] ?? 0) + 1;
    }
    // Ask each host what it really executed (request/reply over NATS core).
    const executions: Record<string, number> = {};
    const hostPids: Record<string, number> = {};
    for (const id of HOSTS) {
      const reply = await client.request({ recipientId: `${id}-reporter`, topic: 'report', payload: {}, timeoutMs: 5000 });
      const report = reply.payload as { hostId: string; pid: number; executed: string[] };
      hostPids[report.hostId] = report.pid;
      for (const taskId of report.executed) executions[taskId] = (executions[taskId] ?? 0) + 1;
    }
    const total = (records.find((r) => r.taskId === 'report')?.result as { value?: number } | undefined)?.value ?? NaN;
    return { tasks: records.length, completed: records.filter((r) => r.status === 'completed').length, perHost, executions, hostPids, total, elapsedMs };
  } finally {
    await nf.stop();
    await Promise.all(hosts.map((host) => stopChild(host)));
  }
}

async function main(): Promise<void> {
  await withNatsUrl(process.argv[2], async (url) => {
    console.log(`NATS ${url}: orchestrator pid ${process.pid}, hosts ${HOSTS.join(', ')}`);
    const report = await runMultiProcess(url);
    console.log(`${report.completed}/${report.tasks} tasks completed in ${report.elapsedMs} ms (workflow total ${report.total})`);
    for (const [host, n] of Object.entries(report.perHost)) console.log(`  ${host} (pid ${report.hostPids[host]}): ${n} tasks`);
    console.log(`RESULT ${JSON.stringify(report)}`);
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
