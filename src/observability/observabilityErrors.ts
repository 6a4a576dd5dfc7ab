import { ErrorCode, NeuroFluxError, type NeuroFluxErrorOptions } from '../errors';
import { describeError } from '../describeError';

/** Stable codes of the observability tools' own errors (bad options are `ValidationError`s): a subset of {@link ErrorCode}. */
export const ObservabilityErrorCode = {
  INSPECTOR_NOT_LOOPBACK: ErrorCode.INSPECTOR_NOT_LOOPBACK,
  INSPECTOR_LISTEN: ErrorCode.INSPECTOR_LISTEN,
  INSPECTOR_ACTION_REFUSED: ErrorCode.INSPECTOR_ACTION_REFUSED,
} as const;
export type ObservabilityErrorCode = (typeof ObservabilityErrorCode)[keyof typeof ObservabilityErrorCode];

/**
 * The inspector was asked to listen on an address other than loopback. It shows the whole
 * runtime (payload summaries included) and has no authentication, so it never listens
 * beyond the machine; put an authenticating proxy in front to share it.
 *
 * @example
 * ```ts
 * try { await startInspector(nf, { host: '0.0.0.0' }); }
 * catch (e) { if (e instanceof InspectorAddressError) console.log(e.host); }
 * ```
 */
export class InspectorAddressError extends NeuroFluxError {
  constructor(
    readonly host: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ObservabilityErrorCode.INSPECTOR_NOT_LOOPBACK, `the inspector listens on loopback only (127.0.0.1, ::1, localhost), not '${host}'`, options);
  }
}

/** The inspector's server could not listen (port taken, permission...); `reason` is also the `cause`. */
export class InspectorListenError extends NeuroFluxError {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly reason: unknown,
    options: NeuroFluxErrorOptions = { cause: reason },
  ) {
    super(ObservabilityErrorCode.INSPECTOR_LISTEN, `the inspector could not listen on ${host}:${port}: ${describeError(reason)}`, options);
  }
}

/**
 * An inspector action (cancel or retry a task, pause or resume an agent) was refused: the task
 * is unknown or finished, no runtime accepts actions, or the runtime that owns it said no
 * (its answer is the message). The inspector answers the page with HTTP 409 and this message.
 */
export class InspectorActionRefusedError extends NeuroFluxError {
  constructor(reason: string, options?: NeuroFluxErrorOptions) {
    super(ObservabilityErrorCode.INSPECTOR_ACTION_REFUSED, reason, options);
  }
}
