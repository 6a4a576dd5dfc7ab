import type * as OtelApi from '@opentelemetry/api';
import { loadOptional } from '../../optionalDependency';

let api: typeof OtelApi | undefined;

/**
 * `@opentelemetry/api` (44 modules), loaded when tracing is first used, not by
 * `require('neuroflux')` (issue #16: the package loads at most 150 modules). Kept once
 * loaded: traced deliveries ask for it several times per message. The API keeps its state
 * in one global per major version, so this copy and the application's share the registered
 * tracer provider and propagator.
 * @internal
 */
export function otelApi(): typeof OtelApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (api ??= loadOptional('@opentelemetry/api', 'tracing', () => require('@opentelemetry/api') as typeof OtelApi));
}
