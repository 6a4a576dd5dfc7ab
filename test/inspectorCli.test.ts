import { Command } from 'commander';
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
