import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ValidationError } from '../errors';
import { SubjectTokenSchema } from '../transport/natsOptions';

/** A credentials file written by `neuroflux nats-config --out` (one per process). */
const NatsCredentialsFileSchema = z
  .object({
    namespace: SubjectTokenSchema,
    role: z.enum(['orchestrator', 'host', 'inspector']),
    identity: SubjectTokenSchema,
    user: z.string().min(1).optional(),
    pass: z.string().optional(),
    nkeySeed: z.string().startsWith('SU', 'must be a user nkey seed (SU...)').optional(),
    inboxPrefix: SubjectTokenSchema,
  })
  .refine((c) => (c.user !== undefined) !== (c.nkeySeed !== undefined), { message: 'give user/pass or nkeySeed', path: ['nkeySeed'] });

/** What a credentials file gives the NATS transport. @internal */
export interface NatsCredentials {
  readonly role: 'orchestrator' | 'host' | 'inspector';
  readonly transport: {
    readonly namespace: string;
    readonly identity: string;
    readonly inboxPrefix: string;
    readonly user?: string;
    readonly pass?: string;
    readonly nkeySeed?: string;
  };
}

/** Reads and validates a credentials file; errors name the file and the field. @internal */
export function readNatsCredentials(path: string): NatsCredentials {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ValidationError('command-line options', [{ path: '--credentials', message: `cannot read ${path} as JSON: ${(error as Error).message}` }], { cause: error });
  }
  const parsed = NatsCredentialsFileSchema.safeParse(json);
  if (!parsed.success) throw ValidationError.fromZod(`credentials file ${path}`, parsed.error);
  const { role, namespace, identity, inboxPrefix, user, pass, nkeySeed } = parsed.data;
  return {
    role,
    transport: { namespace, identity, inboxPrefix, ...(user !== undefined && { user, pass: pass ?? '' }), ...(nkeySeed !== undefined && { nkeySeed }) },
  };
}
