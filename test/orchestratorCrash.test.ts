/**
 * Crash: kill -9 the orchestrator process at random points during a 200-task workflow, 20
 * times; after the last restart every task has completed, and each completion was recorded
 * once (the store holds one completed record per task, with the result of one run).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = join(__dirname, 'support', 'crashOrchestrator.ts');

function startChild(directory: string) {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', script, directory], { cwd: join(__dirname, '..') });
  let out = '';
  const started = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('started')) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, started, exited, output: () => out };
}

describe('orchestrator crash recovery (kill -9)', () => {
  test('20 kills at random points, then every task completes exactly once', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'neuroflux-crash-'));
    let kills = 0;
    let finishedEarly = false;
    for (let i = 0; i < 20; i++) {
      const run = startChild(directory);
      const ready = await Promise.race([run.started.then(() => 'started' as const), run.exited.then(() => 'exited' as const)]);
      if (ready === 'exited') {
        // It finished (or failed) before the kill: that must be a clean finish.
        expect(run.output()).toContain('done');
        finishedEarly = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 150)); // a random point in the run
      run.child.kill('SIGKILL');
      await run.exited;
      kills++;
    }
    const readTasks = () => {
      const state = JSON.parse(readFileSync(join(directory, 'orchestrator.json'), 'utf8')) as {
        value?: { tasks: { record: { taskId: string; status: string; result: string } }[] };
        tasks?: { record: { taskId: string; status: string; result: string } }[];
      };
      return (state.value ?? state).tasks ?? [];
    };
    // The killed runs made progress that survived them.
    expect(readTasks().filter((t) => t.record.status === 'completed').length).toBeGreaterThan(0);
    if (!finishedEarly) {
      const last = startChild(directory);
      expect(await last.exited).toBe(0);
      expect(last.output()).toContain('done');
    }
    const tasks = readTasks();
    const ids = tasks.map((t) => t.record.taskId);
    expect(new Set(ids).size).toBe(200);
    expect(ids).toHaveLength(200);
    expect(tasks.every((t) => t.record.status === 'completed' && t.record.result.startsWith(`${t.record.taskId}@`))).toBe(true);
    expect(kills).toBeGreaterThan(0);
  }, 180_000);
});
