import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerVerifyCommand } from '../src/cli/verifyCommand';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'neuroflux-verify-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(() => {
  process.exitCode = undefined;
});

async function verify(file: string, ...flags: string[]): Promise<{ out: string; exitCode: number }> {
  let out = '';
  const program = new Command('neuroflux').exitOverride().configureOutput({ writeOut: (t) => (out += t), writeErr: (t) => (out += t) });
  registerVerifyCommand(
    program,
    (text) => (out += text),
    (text) => (out += text),
  );
  await program.parseAsync(['node', 'neuroflux', 'verify', file, ...flags]);
  return { out, exitCode: Number(process.exitCode ?? 0) };
}

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('neuroflux verify', () => {
  test('a sound workflow verifies: exit code 0', async () => {
    const path = file('sound.json', {
      agents: [{ agentId: 'worker', capabilities: ['http'], executor: { simulated: { successRate: 0.9 } } }],
      tasks: [
        { taskId: 'fetch', requiredCapabilities: ['http'] },
        { taskId: 'parse', dependencies: ['fetch'], requiredCapabilities: ['http'] },
      ],
    });
    const { out, exitCode } = await verify(path);
    expect(exitCode).toBe(0);
    expect(out).toMatch(/sound\.json: verified: every checked property holds/);
    expect(out).toMatch(/checked: termination, deadlock, dependency_order, bounded_retries, capability_coverage/);
  });

  test('a violation prints the counterexample trace: exit code 1', async () => {
    const path = file(
      'stuck.yaml',
      [
        'agents:',
        '  - agentId: web',
        '    capabilities: [http]',
        'tasks:',
        '  - taskId: fetch',
        '    requiredCapabilities: [http]',
        '  - taskId: train',
        '    dependencies: [fetch]',
        '    requiredCapabilities: [gpu]',
      ].join('\n'),
    );
    const { out, exitCode } = await verify(path, '--cancellations', 'none');
    expect(exitCode).toBe(1);
    expect(out).toMatch(/violation 1: capability_coverage: no agent has all of \[gpu\] needed by task 'train'/);
    expect(out).toMatch(/violation 2: deadlock: .*\ntrace:\n {2}1\. fetch started \(attempt 1\)\n {2}2\. fetch succeeded \(attempt 1\)/);
  });

  test('an invalid file names the file, the path inside it and what was expected: exit code 2', async () => {
    const path = file('bad.json', { tasks: [{ taskId: 'a', retryPolicy: { maxRetries: 'three' } }] });
    const { out, exitCode } = await verify(path);
    expect(exitCode).toBe(2);
    expect(out).toMatch(/bad\.json:1:53 tasks\[0\]\.retryPolicy\.maxRetries: expected a number, got "three"/);
    const cyclic = file('cycle.json', {
      tasks: [
        { taskId: 'a', dependencies: ['b'] },
        { taskId: 'b', dependencies: ['a'] },
      ],
    });
    expect((await verify(cyclic)).out).toMatch(/cycle\.json:1:\d+ tasks\[\d\]\.dependencies: dependency cycle: /);
    expect((await verify(join(dir, 'missing.json'))).out).toMatch(/missing\.json: cannot read it/);
    expect((await verify(file('broken.json', '{ "tasks": ['))).exitCode).toBe(2);
  });

  test('the state bound gives "incomplete": exit code 3; --json prints the result', async () => {
    const path = file('wide.json', { tasks: Array.from({ length: 5 }, (_, i) => ({ taskId: `t${i}` })) });
    const bounded = await verify(path, '--max-states', '50', '--no-reduction');
    expect(bounded.exitCode).toBe(3);
    expect(bounded.out).toMatch(/incomplete: explored 50 states/);
    const json = await verify(path, '--json', '--no-agent-loss');
    expect(JSON.parse(json.out)).toMatchObject({ ok: true, status: 'verified', violations: [] });
  });

  test('--max-states bounds scheduling work too, --time-limit is accepted: 40 tasks on 20 slots stop at once with exit code 3', async () => {
    const path = file('contended.json', {
      agents: [{ agentId: 'worker', capabilities: ['work'], maxConcurrentTasks: 20 }],
      tasks: Array.from({ length: 40 }, (_, i) => ({ taskId: `t${i}`, requiredCapabilities: ['work'] })),
    });
    const bounded = await verify(path, '--max-states', '100', '--time-limit', '600');
    expect(bounded.exitCode).toBe(3);
    expect(bounded.out).toMatch(/incomplete: explored \d+ states \(100 units of work with scheduling choices\), the maxStates bound/);
    await expect(verify(path, '--time-limit', '-1')).rejects.toThrow(/--time-limit/);
  });
});
