import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { buildCli } from '../src/cli/main';
import { registerInspectCommand } from '../src/cli/inspectCommand';
import type { SnapshotFrame } from '../src/observability';

test('`neuroflux inspect` prints the URL, serves the page with a looping workflow, and stops cleanly', async () => {
  let out = '';
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let url!: string;
  let running: Promise<unknown> = Promise.resolve();
  const listening = new Promise<void>((resolve) => {
    const program = new Command('neuroflux').exitOverride();
    registerInspectCommand(program, (text) => (out += text), {
      until: () => stopped,
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
  // Wait for the demo loop to finish a workflow (network and wall-clock waits are unavoidable here).
  let snapshot: SnapshotFrame | undefined;
  for (let i = 0; i < 100; i++) {
    snapshot = (await (await fetch(`${url}api/snapshot`)).json()) as SnapshotFrame;
    if (snapshot.workflows.some((w) => w.finished)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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
    JSON.stringify({ agents: [{ agentId: 'w', capabilities: ['work'], executor: { simulated: { durationMs: { mean: 1 } } } }], tasks: [{ taskId: 'a', requiredCapabilities: ['work'] }] }),
  );
  let stdout = '';
  let stderr = '';
  await buildCli({ write: (t) => (stdout += t), isTTY: false }, { errorOutput: { write: (t) => (stderr += t), isTTY: false } }).parseAsync([
    'node', 'neuroflux', 'run', file, '--inspect', '--json', '--quiet',
  ]);
  const url = /inspector: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1];
  expect(url).toBeDefined();
  expect((JSON.parse(stdout) as { status: string }[]).map((r) => r.status)).toEqual(['completed']);
  await expect(fetch(`${url}healthz`)).rejects.toThrow();
});
