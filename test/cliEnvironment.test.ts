/**
 * The CLI's configuration: `--version`, `NEUROFLUX_NATS_URL`, `NEUROFLUX_NAMESPACE` and
 * `NEUROFLUX_LOG_LEVEL` (validated, a bad value names the variable, flags override them),
 * `--log-level`, and `neuroflux host` logging each task it runs at info level.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../src/cli/main';
import { ExitCode } from '../src/cli/exitCodes';
import { NATS_SERVER_BIN, describeWithServer, natsServerForSuite } from './support/servers';

const ROOT = join(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'nf-cli-env-'));
const file = join(dir, 'flow.json');
writeFileSync(
  file,
  JSON.stringify({
    agents: [{ agentId: 'w', capabilities: ['work'], executor: { simulated: { durationMs: { mean: 1 } } } }],
    tasks: [
      { taskId: 'a', requiredCapabilities: ['work'] },
      { taskId: 'b', requiredCapabilities: ['work'], dependencies: ['a'] },
    ],
  }),
);

const VARIABLES = ['NEUROFLUX_NATS_URL', 'NEUROFLUX_NAMESPACE', 'NEUROFLUX_LOG_LEVEL'] as const;

/** Runs `fn` with these environment variables, restoring the previous values afterwards. */
async function withEnv<T>(env: Partial<Record<(typeof VARIABLES)[number], string>>, fn: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of VARIABLES) {
    if (env[name] === undefined) delete process.env[name];
    else process.env[name] = env[name];
  }
  try {
    return await fn();
  } finally {
    for (const name of VARIABLES) {
      if (before[name] === undefined) delete process.env[name];
      else process.env[name] = before[name];
    }
  }
}

function cli(hooks: { untilInterrupted?: () => Promise<unknown> } = {}) {
  const io = { out: '', err: '' };
  const program = buildCli({ write: (t) => (io.out += t), isTTY: false }, { ...hooks, errorOutput: { write: (t) => (io.err += t), isTTY: false } });
  return { io, parse: (args: string[]) => program.parseAsync(['node', 'neuroflux', ...args]) };
}

describe('neuroflux --version', () => {
  test("prints package.json's version and exits 0 (a real process)", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = spawnSync(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'test', 'support', 'cliProcess.ts'), flag], { cwd: ROOT, encoding: 'utf8' });
      expect(result.stdout).toBe(`${version}\n`);
      expect(result.status).toBe(ExitCode.SUCCESS);
    }
  }, 60_000);
});

describe('configuration from the environment', () => {
  test('a bad value names the variable (invalid input, exit 2 in a real process)', async () => {
    await withEnv({ NEUROFLUX_NATS_URL: 'localhost:4222' }, async () => {
      await expect(cli().parse(['run', file])).rejects.toMatchObject({
        field: 'NEUROFLUX_NATS_URL',
        message: expect.stringMatching(/^invalid environment: NEUROFLUX_NATS_URL: .*--nats overrides it/),
      });
      await expect(cli().parse(['host', file])).rejects.toMatchObject({ field: 'NEUROFLUX_NATS_URL' });
    });
    await withEnv({ NEUROFLUX_NAMESPACE: 'a.b' }, async () => {
      await expect(cli().parse(['run', file])).rejects.toMatchObject({ field: 'NEUROFLUX_NAMESPACE' });
    });
    await withEnv({ NEUROFLUX_LOG_LEVEL: 'loud' }, async () => {
      await expect(cli().parse(['run', file])).rejects.toMatchObject({ field: 'NEUROFLUX_LOG_LEVEL' });
    });
    const result = spawnSync(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'test', 'support', 'cliProcess.ts'), 'run', file], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NEUROFLUX_LOG_LEVEL: 'loud' },
    });
    expect(result.stderr).toMatch(/^invalid environment: NEUROFLUX_LOG_LEVEL: /);
    expect(result.status).toBe(ExitCode.INVALID_INPUT);
  }, 60_000);

  test('flags override the environment: a bad variable is not read when its flag is given', async () => {
    await withEnv({ NEUROFLUX_LOG_LEVEL: 'loud', NEUROFLUX_NAMESPACE: 'a.b' }, async () => {
      const { io, parse } = cli();
      await parse(['run', file, '--log-level', 'warn', '--namespace', 'ok', '--quiet']);
      expect(io.out).toMatch(/2\/2 tasks completed/);
    });
    // A bad flag is named as the flag.
    await expect(cli().parse(['run', file, '--log-level', 'loud'])).rejects.toMatchObject({ field: '--log-level', message: expect.stringContaining('(got "loud")') });
  });

  test('host needs a NATS URL from --nats or NEUROFLUX_NATS_URL', async () => {
    await withEnv({}, async () => {
      await expect(cli({ untilInterrupted: () => Promise.resolve() }).parse(['host', file])).rejects.toMatchObject({ code: 'commander.missingMandatoryOptionValue' });
    });
  });
});

describeWithServer(NATS_SERVER_BIN, 'NEUROFLUX_NATS_URL and NEUROFLUX_NAMESPACE with a real server', () => {
  const server = natsServerForSuite();

  test('host and run --remote-agents find each other through the environment alone; the host logs each task at info level', async () => {
    await withEnv({ NEUROFLUX_NATS_URL: server().url, NEUROFLUX_NAMESPACE: 'from-env' }, async () => {
      let stopHost: () => void = () => undefined;
      const interrupted = new Promise<void>((resolve) => (stopHost = resolve));
      const host = cli({ untilInterrupted: () => interrupted });
      const hosting = host.parse(['host', file, '--host-id', 'env-host', '--heartbeat', '200']);
      const run = cli();
      await run.parse(['run', file, '--remote-agents', '--json', '--quiet', '--stall-timeout', '86400', '--log-level', 'info']);
      stopHost();
      await hosting;
      expect((JSON.parse(run.io.out) as { status: string }[]).map((r) => r.status)).toEqual(['completed', 'completed']);
      expect(host.io.out).toMatch(/^hosting w as env-host on nats:\/\/127\.0\.0\.1:\d+ \(namespace from-env\)/);
      const logs = host.io.err
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(logs.filter((l) => l['msg'] === 'task completed').map((l) => [l['level'], l['taskId'], l['agentId'], l['hostId']])).toEqual([
        [30, 'a', 'w', 'env-host'],
        [30, 'b', 'w', 'env-host'],
      ]);
      // The orchestrator of `run` logged the host joining on its stderr (--log-level info despite --quiet).
      expect(run.io.err).toMatch(/"msg":"agent host joined"/);
    });
  }, 60_000);

  test('--log-level warn: the host logs no task; run --quiet logs nothing at info level', async () => {
    let stopHost: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => (stopHost = resolve));
    const host = cli({ untilInterrupted: () => interrupted });
    const hosting = host.parse(['host', file, '--nats', server().url, '--namespace', 'quiet-host', '--host-id', 'h', '--heartbeat', '200', '--log-level', 'warn']);
    const run = cli();
    await run.parse(['run', file, '--nats', server().url, '--namespace', 'quiet-host', '--remote-agents', '--quiet', '--stall-timeout', '86400']);
    stopHost();
    await hosting;
    expect(run.io.out).toMatch(/2\/2 tasks completed/);
    expect(host.io.err).not.toMatch(/task completed/);
    // --quiet without a --log-level: not even the info-level log of the host joining.
    expect(run.io.err).not.toMatch(/agent host joined/);
  }, 60_000);
});
