import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { MultiProcessReport } from '../examples/multi-process/run';
import { describeWithServer, NATS_SERVER_BIN } from './support/servers';

/** Runs examples/multi-process/run.ts as a real process (it starts its own nats-server and forks two hosts). */
function runExample(timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '..', 'examples', 'multi-process', 'run.ts')], {
      cwd: join(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`example did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describeWithServer(NATS_SERVER_BIN, 'examples/multi-process: an orchestrator and two agent hosts, three processes on one NATS server', () => {
  test('every task of the workflow completes exactly once, and both hosts work', async () => {
    // A guard against a hung example, not a performance bound: on a loaded 2-core CI machine the
    // three processes took 22-32 s where an idle run takes 5 s.
    const { code, stdout, stderr } = await runExample(150_000);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line).toBeDefined();
    const report = JSON.parse((line as string).slice('RESULT '.length)) as MultiProcessReport;
    expect(report.tasks).toBe(20);
    expect(report.completed).toBe(20);
    // The hosts' own logs: 20 distinct tasks, each executed once.
    expect(Object.keys(report.executions)).toHaveLength(20);
    expect(Object.values(report.executions).every((n) => n === 1)).toBe(true);
    // The orchestrator's records agree, and the work was spread over both processes.
    expect(report.perHost['host-1']! + report.perHost['host-2']!).toBe(20);
    expect(report.perHost['host-1']).toBeGreaterThan(0);
    expect(report.perHost['host-2']).toBeGreaterThan(0);
    expect(new Set([...Object.values(report.hostPids), process.pid]).size).toBe(3);
    expect(report.total).toBe(66); // 0 + 1 + ... + 11, carried through the dependency results
    expect(stdout).toMatch(/host-1 \(pid \d+\): \d+ tasks/);
  }, 160_000);
});
