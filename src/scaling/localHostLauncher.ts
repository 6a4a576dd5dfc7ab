import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ErrorCode, NeuroFluxError, ValidationError, type NeuroFluxErrorOptions } from '../errors';
import { systemClock, type NeuroFluxClock } from '../kernel/clock';
import type { HostLauncher, LaunchedHost } from './hostLauncher';

/** Options of a {@link LocalHostLauncher}. */
export interface LocalHostLauncherOptions {
  /** The NATS server(s) the hosts connect to (comma-separated URLs). */
  nats: string;
  /** The NATS namespace shared with the orchestrator. */
  namespace: string;
  /** The workflow file whose agents (those with executors) the hosts run. */
  workflowFile: string;
  /**
   * The command that runs the `neuroflux` CLI, as argv (default: this Node with this
   * package's `bin/neuroflux.js`). `host ...` is appended.
   */
  command?: readonly string[];
  clock?: NeuroFluxClock;
  /** After SIGTERM, a host that has not exited within this long is killed (SIGKILL), ms. Default 30 000. */
  stopGraceMs?: number;
  /** A host not hosting its agents within this long is killed and the start fails, ms. Default 30 000. */
  startTimeoutMs?: number;
  /** The hosts' heartbeat interval, ms. Default 1000. */
  heartbeatMs?: number;
  /** Host ids are `<prefix>-<n>`. Default `scaled-<pid>`. */
  hostIdPrefix?: string;
  /** More arguments for `neuroflux host` (e.g. `--allow-executors-outside <dir>`). */
  extraArgs?: readonly string[];
  /** Each line a host writes (stdout and stderr). */
  onOutput?: (hostId: string, line: string) => void;
}

const OptionsSchema = z.object({
  nats: z.string().min(1),
  namespace: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, - or _'),
  workflowFile: z.string().min(1),
  command: z.array(z.string().min(1)).min(1).optional(),
  stopGraceMs: z.number().int().nonnegative().default(30_000),
  startTimeoutMs: z.number().int().positive().default(30_000),
  heartbeatMs: z.number().int().positive().default(1000),
  hostIdPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, - or _')
    .default(`scaled-${process.pid}`),
  extraArgs: z.array(z.string()).default([]),
});

/** A host process did not start (exited first, or did not host its agents in time). */
export class HostStartError extends NeuroFluxError {
  constructor(
    readonly hostId: string,
    reason: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.HOST_START, `host '${hostId}' did not start: ${reason}`, options);
  }
}

/**
 * A launcher failed to stop `hostIds`, of the `requested` hosts scaling asked it to stop;
 * `cause` holds what it threw (an `AggregateError` of them when several failed).
 */
export class HostStopError extends NeuroFluxError {
  constructor(
    readonly hostIds: readonly string[],
    readonly requested: number,
    reason: string,
    options?: NeuroFluxErrorOptions,
  ) {
    super(ErrorCode.HOST_STOP, `${hostIds.length} of ${requested} hosts did not stop: ${reason}`, options);
  }
}

interface HostProcess {
  readonly hostId: string;
  readonly capability: string;
  readonly child: ChildProcess;
  agentIds: string[];
  state: LaunchedHost['state'];
  readonly exited: Promise<void>;
  stopping: Promise<void> | undefined;
}

/** `hosting a, b as h1 on nats://...`: the line `neuroflux host` prints once its agents are hosted. */
const HOSTING_LINE = /^hosting (.+) as (\S+) on /;

/** `neuroflux host`'s exit code when it cannot reach NATS (`ExitCode.CANNOT_RUN`). */
const CANNOT_RUN = 3;

/**
 * Starts agent hosts as local processes, `neuroflux host <workflowFile> --nats URL
 * --namespace NS --capability CAP`, each hosting the file's agents of that capability under
 * ids of its own (`<hostId>-<agentId>`), and tracks them. `stop` sends SIGTERM: the host
 * takes no new task, finishes those it runs, says it leaves and exits; after `stopGraceMs`
 * on the clock it is killed. A host that exits with code 3 (NATS unreachable or too slow)
 * before hosting is started again, with backoff, until `startTimeoutMs`. `close()` stops
 * them all; a host still running when this process exits is killed with it, and one whose
 * parent died by a signal (even SIGKILL) sees its stdin end and drains and exits
 * (`--exit-with-parent`): no host outlives its launcher.
 *
 * @example
 * ```ts
 * const launcher = new LocalHostLauncher({ nats: 'nats://127.0.0.1:4222', namespace: 'prod', workflowFile: 'agents.json' });
 * const host = await launcher.start('compute'); // { hostId: 'scaled-4242-1', agentIds: ['scaled-4242-1-worker'], state: 'running' }
 * await launcher.stop(host.hostId);
 * ```
 */
export class LocalHostLauncher implements HostLauncher {
  private readonly options: z.output<typeof OptionsSchema>;
  private readonly command: readonly string[];
  private readonly clock: NeuroFluxClock;
  private readonly onOutput: ((hostId: string, line: string) => void) | undefined;
  private readonly processes = new Map<string, HostProcess>();
  private seq = 0;
  private closed = false;
  private readonly killOnExit = () => {
    for (const host of this.processes.values()) host.child.kill('SIGKILL');
  };

  constructor(options: LocalHostLauncherOptions) {
    const { clock, onOutput, ...rest } = options ?? ({} as LocalHostLauncherOptions);
    const parsed = OptionsSchema.safeParse(rest);
    if (!parsed.success) throw ValidationError.fromZod('local host launcher options', parsed.error);
    if (onOutput !== undefined && typeof onOutput !== 'function') {
      throw new ValidationError('local host launcher options', [{ path: 'onOutput', message: 'must be a function' }]);
    }
    this.options = parsed.data;
    this.command = parsed.data.command ?? [process.execPath, packageBin()];
    this.clock = clock ?? systemClock;
    this.onOutput = onOutput;
  }

  hosts(): readonly LaunchedHost[] {
    return [...this.processes.values()].map((h) => ({
      hostId: h.hostId,
      capability: h.capability,
      agentIds: [...h.agentIds],
      state: h.state,
      ...(h.child.pid !== undefined && { pid: h.child.pid }),
    }));
  }

  start(capability: string): Promise<LaunchedHost> {
    if (this.closed) return Promise.reject(new HostStartError('(none)', 'the launcher is closed'));
    if (typeof capability !== 'string' || capability.length === 0) {
      return Promise.reject(new ValidationError('capability', [{ path: 'capability', message: 'must be a non-empty string' }]));
    }
    const hostId = `${this.options.hostIdPrefix}-${++this.seq}`;
    const o = this.options;
    const startedAt = this.clock.now();
    return new Promise<LaunchedHost>((resolve, reject) => {
      let settled = false;
      let stderrTail = '';
      let host: HostProcess | undefined;
      let respawns = 0;
      let respawnTimer: unknown;
      const timer = this.clock.setTimeout(() => fail(`no agents hosted within ${o.startTimeoutMs} ms`), o.startTimeoutMs);
      const fail = (reason: string) => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(timer);
        this.clock.clearTimeout(respawnTimer);
        host?.child.kill('SIGKILL');
        reject(new HostStartError(hostId, `${reason}${stderrTail ? `: ${stderrTail.trim()}` : ''}`));
      };
      const spawnHost = () => {
        if (settled) return;
        if (this.closed) return fail('the launcher closed during the start');
        stderrTail = '';
        const child = this.spawnChild(hostId, capability);
        const exited = new Promise<void>((done) => child.once('close', () => done()));
        const current: HostProcess = { hostId, capability, child, agentIds: [], state: 'starting', exited, stopping: undefined };
        host = current;
        this.processes.set(hostId, current);
        lines(child.stdout, (line) => {
          this.onOutput?.(hostId, line);
          const hosting = HOSTING_LINE.exec(line);
          if (!hosting || settled) return;
          settled = true;
          this.clock.clearTimeout(timer);
          current.agentIds = (hosting[1] as string).split(', ');
          if (current.state === 'starting') current.state = 'running';
          resolve({ hostId, capability, agentIds: [...current.agentIds], state: current.state, ...(child.pid !== undefined && { pid: child.pid }) });
        });
        lines(child.stderr, (line) => {
          stderrTail = `${stderrTail}\n${line}`.slice(-2000);
          this.onOutput?.(hostId, line);
        });
        child.once('error', (error) => fail(error.message));
        void exited.then(() => {
          if (this.processes.get(hostId) === current) this.processes.delete(hostId);
          if (this.processes.size === 0) process.removeListener('exit', this.killOnExit);
          // Exit code 3: it could not reach NATS (or NATS answered too slowly). On a busy
          // machine that passes; the start is given up only at its deadline.
          const backoffMs = Math.min(5000, 250 * 2 ** respawns);
          const retry = !settled && !this.closed && current.state === 'starting' && child.exitCode === CANNOT_RUN && this.clock.now() - startedAt + backoffMs < o.startTimeoutMs;
          if (!retry) return fail(`exited (${child.exitCode ?? child.signalCode})`);
          respawns++;
          this.onOutput?.(hostId, `exited (${CANNOT_RUN}) before hosting: starting it again in ${backoffMs} ms`);
          respawnTimer = this.clock.setTimeout(spawnHost, backoffMs);
        });
      };
      spawnHost();
    });
  }

  /**
   * One `neuroflux host` process. Its stdin is a pipe from this process that is never
   * written: it ends when this process dies, however (even SIGKILL), and `--exit-with-parent`
   * makes the host drain and exit then.
   */
  private spawnChild(hostId: string, capability: string): ChildProcess {
    const [bin, ...binArgs] = this.command as [string, ...string[]];
    const o = this.options;
    const args = [
      ...binArgs,
      'host',
      o.workflowFile,
      '--nats',
      o.nats,
      '--namespace',
      o.namespace,
      '--host-id',
      hostId,
      '--heartbeat',
      String(o.heartbeatMs),
      '--capability',
      capability,
      '--agent-prefix',
      `${hostId}-`,
      '--exit-with-parent',
      ...o.extraArgs,
    ];
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // Never written; an error on it (the child gone) is no failure of ours.
    child.stdin?.on('error', () => undefined);
    if (this.processes.size === 0) process.once('exit', this.killOnExit);
    return child;
  }

  stop(hostId: string): Promise<void> {
    const host = this.processes.get(hostId);
    if (!host) return Promise.resolve();
    host.stopping ??= this.terminate(host);
    return host.stopping;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.processes.keys()].map((id) => this.stop(id)));
  }

  /** SIGTERM (the host drains), SIGKILL after the grace period. */
  private async terminate(host: HostProcess): Promise<void> {
    host.state = 'stopping';
    if (host.child.exitCode !== null || host.child.signalCode !== null) return host.exited;
    const timer = this.clock.setTimeout(() => host.child.kill('SIGKILL'), this.options.stopGraceMs);
    host.child.kill('SIGTERM');
    await host.exited;
    this.clock.clearTimeout(timer);
  }
}

function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let end: number;
    while ((end = buffered.indexOf('\n')) >= 0) {
      onLine(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
    }
    if (buffered.length > 64_000) buffered = buffered.slice(-64_000);
  });
}

/** This package's `bin/neuroflux.js` (from `src/scaling` or `dist/src/scaling`). */
function packageBin(): string {
  for (let dir = __dirname, i = 0; i < 5; i++, dir = dirname(dir)) {
    const bin = join(dir, 'bin', 'neuroflux.js');
    const manifest = join(dir, 'package.json');
    if (existsSync(bin) && existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'neuroflux') return bin;
  }
  throw new ValidationError('local host launcher options', [{ path: 'command', message: "this package's bin/neuroflux.js was not found: give the command" }]);
}
