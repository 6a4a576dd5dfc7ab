/**
 * LocalHostLauncher with a stand-in for `neuroflux host` (a small Node script): the arguments
 * it passes, readiness from the `hosting ...` line, SIGTERM then SIGKILL after the grace
 * period on a simulated clock, failed starts, and no process left after close().
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import { HostStartError, LocalHostLauncher, ValidationError } from '../src';

/**
 * The stand-in: prints the hosting line (unless told not to), prints its argv as JSON, and on
 * SIGTERM either exits (graceful) or says it ignores it.
 */
const FAKE_HOST = `
const args = process.argv.slice(2);
const opt = (name) => args[args.indexOf(name) + 1];
const mode = process.env.FAKE_HOST_MODE || MODE;
console.log('ARGS ' + JSON.stringify(args));
if (mode === 'crash') { console.error('no such workflow file'); process.exit(2); }
if (mode === 'unreachable') { console.error('cannot connect to NATS'); process.exit(3); }
// Exits 3 (cannot run) on its first run only: a marker file remembers the first run.
if (mode === 'crash-once' && !require('node:fs').existsSync(MARKER)) {
  require('node:fs').writeFileSync(MARKER, 'ran');
  console.error('cannot start on NATS: timeout');
  process.exit(3);
}
process.on('SIGTERM', () => {
  if (mode === 'stubborn') console.log('ignoring SIGTERM');
  else { console.log('draining'); process.exit(0); }
});
if (mode !== 'silent') console.log('hosting ' + opt('--agent-prefix') + 'worker as ' + opt('--host-id') + ' on ' + opt('--nats') + ' (namespace ' + opt('--namespace') + ')');
setInterval(() => {}, 1000);
`;

function fakeHostScript(mode: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nf-fakehost-'));
  const file = join(dir, 'fakeHost.js');
  writeFileSync(file, `const MODE = ${JSON.stringify(mode)};\nconst MARKER = ${JSON.stringify(join(dir, 'ran'))};\n${FAKE_HOST}`);
  return file;
}

const launchers: LocalHostLauncher[] = [];
afterAll(async () => {
  await Promise.all(launchers.map((l) => l.close()));
});

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function launcherWith(mode: string, clock = new SimulatedClock(), lines: string[] = []) {
  const launcher = new LocalHostLauncher({
    nats: 'nats://127.0.0.1:4222',
    namespace: 'scaling-test',
    workflowFile: '/tmp/agents.json',
    command: [process.execPath, fakeHostScript(mode)],
    clock,
    stopGraceMs: 5000,
    startTimeoutMs: 10_000,
    hostIdPrefix: 'h',
    onOutput: (hostId, line) => lines.push(`${hostId} ${line}`),
  });
  launchers.push(launcher);
  return launcher;
}

/** Resolves once a line of `lines` matches (lines are pushed by the launcher's onOutput). */
function lineSeen(lines: string[], matches: (line: string) => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (lines.some(matches)) return resolve();
    const push = lines.push.bind(lines);
    lines.push = (...added: string[]) => {
      const n = push(...added);
      if (added.some(matches)) resolve();
      return n;
    };
  });
}

/** Waits (polling on real time, generous overall bound) until `condition` holds: for process exits, which say nothing. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`never happened: ${what}`);
}

describe('LocalHostLauncher', () => {
  test('starts `host` with the namespace, capability and an agent prefix of its own, and is running once the host says it hosts', async () => {
    const lines: string[] = [];
    const launcher = launcherWith('graceful', new SimulatedClock(), lines);
    const [a, b] = await Promise.all([launcher.start('compute'), launcher.start('compute')]);
    expect(a).toMatchObject({ hostId: 'h-1', capability: 'compute', agentIds: ['h-1-worker'], state: 'running' });
    expect(b).toMatchObject({ hostId: 'h-2', agentIds: ['h-2-worker'] });
    const args = JSON.parse((lines.find((l) => l.startsWith('h-1 ARGS ')) as string).slice('h-1 ARGS '.length)) as string[];
    expect(args).toEqual([
      'host',
      '/tmp/agents.json',
      '--nats',
      'nats://127.0.0.1:4222',
      '--namespace',
      'scaling-test',
      '--host-id',
      'h-1',
      '--heartbeat',
      '1000',
      '--capability',
      'compute',
      '--agent-prefix',
      'h-1-',
      '--exit-with-parent',
    ]);
    expect(launcher.hosts().map((h) => [h.hostId, h.state])).toEqual([
      ['h-1', 'running'],
      ['h-2', 'running'],
    ]);
    await launcher.stop('h-1');
    expect(alive(a.pid)).toBe(false);
    expect(lines).toContain('h-1 draining');
    expect(launcher.hosts().map((h) => h.hostId)).toEqual(['h-2']);
    await launcher.close();
    expect(alive(b.pid)).toBe(false);
    expect(launcher.hosts()).toEqual([]);
    await expect(launcher.start('compute')).rejects.toBeInstanceOf(HostStartError);
  });

  test('a host that ignores SIGTERM is killed after the grace period, on the clock', async () => {
    const clock = new SimulatedClock();
    const lines: string[] = [];
    const launcher = launcherWith('stubborn', clock, lines);
    const host = await launcher.start('compute');
    let stopped = false;
    const stopping = launcher.stop(host.hostId).then(() => (stopped = true));
    expect(launcher.hosts()[0]?.state).toBe('stopping');
    await lineSeen(lines, (l) => l === 'h-1 ignoring SIGTERM');
    clock.increment(4999);
    expect(stopped).toBe(false);
    expect(alive(host.pid)).toBe(true);
    clock.increment(1);
    await stopping;
    expect(alive(host.pid)).toBe(false);
    expect(launcher.hosts()).toEqual([]);
  });

  test('a host that exits before hosting, or hosts nothing in time, fails its start with what it said', async () => {
    const crashing = launcherWith('crash');
    await expect(crashing.start('compute')).rejects.toThrow(/host 'h-1' did not start: exited \(2\): no such workflow file/);
    expect(crashing.hosts()).toEqual([]);

    // Exit code 3 is tried again with backoff, until the next try would pass the deadline (10 s).
    const retryClock = new SimulatedClock();
    const retryLines: string[] = [];
    const unreachable = launcherWith('unreachable', retryClock, retryLines);
    const retrying = unreachable.start('compute');
    for (const ms of [250, 500, 1000, 2000, 4000]) {
      await lineSeen(retryLines, (l) => l === `h-1 exited (3) before hosting: starting it again in ${ms} ms`);
      retryClock.increment(ms);
    }
    await expect(retrying).rejects.toThrow(/host 'h-1' did not start: exited \(3\): cannot connect to NATS/);
    expect(retryLines.filter((l) => l.startsWith('h-1 ARGS'))).toHaveLength(6);

    const clock = new SimulatedClock();
    const lines: string[] = [];
    const silent = launcherWith('silent', clock, lines);
    const starting = silent.start('compute');
    expect(silent.hosts()).toEqual([expect.objectContaining({ hostId: 'h-1', state: 'starting', agentIds: [] })]);
    await lineSeen(lines, (l) => l.startsWith('h-1 ARGS'));
    clock.increment(10_000);
    await expect(starting).rejects.toThrow(/did not start: no agents hosted within 10000 ms/);
    await until(() => silent.hosts().length === 0, 'the killed process is gone');
  });

  test('a host that exits with code 3 (NATS unreachable or too slow) before hosting is started again, with backoff, until the start deadline', async () => {
    {
      const clock = new SimulatedClock();
      const lines: string[] = [];
      const launcher = launcherWith('crash-once', clock, lines);
      const starting = launcher.start('compute');
      await lineSeen(lines, (l) => l === 'h-1 exited (3) before hosting: starting it again in 250 ms');
      clock.increment(250);
      await expect(starting).resolves.toMatchObject({ hostId: 'h-1', agentIds: ['h-1-worker'], state: 'running' });
      expect(lines.filter((l) => l.startsWith('h-1 ARGS'))).toHaveLength(2);
      await launcher.close();
    }
  });

  test('bad options and capabilities are typed errors', async () => {
    expect(() => new LocalHostLauncher({ nats: '', namespace: 'x', workflowFile: 'f' })).toThrow(expect.objectContaining({ field: 'nats' }));
    expect(() => new LocalHostLauncher({ nats: 'nats://h', namespace: 'a.b', workflowFile: 'f' })).toThrow(expect.objectContaining({ field: 'namespace' }));
    expect(() => new LocalHostLauncher({ nats: 'nats://h', namespace: 'a', workflowFile: 'f', stopGraceMs: -1 })).toThrow(expect.objectContaining({ field: 'stopGraceMs' }));
    const launcher = launcherWith('graceful');
    await expect(launcher.start('')).rejects.toBeInstanceOf(ValidationError);
    await expect(launcher.start(42 as unknown as string)).rejects.toBeInstanceOf(ValidationError);
    await expect(launcher.stop('nobody')).resolves.toBeUndefined();
    await launcher.close();
  });
});
