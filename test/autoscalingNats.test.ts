/**
 * examples/autoscaling-nats.ts against a private nats-server: a burst of tasks scales
 * `neuroflux host` processes up, every task completes, idleness scales them back down to the
 * minimum, and no host process outlives the manager. Waits on events, not on time.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAutoscaling } from '../examples/autoscaling-nats';
import { describeWithServer, NATS_SERVER_BIN, natsServerForSuite } from './support/servers';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls until `pid` is gone (processes say nothing when they exit); generous overall bound. */
async function exited(pid: number): Promise<boolean> {
  const deadline = Date.now() + 90_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid);
}

describeWithServer(NATS_SERVER_BIN, 'examples/autoscaling-nats: hosts scaled over NATS', () => {
  const server = natsServerForSuite();

  test('scales up under the burst, completes every task, scales back down, leaves no process', async () => {
    const output: string[] = [];
    const report = await runAutoscaling(server().url, (line) => output.push(line));
    const context = `\n${output.join('\n')}`;
    expect({ completed: report.completed, tasks: report.tasks, context: '' }).toEqual({ completed: 160, tasks: 160, context: '' });
    expect(Object.values(report.perHost).reduce((a, b) => a + b, 0)).toBe(160);
    // Up during the burst: the decision was taken on waiting tasks, and more than one host ran.
    const up = report.decisions.find((d) => /^scale_up compute 1→[2-4] \(\d+ tasks waiting/.exec(d));
    expect(up ?? `no burst scale-up in:${context}`).toMatch(/^scale_up/);
    expect(report.peakHosts).toBeGreaterThan(1);
    // Down again, one idle host at a time, to the minimum.
    expect(report.decisions.at(-1)).toMatch(/^scale_down compute 2→1 \(no task waiting/);
    expect(report.hostsAtEnd).toBe(1);
    expect(report.orphans).toBe(0);
    // Every task ran once: no drained host's task moved before its result came, no live host presumed dead.
    expect({ hostsLost: report.hostsLost, tasksRunTwice: report.tasksRunTwice }).toEqual({ hostsLost: 0, tasksRunTwice: 0 });
    const failures = report.decisions.filter((d) => d.startsWith('scaling_failed'));
    expect({ failures, context: failures.length > 0 ? context : '' }).toEqual({ failures: [], context: '' });
  }, 240_000);

  // A parent killed by a signal runs no 'exit' handler: the host sees its stdin end instead.
  test.each(['SIGKILL', 'SIGTERM'] as const)(
    'a host does not outlive a launcher killed with %s',
    async (signal) => {
      const dir = mkdtempSync(join(tmpdir(), 'nf-orphan-'));
      const file = join(dir, 'agents.json');
      writeFileSync(
        file,
        JSON.stringify({
          agents: [{ agentId: 'worker', capabilities: ['compute'], executor: { simulated: { durationMs: { mean: 50, jitter: 10 } } } }],
          tasks: [{ taskId: 't', requiredCapabilities: ['compute'] }],
        }),
      );
      const parent = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'support', 'hostLauncherParent.ts'), server().url, `orphan${signal}`, file], {
        cwd: join(__dirname, '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      parent.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const hostPid = await new Promise<number>((resolve, reject) => {
        let out = '';
        parent.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /HOSTPID (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        parent.once('exit', (code) => reject(new Error(`the parent exited (${code}) before its host ran: ${err}`)));
      });
      expect(alive(hostPid)).toBe(true);
      const parentGone = new Promise((resolve) => parent.once('exit', resolve));
      parent.kill(signal);
      await parentGone;
      const gone = await exited(hostPid);
      if (!gone) process.kill(hostPid, 'SIGKILL');
      expect(gone).toBe(true);
    },
    240_000,
  );
});
