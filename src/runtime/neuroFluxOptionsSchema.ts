import { z } from 'zod';
import { ValidationError } from '../errors';
import { isNeuroFluxLogger } from '../kernel/logger';

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null && !Array.isArray(value);
const fn = (what: string) => z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', `expected ${what} (a function)`);
/** An options object its component validates in full (a bus, an engine...): here only its kind. */
const section = (what: string) => z.custom<object>(isObject, `expected ${what} (an object)`);

/**
 * The shape of {@link NeuroFluxOptions} at the boundary: `createNeuroFlux(options)` and the
 * input of `neuroFluxLogic` are checked with it, so both refuse the same input with the same
 * `ValidationError` naming the field. An unknown key is refused (a misspelt option would
 * otherwise be ignored); each section's contents are checked by the component it configures.
 * Checked, not parsed into a copy: the clock, transport, logger and stores keep their identity.
 * @internal
 */
export const NeuroFluxOptionsSchema = z
  .object({
    clock: z
      .custom<object>(
        (value) => isObject(value) && ['now', 'setTimeout', 'clearTimeout'].every((k) => typeof (value as Record<string, unknown>)[k] === 'function'),
        'expected a clock with now, setTimeout and clearTimeout methods',
      )
      .optional(),
    bus: section('bus options').optional(),
    orchestrator: z.union([z.literal(false), section('orchestrator options')]).optional(),
    conflicts: section('conflict engine options').optional(),
    swarm: section('swarm options').optional(),
    inspect: z.union([fn('an inspection observer'), section('an inspection observer')]).optional(),
    name: z.string().optional(),
    inspector: section('inspector options').optional(),
    metrics: z.boolean().optional(),
    transport: z
      .custom<object>(
        (value) => isObject(value) && ['attach', 'start', 'close'].every((k) => typeof (value as Record<string, unknown>)[k] === 'function'),
        'expected a transport with attach, start and close methods',
      )
      .optional(),
    logger: z.custom<object>(isNeuroFluxLogger, 'expected a logger with error, warn, info, debug and child methods (pino fits)').optional(),
    scaling: section('scaling options').optional(),
  })
  .strict();

/**
 * Throws a `ValidationError` ('runtime options', naming the field) unless `options` fits
 * {@link NeuroFluxOptionsSchema}; `undefined` is no options.
 * @internal
 */
export function checkNeuroFluxOptions(options: unknown): void {
  if (options === undefined) return;
  if (!isObject(options)) throw new ValidationError('runtime options', [{ path: '', message: 'expected an options object' }]);
  const checked = NeuroFluxOptionsSchema.safeParse(options);
  if (!checked.success) throw validationErrorOf('runtime options', checked.error);
}

/**
 * `ValidationError.fromZod`, with an unknown key named as the field (zod reports it on the
 * object that holds it, which would name no field at the top level).
 * @internal
 */
export function validationErrorOf(what: string, error: z.ZodError): ValidationError {
  return new ValidationError(
    what,
    error.issues.flatMap((issue) => {
      const path = issue.path.map(String);
      return issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: [...path, key].join('.'), message: 'unknown field' }))
        : [{ path: path.join('.'), message: issue.message }];
    }),
  );
}
