import { ErrorCode, NeuroFluxError, type NeuroFluxErrorOptions } from '../errors';

/** Stable codes of the errors the conflict engine throws (besides `ERR_VALIDATION`): a subset of {@link ErrorCode}. */
export const ConflictErrorCode = {
  UNKNOWN_CONFLICT: ErrorCode.UNKNOWN_CONFLICT,
  DUPLICATE_CONFLICT: ErrorCode.DUPLICATE_CONFLICT,
  CONFLICT_STATE: ErrorCode.CONFLICT_STATE,
  REMOTE_CONFLICT: ErrorCode.REMOTE_CONFLICT,
} as const;
export type ConflictErrorCode = (typeof ConflictErrorCode)[keyof typeof ConflictErrorCode];

/** The call names a conflict the engine does not know (or no longer keeps a record of). */
export class UnknownConflictError extends NeuroFluxError {
  constructor(
    readonly conflictId: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ConflictErrorCode.UNKNOWN_CONFLICT, `conflict '${conflictId}' is not known`, options);
  }
}

/** A conflict id is reported twice. */
export class DuplicateConflictError extends NeuroFluxError {
  constructor(
    readonly conflictId: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ConflictErrorCode.DUPLICATE_CONFLICT, `conflict '${conflictId}' was already reported`, options);
  }
}

/**
 * The call does not fit where the conflict is, e.g. a human decision for a conflict
 * that is not awaiting one, or an outcome for a conflict still open.
 */
export class ConflictStateError extends NeuroFluxError {
  constructor(
    readonly conflictId: string,
    readonly status: string,
    expected: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ConflictErrorCode.CONFLICT_STATE, `conflict '${conflictId}' is ${status}; expected ${expected}`, options);
  }
}

/**
 * The leader's engine refused a conflict call a standby forwarded to it: `remoteCode` and
 * the message are the leader's error (e.g. `ERR_VALIDATION`, `ERR_NOT_RUNNING`).
 */
export class RemoteConflictError extends NeuroFluxError {
  constructor(
    readonly conflictId: string,
    readonly remoteCode: string,
    remoteMessage: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ConflictErrorCode.REMOTE_CONFLICT, `the leader refused conflict '${conflictId}': ${remoteMessage} (${remoteCode})`, options);
  }
}
