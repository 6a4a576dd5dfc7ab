import { NeuroFluxError } from '../errors';

/** Stable codes of the errors the conflict engine throws (besides `ERR_VALIDATION`). */
export const ConflictErrorCode = {
  UNKNOWN_CONFLICT: 'ERR_UNKNOWN_CONFLICT',
  DUPLICATE_CONFLICT: 'ERR_DUPLICATE_CONFLICT',
  CONFLICT_STATE: 'ERR_CONFLICT_STATE',
  REMOTE_CONFLICT: 'ERR_REMOTE_CONFLICT',
} as const;
export type ConflictErrorCode = (typeof ConflictErrorCode)[keyof typeof ConflictErrorCode];

/** The call names a conflict the engine does not know (or no longer keeps a record of). */
export class UnknownConflictError extends NeuroFluxError {
  constructor(readonly conflictId: string) {
    super(ConflictErrorCode.UNKNOWN_CONFLICT, `conflict '${conflictId}' is not known`);
  }
}

/** A conflict id is reported twice. */
export class DuplicateConflictError extends NeuroFluxError {
  constructor(readonly conflictId: string) {
    super(ConflictErrorCode.DUPLICATE_CONFLICT, `conflict '${conflictId}' was already reported`);
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
  ) {
    super(ConflictErrorCode.CONFLICT_STATE, `conflict '${conflictId}' is ${status}; expected ${expected}`);
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
  ) {
    super(ConflictErrorCode.REMOTE_CONFLICT, `the leader refused conflict '${conflictId}': ${remoteMessage} (${remoteCode})`);
  }
}
