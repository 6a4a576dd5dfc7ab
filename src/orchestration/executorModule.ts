import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { describeError } from '../describeError';
import { ErrorCode, NeuroFluxError, ValidationError, type NeuroFluxErrorOptions } from '../errors';
import type { SourcePosition } from './workflowFileSource';

/** Stable code of {@link ExecutorNotAllowedError}. */
export const EXECUTOR_NOT_ALLOWED = ErrorCode.EXECUTOR_NOT_ALLOWED;

/**
 * A workflow file names an executor module outside its own folder (after symlinks are
 * resolved), and that place was not trusted explicitly (`allowedDirs`, the CLI's
 * `--allow-executors-outside <dir>`). Nothing was loaded.
 *
 * @example
 * ```ts
 * try { resolveWorkflowExecutors(workflow, file, { clock, seed: 1 }); }
 * catch (e) { if (e instanceof ExecutorNotAllowedError) console.error(e.agentId, e.field, e.modulePath); }
 * ```
 */
export class ExecutorNotAllowedError extends NeuroFluxError {
  constructor(
    /** The workflow file. */
    readonly file: string,
    /** The agent whose executor it is. */
    readonly agentId: string,
    /** Path of the field in the file, e.g. `agents[0].executor`. */
    readonly field: string,
    /** The module path as written in the file. */
    readonly modulePath: string,
    /** The module file it resolves to, symlinks resolved. */
    readonly resolvedPath: string,
    /** Folders modules may come from: the workflow file's, and any trusted explicitly. */
    readonly allowedDirs: readonly string[],
    /** Line and column of the field in the file, when known. */
    readonly position?: SourcePosition,
    options?: NeuroFluxErrorOptions,
  ) {
    super(
      EXECUTOR_NOT_ALLOWED,
      `${position ? `${file}:${position.line}:${position.column}` : file} ${field}: module '${modulePath}' of agent '${agentId}' (${resolvedPath}) is outside ${allowedDirs.join(', ')}; ` +
        'a workflow file runs the code it names: trust that folder with --allow-executors-outside <dir>',
      options,
    );
  }
}

/** Where an executor comes from: the agent and the field naming it. @internal */
export interface ExecutorSite {
  readonly file: string;
  readonly agentId: string;
  readonly field: string;
  readonly position?: SourcePosition;
}

/**
 * The real path of the module an executor spec names, relative to the workflow file,
 * once it is known to lie inside the workflow file's folder or one of `trustedDirs`
 * (symlinks resolved on both sides, so a link inside the folder pointing out of it is
 * refused). Resolving reads no module code: the check comes before anything is loaded.
 * A spec is always a path: `my-pkg#fn` is `./my-pkg` beside the workflow file, never a
 * package looked up in node_modules.
 * @internal
 */
export function resolveExecutorModule(modulePath: string, site: ExecutorSite, trustedDirs: readonly string[]): string {
  const wanted = resolve(dirname(site.file), modulePath);
  let real: string;
  try {
    real = realpathSync(require.resolve(wanted));
  } catch (error) {
    // Not Node's message: its require stack names our own files, not the workflow's (it stays the cause).
    throw new ValidationError(`workflow file ${site.file}`, [{ path: site.field, message: `module '${modulePath}' of agent '${site.agentId}' not found (looked for ${wanted})` }], {
      cause: error,
    });
  }
  const allowed = [realpathSync(dirname(site.file)), ...trustedDirs];
  if (!allowed.some((dir) => isInside(real, dir))) {
    throw new ExecutorNotAllowedError(site.file, site.agentId, site.field, modulePath, real, allowed, site.position);
  }
  return real;
}

/**
 * The real paths of folders trusted for executor modules, each checked to exist.
 * @internal
 */
export function trustedExecutorDirs(dirs: readonly string[], option: string): string[] {
  return dirs.map((dir) => {
    try {
      return realpathSync(dir);
    } catch (error) {
      throw new ValidationError('command-line options', [{ path: option, message: `cannot trust ${dir}: ${describeError(error)}` }], { cause: error });
    }
  });
}

function isInside(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && !isAbsolute(rel) && rel.split(sep)[0] !== '..';
}
