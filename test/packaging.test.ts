/**
 * The package works the ways docs/getting-started.md says it can be installed:
 * - the tarball: packed, installed in an empty folder without an EBADENGINE warning, runs
 *   `npx neuroflux demo`, and its types compile in a consumer under `tsc --strict` without
 *   `skipLibCheck` (CommonJS and ES module consumers, every subpath);
 * - `require('neuroflux')` and a runtime with defaults load at most 150 modules (issue #16):
 *   our code is one bundle, the heavy integrations load when used, and every class is one
 *   class whichever subpath it is imported from;
 * - the clone: an application depending on the repository folder (a `file:` dependency).
 * It packs a copy, never the repository itself: `npm pack` there would run `prepack` (which
 * empties the shared dist/ that other suites and bin/ use meanwhile) and `prepare` (a full
 * build). The copy holds this commit's build: dist/ when it is newer than every source,
 * else a build made into the copy (`scripts/build.js --out-dir`). Installs use the npm cache first (`--prefer-offline`);
 * it needs the npm registry or a warm cache.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PAGE_MODULES } from '../src/observability/inspector/pageModules';

const root = join(__dirname, '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { types: string; default: string }> };
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

/** A consumer of the public API and of every subpath, as a user writes it. */
const consumer = `
import { createNeuroFlux, CommunicationBus, type MessageHandler, type NeuroFlux, type TaskExecutor } from 'neuroflux';
import { verificationMatchers } from 'neuroflux/jest';
import { NatsTransport, nats, type NatsOptions } from 'neuroflux/nats';
import { FileSnapshotStore, Lease, type SnapshotStore } from 'neuroflux/store';
import { MemoryCache, RedisCache, type DistributedCache } from 'neuroflux/cache';
import { startInspector, type Inspector } from 'neuroflux/inspector';
import { verifyWorkflow, type VerificationResult } from 'neuroflux/verify';
import { taskMachine, type TaskMachine } from 'neuroflux/machines';

export const integrations: [typeof NatsTransport, (o: NatsOptions) => unknown, typeof Lease, typeof RedisCache, typeof startInspector] = [NatsTransport, nats, Lease, RedisCache, startInspector];
export const store: SnapshotStore = new FileSnapshotStore({ directory: 'state' });
export const cache: DistributedCache = new MemoryCache();
export type Started = Inspector | VerificationResult<unknown> | TaskMachine;
export const verified = verifyWorkflow({ tasks: [] }).complete && taskMachine.id.length > 0;

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

/** Packages that only an integration needs: none loads with the runtime's defaults. */
const HEAVY_PACKAGES = [
  '@nats-io/transport-node',
  '@nats-io/nats-core',
  '@nats-io/jetstream',
  '@nats-io/kv',
  '@nats-io/nkeys',
  'ioredis',
  'ws',
  'prom-client',
  '@opentelemetry/api',
  'yaml',
  'graphology',
  'commander',
  'rxjs-root',
];

/**
 * Run in the application folder: which modules `require('neuroflux')` and a runtime with
 * defaults load (counting `require.cache`, by package), whether each subpath hands out the
 * main entry's classes, and whether the integrations it touches then load on use. The
 * root of rxjs (223 modules) counts as `rxjs-root`: our code takes its deep modules.
 */
const MODULE_REPORT = `
const packageOf = (file) => {
  if (/[\\\\/]node_modules[\\\\/]rxjs[\\\\/]dist[\\\\/]cjs[\\\\/]index\\.js$/.test(file)) return 'rxjs-root';
  const match = /[\\\\/]node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)[\\\\/][^]*$/.exec(file);
  return match ? match[1].replace('\\\\', '/') : 'app';
};
const byPackage = (files) => files.reduce((counts, file) => ({ ...counts, [packageOf(file)]: (counts[packageOf(file)] ?? 0) + 1 }), {});
const nf = require('neuroflux');
const runtime = nf.createNeuroFlux();
const files = Object.keys(require.cache);
const counted = byPackage(files);
const nats = require('neuroflux/nats'), store = require('neuroflux/store'), cache = require('neuroflux/cache');
const inspector = require('neuroflux/inspector'), verify = require('neuroflux/verify'), machines = require('neuroflux/machines');
let storeError;
try { new store.FileSnapshotStore({}); } catch (error) { storeError = error; }
const identity = {
  NatsTransport: nats.NatsTransport === nf.NatsTransport,
  NatsKvSnapshotStore: nats.NatsKvSnapshotStore === store.NatsKvSnapshotStore,
  FileSnapshotStore: store.FileSnapshotStore === nf.FileSnapshotStore,
  RedisCache: cache.RedisCache === nf.RedisCache,
  InspectorAddressError: inspector.InspectorAddressError === nf.InspectorAddressError,
  verifyWorkflow: verify.verifyWorkflow === nf.verifyWorkflow,
  taskMachine: machines.taskMachine === nf.taskMachine,
  'a store error is a ValidationError of the main entry': storeError instanceof nf.ValidationError && storeError instanceof nf.NeuroFluxError,
};
const loaded = (name) => Object.keys(require.cache).some((file) => packageOf(file) === name);
nf.createMetrics(runtime).dispose();
nf.loadWorkflowFile('workflow.yaml');
nats.natsServerConfig({ namespace: 'pkg', orchestrators: ['orch-1'] });
nf.computeSwarmStats(runtime.swarm.getNetworkState());
const loadedWhenUsed = { 'prom-client': loaded('prom-client'), yaml: loaded('yaml'), '@nats-io/nkeys': loaded('@nats-io/nkeys'), graphology: loaded('graphology') };
counted.neuroflux = files.filter((f) => /[\\\\/]node_modules[\\\\/]neuroflux[\\\\/]/.test(f)).length;
delete counted.app;
runtime.stop().then(() => console.log(JSON.stringify({ count: files.length, byPackage: counted, identity, loadedWhenUsed })));
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
  const sources = Math.max(
    newest(join(root, 'src'), ['.ts', '.json']),
    newest(join(root, 'machines'), ['.ts']),
    ...['tsconfig.json', 'tsconfig.build.json', 'package.json', join('scripts', 'build.js')].map((f) => statSync(join(root, f)).mtimeMs),
  );
  // What the build writes (an older dist/ may hold other files, which are not packed).
  const parts = ['neuroflux.js', 'types', 'browser'];
  const complete = parts.every((part) => existsSync(join(dist, part))) && existsSync(join(dist, 'types', 'src', 'index.d.ts'));
  const built = complete
    ? Math.min(statSync(join(dist, 'neuroflux.js')).mtimeMs, newest(join(dist, 'types'), ['.d.ts'], Math.min), newest(join(dist, 'browser'), ['.js'], Math.min))
    : 0;
  if (built > sources) {
    cpSync(dist, join(copy, 'dist'), { recursive: true, filter: (path) => !/[/\\]dist[/\\](src|machines)([/\\]|$)/.test(path) });
  } else {
    // What `prepare` (npm run build) does, into the copy.
    run(process.execPath, [join(root, 'scripts', 'build.js'), '--out-dir', join(copy, 'dist')], root);
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
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'bin/neuroflux.js', 'dist/neuroflux.js', 'dist/index.js', 'dist/types/src/index.d.ts']));
    // Each subpath: its small file beside the bundle, and its declarations.
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'string') continue;
      expect({ subpath, files: files.filter((f) => f === target.default.slice(2) || f === target.types.slice(2)) }).toEqual({
        subpath,
        files: [target.default.slice(2), target.types.slice(2)].sort(),
      });
    }
    expect(files.filter((f) => /^(test|bench|examples|src|machines|docs|scripts)\//.test(f) || /^dist\/(src|machines)\//.test(f) || f.endsWith('.test.js'))).toEqual([]);
    // Our code is the bundle: one JavaScript module, plus one small file per entry point (and bin/).
    const entryFiles = Object.values(manifest.exports).flatMap((t) => (typeof t === 'string' ? [] : [t.default.slice(2)]));
    expect(files.filter((f) => f.endsWith('.js') && !f.startsWith('dist/browser/')).sort()).toEqual(['bin/neuroflux.js', 'dist/neuroflux.js', ...entryFiles].sort());
    // Every module the inspector serves is compiled into the package (an installed package has no TypeScript to transpile them).
    const pageFiles = PAGE_MODULES.map((name) => `dist/browser/${name}.js`);
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

  test('require("neuroflux") and a runtime with defaults load at most 150 modules; every class is one across subpaths; integrations load when used', () => {
    writeFileSync(join(app, 'workflow.yaml'), 'tasks:\n  - taskId: a\n    taskType: t\n    requiredCapabilities: [x]\nagents:\n  - agentId: w\n    capabilities: [x]\n');
    const report = run(process.execPath, ['-e', MODULE_REPORT], app).stdout;
    const { count, byPackage, identity, loadedWhenUsed } = JSON.parse(report) as {
      count: number;
      byPackage: Record<string, number>;
      identity: Record<string, boolean>;
      loadedWhenUsed: Record<string, boolean>;
    };
    console.log(`require('neuroflux') + createNeuroFlux(): ${count} modules ${JSON.stringify(byPackage)}`);
    expect(count).toBeLessThanOrEqual(150);
    // Our own code: the entry file and the bundle.
    expect(byPackage.neuroflux).toBe(2);
    for (const heavy of HEAVY_PACKAGES) expect({ heavy, loaded: byPackage[heavy] ?? 0 }).toEqual({ heavy, loaded: 0 });
    expect(identity).toEqual(Object.fromEntries(Object.keys(identity).map((k) => [k, true])));
    expect(Object.keys(identity).length).toBeGreaterThanOrEqual(7);
    expect(loadedWhenUsed).toEqual({ 'prom-client': true, yaml: true, '@nats-io/nkeys': true, graphology: true });
  }, 60_000);

  test('the installed CLI loads the NATS packages when a command needs them', () => {
    const out = run('npx', ['--no-install', 'neuroflux', 'nats-config', '--namespace', 'pkg', '--orchestrators', 'orch-1', '--hosts', 'host-1'], app).stdout;
    const config = JSON.parse(out) as { users: { identity: string; nkeySeed?: string }[] };
    expect(config.users.map((u) => [u.identity, u.nkeySeed?.startsWith('SU')])).toEqual([
      ['orch-1', true],
      ['host-1', true],
    ]);
  }, 60_000);

  test('its types compile in a consumer: tsc --strict, no skipLibCheck, CommonJS and ES module files', () => {
    writeFileSync(join(app, 'consumer.ts'), consumer);
    writeFileSync(join(app, 'consumer.mts'), consumer);
    const typeRoots = join(root, 'node_modules', '@types');
    const result = spawnSync(
      process.execPath,
      [
        tsc,
        '--strict',
        '--noEmit',
        '--target',
        'es2022',
        '--module',
        'node16',
        '--moduleResolution',
        'node16',
        '--types',
        'node,jest',
        '--typeRoots',
        typeRoots,
        'consumer.ts',
        'consumer.mts',
      ],
      { cwd: app, encoding: 'utf8' },
    );
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: '' });
  }, 120_000);

  test('classic moduleResolution node10 finds every subpath through typesVersions (with skipLibCheck, as docs/getting-started.md says)', () => {
    // node10 ignores `exports`; without `typesVersions` each subpath is TS2307. The NATS
    // client's own .d.ts files need node16 or bundler, hence skipLibCheck there.
    writeFileSync(join(app, 'consumer10.ts'), consumer);
    const typeRoots = join(root, 'node_modules', '@types');
    const result = spawnSync(
      process.execPath,
      [
        tsc,
        '--strict',
        '--noEmit',
        '--skipLibCheck',
        '--target',
        'es2022',
        '--module',
        'commonjs',
        '--moduleResolution',
        'node10',
        '--types',
        'node,jest',
        '--typeRoots',
        typeRoots,
        'consumer10.ts',
      ],
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
