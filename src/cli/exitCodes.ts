import { CommanderError } from 'commander';
import { ValidationError, WorkflowValidationError } from '../errors';
import { ExecutorNotAllowedError } from '../orchestration/executorModule';
import { CannotRunError } from './cannotRunError';

/**
 * The exit codes of every `neuroflux` command, one table for all of them (docs/cli.md).
 *
 * - `SUCCESS` (0): the command did what was asked (every task completed, the workflow verified).
 * - `FAILED` (1): the workflow ran or was verified and something failed or was violated.
 * - `INVALID_INPUT` (2): the input is wrong (a workflow file, a flag, a command-line usage error).
 * - `CANNOT_RUN` (3): the command could not run (NATS unreachable, a store refused, the
 *   verifier's state bound stopped the search before a verdict).
 * - `INTERRUPTED` (130): stopped by Ctrl-C (SIGINT) before it finished (128 + signal 2).
 */
export const ExitCode = {
  SUCCESS: 0,
  FAILED: 1,
  INVALID_INPUT: 2,
  CANNOT_RUN: 3,
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The exit code for an error that ended a command: a usage error of commander (unknown
 * option, missing argument) or invalid input is 2, a {@link CannotRunError} or any
 * unexpected error 3; help and `--version` are 0.
 * @internal
 */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.SUCCESS : ExitCode.INVALID_INPUT;
  if (error instanceof ValidationError || error instanceof WorkflowValidationError || error instanceof ExecutorNotAllowedError) return ExitCode.INVALID_INPUT;
  // A CannotRunError, or an error nobody expected: either way the command could not run.
  if (error instanceof CannotRunError) return ExitCode.CANNOT_RUN;
  return ExitCode.CANNOT_RUN;
}
