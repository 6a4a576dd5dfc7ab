import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import ts from 'typescript';
import WebSocket from 'ws';
import { createNeuroFlux, type NeuroFlux } from '../src/runtime/createNeuroFlux';
import {
  InspectorAddressError,
  InspectorListenError,
  createInspectionHub,
  startInspector,
  type DeltaFrame,
  type Inspector,
  type ServerFrame,
  type SnapshotFrame,
  type StatechartFrame,
  type TaskView,
} from '../src/observability';
import { PAGE_MODULES } from '../src/observability/inspector/pageModules';

/** A page's socket: every frame received, and a way to wait for one. */
class PageClient {
  readonly frames: ServerFrame[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as ServerFrame);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<PageClient> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}ws`, { headers });
    const client = new PageClient(ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return client;
  }

  /** Resolves with the first frame (in order) that matches, waiting for more as they come. */
  async next<T extends ServerFrame>(match: (frame: ServerFrame) => frame is T, from = 0): Promise<T> {
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  close(): void {
    this.ws.close();
  }
}

const isType =
  <K extends ServerFrame['type']>(type: K) =>
  (frame: ServerFrame): frame is Extract<ServerFrame, { type: K }> =>
    frame.type === type;

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('inspector server: protocol', () => {
  let nf: NeuroFlux;
  let inspector: Inspector;

  beforeEach(async () => {
    const hub = createInspectionHub();
    nf = createNeuroFlux({ clock: new SimulatedClock(), inspect: hub.observer, name: 'protocol-test' });
    nf.orchestrator.registerAgent('worker', { capabilities: ['work'], execute: async (task) => `done ${task.taskId}` });
    nf.bus.registerAgent('echo', { handler: (m, agent) => void agent.respond(m, m.payload) });
    await nf.start();
    inspector = await startInspector(nf, { hub, port: 0 });
  });

  afterEach(async () => {
    await inspector.close();
    await nf.stop();
  });

  test('listens on loopback, on a free port, and serves the page and its assets', async () => {
    expect(inspector.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(inspector.port).toBeGreaterThan(0);
    const page = await get(inspector.url);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/text\/html/);
    expect(page.body).toContain('<title>NeuroFlux inspector — protocol-test</title>');
    expect(page.body).toContain('/vendor/dagre.min.js');
    expect(page.body).toContain('<script type="module" src="/app/page/main.js"></script>');
    // The page's modules, transpiled from page/*.ts: valid JavaScript modules importing only one another.
    for (const name of PAGE_MODULES) {
      const module = await get(`${inspector.url}app/${name}.js`);
      expect([name, module.status, module.type]).toEqual([name, 200, 'text/javascript; charset=utf-8']);
      const parsed = ts.transpileModule(module.body, { fileName: `${name}.js`, reportDiagnostics: true, compilerOptions: { allowJs: true, module: ts.ModuleKind.ES2020 } });
      expect(parsed.diagnostics).toEqual([]);
      for (const [, imported] of module.body.matchAll(/^import .* from '([^']+)';$/gm)) {
        const resolved = new URL(imported as string, `http://x/app/${name}.js`).pathname.replace(/^\/app\/|\.js$/g, '');
        expect(PAGE_MODULES).toContain(resolved);
      }
    }
    // Every page source is served (a module left out of the list would break the page).
    const sources = readdirSync(join(__dirname, '..', 'src', 'observability', 'inspector', 'page')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    expect(sources.map((f) => `page/${f.slice(0, -3)}`).sort()).toEqual(PAGE_MODULES.filter((m) => m.startsWith('page/')).sort());
    expect((await get(`${inspector.url}app/page/missing.js`)).status).toBe(404);
    expect((await get(`${inspector.url}app/../inspectorServer.js`)).status).toBe(404);
    const dagre = await get(`${inspector.url}vendor/dagre.min.js`);
    expect(dagre.status).toBe(200);
    expect(dagre.body).toMatch(/var dagre=/);
    expect((await get(`${inspector.url}inspector.css`)).type).toMatch(/text\/css/);
    expect((await get(`${inspector.url}healthz`)).body).toBe('ok\n');
    expect((await get(`${inspector.url}missing`)).status).toBe(404);
    expect((await get(inspector.url, {}, 'POST')).status).toBe(405);
  });

  test('serves Prometheus metrics at /metrics', async () => {
    await get(`${inspector.url}metrics`); // metrics start with the first scrape
    await nf.bus.sendRequest({ senderId: 'me', recipientId: 'echo', topic: 'ping', payload: 1 });
    const metrics = await get(`${inspector.url}metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toMatch(/text\/plain/);
    expect(metrics.body).toMatch(/neuroflux_messages_total\{type="request",priority="medium",outcome="handled"\} 1/);
  });

  test('refuses requests for another host name (DNS rebinding) and pages from another origin', async () => {
    expect((await get(inspector.url, { Host: 'attacker.example:80' })).status).toBe(403);
    await expect(PageClient.open(inspector.url, { Origin: 'http://attacker.example' })).rejects.toThrow(/403/);
    const own = await PageClient.open(inspector.url, { Origin: `http://localhost:${inspector.port}` });
    await own.next(isType('snapshot'));
    own.close();
  });

  test('a page gets hello, a snapshot, then deltas with live task statuses grouped in workflows', async () => {
    const page = await PageClient.open(inspector.url);
    const hello = await page.next(isType('hello'));
    expect(hello).toMatchObject({ protocol: 1, name: 'protocol-test', flushIntervalMs: 100 });
    const snapshot = await page.next(isType('snapshot'));
    expect(snapshot.actors.some((a) => a.systemId === 'agent:echo')).toBe(true);
    expect(snapshot.sampling).toMatchObject({ eventsPerFlush: 500, actorLimit: 5000 });

    const submitted = nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'fetch', requiredCapabilities: ['work'] },
        { taskId: 'analyse', dependencies: ['fetch'], requiredCapabilities: ['work'] },
        { taskId: 'report', dependencies: ['analyse'], requiredCapabilities: ['work'] },
      ],
    });
    await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
    inspector.flush();
    const seen = new Map<string, TaskView>();
    const isDone = (frame: ServerFrame): frame is DeltaFrame => {
      if (frame.type !== 'delta') return false;
      for (const task of frame.tasks) seen.set(task.taskId, task);
      return ['fetch', 'analyse', 'report'].every((id) => seen.get(id)?.status === 'completed');
    };
    const delta = await page.next(isDone);
    expect(seen.get('report')).toMatchObject({ workflowId: 'fetch', dependencies: ['analyse'], agentId: 'worker', state: 'completed' });
    const workflow = page.frames
      .flatMap((f) => (f.type === 'delta' ? f.workflows : []))
      .filter((w) => w.workflowId === 'fetch')
      .pop();
    expect(workflow).toMatchObject({ taskIds: ['fetch', 'analyse', 'report'], finished: true });
    expect(delta.seq).toBeGreaterThan(0);
    // The task actors appeared and finished in the actor tree too.
    const actors = page.frames.flatMap((f) => (f.type === 'delta' ? f.actors : []));
    expect(actors.some((a) => a.systemId === 'task:report' && a.status === 'done' && a.value === 'completed')).toBe(true);
    page.close();
  });

  test('a page that connects late gets the whole state in its snapshot', async () => {
    const submitted = nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'solo', requiredCapabilities: ['work'] }] });
    await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
    await nf.bus.sendRequest({ senderId: 'me', recipientId: 'echo', topic: 'ping', payload: 2 });
    const page = await PageClient.open(inspector.url);
    const snapshot: SnapshotFrame = await page.next(isType('snapshot'));
    expect(snapshot.tasks.find((t) => t.taskId === 'solo')?.status).toBe('completed');
    expect(snapshot.messages.map((m) => m.topic)).toEqual(expect.arrayContaining(['ping', 'response']));
    expect(snapshot.stats?.bus).toMatchObject({ messagesSent: expect.any(Number) });
    const json = JSON.parse((await get(`${inspector.url}api/snapshot`)).body) as SnapshotFrame;
    expect(json.tasks.map((t) => t.taskId)).toContain('solo');
    page.close();
  });

  test('answers statechart requests by system id or session id, and reports bad frames', async () => {
    nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'blocked', requiredCapabilities: ['work'], dependencies: [] }] });
    const page = await PageClient.open(inspector.url);
    await page.next(isType('snapshot'));
    page.send({ type: 'statechart', systemId: 'task:blocked' });
    const chart: StatechartFrame = await page.next(isType('statechart'));
    expect(chart.graph?.machineId).toBe('task');
    expect(chart.graph?.nodes.map((n) => n.path)).toEqual(expect.arrayContaining(['waiting', 'queued', 'running', 'completed']));
    expect(chart.logicId).toMatch(/^task#/);
    const echo = (await page.next(isType('snapshot'))).actors.find((a) => a.systemId === 'agent:echo');
    const count = page.frames.length;
    page.send({ type: 'statechart', actorId: echo?.id });
    const agentChart = await page.next(isType('statechart'), count);
    expect(agentChart).toMatchObject({ actorId: echo?.id, value: { online: 'idle' } });
    expect(agentChart.graph?.machineId).toBe('agent');
    page.send({ type: 'nonsense' });
    expect((await page.next(isType('error'))).message).toMatch(/bad frame/);
    page.send({ type: 'ping' });
    await page.next(isType('pong'));
    page.close();
  });

  test('close() disconnects the pages and frees the port', async () => {
    const page = await PageClient.open(inspector.url);
    await page.next(isType('snapshot'));
    const closed = new Promise((resolve) => page.ws.once('close', resolve));
    expect(inspector.clientCount).toBe(1);
    await inspector.close();
    await closed;
    await expect(get(inspector.url)).rejects.toThrow();
  });
});

describe('inspector server: options', () => {
  test('refuses to listen beyond loopback', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    await expect(startInspector(nf, { host: '0.0.0.0' })).rejects.toBeInstanceOf(InspectorAddressError);
    await expect(startInspector(nf, { host: '0.0.0.0' })).rejects.toMatchObject({ code: 'ERR_INSPECTOR_NOT_LOOPBACK' });
    await nf.stop();
  });

  test('a taken port is a typed error', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    const first = await startInspector(nf, { port: 0 });
    await expect(startInspector(nf, { port: first.port })).rejects.toBeInstanceOf(InspectorListenError);
    await first.close();
    await nf.stop();
  });

  test('without a hub it attaches to the running system and detaches on close', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.bus.registerAgent('before', { handler: () => undefined });
    await nf.start();
    const inspector = await startInspector(nf);
    nf.bus.registerAgent('after', { handler: () => undefined });
    const systemIds = inspector.snapshot().actors.map((a) => a.systemId);
    expect(systemIds).toEqual(expect.arrayContaining(['neuroflux', 'agent:before', 'agent:after']));
    await inspector.close();
    await nf.stop();
  });
});
