/**
 * Test servers: a private `nats-server -js` and `redis-server` per test file, on free
 * loopback ports, started from the Debian binaries and killed afterwards. The machine's
 * system-wide instances (standard ports) are never used.
 *
 * When a binary is missing, `CI=true` makes the suite fail; elsewhere the suite is skipped
 * with a printed reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectNats, type NatsConnection } from '@nats-io/transport-node';

export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

/** A free TCP port on 127.0.0.1 (asks the kernel for one, then releases it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when `port` accepts a TCP connection; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000, exited?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (exited?.()) throw new Error(`server on port ${port} exited before accepting connections`);
    if (Date.now() > deadline) throw new Error(`port ${port} did not accept connections within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits for `condition` to hold, polling every `intervalMs`, at most `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition', intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A server child process on a loopback port. */
export interface TestServer {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** Kills the server with SIGKILL and waits for it to exit (storage is kept). */
  kill(): Promise<void>;
  /** Starts the server again on the same port and storage (after `kill`). */
  restart(): Promise<void>;
  /** Kills the server and removes its storage. */
  stop(): Promise<void>;
}

async function startChild(bin: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 4000) stderr += chunk.toString();
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  try {
    await waitForPort(port, 10_000, () => exited);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${bin} ${args.join(' ')}: ${(error as Error).message}\n${stderr}`, { cause: error });
  }
  return child;
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function makeServer(bin: string, argsFor: (port: number, dir: string) => string[], scheme: string): () => Promise<TestServer> {
  return async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'nf-srv-'));
    let child = await startChild(bin, argsFor(port, dir), port);
    return {
      port,
      url: `${scheme}://127.0.0.1:${port}`,
      get process() {
        return child;
      },
      kill: () => killChild(child),
      async restart() {
        await killChild(child);
        child = await startChild(bin, argsFor(port, dir), port);
      },
      async stop() {
        await killChild(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

/** Starts `nats-server -js` on a free loopback port with storage in a fresh temp dir. */
export const startNatsServer = makeServer(NATS_SERVER_BIN, (port, dir) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], 'nats');

/** Starts `nats-server -js` like {@link startNatsServer}, with more arguments (e.g. `-m <port>` for monitoring). */
export function startNatsServerWith(extraArgs: readonly string[]): Promise<TestServer> {
  return makeServer(NATS_SERVER_BIN, (port, dir) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir, ...extraArgs], 'nats')();
}

/** Starts `redis-server` on a free loopback port, with no persistence. */
export const startRedisServer = makeServer(
  REDIS_SERVER_BIN,
  (port, dir) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
  'redis',
);

/**
 * `describe` when `bin` exists; otherwise fails under `CI=true` and skips (with a printed
 * reason) elsewhere.
 */
export function describeWithServer(bin: string, name: string, body: () => void): void {
  if (existsSync(bin)) {
    describe(name, body);
    return;
  }
  const reason = `${bin} is not installed (apt-get install ${bin.endsWith('nats-server') ? 'nats-server' : 'redis-server'})`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      test('server binary is installed', () => {
        throw new Error(reason);
      });
    });
    return;
  }
  console.warn(`skipping '${name}': ${reason}`);
  describe.skip(name, body);
}

/**
 * A private `nats-server -js` for the enclosing describe block, started in `beforeAll` and
 * stopped in `afterAll`. Read it through the returned function once the block runs.
 */
export function natsServerForSuite(): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startNatsServer();
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('the suite nats-server is not started (use it inside tests)');
    return server;
  };
}

/**
 * A raw NATS client on the suite's server (from {@link natsServerForSuite}), connected in
 * `beforeAll` and closed in `afterAll`. Read it through the returned function in tests.
 */
export function natsClientForSuite(server: () => TestServer): () => NatsConnection {
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    nc = await connectNats({ servers: server().url });
  });
  afterAll(async () => {
    await nc?.close();
  });
  return () => {
    if (!nc) throw new Error('the suite NATS client is not connected (use it inside tests)');
    return nc;
  };
}

/**
 * For the examples over NATS: runs `main` against the URL given on the command line, or
 * against a private nats-server started for the run (stopped after it); without one and
 * without the binary, says why it skips.
 */
export async function withNatsUrl(given: string | undefined, main: (url: string) => Promise<void>): Promise<void> {
  if (given) return main(given);
  if (!existsSync(NATS_SERVER_BIN)) {
    console.log(`skipped: ${NATS_SERVER_BIN} is not installed (apt-get install nats-server, or pass a NATS URL)`);
    return;
  }
  const server = await startNatsServer();
  try {
    await main(server.url);
  } finally {
    await server.stop();
  }
}
