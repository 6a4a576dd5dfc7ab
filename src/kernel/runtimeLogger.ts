import type { AnyActorRef } from 'xstate';
import { silentLogger, type LogFn, type NeuroFluxLogger } from './logger';

/** The logger of each runtime, by its root actor: components built on a runtime's bus log through it. */
const loggers = new WeakMap<AnyActorRef, NeuroFluxLogger>();

/** Makes `logger` the runtime's (called by `createNeuroFlux`). @internal */
export function attachRuntimeLogger(root: AnyActorRef, logger: NeuroFluxLogger): void {
  loggers.set(root, logger);
}

/**
 * A user's logger that throws must not fail the step that logs (a bus delivery, a task's
 * report): its throws are swallowed.
 */
function guarded(logger: NeuroFluxLogger): NeuroFluxLogger {
  const method =
    (name: 'error' | 'warn' | 'info' | 'debug'): LogFn =>
    (first: object | string, msg?: string) => {
      try {
        if (typeof first === 'string') logger[name](first);
        else logger[name](first, msg);
      } catch {
        // Logging is best effort.
      }
    };
  return {
    error: method('error'),
    warn: method('warn'),
    info: method('info'),
    debug: method('debug'),
    child: (bindings) => {
      try {
        return guarded(logger.child(bindings));
      } catch {
        return silentLogger;
      }
    },
  };
}

/**
 * The logger of the runtime whose root is `root`, with `bindings` (e.g. `{ component: 'agentHost' }`);
 * silent for a root no runtime attached one to (a bus built by hand).
 * @internal
 */
export function runtimeLogger(root: AnyActorRef, bindings: Record<string, unknown>): NeuroFluxLogger {
  return guarded(loggers.get(root) ?? silentLogger).child(bindings);
}
