/**
 * `neuroflux host <file> --nats URL` and `neuroflux run <file> --nats URL --remote-agents`:
 * the agents of a workflow file run in a host, the orchestrator registers them from the
 * host's heartbeats and runs the workflow on them (own nats-server on a free port).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../src/cli/main';
import { NATS_SERVER_BIN, describeWithServer, natsServerForSuite } from './support/servers';

function workflowFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'nf-host-')), 'workflow.json');
  writeFileSync(
    path,
    JSON.stringify({
      agents: [{ agentId: 'sim-worker', capabilities: ['work'], maxConcurrentTasks: 2, executor: { simulated: { durationMs: { mean: 5 } } } }],
      tasks: [
        { taskId: 'a', requiredCapabilities: ['work'] },
        { taskId: 'b', requiredCapabilities: ['work'], dependencies: ['a'] },
        { taskId: 'c', requiredCapabilities: ['work'], dependencies: ['a'] },
      ],
    }),
  );
  return path;
}

describeWithServer(NATS_SERVER_BIN, 'neuroflux host / run --remote-agents', () => {
  const server = natsServerForSuite();

  test('the workflow runs on the agents of a host process, announced by heartbeat', async () => {
    const file = workflowFile();
    let stopHost: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => (stopHost = resolve));
    let hostOut = '';
    const hosting = buildCli({ write: (t) => (hostOut += t), isTTY: false }, { untilInterrupted: () => interrupted }).parseAsync([
      'node',
      'neuroflux',
      'host',
      file,
      '--nats',
      server().url,
      '--namespace',
      'clihost',
      '--host-id',
      'h1',
      '--heartbeat',
      '200',
    ]);
    let runOut = '';
    await buildCli({ write: (t) => (runOut += t), isTTY: false }).parseAsync([
      'node',
      'neuroflux',
      'run',
      file,
      '--nats',
      server().url,
      '--namespace',
      'clihost',
      '--remote-agents',
      '--json',
    ]);
    stopHost();
    await hosting;
    const records = JSON.parse(runOut) as { taskId: string; status: string; assignedAgent: string }[];
    expect(records.map((r) => [r.taskId, r.status, r.assignedAgent])).toEqual([
      ['a', 'completed', 'sim-worker'],
      ['b', 'completed', 'sim-worker'],
      ['c', 'completed', 'sim-worker'],
    ]);
    expect(hostOut).toMatch(/^hosting sim-worker as h1 on nats:\/\//);
    expect(hostOut).toMatch(/h1: 3 completed, 0 failed, 0 aborted/);
  }, 30_000);

  test('bad options name the option', async () => {
    const file = workflowFile();
    const cli = () => buildCli({ write: () => undefined, isTTY: false }, { untilInterrupted: () => Promise.resolve() });
    await expect(cli().parseAsync(['node', 'neuroflux', 'run', file, '--remote-agents'])).rejects.toMatchObject({ issues: [{ path: '--remote-agents' }] });
    await expect(cli().parseAsync(['node', 'neuroflux', 'host', file, '--nats', 'localhost'])).rejects.toMatchObject({ issues: [{ path: '--nats' }] });
    await expect(cli().parseAsync(['node', 'neuroflux', 'host', file, '--nats', server().url, '--agents', 'nobody'])).rejects.toMatchObject({
      issues: [{ path: '--agents' }],
    });
  });
});
