import { describeError } from '../describeError';
import { ErrorCode, NeuroFluxError, type NeuroFluxErrorOptions } from '../errors';

/**
 * A command could not do its work for a reason outside its input: the NATS server is
 * unreachable or refuses us, a store cannot be opened. Exit code 3 (`ExitCode.CANNOT_RUN`).
 * @internal
 */
export class CannotRunError extends NeuroFluxError {
  constructor(message: string, options?: NeuroFluxErrorOptions) {
    super(ErrorCode.CANNOT_RUN, message, options);
  }
}

/**
 * Starts a runtime, turning a failure into a {@link CannotRunError} that names the NATS
 * server when there is one (`cannot start on NATS at nats://127.0.0.1:4222: connection refused`).
 * What was started is stopped again, so the process can exit.
 * @internal
 */
export async function startOrCannotRun(runtime: { start(): Promise<void>; stop(): Promise<void> }, natsUrl?: string): Promise<void> {
  try {
    await runtime.start();
  } catch (error) {
    await runtime.stop().catch(() => undefined);
    throw new CannotRunError(`cannot start ${natsUrl === undefined ? 'the runtime' : `on NATS at ${natsUrl}`}: ${describeError(error)}`, { cause: error });
  }
}
