/**
 * Error codes are one union (`ErrorCode`) and every error carries the value it wraps as
 * `cause` (issue #16). The exported error classes are enumerated at run time from the public
 * API, so a class added later without a code from `ErrorCode`, or without `{ cause }`, fails
 * here until it gets both (and an entry in `sampleArguments`).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import { z } from 'zod';
import * as api from '../src';
import { CannotRunError, startOrCannotRun } from '../src/cli/cannotRunError';
import { CommandLineError } from '../src/cli/cliOptions';
import {
  CommunicationBus,
  ConflictErrorCode,
  DeliveryFailedError,
  ErrorCode,
  FileSnapshotStore,
  InspectorListenError,
  NeuroFluxError,
  ObservabilityErrorCode,
  PoolErrorCode,
  SwarmErrorCode,
  ValidationError,
  VerifyErrorCode,
  WorkflowFileError,
  loadWorkflowFile,
} from '../src';

type ErrorClass = new (...args: never[]) => Error;

/** Every class the public API exports that is an `Error`, by export name. */
function exportedErrorClasses(): Map<string, ErrorClass> {
  const found = new Map<string, ErrorClass>();
  for (const [name, value] of Object.entries(api)) {
    if (typeof value === 'function' && (value === Error || (value as { prototype?: unknown }).prototype instanceof Error)) found.set(name, value as ErrorClass);
  }
  return found;
}

/**
 * Arguments to build one instance of each class, every declared parameter given (optional
 * ones as `undefined`) so that the options object goes last, where the class takes it.
 */
const sampleArguments: Record<string, readonly unknown[]> = {
  NeuroFluxError: [ErrorCode.VALIDATION, 'base'],
  ValidationError: ['thing', [{ path: 'a.b', message: 'bad' }]],
  WorkflowFileError: ['flow.yaml', [{ file: 'flow.yaml', path: 'tasks[0]', message: 'bad' }], 0],
  RequestTimeoutError: ['agent', 'topic', 10],
  QueueFullError: ['agent', 3],
  DeliveryFailedError: ['agent', 'topic', 'max_retries', undefined],
  UnknownAgentError: ['agent'],
  DuplicateAgentError: ['agent'],
  NotRunningError: ['bus'],
  StandbyError: ['orchestrator', 'standby'],
  AgentsUnavailableError: [[['gpu']], ['gpu'], 10],
  WorkflowValidationError: [[{ kind: 'cycle', taskIds: ['a'], message: 'cycle a' }]],
  UnknownTaskError: ['task'],
  TaskNotRetryableError: ['task', 'running', undefined],
  DuplicateTaskError: ['task'],
  AssignmentRefusedError: ['task', 'agent', 'busy'],
  ExecutorNotAllowedError: ['flow.yaml', 'agent', 'agents[0].executor', '../x.js', '/x.js', ['/flows'], undefined],
  UnknownConflictError: ['c'],
  DuplicateConflictError: ['c'],
  ConflictStateError: ['c', 'open', 'resolved'],
  RemoteConflictError: ['c', 'ERR_NOT_RUNNING', 'stopped'],
  UnknownConnectionError: ['conn'],
  DuplicateNetworkError: ['net'],
  RevisionMismatchError: ['key', 1, 2],
  PoolTimeoutError: ['db', 10],
  PoolClosedError: ['db'],
  UnknownPoolError: ['db'],
  ForeignResourceError: ['db'],
  HostStartError: ['host-1', 'exited'],
  HostStopError: [['host-1'], 2, 'EPERM'],
  NoRegionError: [['gpu']],
  InspectorAddressError: ['0.0.0.0'],
  InspectorListenError: ['127.0.0.1', 80, new Error('EACCES')],
  InspectorActionRefusedError: ['task t1 is already finished'],
  InvalidTraceError: [0, 'unknown task'],
  MissingDependencyError: ['ioredis', 'RedisCache'],
};

function build(name: string, Class: ErrorClass, options?: { cause: unknown }): NeuroFluxError {
  const args = sampleArguments[name];
  if (!args) throw new Error(`test/errorCodes.test.ts: add sample constructor arguments for the exported error class ${name}`);
  const instance = new Class(...((options ? [...args, options] : args) as never[]));
  return instance as NeuroFluxError;
}

const codes: readonly string[] = Object.values(ErrorCode);

describe('error codes: one union', () => {
  test('the public API exports the error classes this test knows, and no other', () => {
    expect([...exportedErrorClasses().keys()].sort()).toEqual(Object.keys(sampleArguments).sort());
  });

  test.each([...exportedErrorClasses()])('%s is a NeuroFluxError whose code is an ErrorCode value, with its own name', (name, Class) => {
    const error = build(name, Class);
    expect(error).toBeInstanceOf(NeuroFluxError);
    expect(error).toBeInstanceOf(Error);
    expect(codes).toContain(error.code);
    expect(error.name).toBe(name);
    expect(error.message.length).toBeGreaterThan(0);
  });

  test('ErrorCode values are distinct ERR_ strings named after their keys', () => {
    expect(new Set(codes).size).toBe(codes.length);
    for (const [key, value] of Object.entries(ErrorCode)) expect(value).toBe(`ERR_${key}`);
  });

  test('one code per meaning: two classes share a code only when one is a kind of the other', () => {
    const byCode = new Map<string, [string, ErrorClass][]>();
    for (const [name, Class] of exportedErrorClasses()) {
      if (name === 'NeuroFluxError') continue;
      const code = build(name, Class).code;
      byCode.set(code, [...(byCode.get(code) ?? []), [name, Class]]);
    }
    for (const [code, classes] of byCode) {
      for (const [nameA, A] of classes) {
        for (const [nameB, B] of classes) {
          const related = A === B || A.prototype instanceof B || B.prototype instanceof A;
          if (!related) throw new Error(`${nameA} and ${nameB} share ${code} but neither is a kind of the other`);
        }
      }
    }
    // Every code but the wire-only one is thrown by some class (internal ones included).
    const thrown = new Set([...byCode.keys(), new CannotRunError('x').code]);
    expect(codes.filter((code) => !thrown.has(code))).toEqual([ErrorCode.INTERNAL]);
  });

  test("feature modules' code objects are subsets of ErrorCode", () => {
    for (const subset of [ConflictErrorCode, PoolErrorCode, SwarmErrorCode, ObservabilityErrorCode, VerifyErrorCode]) {
      for (const [key, value] of Object.entries(subset)) expect(ErrorCode[key as keyof typeof ErrorCode]).toBe(value);
    }
    expect(api.EXECUTOR_NOT_ALLOWED).toBe(ErrorCode.EXECUTOR_NOT_ALLOWED);
  });

  test('no code is spelled as a string literal outside src/errors.ts', () => {
    const stray: string[] = [];
    const visit = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) visit(path);
        else if (/\.tsx?$/.test(entry) && path !== join('src', 'errors.ts')) {
          readFileSync(path, 'utf8')
            .split('\n')
            .forEach((line, index) => {
              if (/['"]ERR_[A-Z_]+['"]/.test(line)) stray.push(`${path}:${index + 1}: ${line.trim()}`);
            });
        }
      }
    };
    visit('src');
    expect(stray).toEqual([]);
  });

  test('the internal CLI errors are NeuroFluxErrors too', () => {
    expect(new CannotRunError('no NATS')).toMatchObject({ code: ErrorCode.CANNOT_RUN, name: 'CannotRunError' });
    expect(new CannotRunError('no NATS')).toBeInstanceOf(NeuroFluxError);
    expect(new CommandLineError('options', [{ path: '--x', message: 'bad' }])).toMatchObject({ code: ErrorCode.VALIDATION, field: '--x' });
  });
});

describe('errors carry cause', () => {
  test.each([...exportedErrorClasses()])('%s keeps the cause it is given, as given', (name, Class) => {
    const cause = { original: name };
    expect(build(name, Class, { cause }).cause).toBe(cause);
  });

  test.each([...exportedErrorClasses()].filter(([name]) => name !== 'InspectorListenError'))('%s without a cause has no cause property', (name, Class) => {
    expect(Object.hasOwn(build(name, Class), 'cause')).toBe(false);
  });

  test('a cause that is undefined, a string or a BigInt is kept as it was thrown', () => {
    expect(Object.hasOwn(new NeuroFluxError(ErrorCode.INTERNAL, 'x', { cause: undefined }), 'cause')).toBe(true);
    expect(new api.UnknownTaskError('t', { cause: 'text' }).cause).toBe('text');
    expect(new api.UnknownTaskError('t', { cause: 10n }).cause).toBe(10n);
  });

  test('InspectorListenError: its reason is its cause', () => {
    const reason = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(new InspectorListenError('127.0.0.1', 7000, reason).cause).toBe(reason);
  });

  test('ValidationError.fromZod keeps the ZodError', () => {
    const parsed = z.object({ n: z.number() }).safeParse({ n: 'x' });
    if (parsed.success) throw new Error('expected a failure');
    const error = ValidationError.fromZod('thing', parsed.error);
    expect(error.cause).toBe(parsed.error);
    expect(error.field).toBe('n');
  });

  test.each([
    ['a string', 'handler down'],
    ['a BigInt', 42n],
    ['an Error', new Error('boom')],
    ['undefined', undefined],
  ])('a request whose handler throws %s rejects with DeliveryFailedError whose cause is the thrown value', async (_, thrown) => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    bus.registerAgent('broken', {
      handler: () => {
        throw thrown;
      },
    });
    await bus.start();
    const outcome = bus.sendRequest({ senderId: 's', recipientId: 'broken', topic: 'q', timeoutMs: 60_000 });
    const settled = outcome.then(
      () => undefined,
      (error: unknown) => error,
    );
    // Redeliveries back off on the simulated clock (50, then 100 ms by default).
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      clock.increment(100);
    }
    const error = await settled;
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error).toMatchObject({ code: ErrorCode.DELIVERY_FAILED, reason: 'max_retries' });
    expect(Object.hasOwn(error as object, 'cause')).toBe(true);
    expect((error as DeliveryFailedError).cause).toBe(thrown);
    await bus.stop();
  });

  describe('on disk', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'nf-error-cause-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    test('a snapshot file that is not JSON: the store says ERR_VALIDATION naming the key, the SyntaxError is the cause', async () => {
      const store = new FileSnapshotStore({ directory: dir });
      await store.save('orchestrator.main', { tasks: [] });
      const files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
      expect(files).toHaveLength(1);
      writeFileSync(join(dir, files[0] as string), '{ not json');
      const error: unknown = await store.load('orchestrator.main').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: ErrorCode.VALIDATION, field: 'orchestrator.main' });
      expect((error as ValidationError).cause).toBeInstanceOf(SyntaxError);
      await store.close();
    });

    test('a workflow file that cannot be read: WorkflowFileError with the file system error as cause', () => {
      const missing = join(dir, 'missing.yaml');
      let error: unknown;
      try {
        loadWorkflowFile(missing);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(WorkflowFileError);
      expect((error as WorkflowFileError).cause).toMatchObject({ code: 'ENOENT' });
    });
  });

  test('a runtime that fails to start with a BigInt: CannotRunError (ERR_CANNOT_RUN) keeps the BigInt', async () => {
    let stopped = false;
    const runtime = {
      start: () => Promise.reject(7n),
      stop: async () => {
        stopped = true;
      },
    };
    const error: unknown = await startOrCannotRun(runtime, 'nats://127.0.0.1:1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CannotRunError);
    expect(error).toMatchObject({ code: ErrorCode.CANNOT_RUN, cause: 7n });
    expect((error as Error).message).toContain('nats://127.0.0.1:1');
    expect(stopped).toBe(true);
  });
});
