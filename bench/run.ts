/**
 * Runs the benchmarks, each in its own Node process (fresh heap, `--expose-gc` for the
 * memory figures): `npm run bench` for all, `npm run bench -- bus` for one.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const wanted = process.argv.slice(2);
const benches = readdirSync(__dirname)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'measure.ts', 'workloads.ts', 'bullmq.ts', 'chaos.ts', 'plot-swarm-learning.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name));

let failed = false;
for (const name of benches) {
  process.stdout.write(`\n=== bench/${name}.ts\n`);
  const result = spawnSync(process.execPath, ['--expose-gc', '-r', '@swc-node/register', join(__dirname, `${name}.ts`)], {
    stdio: 'inherit',
  });
  failed ||= result.status !== 0;
}
process.exitCode = failed ? 1 : 0;
