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
if (mode === 'crash') { console.error('cannot connect to NATS'); process.exit(3); }
process.on('SIGTERM', () => {
  if (mode === 'stubborn') console.log('ignoring SIGTERM');
  else { console.log('draining'); process.exit(0); }
});
if (mode !== 'silent') console.log('hosting ' + opt('--agent-prefix') + 'worker as ' + opt('--host-id') + ' on ' + opt('--nats') + ' (namespace ' + opt('--namespace') + ')');
setInterval(() => {}, 1000);
`;

function fakeHostScript(mode: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'nf-fakehost-')), 'fakeHost.js');
  writeFileSync(file, `const MODE = ${JSON.stringify(mode)};\n${FAKE_HOST}`);
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

/** Lets child-process callbacks run until `condition` holds (no clock involved; generous bound). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200_000 && !condition(); i++) await new Promise((r) => setImmediate(r));
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
      'host', '/tmp/agents.json', '--nats', 'nats://127.0.0.1:4222', '--namespace', 'scaling-test', '--host-id', 'h-1',
      '--heartbeat', '1000', '--capability', 'compute', '--agent-prefix', 'h-1-',
    ]);
    expect(launcher.hosts().map((h) => [h.hostId, h.state])).toEqual([['h-1', 'running'], ['h-2', 'running']]);
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
    await until(() => lines.includes('h-1 ignoring SIGTERM'), 'SIGTERM received');
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
    await expect(crashing.start('compute')).rejects.toThrow(/host 'h-1' did not start: exited \(3\): cannot connect to NATS/);
    expect(crashing.hosts()).toEqual([]);

    const clock = new SimulatedClock();
    const lines: string[] = [];
    const silent = launcherWith('silent', clock, lines);
    const starting = silent.start('compute');
    expect(silent.hosts()).toEqual([expect.objectContaining({ hostId: 'h-1', state: 'starting', agentIds: [] })]);
    await until(() => lines.some((l) => l.startsWith('h-1 ARGS')), 'the process runs');
    clock.increment(10_000);
    await expect(starting).rejects.toThrow(/did not start: no agents hosted within 10000 ms/);
    await until(() => silent.hosts().length === 0, 'the killed process is gone');
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
