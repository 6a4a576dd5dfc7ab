import { Option, type Command } from 'commander';
import { z } from 'zod';
import { ValidationError, type NeuroFluxErrorOptions } from '../errors';

/** A `--nats` URL. @internal */
export const NatsUrlSchema = z
  .string()
  .regex(/^(nats|tls):\/\/\S+$/, { error: (issue) => `expected a NATS URL such as nats://127.0.0.1:4222, got ${JSON.stringify(issue.input)}` });

/** The name of the option that trusts a folder for executor modules. @internal */
export const ALLOW_EXECUTORS_OPTION = '--allow-executors-outside';

/** Collects a repeatable option's values (commander calls it once per occurrence). @internal */
export function collectOption(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Invalid command-line options or environment: every problem on its own line, each naming
 * the flag as typed (`--stall-timeout`, not the internal `stallTimeout`) and the value given.
 * @internal
 */
export class CommandLineError extends ValidationError {
  constructor(what: string, issues: readonly { path: string; message: string }[], options?: NeuroFluxErrorOptions) {
    super(what, issues, options);
    if (issues.length > 1) this.message = [`invalid ${what}:`, ...issues.map((i) => `  ${i.path}: ${i.message}`)].join('\n');
  }
}

/** The value a user typed, as they would recognise it. */
function givenValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(givenValue).join(', ');
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Parses CLI options with a schema; errors name the option as typed, or the environment
 * variable when the value came from one (pass the command: it knows where each value came
 * from), with the value given; every problem is reported, not only the first.
 * @internal
 */
export function parseCliOptions<T>(schema: z.ZodType<T>, raw: unknown, command?: Command): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const values = (raw ?? {}) as Record<string, unknown>;
    const issues = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      const option = command?.options.find((o) => o.attributeName() === key || o.long === `--${key}`);
      const flag = option?.long ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      const value = values[option?.attributeName() ?? key];
      // A message that already quotes the input (the NATS URL's) is not given it twice.
      const message = value === undefined || typeof value === 'boolean' || i.message.includes(givenValue(value)) ? i.message : `${i.message} (got ${givenValue(value)})`;
      if (option?.envVar !== undefined && command?.getOptionValueSource(option.attributeName()) === 'env') {
        return { path: option.envVar, message: `${message} (from the environment; ${flag} overrides it)` };
      }
      return { path: [flag, ...i.path.slice(1).map(String)].join('.'), message };
    });
    const fromEnvironment = issues.every((i) => !i.path.startsWith('--'));
    throw new CommandLineError(fromEnvironment ? 'environment' : 'command-line options', issues);
  }
  return parsed.data;
}

/** `--nats <url>`, read from `NEUROFLUX_NATS_URL` when not given. @internal */
export function natsOption(description: string): Option {
  return new Option('--nats <url>', description).env('NEUROFLUX_NATS_URL');
}

/** `--namespace <name>`, read from `NEUROFLUX_NAMESPACE` when not given. @internal */
export function namespaceOption(description: string): Option {
  return new Option('--namespace <name>', description).env('NEUROFLUX_NAMESPACE').default('default');
}

/** `--log-level <level>`, read from `NEUROFLUX_LOG_LEVEL` when not given. @internal */
export function logLevelOption(): Option {
  return new Option('--log-level <level>', "log level of the runtime's JSON-lines log on stderr (fatal, error, warn, info, debug, trace, silent)")
    .env('NEUROFLUX_LOG_LEVEL')
    .default('info');
}
