import { ErrorCode, NeuroFluxError, type NeuroFluxErrorOptions } from '../errors';

/**
 * Stable codes of the swarm's own errors (unknown agents use `UnknownAgentError`,
 * bad input `ValidationError`, use after `stop()` `NotRunningError`).
 */
export const SwarmErrorCode = {
  UNKNOWN_CONNECTION: ErrorCode.UNKNOWN_CONNECTION,
  DUPLICATE_NETWORK: ErrorCode.DUPLICATE_NETWORK,
} as const;
export type SwarmErrorCode = (typeof SwarmErrorCode)[keyof typeof SwarmErrorCode];

/**
 * The call names a connection id the network does not have (never created, or pruned).
 *
 * @example
 * ```ts
 * try { network.getConnectionStrength('conn-99'); }
 * catch (e) { if (e instanceof UnknownConnectionError) console.log(e.connectionId); }
 * ```
 */
export class UnknownConnectionError extends NeuroFluxError {
  constructor(
    readonly connectionId: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(SwarmErrorCode.UNKNOWN_CONNECTION, `connection '${connectionId}' is not in the swarm network`, options);
  }
}

/** A second network with the same id was attached to the same runtime. */
export class DuplicateNetworkError extends NeuroFluxError {
  constructor(
    readonly networkId: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(SwarmErrorCode.DUPLICATE_NETWORK, `a swarm network '${networkId}' already runs in this runtime`, options);
  }
}
