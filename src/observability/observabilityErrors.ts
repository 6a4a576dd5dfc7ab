import { NeuroFluxError } from '../errors';
import { describeError } from '../describeError';

/** Stable codes of the observability tools' own errors (bad options are `ValidationError`s). */
export const ObservabilityErrorCode = {
  INSPECTOR_NOT_LOOPBACK: 'ERR_INSPECTOR_NOT_LOOPBACK',
  INSPECTOR_LISTEN: 'ERR_INSPECTOR_LISTEN',
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
  constructor(readonly host: string) {
    super(ObservabilityErrorCode.INSPECTOR_NOT_LOOPBACK, `the inspector listens on loopback only (127.0.0.1, ::1, localhost), not '${host}'`);
  }
}

/** The inspector's server could not listen (port taken, permission...). */
export class InspectorListenError extends NeuroFluxError {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly reason: unknown,
  ) {
    super(
      ObservabilityErrorCode.INSPECTOR_LISTEN,
      `the inspector could not listen on ${host}:${port}: ${describeError(reason)}`,
    );
  }
}
