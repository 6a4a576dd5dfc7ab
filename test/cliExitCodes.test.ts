/**
 * One table of exit codes for every command (src/cli/exitCodes.ts, docs/cli.md): each
 * command through the CLI's entry point, with success, failure, invalid input (a file, a
 * flag, a commander usage error) and an unreachable NATS server (a closed loopback port).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../src/cli/exitCodes';
import { freePort, NATS_SERVER_BIN, describeWithServer, natsServerForSuite } from './support/servers';

const ROOT = join(__dirname, '..');
let dir: string;
let closedNats: string;

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Runs the command lines in one child process through `main`; what each ended with. */
function runBatch(commands: string[][]): { args: string[]; exitCode: number; stderr: string }[] {
  const out = join(dir, `batch-${Math.random().toString(36).slice(2)}.json`);
  const child = spawnSync(process.execPath, ['-r', '@swc-node/register', join('test', 'support', 'cliBatch.ts'), out, JSON.stringify(commands)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (child.status !== 0) throw new Error(`batch exited with ${child.status}: ${child.stderr}`);
  return JSON.parse(readFileSync(out, 'utf8')) as { args: string[]; exitCode: number; stderr: string }[];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'neuroflux-exit-'));
  // A loopback port nobody listens on: taken from the OS, then released.
  closedNats = `nats://127.0.0.1:${await freePort()}`;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('every command, one exit code table', () => {
  const ok = file('ok.json', {
    agents: [{ agentId: 'a', capabilities: ['x'], executor: { simulated: {} } }],
    tasks: [{ taskId: 't', requiredCapabilities: ['x'] }],
  });
  const failing = file('failing.json', {
    agents: [{ agentId: 'a', capabilities: ['x'], executor: { simulated: { successRate: 0 } } }],
    tasks: [{ taskId: 't', requiredCapabilities: ['x'], retryPolicy: { retryOnFailure: false } }],
  });
  const typo = file('typo.yaml', 'tasks:\n  - taskId: t0\n  - taskId: t1\n    dependson: [t0]\n');
  const violated = file('violated.json', { agents: [{ agentId: 'a', capabilities: ['x'] }], tasks: [{ taskId: 't', requiredCapabilities: ['gpu'] }] });
  const wide = file('wide.json', { tasks: Array.from({ length: 5 }, (_, i) => ({ taskId: `t${i}` })) });
  const cases: [string[], ExitCode][] = [
    [['run', ok, '--quiet'], ExitCode.SUCCESS],
    [['run', failing, '--quiet'], ExitCode.FAILED],
    [['run', typo], ExitCode.INVALID_INPUT],
    [['run', join(dir, 'absent.json')], ExitCode.INVALID_INPUT],
    [['run', ok, '--seed', 'many'], ExitCode.INVALID_INPUT],
    [['run', ok, '--no-such-flag'], ExitCode.INVALID_INPUT],
    [['run'], ExitCode.INVALID_INPUT],
    [['run', ok, '--nats', 'localhost:4222'], ExitCode.INVALID_INPUT],
    [['run', ok, '--quiet', '--nats', closedNats], ExitCode.CANNOT_RUN],
    [['verify', ok], ExitCode.SUCCESS],
    [['verify', violated], ExitCode.FAILED],
    [['verify', typo], ExitCode.INVALID_INPUT],
    [['verify', ok, '--max-states', 'lots'], ExitCode.INVALID_INPUT],
    [['verify', wide, '--max-states', '50', '--no-reduction'], ExitCode.CANNOT_RUN],
    [['host', typo, '--nats', closedNats], ExitCode.INVALID_INPUT],
    [['host', ok], ExitCode.INVALID_INPUT],
    [['host', ok, '--nats', closedNats], ExitCode.CANNOT_RUN],
    [['demo', '--tasks', '2', '--json'], ExitCode.SUCCESS],
    [['demo', '--agents', '0'], ExitCode.INVALID_INPUT],
    [['demo', '--tasks', '2', '--json', '--nats', closedNats], ExitCode.CANNOT_RUN],
    [['schema'], ExitCode.SUCCESS],
    [['schema', 'extra-argument'], ExitCode.INVALID_INPUT],
    [['nats-config', '--namespace', 'ns', '--orchestrators', 'o1'], ExitCode.SUCCESS],
    [['nats-config', '--namespace', 'ns'], ExitCode.INVALID_INPUT],
    [['profile', '--runs', '0'], ExitCode.INVALID_INPUT],
    [['inspect', '--port', '70000'], ExitCode.INVALID_INPUT],
    [['no-such-command'], ExitCode.INVALID_INPUT],
    [['--help'], ExitCode.SUCCESS],
  ];
  const results = runBatch(cases.map(([args]) => args));
  const got = results.map((r) => `${r.args.join(' ')} → ${r.exitCode}`);
  expect(got).toEqual(cases.map(([args, code]) => `${args.join(' ')} → ${code}`));
  const byArgs = new Map(results.map((r) => [r.args.join(' '), r.stderr]));
  // Each error is said on stderr in one place: the file and line, the option, the URL.
  // The same file, the same problems, the same words: run, verify and host alike.
  const typoError = `${typo}:4:5 tasks[1].dependson: unknown key; did you mean \`dependencies\`?\n`;
  expect([byArgs.get(`run ${typo}`), byArgs.get(`verify ${typo}`), byArgs.get(`host ${typo} --nats ${closedNats}`)]).toEqual([typoError, typoError, typoError]);
  expect(byArgs.get(`run ${ok} --quiet --nats ${closedNats}`)).toBe(`cannot start on NATS at ${closedNats}: connection refused\n`);
  expect(byArgs.get(`host ${ok} --nats ${closedNats}`)).toBe(`cannot start on NATS at ${closedNats}: connection refused\n`);
  expect(byArgs.get(`demo --tasks 2 --json --nats ${closedNats}`)).toBe(`cannot run the demo on NATS at ${closedNats}: connection refused\n`);
  expect(byArgs.get(`run ${ok} --nats localhost:4222`)).toBe(`invalid command-line options: --nats: expected a NATS URL such as nats://127.0.0.1:4222, got "localhost:4222"\n`);
  // Commander's usage errors too go to stderr (docs/cli.md: errors go to stderr).
  expect(byArgs.get(`run ${ok} --no-such-flag`)).toMatch(/unknown option '--no-such-flag'/);
  expect(byArgs.get('no-such-command')).toMatch(/unknown command 'no-such-command'/);
  for (const r of results) expect(r.stderr).not.toMatch(/\n\s+at /); // never a stack trace
}, 180_000);

test('the exit code is the process exit code: a real process, an invalid file', () => {
  const typo = file('real-typo.json', { tasks: [{ taskId: 'a', retries: 3 }] });
  const child = spawnSync(process.execPath, ['-r', '@swc-node/register', join('test', 'support', 'cliProcess.ts'), 'run', typo], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(child.stderr).toBe(`${typo}:1:25 tasks[0].retries: unknown key; did you mean \`retryPolicy\`?\n`);
  expect(child.status).toBe(ExitCode.INVALID_INPUT);
}, 60_000);

describeWithServer(NATS_SERVER_BIN, 'commands that serve until stopped', () => {
  const server = natsServerForSuite();

  test('host stopped by SIGTERM after serving exits 0; run interrupted by Ctrl-C exits 130', async () => {
    const slow = file('slow.json', {
      agents: [{ agentId: 'a', capabilities: ['x'], executor: { simulated: { durationMs: { mean: 600_000 } } } }],
      tasks: [{ taskId: 't', requiredCapabilities: ['x'] }],
    });
    const ended = (args: string[], ready: RegExp, signal: NodeJS.Signals) =>
      new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        const child = spawn(process.execPath, ['-r', '@swc-node/register', join('test', 'support', 'cliProcess.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let seen = '';
        let signalled = false;
        const look = (chunk: Buffer) => {
          seen += chunk.toString();
          // Once: a second signal would find no handler left and kill the process.
          if (!signalled && ready.test(seen)) {
            signalled = true;
            child.kill(signal);
          }
        };
        child.stdout.on('data', look);
        child.stderr.on('data', look);
        child.once('error', reject);
        child.once('exit', (code, sig) => resolve({ code, signal: sig }));
      });
    expect(await ended(['host', slow, '--nats', server().url, '--namespace', 'exitcodes', '--drain-timeout', '0'], /hosting a/, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await ended(['run', slow, '--stall-timeout', '600'], /running|1 running/, 'SIGINT')).toEqual({ code: ExitCode.INTERRUPTED, signal: null });
  }, 90_000);
});
