import { hostname } from 'node:os';
import { z } from 'zod';
import { ValidationError } from '../errors';
import { describeError } from '../describeError';

/** Log levels, as pino names them; `silent` logs nothing. */
export const LogLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export type LogLevel = z.output<typeof LogLevelSchema>;

/** pino's numeric levels: the JSON lines of the built-in logger carry them, so pino tools read them. */
const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** A logging method: an object of fields and a message, or a message alone (pino's call shapes). */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/**
 * What NeuroFlux logs through: the subset of pino's API it uses, so a pino logger (or a
 * child of your application's) fits as it is, and so does any logger with these methods.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const nf = createNeuroFlux({ logger: pino({ level: 'info' }).child({ component: 'neuroflux' }) });
 * ```
 */
export interface NeuroFluxLogger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): NeuroFluxLogger;
}

/** Options of {@link jsonLinesLogger}. */
export interface JsonLinesLoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** Receives each line (with its newline). Default: the process's stderr. */
  write?: (line: string) => void;
  /** Fields on every line. */
  bindings?: Record<string, unknown>;
}

/** JSON.stringify that never throws: BigInt as a string, cycles marked, errors as their message and stack. */
function safeJson(value: object): string {
  const seen = new WeakSet();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return { type: v.name, message: v.message, stack: v.stack };
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[Circular]';
      seen.add(v);
    }
    return v;
  });
}

/**
 * A small logger that writes pino-compatible JSON lines (`level` as pino's number, `time`
 * in ms, `pid`, `hostname`, the bindings, the fields, `msg`), so `pino-pretty` and log
 * shippers read them. Used when pino is not installed. Never throws: unserialisable
 * fields (BigInt, cycles) are written as strings, a failing `write` is ignored.
 *
 * @example
 * ```ts
 * const logger = jsonLinesLogger({ level: 'debug' });
 * logger.child({ hostId: 'host-1' }).info({ taskId: 't1' }, 'task completed');
 * ```
 */
export function jsonLinesLogger(options: JsonLinesLoggerOptions = {}): NeuroFluxLogger {
  const parsedLevel = LogLevelSchema.safeParse(options.level ?? 'info');
  if (!parsedLevel.success) throw ValidationError.fromZod('logger level', parsedLevel.error);
  const threshold = LEVEL_VALUES[parsedLevel.data];
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const base = { pid: process.pid, hostname: hostname() };
  const make = (bindings: Record<string, unknown>): NeuroFluxLogger => {
    const method =
      (level: LogLevel): LogFn =>
      // `msg` is unknown: callers in plain JavaScript pass anything, and the line must still be written.
      (first: object | string, msg?: unknown) => {
        if (LEVEL_VALUES[level] < threshold) return;
        const fields = typeof first === 'string' || first === null || typeof first !== 'object' ? {} : first;
        const given = typeof first === 'string' ? first : msg;
        const message = given === undefined || typeof given === 'string' ? given : describeError(given);
        let line: string;
        try {
          line = safeJson({ level: LEVEL_VALUES[level], time: Date.now(), ...base, ...bindings, ...fields, ...(message !== undefined && { msg: message }) });
        } catch {
          line = safeJson({ level: LEVEL_VALUES[level], time: Date.now(), ...base, msg: message ?? '', logError: 'fields could not be serialised' });
        }
        try {
          write(`${line}\n`);
        } catch {
          // A closed stderr must not fail the work that logs.
        }
      };
    return {
      error: method('error'),
      warn: method('warn'),
      info: method('info'),
      debug: method('debug'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make({ ...options.bindings });
}

/** A logger that writes nothing. */
export const silentLogger: NeuroFluxLogger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
};

/** Whether `value` has the methods of a {@link NeuroFluxLogger}. @internal */
export function isNeuroFluxLogger(value: unknown): value is NeuroFluxLogger {
  const v = value as Partial<Record<keyof NeuroFluxLogger, unknown>> | null;
  return typeof v === 'object' && v !== null && ['error', 'warn', 'info', 'debug', 'child'].every((k) => typeof v[k as keyof NeuroFluxLogger] === 'function');
}

type PinoFactory = ((options: Record<string, unknown>, destination: unknown) => unknown) & { destination?: (fd: number) => unknown };

// Looked up once per process: a failed require walks every node_modules folder up to the
// root, and tests that create hundreds of runtimes (the verifier's replays) paid ~10 % for it.
let pinoLookup: { readonly pino: PinoFactory | undefined } | undefined;

/** pino when it can be loaded (it is not a dependency: only if the application installed it). @internal */
function loadPino(): PinoFactory | undefined {
  pinoLookup ??= { pino: requirePino() };
  return pinoLookup.pino;
}

function requirePino(): PinoFactory | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require('pino') as { default?: unknown };
    const pino = typeof loaded === 'function' ? loaded : loaded.default;
    return typeof pino === 'function' ? (pino as PinoFactory) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The level a runtime logs at when none is given: `NEUROFLUX_LOG_LEVEL` if set, else
 * `warn` (an embedded runtime speaks up only when something is wrong).
 * @throws ValidationError naming `NEUROFLUX_LOG_LEVEL` when it holds no level.
 */
export function logLevelFromEnvironment(env: Readonly<Record<string, string | undefined>> = process.env, fallback: LogLevel = 'warn'): LogLevel {
  const raw = env['NEUROFLUX_LOG_LEVEL'];
  if (raw === undefined || raw === '') return fallback;
  const parsed = LogLevelSchema.safeParse(raw.trim().toLowerCase());
  if (!parsed.success) throw new ValidationError('environment', [{ path: 'NEUROFLUX_LOG_LEVEL', message: `expected one of ${LogLevelSchema.options.join(', ')}, got '${raw}'` }]);
  return parsed.data;
}

/**
 * The logger of a runtime created without one, and of the CLI: pino writing to stderr when
 * the application has pino installed, otherwise {@link jsonLinesLogger} (the same line
 * format) on stderr. Either way at `level` (default: {@link logLevelFromEnvironment}).
 *
 * @example
 * ```ts
 * const logger = defaultLogger('info');
 * ```
 */
export function defaultLogger(level: LogLevel = logLevelFromEnvironment()): NeuroFluxLogger {
  const pino = loadPino();
  if (pino) {
    try {
      const logger = pino({ name: 'neuroflux', level }, pino.destination?.(2));
      if (isNeuroFluxLogger(logger)) return logger;
    } catch {
      // An incompatible pino: the built-in logger below.
    }
  }
  return jsonLinesLogger({ level, bindings: { name: 'neuroflux' } });
}
