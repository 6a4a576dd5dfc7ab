import type { Command } from 'commander';
import { z } from 'zod';
import { createNeuroFlux } from '../runtime/createNeuroFlux';
import { setUpDemoWorkload } from '../observability/demoWorkload';
import { formatProfileReport, profileSystemPerformance } from '../observability/profiler/profileSystemPerformance';
import { parseCliOptions } from './cliOptions';

const ProfileOptionsSchema = z.object({
  runs: z.coerce.number().int().min(1).max(1000).default(3),
  delay: z.coerce.number().int().nonnegative().default(20),
  window: z.coerce.number().int().nonnegative().default(1000),
  timeout: z.coerce.number().int().positive().default(5000),
  json: z.boolean().optional(),
});

/**
 * `neuroflux profile`: runs a short scenario (the demo workflow a few times, in parallel
 * with the profiler's probes) and prints the performance report: pairwise round trips,
 * task execution, resource usage and bottlenecks with the spec's thresholds.
 * @internal
 */
export function registerProfileCommand(program: Command, write: (text: string) => void): Command {
  return program
    .command('profile')
    .description('run a short scenario and print a performance report (latency, tasks, resources, bottlenecks)')
    .option('--runs <n>', 'demo workflow runs before profiling', '3')
    .option('--delay <ms>', 'time each task works', '20')
    .option('--window <ms>', 'resource sampling window', '1000')
    .option('--timeout <ms>', 'round trip counted as infinite after', '5000')
    .option('--json', 'print the report as JSON')
    .action(async (raw: Record<string, unknown>) => {
      const options = parseCliOptions(ProfileOptionsSchema, raw);
      const nf = createNeuroFlux({ name: 'neuroflux profile' });
      const demo = setUpDemoWorkload(nf, { taskDelayMs: options.delay });
      await nf.start();
      try {
        for (let i = 0; i < options.runs; i++) await demo.runOnce();
        // The last run goes on while the profiler measures: round trips under load.
        const [report] = await Promise.all([profileSystemPerformance(nf, { resourceWindowMs: options.window, timeoutMs: options.timeout }), demo.runOnce()]);
        if (options.json) {
          write(`${JSON.stringify(report, (_key, value: unknown) => (value === Infinity ? 'Infinity' : value), 2)}\n`);
        } else write(formatProfileReport(report));
      } finally {
        await nf.stop();
      }
    });
}
