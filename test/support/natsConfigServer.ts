/**
 * A private nats-server started from a configuration file (e.g. the one `neuroflux
 * nats-config` prints), on a free loopback port with storage in a fresh temp dir.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, NATS_SERVER_BIN, waitForPort } from './servers';

export interface ConfiguredNatsServer {
  readonly url: string;
  /** Kills the server and removes its storage and configuration. */
  stop(): Promise<void>;
}

/** Starts nats-server with the configuration `configFor(port, storeDir)` returns. */
export async function startNatsServerWithConfig(configFor: (port: number, storeDir: string) => string): Promise<ConfiguredNatsServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nf-conf-'));
  const file = join(dir, 'nats-server.conf');
  writeFileSync(file, configFor(port, join(dir, 'js')));
  const child = spawn(NATS_SERVER_BIN, ['-c', file, '-a', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 4000) stderr += chunk.toString();
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 10_000, () => exited);
  } catch (error) {
    await stop();
    throw new Error(`nats-server -c ${file}: ${(error as Error).message}\n${stderr}`, { cause: error });
  }
  return { url: `nats://127.0.0.1:${port}`, stop };
}
