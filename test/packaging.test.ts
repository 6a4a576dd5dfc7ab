/**
 * The published package works from the tarball: `npm pack`, install it in an empty folder,
 * run `npx neuroflux demo`. Slow (it installs the dependencies), so it runs once, in CI and
 * locally; it needs the npm registry (or a warm npm cache).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');

describe('npm package', () => {
  test('npm pack ships only the runtime, and the tarball installs and runs the demo', () => {
    if (!existsSync(join(root, 'dist', 'src', 'index.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe' });
    const out = mkdtempSync(join(tmpdir(), 'neuroflux-pack-'));
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: root, encoding: 'utf8' })) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = packed[0]?.files.map((f) => f.path) ?? [];
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/neuroflux.js', 'dist/src/index.js', 'dist/src/index.d.ts']));
    // The inspector page, compiled for the browser by the build's second step.
    expect(files).toContain('dist/src/observability/inspector/browser/page/main.js');
    expect(files.filter((f) => /^(test|bench|examples|src|machines|docs)\//.test(f) || f.endsWith('.test.js'))).toEqual([]);

    const app = mkdtempSync(join(tmpdir(), 'neuroflux-app-'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const tarball = join(out, readdirSync(out).find((f) => f.endsWith('.tgz')) as string);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: app, stdio: 'pipe' });
    const summary = JSON.parse(
      execFileSync('npx', ['--no-install', 'neuroflux', 'demo', '--tasks', '5', '--json'], { cwd: app, encoding: 'utf8' }),
    ) as { workflows: number };
    expect(summary.workflows).toBe(5);
    const typed = execFileSync(process.execPath, ['-e', "console.log(typeof require('neuroflux').createNeuroFlux)"], { cwd: app, encoding: 'utf8' });
    expect(typed.trim()).toBe('function');
  }, 240_000);
});
