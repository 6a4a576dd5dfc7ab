/**
 * The package works the ways docs/getting-started.md says it can be installed:
 * - the tarball: packed, installed in an empty folder without an EBADENGINE warning, runs
 *   `npx neuroflux demo`, and its types compile in a consumer under `tsc --strict` without
 *   `skipLibCheck` (CommonJS and ES module consumers);
 * - the clone: an application depending on the repository folder (a `file:` dependency).
 * It packs a copy, never the repository itself: `npm pack` there would run `prepack` (which
 * empties the shared dist/ that other suites and bin/ use meanwhile) and `prepare` (a full
 * build). The copy holds this commit's build: dist/ when it is newer than every source,
 * else a build made into the copy. Installs use the npm cache first (`--prefer-offline`);
 * it needs the npm registry or a warm cache.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PAGE_MODULES } from '../src/observability/inspector/pageModules';

const root = join(__dirname, '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

interface PackResult {
  filename: string;
  files: { path: string }[];
}

/** Runs a command; throws with its output when it fails; returns stdout and stderr. */
function run(command: string, args: readonly string[], cwd: string): { stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}\n${result.stdout}\n${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

function emptyApp(prefix: string): string {
  const app = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  return app;
}

/** A consumer of the public API and the `neuroflux/jest` subpath, as a user writes it. */
const consumer = `
import { createNeuroFlux, CommunicationBus, type MessageHandler, type NeuroFlux, type TaskExecutor } from 'neuroflux';
import { verificationMatchers } from 'neuroflux/jest';

const handler: MessageHandler = (m, a) => a.respond(m, { ok: true });
const execute: TaskExecutor = async (task, { signal }) => ({ id: task.taskId, aborted: signal.aborted });
export async function main(): Promise<string[]> {
  const nf: NeuroFlux = createNeuroFlux();
  nf.bus.registerAgent('risk', { handler });
  nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute });
  const bus = new CommunicationBus();
  await bus.stop();
  return Object.keys(verificationMatchers);
}
`;

/** The newest modification time of the files under `dir` with one of the extensions (0 when none). */
function newest(dir: string, extensions: readonly string[], pick: (a: number, b: number) => number = Math.max): number {
  let found: number | undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !extensions.some((e) => entry.name.endsWith(e))) continue;
    const time = statSync(join(entry.parentPath, entry.name)).mtimeMs;
    found = found === undefined ? time : pick(found, time);
  }
  return found ?? 0;
}

/** A folder holding what `npm pack` packs, with dist/ built from this commit's sources. */
function packableCopy(): string {
  const copy = mkdtempSync(join(tmpdir(), 'neuroflux-packable-'));
  for (const name of ['package.json', 'README.md', 'LICENSE', 'bin']) cpSync(join(root, name), join(copy, name), { recursive: true });
  const dist = join(root, 'dist');
  const sources = Math.max(newest(join(root, 'src'), ['.ts']), newest(join(root, 'machines'), ['.ts']), statSync(join(root, 'tsconfig.json')).mtimeMs);
  const built = existsSync(join(dist, 'src', 'index.d.ts')) && existsSync(join(dist, 'src', 'observability', 'inspector', 'browser')) ? newest(dist, ['.js', '.d.ts'], Math.min) : 0;
  if (built > sources) {
    cpSync(dist, join(copy, 'dist'), { recursive: true });
  } else {
    // What `prepare` (npm run build) does, into the copy.
    run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(copy, 'dist')], root);
    run(process.execPath, [tsc, '-p', join('src', 'observability', 'inspector', 'page', 'tsconfig.json'), '--outDir', join(copy, 'dist', 'src', 'observability', 'inspector', 'browser')], root);
  }
  return copy;
}

describe('npm package', () => {
  let out: string;
  let copy: string;
  let packed: PackResult;
  let app: string;
  let installWarnings: string;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'neuroflux-pack-'));
    copy = packableCopy();
    const [result] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], copy).stdout) as PackResult[];
    packed = result as PackResult;
    app = emptyApp('neuroflux-app-');
    const tarball = join(out, packed.filename);
    installWarnings = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], app).stderr;
  }, 600_000);

  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(copy, { recursive: true, force: true });
    rmSync(app, { recursive: true, force: true });
  });

  test('npm pack ships only the runtime, with its licence', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'bin/neuroflux.js', 'dist/src/index.js', 'dist/src/index.d.ts']));
    expect(files.filter((f) => /^(test|bench|examples|src|machines|docs)\//.test(f) || f.endsWith('.test.js'))).toEqual([]);
    // Every module the inspector serves is compiled into the package (an installed package has no TypeScript to transpile them).
    const pageFiles = PAGE_MODULES.map((name) => `dist/src/observability/inspector/browser/${name}.js`);
    expect(pageFiles.filter((f) => !files.includes(f))).toEqual([]);
  });

  test('every source map carries its sources (src/ is not packed)', () => {
    const maps = packed.files.map((f) => f.path).filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    const incomplete = maps.filter((path) => {
      const map = JSON.parse(readFileSync(join(app, 'node_modules', 'neuroflux', path), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      return map.sourcesContent?.length !== map.sources.length || map.sourcesContent.some((c) => typeof c !== 'string' || c.length === 0);
    });
    expect(incomplete).toEqual([]);
  });

  test('installing the tarball on this Node prints no EBADENGINE warning', () => {
    expect(installWarnings.split('\n').filter((l) => l.includes('EBADENGINE'))).toEqual([]);
  });

  test('the installed tarball runs the demo and exports the API', () => {
    const summary = JSON.parse(run('npx', ['--no-install', 'neuroflux', 'demo', '--tasks', '5', '--json'], app).stdout) as { workflows: number };
    expect(summary.workflows).toBe(5);
    // neuroflux/jest registers matchers on Jest's expect, so outside Jest it is only resolved.
    const typed = run(process.execPath, ['-e', "console.log(typeof require('neuroflux').createNeuroFlux, require.resolve('neuroflux/jest').endsWith('jest.js'))"], app);
    expect(typed.stdout.trim()).toBe('function true');
  }, 60_000);

  test('its types compile in a consumer: tsc --strict, no skipLibCheck, CommonJS and ES module files', () => {
    writeFileSync(join(app, 'consumer.ts'), consumer);
    writeFileSync(join(app, 'consumer.mts'), consumer);
    const typeRoots = join(root, 'node_modules', '@types');
    const result = spawnSync(
      process.execPath,
      [tsc, '--strict', '--noEmit', '--target', 'es2022', '--module', 'node16', '--moduleResolution', 'node16', '--types', 'node,jest', '--typeRoots', typeRoots, 'consumer.ts', 'consumer.mts'],
      { cwd: app, encoding: 'utf8' },
    );
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: '' });
  }, 120_000);

  test('a clone works as a file: dependency of an application', () => {
    const linked = emptyApp('neuroflux-linked-');
    try {
      run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', root], linked);
      const summary = JSON.parse(run('npx', ['--no-install', 'neuroflux', 'demo', '--tasks', '3', '--json'], linked).stdout) as { workflows: number };
      expect(summary.workflows).toBe(3);
      expect(readdirSync(join(linked, 'node_modules'))).toContain('neuroflux');
    } finally {
      rmSync(linked, { recursive: true, force: true });
    }
  }, 120_000);
});
