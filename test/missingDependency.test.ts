/**
 * A package that a feature loads on first use, when missing, is a typed error naming the
 * package and the feature, with the loader's error as `cause` (review RA finding 6): every
 * lazy loader goes through src/optionalDependency.ts. Each case makes the package fail to
 * load the way Node does when it is not installed (an Error with code MODULE_NOT_FOUND),
 * in a fresh module registry, and calls the feature.
 */
import { ErrorCode, MissingDependencyError, NeuroFluxError } from '../src/errors';
import { loadOptional } from '../src/optionalDependency';

/** What Node throws for `require` of a package that is not installed. */
function moduleNotFound(name: string): Error {
  return Object.assign(new Error(`Cannot find module '${name}'\nRequire stack:\n- /somewhere/dist/neuroflux.js`), { code: 'MODULE_NOT_FOUND' });
}

describe('loadOptional', () => {
  it('turns a missing package into MissingDependencyError with the package, the feature and the cause', () => {
    let caught: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loadOptional('neuroflux-no-such-package', 'a test feature', () => require('neuroflux-no-such-package') as unknown);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MissingDependencyError);
    expect(caught).toBeInstanceOf(NeuroFluxError);
    const error = caught as MissingDependencyError;
    expect(error.code).toBe(ErrorCode.MISSING_DEPENDENCY);
    expect(error.packageName).toBe('neuroflux-no-such-package');
    expect(error.feature).toBe('a test feature');
    expect(error.message).toContain("'neuroflux-no-such-package'");
    expect(error.message).not.toContain('Require stack');
    expect((error.cause as { code?: unknown }).code).toBe('MODULE_NOT_FOUND');
  });

  it('returns what loads, and rethrows any other failure unchanged', () => {
    expect(loadOptional('x', 'f', () => 42)).toBe(42);
    const broken = new TypeError('the package itself is broken');
    expect(() =>
      loadOptional('x', 'f', () => {
        throw broken;
      }),
    ).toThrow(broken);
    // Hostile throws: a string, an object whose `code` getter throws.
    const trap = Object.defineProperty({}, 'code', {
      get() {
        throw new Error('trap');
      },
    });
    let caught: unknown;
    try {
      loadOptional('x', 'f', () => {
        throw trap;
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(trap);
    expect(() =>
      loadOptional('x', 'f', () => {
        throw 'MODULE_NOT_FOUND';
      }),
    ).toThrow('MODULE_NOT_FOUND');
  });
});

/**
 * Calls `use` with `packageName` failing to load in a fresh registry; returns what it threw.
 * The error classes come from the same fresh registry, so they are checked by name and code.
 */
async function failureWithout(packageName: string, use: () => unknown): Promise<unknown> {
  let thrown: unknown;
  jest.resetModules();
  jest.doMock(packageName, () => {
    throw moduleNotFound(packageName);
  });
  try {
    await use();
  } catch (error) {
    thrown = error;
  } finally {
    jest.dontMock(packageName);
    jest.resetModules();
  }
  return thrown;
}

/* eslint-disable @typescript-eslint/no-require-imports */
const cases: [string, string, () => unknown][] = [
  ['ioredis', 'RedisCache', () => new (require('../src/cache/redisCache') as typeof import('../src/cache/redisCache')).RedisCache()],
  [
    'yaml',
    'workflow file',
    () => (require('../src/orchestration/workflowFileSource') as typeof import('../src/orchestration/workflowFileSource')).parseWorkflowSource(Buffer.from('tasks: []\n'), 'yaml'),
  ],
  ['prom-client', 'createMetrics', () => (require('../src/observability/runtimeMetrics') as typeof import('../src/observability/runtimeMetrics')).createMetrics({} as never)],
  ['@opentelemetry/api', 'tracing', () => (require('../src/observability/tracing/otelApi') as typeof import('../src/observability/tracing/otelApi')).otelApi()],
  ['@nats-io/transport-node', 'NATS', () => (require('../src/transport/natsClient') as typeof import('../src/transport/natsClient')).natsCore()],
  ['@nats-io/jetstream', 'NATS', () => (require('../src/transport/natsClient') as typeof import('../src/transport/natsClient')).natsJetStream()],
  ['@nats-io/kv', 'NATS', () => (require('../src/transport/natsClient') as typeof import('../src/transport/natsClient')).natsKv()],
  ['@nats-io/nkeys', 'NATS', () => (require('../src/transport/natsClient') as typeof import('../src/transport/natsClient')).natsKeys()],
  [
    'ws',
    'inspector',
    async () => {
      // The inspection source it was given is closed, as on its other refusals.
      const close = jest.fn();
      try {
        await (require('../src/observability/inspector/inspectorServer') as typeof import('../src/observability/inspector/inspectorServer')).serveInspection(
          { name: 'test', close } as never,
          {},
        );
      } finally {
        expect(close).toHaveBeenCalledTimes(1);
      }
    },
  ],
  ['graphology', 'swarm', () => (require('../src/swarm/topologyMetrics') as typeof import('../src/swarm/topologyMetrics')).toGraph({} as never)],
];
/* eslint-enable @typescript-eslint/no-require-imports */

describe('every lazy loader', () => {
  it.each(cases)('%s missing: the feature (%s) throws ERR_MISSING_DEPENDENCY naming it, with the cause', async (packageName, feature, use) => {
    const thrown = (await failureWithout(packageName, use)) as { name?: string; code?: string; packageName?: string; feature?: string; cause?: { code?: string } };
    expect({ name: thrown?.name, code: thrown?.code, packageName: thrown?.packageName, cause: thrown?.cause?.code }).toEqual({
      name: 'MissingDependencyError',
      code: ErrorCode.MISSING_DEPENDENCY,
      packageName,
      cause: 'MODULE_NOT_FOUND',
    });
    expect(thrown.feature?.toLowerCase()).toContain(feature.toLowerCase());
  });
});
