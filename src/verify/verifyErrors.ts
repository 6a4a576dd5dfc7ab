import { ErrorCode, NeuroFluxError, type NeuroFluxErrorOptions } from '../errors';

/** Stable codes of the errors the verifier throws (besides `ERR_VALIDATION` and `ERR_WORKFLOW_INVALID`). */
export const VerifyErrorCode = {
  INVALID_TRACE: ErrorCode.INVALID_TRACE,
} as const;
export type VerifyErrorCode = (typeof VerifyErrorCode)[keyof typeof VerifyErrorCode];

/**
 * A trace given to `replayTrace` is not a run of the workflow: a step names an unknown
 * task, or cannot happen in the state the previous steps lead to (e.g. `task_succeeded`
 * for a task that is not running).
 */
export class InvalidTraceError extends NeuroFluxError {
  constructor(
    /** 0-based index of the offending step. */
    readonly stepIndex: number,
    reason: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(VerifyErrorCode.INVALID_TRACE, `trace step ${stepIndex + 1}: ${reason}`, options);
  }
}
