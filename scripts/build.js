#!/usr/bin/env node
'use strict';
/**
 * `npm run build`: the published dist/ (issue #16: `require('neuroflux')` and a runtime with
 * defaults load at most 150 modules).
 *
 * - dist/neuroflux.js: ONE bundle of all our code (esbuild; every package stays external).
 *   Our ~200 source files become one module, and every class exists once, whichever
 *   entry point it is imported from (`instanceof` across `neuroflux` and `neuroflux/nats`).
 * - dist/<entry>.js: one small file per entry point of package.json `exports`, built from
 *   its source (src/index.ts, src/entries/*.ts) with every import of our own modules
 *   redirected to the bundle: what it adds is its own statements (the Jest registration).
 * - dist/types/: declarations by tsc (emitDeclarationOnly); `exports` maps each entry's
 *   types to them.
 * - dist/browser/: the inspector page's ES modules (served by the inspector, not bundled).
 *
 * The entry points are read from package.json `exports`: `types` names the source
 * (dist/types/src/entries/nats.d.ts is src/entries/nats.ts), `default` the output.
 * `rxjs` resolves to the few deep modules we use (rxjs/internal/*): its root loads 223.
 *
 * Usage: node scripts/build.js [--out-dir <dir>] (default dist/; the packaging test
 * builds into a copy).
 */
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, resolve, sep } = require('node:path');
const { performance } = require('node:perf_hooks');
const esbuild = require('esbuild');

const root = resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');
const BUNDLE = 'neuroflux.js';

/**
 * What our code takes from rxjs, from the deep modules that define it. A name missing
 * here fails the build ("No matching export"): add it with its module.
 */
const RXJS_NARROW = `
export { Observable } from 'rxjs/internal/Observable';
export { Subject } from 'rxjs/internal/Subject';
export { BehaviorSubject } from 'rxjs/internal/BehaviorSubject';
export { firstValueFrom } from 'rxjs/internal/firstValueFrom';
export { filter } from 'rxjs/internal/operators/filter';
export { distinctUntilChanged } from 'rxjs/internal/operators/distinctUntilChanged';
`;

/**
 * The CLI, for bin/neuroflux.js. Required lazily, so commander and the CLI's modules are
 * initialised only when the command runs, not by `require('neuroflux')`.
 */
const CLI_RUNNER = `
export function runNeuroFluxCli(argv: readonly string[]): Promise<void> {
  return (require('./src/cli/main') as typeof import('./src/cli/main')).main(argv);
}
`;

function parseArgs(argv) {
  const i = argv.indexOf('--out-dir');
  return { out: i >= 0 ? resolve(argv[i + 1]) : join(root, 'dist') };
}

/** The entry points of package.json `exports`: source file and output file. */
function entryPoints(out) {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return Object.entries(manifest.exports)
    .filter(([, target]) => typeof target === 'object')
    .map(([subpath, target]) => {
      const source = join(root, target.types.replace(/^\.\/dist\/types\//, '').replace(/\.d\.ts$/, '.ts'));
      if (!existsSync(source)) throw new Error(`package.json exports ${subpath}: no source ${relative(root, source)} for ${target.types}`);
      if (dirname(target.default) !== './dist') throw new Error(`package.json exports ${subpath}: ${target.default} must be a file of dist/`);
      return { subpath, source, out: join(out, target.default.replace(/^\.\/dist\//, '')) };
    });
}

function run(args, env = process.env) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status}`);
}

const isOwnSource = (path) => [join(root, 'src') + sep, join(root, 'machines') + sep].some((dir) => path.startsWith(dir));

/** Resolves every import of our own modules from an entry file to the bundle; records which. */
function toBundle(recorded) {
  return {
    name: 'to-bundle',
    setup(build) {
      build.onResolve({ filter: /^\./ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData?.direct) return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { direct: true } });
        if (found.errors.length > 0 || !isOwnSource(found.path)) return undefined;
        recorded.add(found.path);
        return { path: `./${BUNDLE}`, external: true };
      });
    },
  };
}

const narrowRxjs = {
  name: 'narrow-rxjs',
  setup(build) {
    build.onResolve({ filter: /^rxjs$/ }, () => ({ path: 'rxjs', namespace: 'narrow-rxjs' }));
    build.onLoad({ filter: /.*/, namespace: 'narrow-rxjs' }, () => ({ contents: RXJS_NARROW, loader: 'js', resolveDir: root }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  // Class and function names stay what the sources say (errors report `name`).
  keepNames: true,
  logLevel: 'warning',
  logOverride: { 'unsupported-require-call': 'silent' },
};

async function bundle(out) {
  const entries = entryPoints(out);
  const recorded = new Set();
  const built = await esbuild.build({
    ...common,
    entryPoints: entries.map((e) => ({ in: e.source, out: relative(out, e.out).replace(/\.js$/, '') })),
    outdir: out,
    plugins: [toBundle(recorded)],
    write: false,
  });
  for (const file of built.outputFiles) {
    // `export *` in an entry would re-export the whole bundle, internals included.
    if (file.path.endsWith('.js') && file.text.includes('__reExport('))
      throw new Error(`${relative(root, file.path)}: an entry point re-exports with \`export *\`; name its exports`);
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.contents);
  }
  const modules = [...recorded].sort().map((path) => `export * from './${relative(root, path).split(sep).join('/').replace(/\.ts$/, '')}';`);
  await esbuild.build({
    ...common,
    stdin: { contents: `${modules.join('\n')}\n${CLI_RUNNER}`, resolveDir: root, sourcefile: 'neuroflux-bundle.ts', loader: 'ts' },
    outfile: join(out, BUNDLE),
    plugins: [narrowRxjs],
  });
  return entries;
}

/**
 * Every name an entry point exports is defined by the bundle (an ambiguous `export *` of
 * two modules exporting different things under one name would leave it undefined).
 * Runs in a child process: loading the bundle must not need any optional backend.
 */
function checkEntries(entries) {
  const script = `
    globalThis.expect = { extend() {} };
    const missing = [];
    for (const file of ${JSON.stringify(entries.map((e) => e.out))}) {
      const loaded = require(file);
      for (const [name, value] of Object.entries(loaded)) if (value === undefined) missing.push(file + ': ' + name);
      if (Object.keys(loaded).length === 0 && !file.endsWith('jest.js')) missing.push(file + ': exports nothing');
    }
    if (missing.length > 0) { console.error('undefined exports:\\n' + missing.join('\\n')); process.exit(1); }
  `;
  // NODE_PATH: an --out-dir outside the repository (the packaging test's copy) has no node_modules.
  run(['-e', script], { ...process.env, NODE_PATH: join(root, 'node_modules') });
}

async function main() {
  const { out } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  for (const part of [BUNDLE, 'types', 'browser']) rmSync(join(out, part), { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const entries = await bundle(out);
  checkEntries(entries);
  run([tsc, '-p', 'tsconfig.build.json', '--outDir', join(out, 'types')]);
  run([tsc, '-p', join('src', 'observability', 'inspector', 'page', 'tsconfig.json'), '--outDir', join(out, 'browser')]);
  console.log(`built ${relative(root, out) || '.'}/ (${entries.length} entry points) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
