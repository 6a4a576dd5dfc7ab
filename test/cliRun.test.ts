/**
 * `neuroflux run` never hangs silently: progress on stderr (a bar on a terminal, plain
 * lines when piped, none with --quiet), the summary, --events, stall detection with
 * --stall-timeout and its exit codes, and Ctrl-C (a real process, a real SIGINT).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../src/cli/main';
import { ExitCode } from '../src/cli/exitCodes';
import { TaskOrchestrator } from '../src/orchestration/taskOrchestrator';
import { lineKeepingOutput } from '../src/cli/workflowCommands';
import { stopChild } from './support/childProcesses';
import { NATS_SERVER_BIN, describeWithServer, natsServerForSuite } from './support/servers';

const ROOT = join(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'nf-cli-run-'));
let files = 0;

function workflow(content: unknown): string {
  const path = join(dir, `flow-${++files}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const simulated = (mean = 0) => ({ simulated: { durationMs: { mean } } });

/**
 * Runs the CLI in this process; resolves with stdout, stderr and the exit code it set.
 * `interruptWhen`: Ctrl-C is "pressed" once stderr satisfies it.
 */
async function cli(
  args: string[],
  options: { tty?: boolean; interruptWhen?: (err: string) => boolean; onStderr?: (err: string) => void } = {},
): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  let interrupt: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildCli(
      { write: (t) => (out += t), isTTY: false },
      {
        errorOutput: {
          write: (t) => {
            err += t;
            options.onStderr?.(err);
            if (options.interruptWhen?.(err)) interrupt();
          },
          isTTY: options.tty === true,
        },
        ...(options.interruptWhen && { untilInterrupted: () => interrupted }),
      },
    ).parseAsync(['node', 'neuroflux', ...args]);
    return { out, err, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = before;
  }
}

describe('neuroflux run: progress and summary', () => {
  const file = () =>
    workflow({
      agents: [{ agentId: 'w', capabilities: ['work'], executor: simulated() }],
      tasks: Array.from({ length: 20 }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: ['work'], ...(i > 0 && { dependencies: [`t${i - 1}`] }) })),
    });

  test('piped: plain progress lines on stderr (no bar), the summary on stdout, exit 0', async () => {
    const { out, err, exitCode } = await cli(['run', file()]);
    expect(exitCode).toBe(ExitCode.SUCCESS);
    expect(err).toMatch(/^progress: \d+\/20 tasks finished/); // how many finished during the submission varies
    expect(err).toMatch(/progress: 20\/20 tasks finished/);
    expect(err).not.toMatch(/\r/);
    expect(out).toMatch(/^20\/20 tasks completed in \d+ ms$/m);
    expect(out).not.toMatch(/progress/);
  });

  test('on a terminal: a bar redrawn in place; --quiet: nothing on stderr', async () => {
    const tty = await cli(['run', file()], { tty: true });
    expect(tty.err).toMatch(/\r\[#{30}\] 20\/20 tasks finished/);
    expect(tty.err.endsWith('\n')).toBe(true);
    const quiet = await cli(['run', file(), '--quiet']);
    expect(quiet.err).toBe('');
    expect(quiet.out).toMatch(/20\/20 tasks completed/);
  });

  test('--events: a JSON line per task event on stdout, ending with run_finished; the summary on stderr', async () => {
    const { out, err, exitCode } = await cli([
      'run',
      workflow({
        agents: [{ agentId: 'w', capabilities: ['work'], executor: simulated() }],
        tasks: [
          { taskId: 'a', requiredCapabilities: ['work'] },
          { taskId: 'b', requiredCapabilities: ['work'], dependencies: ['a'] },
        ],
      }),
      '--events',
    ]);
    expect(exitCode).toBe(0);
    const lines = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; taskId?: string; state?: string; status?: string });
    expect(lines.filter((e) => e.type === 'task_finished').map((e) => [e.taskId, e.status])).toEqual([
      ['a', 'completed'],
      ['b', 'completed'],
    ]);
    expect(lines.filter((e) => e.type === 'task_transition' && e.taskId === 'b').map((e) => e.state)).toEqual(expect.arrayContaining(['queued', 'running', 'completed']));
    expect(lines.at(-1)).toMatchObject({ type: 'run_finished', outcome: 'completed', exitCode: 0, counts: { completed: 2 } });
    expect(err).toMatch(/2\/2 tasks completed/);
  });

  test('--events with --json, a negative --stall-timeout: invalid input naming the option', async () => {
    const f = file();
    await expect(cli(['run', f, '--events', '--json'])).rejects.toMatchObject({ field: '--events' });
    await expect(cli(['run', f, '--stall-timeout', '-1'])).rejects.toMatchObject({ field: '--stall-timeout', message: expect.stringContaining('(got "-1")') });
    await expect(cli(['run', f, '--stall-timeout', 'soon'])).rejects.toMatchObject({ field: '--stall-timeout', message: expect.stringContaining('(got "soon")') });
    // Every bad flag at once, each named as typed, with the value given.
    const both = cli(['run', f, '--stall-timeout', 'soon', '--seed', '-3']);
    await expect(both).rejects.toMatchObject({ issues: [expect.objectContaining({ path: '--seed' }), expect.objectContaining({ path: '--stall-timeout' })] });
    await expect(both).rejects.toThrow(/^invalid command-line options:\n {2}--seed: .*\(got "-3"\)\n {2}--stall-timeout: .*\(got "soon"\)$/);
  });

  test('a failed task: its line, the totals by status, exit 1', async () => {
    const { out, exitCode } = await cli([
      'run',
      workflow({
        agents: [{ agentId: 'w', capabilities: ['work'], executor: { simulated: { successRate: 0 } } }],
        tasks: [{ taskId: 'doomed', requiredCapabilities: ['work'], retryPolicy: { retryOnFailure: false } }],
      }),
    ]);
    expect(out).toMatch(/✘ doomed\s+failed/);
    expect(out).toMatch(/^0\/1 tasks completed, 1 failed in \d+ ms$/m);
    expect(exitCode).toBe(ExitCode.FAILED);
  });
});

test('a log line written while the progress bar is drawn starts on a line of its own', () => {
  let seen = '';
  const output = lineKeepingOutput({ write: (t) => void (seen += t), isTTY: true });
  output.write('\r[###---] 1/2 tasks finished\x1b[K');
  output.writeLine('{"msg":"agent host joined"}\n');
  output.writeLine('{"msg":"second"}\n');
  output.write('\r[######] 2/2 tasks finished\x1b[K');
  expect(seen).toBe('\r[###---] 1/2 tasks finished\x1b[K\n{"msg":"agent host joined"}\n{"msg":"second"}\n\r[######] 2/2 tasks finished\x1b[K');
});

describe('neuroflux run: stall detection', () => {
  test('an agent without executor: the task and the agent are named at once; with no agent able to run tasks the run gives up with exit 3', async () => {
    const file = workflow({ agents: [{ agentId: 'idle', capabilities: ['gpu'] }], tasks: [{ taskId: 'render', requiredCapabilities: ['gpu'] }] });
    const { out, err, exitCode } = await cli(['run', file, '--stall-timeout', '0']);
    expect(err).toContain('stalled: 1 task cannot be given to any agent');
    expect(err).toContain('agent idle has gpu but no executor: render');
    expect(err).toMatch(/stalled for 0 s: 1 task could not be given to any agent \(no agent can run tasks: exit 3\)/);
    expect(out).toMatch(/✘ render\s+assigned\s+idle/);
    expect(out).toMatch(/^0\/1 tasks completed, 1 assigned in \d+ ms$/m);
    expect(exitCode).toBe(ExitCode.CANNOT_RUN);
  });

  test('a task without requiredCapabilities: the agent without executor is named plainly; with no agent at all the file says so', async () => {
    const file = workflow({ agents: [{ agentId: 'w', capabilities: ['x'] }], tasks: [{ taskId: 'any' }] });
    const { err, exitCode } = await cli(['run', file, '--stall-timeout', '0', '--quiet']);
    expect(err).toContain('  agent w has no executor: any\n');
    expect(exitCode).toBe(ExitCode.CANNOT_RUN);
    await expect(cli(['run', workflow({ tasks: [{ taskId: 'any' }] })])).rejects.toThrow(
      /tasks\[0\]\.requiredCapabilities: the file has no agent to run it \(a task without requiredCapabilities runs on any agent;/,
    );
  });

  test('other tasks run while one is blocked: it is named while they run; once they are done the run gives up with exit 1', async () => {
    // `a` finishes only once the blocked task was reported: no race with the first check.
    writeFileSync(
      join(dir, 'gated.js'),
      'let opened = false; let waiting;\nglobalThis.nfOpenGate = () => { opened = true; if (waiting) waiting("opened"); };\nexports.gated = () => (opened ? "opened" : new Promise((resolve) => (waiting = resolve)));\n',
    );
    const file = workflow({
      agents: [
        { agentId: 'w', capabilities: ['work'], executor: './gated.js#gated' },
        { agentId: 'idle', capabilities: ['gpu'] },
      ],
      tasks: [
        { taskId: 'a', requiredCapabilities: ['work'] },
        { taskId: 'render', requiredCapabilities: ['gpu'] },
      ],
    });
    const gate = globalThis as { nfOpenGate?: () => void };
    const { out, err, exitCode } = await cli(['run', file, '--stall-timeout', '0', '--quiet'], {
      onStderr: (text) => {
        if (text.includes('other tasks still run')) gate.nfOpenGate?.();
      },
    });
    expect(err).toMatch(/^blocked: 1 task cannot be given to any agent\n {2}agent idle has gpu but no executor: render\n {2}other tasks still run/);
    expect(err).toContain('stalled: 1 task cannot be given to any agent');
    expect(out).toMatch(/✔ a\s+completed\s+w\s+retries 0\s+"opened"/);
    expect(exitCode).toBe(ExitCode.FAILED);
  });

  test('--json still prints the records on stdout when the run stalls; the reason goes to stderr', async () => {
    const file = workflow({ agents: [{ agentId: 'idle', capabilities: ['gpu'] }], tasks: [{ taskId: 'render', requiredCapabilities: ['gpu'] }] });
    const { out, err, exitCode } = await cli(['run', file, '--stall-timeout', '0', '--json']);
    expect(JSON.parse(out)).toEqual([expect.objectContaining({ taskId: 'render', status: 'assigned' })]);
    expect(err).toContain('no executor');
    expect(exitCode).toBe(ExitCode.CANNOT_RUN);
  });
});

describe('neuroflux run: Ctrl-C', () => {
  test('in process: the interrupt prints the summary so far and exits 130', async () => {
    writeFileSync(join(dir, 'forever.js'), 'exports.forever = () => new Promise(() => {});\n');
    const file = workflow({ agents: [{ agentId: 'w', capabilities: ['work'], executor: './forever.js#forever' }], tasks: [{ taskId: 'endless', requiredCapabilities: ['work'] }] });
    const { out, err, exitCode } = await cli(['run', file], { interruptWhen: (text) => text.includes('progress: 0/1 tasks finished (1 running') });
    expect(err).toContain('interrupted (Ctrl-C): the summary so far');
    expect(out).toMatch(/✘ endless\s+running\s+w/);
    expect(out).toMatch(/^0\/1 tasks completed, 1 running in \d+ ms$/m);
    expect(exitCode).toBe(ExitCode.INTERRUPTED);
    const events = await cli(['run', file, '--events'], { interruptWhen: (text) => text.includes('progress: 0/1 tasks finished (1 running') });
    expect(JSON.parse(events.out.trim().split('\n').at(-1) as string)).toMatchObject({ type: 'run_finished', outcome: 'interrupted', exitCode: 130, counts: { running: 1 } });
    expect(events.err).toMatch(/0\/1 tasks completed, 1 running/);
  });

  test('a real process: SIGINT after the first progress line prints the summary and exits 130', async () => {
    writeFileSync(join(dir, 'forever.js'), 'exports.forever = () => new Promise(() => {});\n');
    const file = workflow({
      agents: [{ agentId: 'w', capabilities: ['work'], executor: './forever.js#forever' }],
      tasks: [
        { taskId: 'endless', requiredCapabilities: ['work'] },
        { taskId: 'after', requiredCapabilities: ['work'], dependencies: ['endless'] },
      ],
    });
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'test', 'support', 'cliProcess.ts'), 'run', file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          if (/progress: 0\/2 tasks finished \(1 running/.test(err)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code} before the first progress line: ${err}`)));
      });
      child.kill('SIGINT');
      expect(await exited).toBe(ExitCode.INTERRUPTED);
      expect(err).toContain('interrupted (Ctrl-C): the summary so far');
      expect(out).toMatch(/✘ endless\s+running\s+w/);
      expect(out).toMatch(/✘ after\s+pending/);
      expect(out).toMatch(/^0\/2 tasks completed, 1 running, 1 pending in \d+ ms$/m);
    } finally {
      await stopChild(child, 'SIGKILL');
    }
  }, 60_000);
});

/** Starts the CLI as a real process; `until(stdout, stderr)` says when `act` is called (once). */
async function realRun(
  args: string[],
  until: (out: string, err: string) => boolean,
  act: (child: ReturnType<typeof spawn>) => void,
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'test', 'support', 'cliProcess.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let acted = false;
  const look = () => {
    if (!acted && until(out, err)) {
      acted = true;
      act(child);
    }
  };
  child.stdout?.on('data', (d: Buffer) => ((out += d.toString()), look()));
  child.stderr?.on('data', (d: Buffer) => ((err += d.toString()), look()));
  try {
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    return { code, out, err };
  } finally {
    await stopChild(child, 'SIGKILL');
  }
}

describe('neuroflux run: a submission that takes long', () => {
  // A submission that never ends stands for tens of thousands of tasks being inserted: whatever
  // the machine's speed, progress, Ctrl-C and the stall watch must not wait for it.
  let spy: jest.SpyInstance | undefined;
  const slowSubmission = (insert: boolean) => {
    const original = TaskOrchestrator.prototype.submitWorkflowAsync;
    spy = jest.spyOn(TaskOrchestrator.prototype, 'submitWorkflowAsync').mockImplementation(function (
      this: TaskOrchestrator,
      ...args: Parameters<TaskOrchestrator['submitWorkflowAsync']>
    ) {
      if (insert) original.apply(this, args).catch(() => undefined);
      return new Promise<never>(() => undefined);
    });
  };
  afterEach(() => spy?.mockRestore());

  test('progress is shown and Ctrl-C is acted on while the tasks are being submitted', async () => {
    slowSubmission(false);
    const file = workflow({
      agents: [{ agentId: 'w', capabilities: ['work'], executor: simulated() }],
      tasks: Array.from({ length: 30 }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: ['work'] })),
    });
    const { err, exitCode } = await cli(['run', file, '--stall-timeout', '86400'], { interruptWhen: (text) => text.includes('progress: 0/30 tasks finished') });
    expect(err).toMatch(/^progress: 0\/30 tasks finished/);
    expect(err).toContain('interrupted (Ctrl-C): the summary so far');
    expect(exitCode).toBe(ExitCode.INTERRUPTED);
  });

  test('a stall is detected while the tasks are being submitted', async () => {
    slowSubmission(true);
    const file = workflow({ agents: [{ agentId: 'idle', capabilities: ['gpu'] }], tasks: [{ taskId: 'render', requiredCapabilities: ['gpu'] }] });
    const { out, err, exitCode } = await cli(['run', file, '--stall-timeout', '0']);
    expect(err).toContain('agent idle has gpu but no executor: render');
    expect(out).toMatch(/✘ render\s+assigned\s+idle/);
    expect(exitCode).toBe(ExitCode.CANNOT_RUN);
  });
});

describe('neuroflux run: SIGTERM and a closed stdout', () => {
  test('SIGTERM is not Ctrl-C: the summary so far, the signal named, exit 143', async () => {
    writeFileSync(join(dir, 'forever.js'), 'exports.forever = () => new Promise(() => {});\n');
    const file = workflow({ agents: [{ agentId: 'w', capabilities: ['work'], executor: './forever.js#forever' }], tasks: [{ taskId: 'endless', requiredCapabilities: ['work'] }] });
    const { code, out, err } = await realRun(
      ['run', file],
      (_, e) => e.includes('progress: 0/1 tasks finished (1 running'),
      (child) => child.kill('SIGTERM'),
    );
    expect(code).toBe(ExitCode.TERMINATED);
    expect(err).toContain('terminated (SIGTERM): the summary so far');
    expect(err).not.toContain('Ctrl-C');
    expect(out).toMatch(/^0\/1 tasks completed, 1 running in \d+ ms$/m);
  }, 60_000);

  // Far more output than two pipes hold (2 × 64 KiB): the reader takes one pipeful and goes,
  // the writer can put at most one more pipeful in before it blocks, so a write is still to
  // come whatever the timing. The summary (--quiet) is ~560 KiB with these ids; with ids of
  // 22 characters it was 104 KiB, and a writer quick enough to refill the pipe between the
  // reader's first read and its destroy() could finish and exit 0 (seen in a CI run).
  const many = () =>
    workflow({
      agents: [{ agentId: 'w', capabilities: ['work'], maxConcurrentTasks: 50, executor: simulated() }],
      tasks: Array.from({ length: 1000 }, (_, i) => ({ taskId: `task-with-a-long-name-${'x'.repeat(450)}-${i}`, requiredCapabilities: ['work'] })),
    });

  test.each([
    ['--events', 'the events'],
    ['--quiet', 'the summary'],
  ])(
    'stdout closed by its reader (`run %s | head -1`): ends quietly, exit 141, no stack',
    async (flag) => {
      const { code, err } = await realRun(
        ['run', many(), flag],
        (o) => o.length > 0,
        (child) => child.stdout?.destroy(),
      );
      expect({ code, stack: err.match(/^\s+at .*$/m)?.[0], epipe: err.match(/EPIPE.*/)?.[0] }).toEqual({ code: ExitCode.STDOUT_CLOSED, stack: undefined, epipe: undefined });
    },
    60_000,
  );
});

describeWithServer(NATS_SERVER_BIN, 'neuroflux run --remote-agents: no host', () => {
  const server = natsServerForSuite();

  test('--nats without --remote-agents: an agent without executor here is named once, with what its tasks wait for', async () => {
    const file = workflow({ agents: [{ agentId: 'served-elsewhere', capabilities: ['gpu'] }], tasks: [{ taskId: 'render', requiredCapabilities: ['gpu'] }] });
    const { err, exitCode } = await cli(['run', file, '--nats', server().url, '--namespace', 'elsewhere', '--quiet'], {
      interruptWhen: (text) => text.includes('--stall-timeout does not apply'),
    });
    expect(err).toContain(
      "note: agent served-elsewhere has no executor here: its tasks wait for a process serving it on NATS (namespace 'elsewhere'); --stall-timeout does not apply to them\n",
    );
    expect(exitCode).toBe(ExitCode.INTERRUPTED);
  }, 30_000);

  test('no host has announced itself: said after the first host heartbeats, with the missing capability; exit 3 after the stall timeout', async () => {
    const file = workflow({ agents: [{ agentId: 'w', capabilities: ['work'], executor: simulated() }], tasks: [{ taskId: 'a', requiredCapabilities: ['work'] }] });
    const { err, exitCode } = await cli(['run', file, '--nats', server().url, '--namespace', 'nohost', '--remote-agents', '--stall-timeout', '0', '--quiet']);
    expect(err).toContain(
      "stalled: 1 task cannot be given to any agent\n  no agent host has announced itself on namespace 'nohost' (start `neuroflux host <file> --nats <url>`); missing capability work: a",
    );
    expect(exitCode).toBe(ExitCode.CANNOT_RUN);
  }, 30_000);

  test("a host announced some agents but none has a task's capability: the capability is named while the rest runs", async () => {
    const file = workflow({
      agents: [
        { agentId: 'w', capabilities: ['work'], executor: simulated() },
        { agentId: 'g', capabilities: ['gpu'], executor: simulated() },
      ],
      tasks: [
        { taskId: 'a', requiredCapabilities: ['work'] },
        { taskId: 'render', requiredCapabilities: ['gpu'] },
      ],
    });
    let stopHost: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => (stopHost = resolve));
    const hosting = buildCli({ write: () => undefined, isTTY: false }, { untilInterrupted: () => interrupted, errorOutput: { write: () => undefined, isTTY: false } }).parseAsync([
      'node',
      'neuroflux',
      'host',
      file,
      '--nats',
      server().url,
      '--namespace',
      'partial',
      '--agents',
      'w',
      '--heartbeat',
      '200',
    ]);
    try {
      // Before the host's first heartbeat reaches the run, every task is blocked for want of a host;
      // after it, only `render`, for want of gpu. Ctrl-C once that is said (no race with the heartbeat).
      const { out, err, exitCode } = await cli(['run', file, '--nats', server().url, '--namespace', 'partial', '--remote-agents', '--quiet', '--stall-timeout', '86400'], {
        interruptWhen: (text) => text.includes('no agent has capability gpu: render'),
      });
      expect(err).toMatch(/cannot be given to any agent\n {2}no agent has capability gpu: render\n/);
      expect(out).toMatch(/✘ render\s+pending/);
      expect(exitCode).toBe(ExitCode.INTERRUPTED);
    } finally {
      stopHost();
      await hosting;
    }
  }, 30_000);
});
