import { MissingDependencyError } from './errors';

/** Node's code for a module `require` cannot find (every loader here is a `require`). */
const NOT_FOUND = 'MODULE_NOT_FOUND';

/**
 * Loads a package that a feature needs only when used (issue #16: `require('neuroflux')`
 * loads none of them), turning "not installed" into a {@link MissingDependencyError} that
 * names the package and the feature, with the loader's error as `cause`, instead of a raw
 * MODULE_NOT_FOUND with a require stack of bundle paths. Any other failure of the package's
 * own code is rethrown as it is.
 *
 * `load` is the `require` call itself, written with its literal package name at the call
 * site, so bundlers and the lazy-dependency test still see which package is required where.
 * @internal
 */
export function loadOptional<T>(packageName: string, feature: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (codeOf(error) === NOT_FOUND) throw new MissingDependencyError(packageName, feature, { cause: error });
    throw error;
  }
}

/** `error.code`, read without trusting the value (no `instanceof Error`: a loader may throw from another realm, as Jest's does). */
function codeOf(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return undefined;
  try {
    return (error as { code?: unknown }).code;
  } catch {
    return undefined;
  }
}
