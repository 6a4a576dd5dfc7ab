import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../src/cli/main';
import { EXECUTOR_NOT_ALLOWED, ExecutorNotAllowedError, ValidationError } from '../src';
import { cleanupAfterEach } from './support/cleanup';

const cleanup = cleanupAfterEach();

async function cli(args: string[]): Promise<{ out: string; exitCode: number | undefined }> {
  let out = '';
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildCli({ write: (t) => (out += t), isTTY: false }).parseAsync(['node', 'neuroflux', ...args]);
    return { out, exitCode: process.exitCode as number | undefined };
  } finally {
    process.exitCode = before;
  }
}

/**
 * A workflow folder and a folder outside it, each with a module whose loading leaves a
 * marker file (so a test sees whether it ran).
 */
function layout(name: string) {
  const root = mkdtempSync(join(tmpdir(), `nf-exec-${name}-`));
  cleanup.defer(() => rmSync(root, { recursive: true, force: true }));
  const inside = join(root, 'workflow');
  const outside = join(root, 'elsewhere');
  mkdirSync(inside);
  mkdirSync(outside);
  const module = (dir: string, file: string) => {
    const marker = join(dir, `${file}.loaded`);
    writeFileSync(join(dir, file), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');\nexports.run = () => 'ran ${file}';\n`);
    return { path: join(dir, file), loaded: () => existsSync(marker) };
  };
  const workflow = (executor: string) => {
    const file = join(inside, `wf-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ agents: [{ agentId: 'worker', capabilities: ['x'], executor }], tasks: [{ taskId: 't', requiredCapabilities: ['x'] }] }));
    return file;
  };
  return { inside, outside, module, workflow };
}

describe('workflow file executors are confined to the workflow folder', () => {
  test('an absolute path outside the folder is refused before it is loaded, naming the agent, the field and the path', async () => {
    const { outside, module, workflow } = layout('abs');
    const evil = module(outside, 'evil.js');
    const file = workflow(`${evil.path}#run`);
    const refused = cli(['run', file]);
    await expect(refused).rejects.toBeInstanceOf(ExecutorNotAllowedError);
    await expect(refused).rejects.toMatchObject({
      code: EXECUTOR_NOT_ALLOWED,
      agentId: 'worker',
      field: 'agents[0].executor',
      modulePath: evil.path,
      file,
    });
    await expect(refused).rejects.toThrow(/--allow-executors-outside/);
    expect(evil.loaded()).toBe(false);
  });

  test('a relative path climbing out of the folder is refused', async () => {
    const { outside, module, workflow } = layout('rel');
    const evil = module(outside, 'evil.js');
    await expect(cli(['run', workflow('../elsewhere/evil.js#run')])).rejects.toMatchObject({ code: EXECUTOR_NOT_ALLOWED, modulePath: '../elsewhere/evil.js' });
    expect(evil.loaded()).toBe(false);
  });

  test('a symlink inside the folder that points out of it is refused (real paths are compared)', async () => {
    const { inside, outside, module, workflow } = layout('link');
    const evil = module(outside, 'evil.js');
    symlinkSync(evil.path, join(inside, 'agents.js'));
    await expect(cli(['run', workflow('./agents.js#run')])).rejects.toMatchObject({ code: EXECUTOR_NOT_ALLOWED, resolvedPath: evil.path });
    expect(evil.loaded()).toBe(false);
  });

  test('no module of a refused file runs, even those inside the folder listed first', async () => {
    const { inside, outside, module } = layout('first');
    const good = module(inside, 'good.js');
    const evil = module(outside, 'evil.js');
    const file = join(inside, 'two.json');
    writeFileSync(
      file,
      JSON.stringify({
        agents: [
          { agentId: 'a', capabilities: ['x'], executor: './good.js#run' },
          { agentId: 'b', capabilities: ['x'], executor: `${evil.path}#run` },
        ],
        tasks: [{ requiredCapabilities: ['x'] }],
      }),
    );
    await expect(cli(['run', file])).rejects.toMatchObject({ agentId: 'b', field: 'agents[1].executor' });
    expect(good.loaded()).toBe(false);
    expect(evil.loaded()).toBe(false);
  });

  test('neuroflux host refuses too (before connecting)', async () => {
    const { outside, module, workflow } = layout('host');
    const evil = module(outside, 'evil.js');
    await expect(cli(['host', workflow(`${evil.path}#run`), '--nats', 'nats://127.0.0.1:1'])).rejects.toMatchObject({ code: EXECUTOR_NOT_ALLOWED });
    expect(evil.loaded()).toBe(false);
  });

  test('modules inside the folder run; --allow-executors-outside <dir> trusts another folder', async () => {
    const { inside, outside, module, workflow } = layout('ok');
    module(inside, 'agents.js');
    expect((await cli(['run', workflow('./agents.js#run'), '--json'])).out).toContain('ran agents.js');
    const trusted = module(outside, 'trusted.js');
    const { out, exitCode } = await cli(['run', workflow(`../elsewhere/trusted.js#run`), '--json', '--allow-executors-outside', outside]);
    expect(out).toContain('ran trusted.js');
    expect(exitCode).toBeUndefined();
    expect(trusted.loaded()).toBe(true);
  });

  test('a trusted folder that does not exist is a validation error naming the option', async () => {
    const { inside, module, workflow } = layout('missing');
    module(inside, 'agents.js');
    await expect(cli(['run', workflow('./agents.js#run'), '--allow-executors-outside', '/no/such/dir'])).rejects.toMatchObject({
      field: '--allow-executors-outside',
    });
    await expect(cli(['run', workflow('./agents.js#run'), '--allow-executors-outside', '/no/such/dir'])).rejects.toBeInstanceOf(ValidationError);
  });
});
