import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { buildCli } from '../src/cli/main';
import { registerInspectCommand } from '../src/cli/inspectCommand';
import type { SnapshotFrame } from '../src/observability';
import { InspectActionsFromSchema, inspectActionsOption, orchestratorRuntimeId } from '../src/cli/inspectOption';
import { RuntimeIdSchema } from '../src/observability/inspector/inspectionWire';
import { waitFor } from './support/servers';

test('`neuroflux inspect` prints the URL, serves the page with a looping workflow, and stops cleanly', async () => {
  let out = '';
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let url!: string;
  let running: Promise<unknown> = Promise.resolve();
  let tradeDone: () => void = () => undefined;
  const firstTradeDone = new Promise<void>((resolve) => (tradeDone = resolve));
  const listening = new Promise<void>((resolve) => {
    const program = new Command('neuroflux').exitOverride();
    registerInspectCommand(program, (text) => (out += text), {
      until: () => stopped,
      onRuntime: (nf) => {
        const subscription = nf.orchestrator.attempts$.subscribe((attempt) => {
          if (attempt.taskId === 'run1.trade' && attempt.outcome === 'completed') {
            subscription.unsubscribe();
            tradeDone();
          }
        });
      },
      onListening: (u) => {
        url = u;
        resolve();
      },
    });
    running = program.parseAsync(['node', 'neuroflux', 'inspect', '--port', '0', '--interval', '20', '--delay', '0']);
  });
  await listening;
  expect(out).toContain(`NeuroFlux inspector: ${url}`);
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  expect((await fetch(url)).status).toBe(200);
  // The demo's first workflow ends with its trade task; the page shows it finished from the
  // inspector's next flush on (waited for with a generous overall timeout, no margin).
  await firstTradeDone;
  let snapshot: SnapshotFrame | undefined;
  await waitFor(
    async () => {
      snapshot = (await (await fetch(`${url}api/snapshot`)).json()) as SnapshotFrame;
      return snapshot.workflows.some((w) => w.finished);
    },
    15_000,
    'a finished workflow in the page',
  );
  expect(snapshot?.workflows.some((w) => w.finished)).toBe(true);
  expect(await (await fetch(`${url}metrics`)).text()).toMatch(/neuroflux_tasks_finished_total\{task_type="fetch",status="completed"\}/);
  stop();
  await running;
  expect(out).toMatch(/inspector stopped\n$/);
  await expect(fetch(url)).rejects.toThrow();
}, 20_000);

test('`neuroflux run --inspect` says where its inspector is, and closes it with the run', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'nf-run-inspect-')), 'workflow.json');
  writeFileSync(
    file,
    JSON.stringify({
      agents: [{ agentId: 'w', capabilities: ['work'], executor: { simulated: { durationMs: { mean: 1 } } } }],
      tasks: [{ taskId: 'a', requiredCapabilities: ['work'] }],
    }),
  );
  let stdout = '';
  let stderr = '';
  await buildCli({ write: (t) => (stdout += t), isTTY: false }, { errorOutput: { write: (t) => (stderr += t), isTTY: false } }).parseAsync([
    'node',
    'neuroflux',
    'run',
    file,
    '--inspect',
    '--json',
    '--quiet',
  ]);
  const url = /inspector: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1];
  expect(url).toBeDefined();
  expect((JSON.parse(stdout) as { status: string }[]).map((r) => r.status)).toEqual(['completed']);
  await expect(fetch(`${url}healthz`)).rejects.toThrow();
});

test('`run --nats` publishes under a runtime id unique per process even where every pid is 1; --inspect-actions-from lists identities', async () => {
  const a = orchestratorRuntimeId();
  const b = orchestratorRuntimeId();
  for (const id of [a, b]) expect(RuntimeIdSchema.safeParse(id).success).toBe(true);
  expect(a).not.toBe(b);
  expect(a).toContain(`-${process.pid}-`);
  expect(inspectActionsOption(InspectActionsFromSchema.parse('ops, oncall'))).toEqual({ from: ['ops', 'oncall'] });
  expect(inspectActionsOption(undefined)).toBe(false);
  expect(InspectActionsFromSchema.safeParse('a.b').success).toBe(false);
  const file = join(mkdtempSync(join(tmpdir(), 'nf-run-actions-')), 'workflow.json');
  writeFileSync(
    file,
    JSON.stringify({
      agents: [{ agentId: 'w', capabilities: ['work'], executor: { simulated: { durationMs: { mean: 1 } } } }],
      tasks: [{ taskId: 'a', requiredCapabilities: ['work'] }],
    }),
  );
  await expect(buildCli({ write: () => undefined, isTTY: false }).parseAsync(['node', 'neuroflux', 'run', file, '--inspect-actions-from', 'ops'])).rejects.toMatchObject({
    field: '--inspect-actions-from',
  });
});
