/**
 * Crash: kill -9 the orchestrator process at random points during a 200-task workflow (each
 * after its run has made durable progress, so that a slow machine cannot void the test), 20
 * times; after the last restart every task has completed, and each completion was recorded
 * once (the store holds one completed record per task, with the result of one run, in
 * the archive the head names; open tasks are in record keys of their own).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PersistedOrchestratorSchema, PersistedTaskSchema } from '../src/orchestration/orchestratorPersistence';
import { FileSnapshotStore, SnapshotWriter } from '../src/store';

const script = join(__dirname, 'support', 'crashOrchestrator.ts');

function startChild(directory: string) {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', script, directory], { cwd: join(__dirname, '..') });
  let out = '';
  // 'saved': this run has completed a task and a write holding it landed.
  const started = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('saved')) resolve();
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
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100)); // a random point in the run, after some progress
      run.child.kill('SIGKILL');
      await run.exited;
      kills++;
    }
    let segments = 0;
    // What a restart would load: the rewritten state and the archive segments it names.
    const readTasks = async () => {
      const store = new FileSnapshotStore({ directory });
      const reader = new SnapshotWriter({
        store,
        key: 'orchestrator',
        schema: PersistedOrchestratorSchema,
        snapshot: () => undefined,
        archive: { itemSchema: PersistedTaskSchema },
        records: { itemSchema: PersistedTaskSchema, current: () => undefined },
      });
      const state = await reader.load();
      await store.close();
      segments = reader.stats().archive?.segments ?? 0;
      const inHead = state && 'tasks' in state ? state.tasks : [];
      return [...reader.archived(), ...inHead, ...reader.takeRecords()].map((t) => t.record);
    };
    // The killed runs made progress that survived them.
    expect((await readTasks()).filter((t) => t.status === 'completed').length).toBeGreaterThan(0);
    if (!finishedEarly) {
      const last = startChild(directory);
      expect(await last.exited).toBe(0);
      expect(last.output()).toContain('done');
    }
    const tasks = await readTasks();
    const ids = tasks.map((t) => t.taskId);
    expect(new Set(ids).size).toBe(200);
    expect(ids).toHaveLength(200);
    expect(tasks.every((t) => t.status === 'completed' && String(t.result).startsWith(`${t.taskId}@`))).toBe(true);
    expect(segments).toBeGreaterThanOrEqual(Math.floor(200 / 16));
    expect(kills).toBeGreaterThan(0);
  }, 180_000);
});
