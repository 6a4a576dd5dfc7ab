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
 * - `STDOUT_CLOSED` (141): the reader of stdout went away (`| head`): stopped quietly, as a
 *   process killed by SIGPIPE would report (128 + 13).
 * - `TERMINATED` (143): stopped by SIGTERM before it finished (128 + signal 15).
 */
export const ExitCode = {
  SUCCESS: 0,
  FAILED: 1,
  INVALID_INPUT: 2,
  CANNOT_RUN: 3,
  INTERRUPTED: 130,
  STDOUT_CLOSED: 141,
  TERMINATED: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What stopped a command before it finished: a signal, or its stdout closed by the reader (EPIPE). @internal */
export type Interruption = 'SIGINT' | 'SIGTERM' | 'EPIPE';

/** The exit code and the words for an interruption; anything else (a test's hook) counts as Ctrl-C. @internal */
export function interruptionOf(value: unknown): { exitCode: ExitCode; said: string | undefined } {
  if (value === 'SIGTERM') return { exitCode: ExitCode.TERMINATED, said: 'terminated (SIGTERM)' };
  // Nobody reads stdout any more: nothing to say, and stderr stays quiet too.
  if (value === 'EPIPE') return { exitCode: ExitCode.STDOUT_CLOSED, said: undefined };
  return { exitCode: ExitCode.INTERRUPTED, said: 'interrupted (Ctrl-C)' };
}

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
