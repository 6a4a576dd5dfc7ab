/**
 * The runtime's logger: a pino-compatible interface, the built-in JSON-lines logger (pino's
 * line format), pino itself as the default when installed, and what the runtime logs
 * (agent hosts joining and leaving, each task a host runs).
 */
import { SimulatedClock } from 'xstate';
import { AgentHost, ValidationError, createNeuroFlux, defaultLogger, jsonLinesLogger, logLevelFromEnvironment, silentLogger, type NeuroFluxLogger } from '../src';
import { cleanupAfterEach } from './support/cleanup';

const cleanup = cleanupAfterEach();

function capture(level: Parameters<typeof jsonLinesLogger>[0] extends infer O ? (O extends { level?: infer L } ? L : never) : never = 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = jsonLinesLogger({ level, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('jsonLinesLogger', () => {
  test("writes pino's line format: numeric level, time, pid, hostname, bindings, fields, msg", () => {
    const { logger, lines } = capture('debug');
    logger.child({ component: 'x' }).child({ hostId: 'h' }).info({ taskId: 't1' }, 'task completed');
    logger.debug('plain message');
    logger.warn({ only: 'fields' });
    expect(lines[0]).toEqual({
      level: 30,
      time: expect.any(Number),
      pid: process.pid,
      hostname: expect.any(String),
      component: 'x',
      hostId: 'h',
      taskId: 't1',
      msg: 'task completed',
    });
    expect(lines[1]).toMatchObject({ level: 20, msg: 'plain message' });
    expect(lines[2]).toMatchObject({ level: 40, only: 'fields' });
    expect(lines[2]).not.toHaveProperty('msg');
  });

  test('a msg that is not a string (a JavaScript caller) is written as text, never as [object Object]', () => {
    const { logger, lines } = capture();
    const untyped = logger.info as (obj: object, msg?: unknown) => void;
    untyped({ taskId: 't' }, 42);
    untyped({}, new Error('disk full'));
    untyped({}, { message: 'from an object' });
    untyped({}, Symbol('s'));
    expect(lines.map((l) => l['msg'])).toEqual(['42', 'disk full', 'from an object', 'Symbol(s)']);
  });

  test('lines below the level are not written; silent writes nothing', () => {
    const { logger, lines } = capture('warn');
    logger.info('no');
    logger.debug('no');
    logger.warn('yes');
    logger.error('yes');
    expect(lines.map((l) => l['level'])).toEqual([40, 50]);
    const silent = capture('silent');
    silent.logger.error('no');
    expect(silent.lines).toEqual([]);
    expect(() => jsonLinesLogger({ level: 'loud' as never })).toThrow(ValidationError);
  });

  test('hostile fields never throw: BigInt, cycles, errors, __proto__, a failing write', () => {
    const { logger, lines } = capture();
    const cycle: Record<string, unknown> = { a: 1 };
    cycle['self'] = cycle;
    const proto = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    logger.info({ big: 10n ** 30n, cycle, error: new TypeError('boom'), proto }, 'hostile');
    expect(lines[0]).toMatchObject({ big: '1000000000000000000000000000000', cycle: { a: 1, self: '[Circular]' }, error: { type: 'TypeError', message: 'boom' }, msg: 'hostile' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const failing = jsonLinesLogger({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    expect(() => failing.error('still fine')).not.toThrow();
    expect(() => silentLogger.child({}).info('x')).not.toThrow();
  });
});

describe('the default logger', () => {
  afterEach(() => jest.resetModules());

  test('NEUROFLUX_LOG_LEVEL sets the level; a bad value names the variable', () => {
    expect(logLevelFromEnvironment({})).toBe('warn');
    expect(logLevelFromEnvironment({ NEUROFLUX_LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(() => logLevelFromEnvironment({ NEUROFLUX_LOG_LEVEL: 'loud' })).toThrow(expect.objectContaining({ field: 'NEUROFLUX_LOG_LEVEL' }));
  });

  test('without pino (not installed here): the built-in JSON lines on stderr', () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      defaultLogger('info').child({ hostId: 'h' }).info({ taskId: 't' }, 'hello');
      defaultLogger('info').debug('below the level');
    } finally {
      spy.mockRestore();
    }
    expect(written.map((line) => JSON.parse(line) as unknown)).toEqual([expect.objectContaining({ level: 30, name: 'neuroflux', hostId: 'h', taskId: 't', msg: 'hello' })]);
  });

  test('pino, when the application has it installed, writing to stderr at the level', () => {
    const created: unknown[][] = [];
    jest.isolateModules(() => {
      jest.doMock(
        'pino',
        () => {
          const fake = (options: unknown, destination: unknown) => {
            created.push([options, destination]);
            return silentLogger;
          };
          fake.destination = (fd: number) => ({ fd });
          return fake;
        },
        { virtual: true },
      );
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { defaultLogger: fresh } = require('../src/kernel/logger') as typeof import('../src/kernel/logger');
      expect(fresh('info')).toBe(silentLogger);
    });
    jest.dontMock('pino');
    expect(created).toEqual([[{ name: 'neuroflux', level: 'info' }, { fd: 2 }]]);
  });
});

describe('what the runtime logs', () => {
  test('agent hosts joining and leaving (orchestrator), each task a host runs (info), through createNeuroFlux({ logger })', async () => {
    const { logger, lines } = capture('info');
    const clock = new SimulatedClock();
    const nf = cleanup.add(createNeuroFlux({ clock, logger }));
    expect(nf.logger).toBe(logger);
    await nf.start();
    const host = new AgentHost({ bus: nf.bus, hostId: 'h1' });
    host.addAgent('h1-w', { capabilities: ['work'], execute: (task) => (task.taskId === 'bad' ? Promise.reject(new Error('nope')) : 'ok') });
    host.start();
    await nf.orchestrator.waitForAgents(['work']);
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'good', requiredCapabilities: ['work'] },
        { taskId: 'bad', requiredCapabilities: ['work'], retryPolicy: { retryOnFailure: false } },
      ],
    });
    await nf.orchestrator.waitForWorkflow(['good', 'bad']);
    await host.stop();
    const messages = lines.map((l) => [l['component'], l['msg'], l['taskId'] ?? l['hostId'], l['status'] ?? null]);
    expect(messages).toEqual(
      expect.arrayContaining([
        ['orchestrator', 'agent host joined', 'h1', null],
        ['agentHost', 'task completed', 'good', 'completed'],
        ['agentHost', 'task failed', 'bad', 'failed'],
        ['orchestrator', 'agent host left', 'h1', null],
      ]),
    );
    expect(lines.find((l) => l['msg'] === 'task failed')).toMatchObject({ hostId: 'h1', agentId: 'h1-w', attempt: 0, error: 'nope', durationMs: expect.any(Number) });
  });

  test('a host whose heartbeats stop is logged as lost, at warn', async () => {
    const { logger, lines } = capture('warn');
    const clock = new SimulatedClock();
    const nf = cleanup.add(createNeuroFlux({ clock, logger }));
    await nf.start();
    nf.bus.publishEvent({
      senderId: 'ghost',
      topic: 'agent_presence',
      payload: { hostId: 'ghost', status: 'alive', heartbeatIntervalMs: 1000, agents: [{ agentId: 'g', capabilities: ['x'], maxConcurrentTasks: 1 }] },
    });
    await nf.orchestrator.waitForAgents(['x']);
    clock.increment(10_000);
    expect(lines).toEqual([expect.objectContaining({ level: 40, component: 'orchestrator', hostId: 'ghost', msg: 'agent host lost (heartbeats stopped)', agents: ['g'] })]);
  });

  test('a logger that throws does not break the runtime; a malformed logger is refused naming the option', async () => {
    const throwing: NeuroFluxLogger = {
      error: () => {
        throw new Error('x');
      },
      warn: () => {
        throw new Error('x');
      },
      info: () => {
        throw new Error('x');
      },
      debug: () => {
        throw 'not an error';
      },
      child: () => throwing,
    };
    const nf = cleanup.add(createNeuroFlux({ clock: new SimulatedClock(), logger: throwing }));
    await nf.start();
    const host = new AgentHost({ bus: nf.bus, hostId: 'h1' });
    host.addAgent('h1-w', { capabilities: ['work'], execute: () => 'ok' });
    host.start();
    await nf.orchestrator.waitForAgents(['work']);
    nf.orchestrator.submitTask({ taskId: 't', requiredCapabilities: ['work'] });
    expect((await nf.orchestrator.waitForTask('t')).status).toBe('completed');
    await host.stop();
    expect(() => createNeuroFlux({ logger: { info: () => undefined } as unknown as NeuroFluxLogger })).toThrow(expect.objectContaining({ field: 'logger' }));
  });

  test("type level: pino's logger shape fits NeuroFluxLogger", () => {
    // pino's own LogFn overloads (pino.d.ts), without depending on pino.
    interface PinoLogFn {
      <T extends object>(obj: T, msg?: string, ...args: unknown[]): void;
      (obj: unknown, msg?: string, ...args: unknown[]): void;
      (msg: string, ...args: unknown[]): void;
    }
    interface PinoLike {
      level: string;
      fatal: PinoLogFn;
      error: PinoLogFn;
      warn: PinoLogFn;
      info: PinoLogFn;
      debug: PinoLogFn;
      trace: PinoLogFn;
      child(bindings: Record<string, unknown>, options?: { level?: string }): PinoLike;
    }
    const pinoLike = { child: () => pinoLike } as unknown as PinoLike;
    const asNeuroFlux: NeuroFluxLogger = pinoLike;
    expect(asNeuroFlux).toBe(pinoLike);
    // @ts-expect-error a logger needs child()
    const missingChild: NeuroFluxLogger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
    expect(missingChild).toBeDefined();
  });
});
