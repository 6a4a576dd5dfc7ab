import { z } from 'zod';
import { ValidationError } from '../errors';

/** A `--nats` URL. @internal */
export const NatsUrlSchema = z.string().regex(/^(nats|tls):\/\/\S+$/, 'expected a NATS URL such as nats://127.0.0.1:4222');

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
