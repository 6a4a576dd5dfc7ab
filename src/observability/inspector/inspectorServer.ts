import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { RawData, WebSocket } from 'ws';
import { z } from 'zod';
import { ValidationError } from '../../errors';
import { InspectorAddressError, InspectorListenError } from '../observabilityErrors';
import type { ObservedRuntime } from '../observedRuntime';
import { createMetrics, type RuntimeMetrics } from '../runtimeMetrics';
import type { DomainFeedOptions } from './domainFeed';
import type { InspectionHub, InspectionHubOptions } from './inspectionHub';
import { localInspectionSource, type InspectionSource } from './inspectionSource';
import { ACTION_TOKEN_HEADER, readJsonBody, runAction, runtimeActions, tokenMatches, type InspectorActions } from './inspectorActions';
import { inspectorHtml, INSPECTOR_CSS } from './inspectorPage';
import { INSPECTOR_PROTOCOL_VERSION, type ActionReply, type ClientFrame, type DeltaFrame, type SamplingView, type ServerFrame, type SnapshotFrame } from './inspectorProtocol';
import { pageModule } from './pageModules';
import { describeError } from '../../describeError';
import { loadOptional } from '../../optionalDependency';

const InspectorOptionsSchema = z.object({
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65_535).default(0),
  /** Loopback only: `127.0.0.1` (default), `localhost`, `::1` or another 127.x.y.z. */
  host: z.string().min(1).default('127.0.0.1'),
  /** How often changes are pushed to pages. */
  flushIntervalMs: z.number().positive().default(100),
  /** Shown in the page title. Default: the runtime's name. */
  name: z.string().min(1).optional(),
  /** A page whose socket has more than this unsent is skipped, then resynchronized with a snapshot. */
  maxBufferedBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
});

/** Options of {@link startInspector}. */
export interface InspectorOptions extends z.input<typeof InspectorOptionsSchema> {
  /**
   * The hub fed with the runtime's inspection events since its creation
   * (`createNeuroFlux({ inspect: hub.observer })`). Without one, the inspector makes its
   * own and subscribes to the running system (`hub.observe`), seeding the actors that exist.
   */
  readonly hub?: InspectionHub;
  /** Limits of the hub the inspector makes (ignored with `hub`). */
  readonly hubOptions?: InspectionHubOptions;
  /** Limits and beats of the domain feed (messages, tasks, conflicts, swarm). */
  readonly feed?: DomainFeedOptions;
  /** Served at `/metrics`. Without it, metrics are created on the first `/metrics` request. */
  readonly metrics?: RuntimeMetrics;
}

/** A running inspector. */
export interface Inspector {
  /** The page's address, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Pages connected now. */
  readonly clientCount: number;
  /** Pushes pending changes to the pages now instead of at the next beat. */
  flush(): void;
  /** The full state as the page receives it on connection. */
  snapshot(): SnapshotFrame;
  /** Closes the pages' sockets and the server, and detaches from the runtime. */
  close(): Promise<void>;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `Host: name:port` with a loopback name: refuses DNS-rebinding requests. */
function hostHeaderAllowed(header: string | undefined, port: number): boolean {
  if (header === undefined) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(header);
  if (!match) return false;
  return isLoopback((match[1] as string).toLowerCase()) && (match[2] === undefined || Number(match[2]) === port);
}

/** Browsers send `Origin` on WebSocket upgrades: only this inspector's own page may connect. */
function originAllowed(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return true; // not a browser
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && isLoopback(url.hostname.toLowerCase()) && Number(url.port) === port;
  } catch {
    return false;
  }
}

const ClientFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('statechart'), actorId: z.string().min(1).max(200).optional(), systemId: z.string().min(1).max(400).optional() }),
  z.object({ type: z.literal('ping') }),
]);

let dagreScript: Promise<Buffer> | undefined;
/** dagre's browser bundle, from `node_modules`: the page works without internet. */
function loadDagre(): Promise<Buffer> {
  dagreScript ??= readFile(join(dirname(require.resolve('@dagrejs/dagre/package.json')), 'dist', 'dagre.min.js'));
  return dagreScript;
}

interface Client {
  readonly ws: WebSocket;
  /** Skipped a delta (slow reader): gets a snapshot instead of the next one. */
  stale: boolean;
}

/**
 * Starts the live inspector: an HTTP and WebSocket server on loopback that serves a page
 * showing the runtime as it runs: the actor tree, the selected actor's statechart (from
 * the machine definition XState's inspection carries, laid out with dagre) with its
 * current state, each workflow's task DAG with live statuses, the message sequence
 * between agents, open conflicts with their votes, the swarm graph (connection strength
 * as edge thickness) and XState's own events. It also serves `/metrics` (Prometheus text)
 * and `/api/snapshot` (the state as JSON).
 *
 * Costs nothing until called; while it runs, everything it keeps is bounded (see the
 * hub's and feed's limits; the page states the sampling in force).
 *
 * @throws InspectorAddressError for a host that is not loopback; InspectorListenError
 * when the port is taken.
 * @example
 * ```ts
 * const nf = createNeuroFlux();
 * await nf.start();
 * const inspector = await startInspector(nf, { port: 0 });
 * console.log(`inspector: ${inspector.url}`);
 * // ...
 * await inspector.close();
 * ```
 */
export async function startInspector(runtime: ObservedRuntime, options: InspectorOptions = {}): Promise<Inspector> {
  const { hub, hubOptions, feed, metrics: givenMetrics, ...rest } = options;
  const parsed = InspectorOptionsSchema.safeParse(rest);
  if (!parsed.success) throw ValidationError.fromZod('inspector options', parsed.error);
  if (!isLoopback(parsed.data.host.toLowerCase())) throw new InspectorAddressError(parsed.data.host);
  const source = localInspectionSource(runtime, {
    ...(hub && { hub }),
    ...(hubOptions && { hubOptions }),
    ...(feed && { feed }),
    ...(rest.name !== undefined && { name: rest.name }),
  });
  let metrics = givenMetrics;
  let ownMetrics: RuntimeMetrics | undefined;
  return serveInspection(source, rest, {
    metrics: async () => {
      if (!metrics) metrics = ownMetrics = createMetrics(runtime);
      return { contentType: metrics.contentType, text: await metrics.text() };
    },
    actions: runtimeActions(runtime),
    closed: () => ownMetrics?.dispose(),
  });
}

/** What the server does beyond showing a source. @internal */
export interface InspectorServices {
  /** `/metrics`; without it, 404. */
  readonly metrics?: () => Promise<{ contentType: string; text: string }>;
  /** The page's actions; without them, every action is refused (501). */
  readonly actions?: InspectorActions;
  readonly closed?: () => void;
}

/**
 * The inspector's HTTP and WebSocket server over any {@link InspectionSource}.
 * @internal
 */
export async function serveInspection(
  source: InspectionSource,
  options: Omit<InspectorOptions, 'hub' | 'hubOptions' | 'feed' | 'metrics'>,
  services: InspectorServices = {},
): Promise<Inspector> {
  const parsed = InspectorOptionsSchema.safeParse(options);
  if (!parsed.success) {
    source.close();
    throw ValidationError.fromZod('inspector options', parsed.error);
  }
  const o = parsed.data;
  if (!isLoopback(o.host.toLowerCase())) {
    source.close();
    throw new InspectorAddressError(o.host);
  }
  const name = o.name ?? source.name;
  const clients = new Set<Client>();
  let seq = 0;
  let port = o.port;
  /** Put in the page; every action request must carry it (see inspectorActions.ts). */
  const actionToken = randomBytes(24).toString('base64url');

  const sampling = (): SamplingView => source.sampling(o.flushIntervalMs);

  const snapshot = (): SnapshotFrame => ({ type: 'snapshot', ...source.snapshot(), sampling: sampling() });

  const sendFrame = (client: Client, frame: ServerFrame | string) => {
    if (client.ws.readyState !== client.ws.OPEN) return;
    client.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  };

  const flush = () => {
    const d = source.drain();
    const changed =
      d.actors.length +
        d.removedActors.length +
        d.events.length +
        d.messages.length +
        d.deadLetters.length +
        d.tasks.length +
        d.removedTasks.length +
        d.workflows.length +
        d.removedWorkflows.length +
        d.conflicts.length +
        d.removedConflicts.length >
        0 ||
      d.swarm !== undefined ||
      d.stats !== undefined;
    if (!changed || clients.size === 0) return;
    const frame: DeltaFrame = { type: 'delta', seq: ++seq, ...d, sampling: sampling() };
    const text = JSON.stringify(frame);
    let resync: string | undefined;
    for (const client of clients) {
      if (client.ws.bufferedAmount > o.maxBufferedBytes) {
        client.stale = true;
        continue;
      }
      if (client.stale) {
        client.stale = false;
        resync ??= JSON.stringify(snapshot());
        sendFrame(client, resync);
      } else sendFrame(client, text);
    }
  };

  const onClientFrame = (client: Client, data: RawData) => {
    let frame: ClientFrame;
    try {
      const result = ClientFrameSchema.safeParse(JSON.parse(textOf(data)));
      if (!result.success) throw new Error(result.error.issues[0]?.message ?? 'invalid frame');
      frame = result.data;
    } catch (error) {
      sendFrame(client, { type: 'error', message: `bad frame: ${(error as Error).message}` });
      return;
    }
    if (frame.type === 'ping') sendFrame(client, { type: 'pong' });
    else sendFrame(client, source.describe({ ...(frame.actorId && { actorId: frame.actorId }), ...(frame.systemId && { systemId: frame.systemId }) }));
  };

  // ws (14 modules) is loaded by the first inspector, not by `require('neuroflux')` (issue #16).
  let ws: typeof import('ws');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ws = loadOptional('ws', 'the inspector', () => require('ws') as typeof import('ws'));
  } catch (error) {
    // Like the other refusals above: the source given to us is closed, not leaked.
    source.close();
    throw error;
  }
  const { WebSocketServer } = ws;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  wss.on('connection', (ws: WebSocket) => {
    const client: Client = { ws, stale: false };
    // Pending changes go to the pages already connected, so that the new page's snapshot
    // and the deltas after it line up.
    flush();
    clients.add(client);
    sendFrame(client, { type: 'hello', protocol: INSPECTOR_PROTOCOL_VERSION, name, flushIntervalMs: o.flushIntervalMs });
    sendFrame(client, snapshot());
    ws.on('message', (data) => onClientFrame(client, data));
    ws.on('close', () => clients.delete(client));
    ws.on('error', () => clients.delete(client));
  });

  const respond = (res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean) => {
    res.writeHead(status, {
      'Content-Type': type,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    });
    res.end(head ? undefined : body);
  };

  const reply = (res: ServerResponse, status: number, body: ActionReply) => respond(res, status, 'application/json; charset=utf-8', JSON.stringify(body), false);

  /**
   * The page's actions: POST from this inspector's own page only (loopback peer, loopback
   * Host, same Origin when the client sends one) with the page's token; 403 otherwise.
   */
  const handleAction = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') return reply(res, 405, { ok: false, error: 'POST only' });
    const peer = req.socket.remoteAddress ?? '';
    const loopbackPeer = isLoopback(peer) || peer === '::ffff:127.0.0.1' || /^::ffff:127\./.test(peer);
    if (!loopbackPeer || !originAllowed(req.headers.origin, port) || !tokenMatches(actionToken, req.headers[ACTION_TOKEN_HEADER])) {
      return reply(res, 403, { ok: false, error: "forbidden: actions need the page's token, from loopback" });
    }
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return reply(res, 415, { ok: false, error: 'expected application/json' });
    const body = await readJsonBody(req);
    if (body === undefined) return reply(res, 400, { ok: false, error: 'expected a JSON body of at most 4 KiB' });
    const result = await runAction(services.actions, body);
    if (result.reply.ok) flush();
    return reply(res, result.status, result.reply);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!hostHeaderAllowed(req.headers.host, port)) return respond(res, 403, 'text/plain; charset=utf-8', 'forbidden host\n', false);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/api/actions') return handleAction(req, res);
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) return respond(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
    switch (path) {
      case '/':
      case '/index.html':
        return respond(res, 200, 'text/html; charset=utf-8', inspectorHtml(name, actionToken), head);
      case '/inspector.css':
        return respond(res, 200, 'text/css; charset=utf-8', INSPECTOR_CSS, head);
      case '/vendor/dagre.min.js':
        return respond(res, 200, 'text/javascript; charset=utf-8', await loadDagre(), head);
      case '/metrics': {
        if (!services.metrics) return respond(res, 404, 'text/plain; charset=utf-8', 'no metrics here\n', head);
        const metrics = await services.metrics();
        return respond(res, 200, metrics.contentType, metrics.text, head);
      }
      case '/api/snapshot':
        flush();
        return respond(res, 200, 'application/json; charset=utf-8', JSON.stringify(snapshot()), head);
      case '/favicon.ico':
        res.writeHead(204).end();
        return;
      case '/healthz':
        return respond(res, 200, 'text/plain; charset=utf-8', 'ok\n', head);
      default: {
        const module = pageModule(path);
        if (module) return respond(res, 200, 'text/javascript; charset=utf-8', await module, head);
        return respond(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) respond(res, 500, 'text/plain; charset=utf-8', `error: ${describeError(error)}\n`, false);
      else res.destroy();
    });
  });
  server.on('upgrade', (req, socket, headBytes) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/ws' || !hostHeaderAllowed(req.headers.host, port) || !originAllowed(req.headers.origin, port)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, headBytes, (ws) => wss.emit('connection', ws, req));
  });

  const cleanup = () => {
    source.close();
    services.closed?.();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    cleanup();
    throw new InspectorListenError(o.host, o.port, error);
  }
  port = (server.address() as AddressInfo).port;
  const timer = setInterval(flush, o.flushIntervalMs);
  timer.unref();
  const urlHost = o.host.includes(':') && !o.host.startsWith('[') ? `[${o.host}]` : o.host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${urlHost}:${port}/`,
    host: o.host,
    port,
    get clientCount() {
      return clients.size;
    },
    flush,
    snapshot() {
      flush();
      return snapshot();
    },
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        for (const client of clients) client.ws.close(1001, 'inspector closed');
        for (const ws of wss.clients) ws.terminate();
        clients.clear();
        wss.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        cleanup();
      })();
      return closing;
    },
  };
}

/** A WebSocket message's text: `ws` hands a Buffer, a list of fragments or an ArrayBuffer. */
function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
