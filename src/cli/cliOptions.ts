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

/** Parses CLI options with a schema; errors name the option. @internal */
export function parseCliOptions<T>(schema: z.ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(
      'command-line options',
      parsed.error.issues.map((i) => ({ path: `--${i.path.map(String).join('.')}`, message: i.message })),
    );
  }
  return parsed.data;
}
