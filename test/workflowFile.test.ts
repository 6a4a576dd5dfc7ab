import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../src/cli/main';
import { loadWorkflowFile } from '../src/orchestration/workflowFileLoader';
import { ValidationError } from '../src';

async function cli(args: string[]): Promise<{ out: string; exitCode: number | undefined }> {
  let out = '';
  const before = process.exitCode;
  process.exitCode = undefined;
  await buildCli({ write: (t) => (out += t), isTTY: false }).parseAsync(['node', 'neuroflux', ...args]);
  const exitCode = process.exitCode as number | undefined;
  process.exitCode = before;
  return { out, exitCode };
}

describe('workflow files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'neuroflux-wf-'));

  test('neuroflux run: the YAML example runs with simulated and module executors', async () => {
    const { out, exitCode } = await cli(['run', join(__dirname, '..', 'examples', 'workflows', 'trading.yaml'), '--seed', '3']);
    expect(out).toMatch(/3\/3 tasks completed/);
    expect(out).toMatch(/trade\s+completed\s+trading_agent_1.*"status":"filled"/);
    expect(exitCode).toBeUndefined();
  });

  test('a JSON file with a failing task exits 1', async () => {
    const file = join(dir, 'failing.json');
    writeFileSync(
      file,
      JSON.stringify({
        agents: [{ agentId: 'a', capabilities: ['x'], executor: { simulated: { successRate: 0 } } }],
        tasks: [{ taskId: 'doomed', requiredCapabilities: ['x'], retryPolicy: { retryOnFailure: false } }],
      }),
    );
    const { out, exitCode } = await cli(['run', file, '--json']);
    expect(JSON.parse(out)).toEqual([expect.objectContaining({ taskId: 'doomed', status: 'failed', error: 'simulated failure' })]);
    expect(exitCode).toBe(1);
  });

  test('errors name the file, the path inside it and what was expected', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'agents:\n  - agentId: a\n    capabilities: [x]\ntasks:\n  - taskId: t\n    priority: urgent\n');
    expect(() => loadWorkflowFile(bad)).toThrow(ValidationError);
    try {
      loadWorkflowFile(bad);
    } catch (error) {
      expect((error as ValidationError).field).toBe('tasks[0].priority');
      expect((error as Error).message).toContain(bad);
      expect((error as Error).message).toMatch(/expected one of/);
    }
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "tasks": [ ');
    expect(() => loadWorkflowFile(broken)).toThrow(/not valid JSON/);
    expect(() => loadWorkflowFile(join(dir, 'missing.json'))).toThrow(/cannot read it/);
    const badExecutor = join(dir, 'exec.json');
    writeFileSync(badExecutor, JSON.stringify({ agents: [{ agentId: 'a', capabilities: ['x'], executor: 'no-hash' }], tasks: [{}] }));
    expect(() => loadWorkflowFile(badExecutor)).toThrow(expect.objectContaining({ field: 'agents[0].executor' }));
  });

  test('a module executor that does not exist is reported at its path', async () => {
    const file = join(dir, 'nomodule.json');
    writeFileSync(file, JSON.stringify({ agents: [{ agentId: 'a', capabilities: ['x'], executor: './nope.js#run' }], tasks: [{}] }));
    await expect(cli(['run', file])).rejects.toMatchObject({ field: 'agents[0].executor' });
  });

  test('neuroflux schema prints the JSON Schema generated from the zod schema', async () => {
    const { out } = await cli(['schema']);
    const schema = JSON.parse(out) as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['agents', 'tasks', 'balancer']));
    expect(schema.required).toContain('tasks');
  });
});

describe('neuroflux run --state-dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'neuroflux-state-'));
  const counter = join(dir, 'count.js');
  writeFileSync(counter, 'let runs = 0;\nexports.run = (task) => ({ task: task.taskId, run: ++runs });\n');
  const file = join(dir, 'flow.json');
  writeFileSync(
    file,
    JSON.stringify({
      agents: [{ agentId: 'a', capabilities: ['x'], executor: './count.js#run' }],
      tasks: [
        { taskId: 'first', requiredCapabilities: ['x'] },
        { taskId: 'second', dependencies: ['first'], requiredCapabilities: ['x'] },
      ],
    }),
  );

  test('a run started again with the same state directory resumes: finished tasks keep their records and are not run again', async () => {
    const state = join(dir, 'state');
    const first = await cli(['run', file, '--json', '--state-dir', state]);
    expect(first.exitCode).toBeUndefined();
    const records = JSON.parse(first.out) as { taskId: string; status: string; result: unknown }[];
    expect(records.map((r) => r.status)).toEqual(['completed', 'completed']);
    const again = await cli(['run', file, '--state-dir', state]);
    expect(again.out).toContain(`resumed from ${state}: 2 of 2 tasks were already known`);
    expect(again.out).toMatch(/2\/2 tasks completed/);
    // The records of the first run, not new runs of the executor.
    for (const r of records) expect(again.out).toContain(JSON.stringify(r.result));
    expect(again.exitCode).toBeUndefined();
  });

  test('every task needs an id with --state-dir', async () => {
    const anonymous = join(dir, 'anonymous.json');
    writeFileSync(anonymous, JSON.stringify({ agents: [{ agentId: 'a', capabilities: ['x'] }], tasks: [{ requiredCapabilities: ['x'] }] }));
    await expect(cli(['run', anonymous, '--state-dir', join(dir, 'other')])).rejects.toThrow(
      `${anonymous}:1:59 tasks[0].taskId: required with --state-dir (a resumed run finds its tasks by id)`,
    );
  });
});
