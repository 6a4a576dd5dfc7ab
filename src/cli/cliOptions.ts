import { Option, type Command } from 'commander';
import { z } from 'zod';
import { ValidationError } from '../errors';

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
 * Parses CLI options with a schema; errors name the option, or the environment variable
 * when the value came from one (pass the command: it knows where each value came from).
 * @internal
 */
export function parseCliOptions<T>(schema: z.ZodType<T>, raw: unknown, command?: Command): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      const option = command?.options.find((o) => o.attributeName() === key);
      if (option?.envVar !== undefined && command?.getOptionValueSource(key) === 'env') {
        return { path: option.envVar, message: `${i.message} (from the environment; --${option.long?.replace(/^--/, '') ?? key} overrides it)` };
      }
      return { path: `--${i.path.map(String).join('.')}`, message: i.message };
    });
    const fromEnvironment = issues.every((i) => !i.path.startsWith('--'));
    throw new ValidationError(fromEnvironment ? 'environment' : 'command-line options', issues);
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
  return new Option('--log-level <level>', 'log level of the runtime\'s JSON-lines log on stderr (fatal, error, warn, info, debug, trace, silent)')
    .env('NEUROFLUX_LOG_LEVEL')
    .default('info');
}
