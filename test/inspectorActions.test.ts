/**
 * The inspector page's actions (`POST /api/actions`): cancel and retry a task, pause and
 * resume an agent; refused without the page's token, with a wrong one, or from another
 * host or origin.
 */
import { request } from 'node:http';
import { SimulatedClock } from 'xstate';
import { createNeuroFlux, type NeuroFlux } from '../src/runtime/createNeuroFlux';
import { startInspector, type Inspector } from '../src/observability';
import type { TaskExecutor } from '../src';
import { settle } from './support/settle';

interface Reply {
  readonly status: number;
  readonly body: string;
}

function http(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('inspector actions', () => {
  let nf: NeuroFlux;
  let inspector: Inspector;
  let token: string;
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const execute: TaskExecutor = (task) => new Promise((resolve, reject) => pending.set(task.taskId, { resolve, reject }));

  const act = (body: unknown, headers: Record<string, string> = {}) =>
    http(`${inspector.url}api/actions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-NeuroFlux-Token': token, Origin: `http://127.0.0.1:${inspector.port}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeEach(async () => {
    nf = createNeuroFlux({ clock: new SimulatedClock(), name: 'actions-test' });
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], maxConcurrentTasks: 5, execute });
    await nf.start();
    inspector = await startInspector(nf, { port: 0 });
    const page = await http(inspector.url);
    token = /<meta name="neuroflux-action-token" content="([^"]+)">/.exec(page.body)?.[1] ?? '';
  });

  afterEach(async () => {
    await inspector.close();
    await nf.stop();
    pending.clear();
  });

  test('the page carries a random token, different for every inspector', async () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const other = await startInspector(nf, { port: 0 });
    const otherPage = await http(other.url);
    await other.close();
    expect(otherPage.body).toContain('neuroflux-action-token');
    expect(otherPage.body).not.toContain(token);
  });

  test('refused (403) without the token, with a wrong one, from another origin or another host name', async () => {
    const pause = { action: 'pauseAgent', agentId: 'worker' };
    expect((await act(pause, { 'X-NeuroFlux-Token': '' })).status).toBe(403);
    const noToken = await http(`${inspector.url}api/actions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(pause) });
    expect(noToken.status).toBe(403);
    expect((await act(pause, { 'X-NeuroFlux-Token': `${token.slice(0, -1)}A` === token ? `${token.slice(0, -1)}B` : `${token.slice(0, -1)}A` })).status).toBe(403);
    expect((await act(pause, { 'X-NeuroFlux-Token': `${token}x` })).status).toBe(403);
    expect((await act(pause, { Origin: 'http://attacker.example' })).status).toBe(403);
    expect((await act(pause, { Origin: `http://127.0.0.1:${inspector.port + 1}` })).status).toBe(403);
    expect((await act(pause, { Origin: 'null' })).status).toBe(403);
    expect((await act(pause, { Host: `attacker.example:${inspector.port}` })).status).toBe(403);
    expect(nf.orchestrator.isAgentPaused('worker')).toBe(false);
  });

  test('pause and resume an agent', async () => {
    const paused = await act({ action: 'pauseAgent', agentId: 'worker' });
    expect(paused.status).toBe(200);
    expect(JSON.parse(paused.body)).toEqual({ ok: true, message: 'agent worker paused: it gets no new task' });
    expect(nf.orchestrator.isAgentPaused('worker')).toBe(true);
    nf.orchestrator.submitTask({ taskId: 'held', requiredCapabilities: ['x'] });
    await settle();
    expect(nf.orchestrator.getTask('held')?.state).toBe('queued');
    expect((await act({ action: 'resumeAgent', agentId: 'worker' })).status).toBe(200);
    await settle();
    expect(nf.orchestrator.getTask('held')?.state).toBe('running');
    pending.get('held')?.resolve('ok');
    await nf.orchestrator.waitForTask('held');
  });

  test('cancel a running task, then retry it', async () => {
    nf.orchestrator.submitTask({ taskId: 'job', requiredCapabilities: ['x'], payload: { n: 1 } });
    await settle();
    const cancelled = await act({ action: 'cancelTask', taskId: 'job' });
    expect(JSON.parse(cancelled.body)).toEqual({ ok: true, message: 'task job cancelled' });
    expect(await nf.orchestrator.waitForTask('job')).toMatchObject({ status: 'cancelled' });
    // Cancelling again: refused, the task is final.
    expect((await act({ action: 'cancelTask', taskId: 'job' })).status).toBe(409);
    const retried = await act({ action: 'retryTask', taskId: 'job' });
    expect(JSON.parse(retried.body)).toEqual({ ok: true, message: 'task job submitted again as job~retry1' });
    await settle();
    pending.get('job~retry1')?.resolve('done');
    expect(await nf.orchestrator.waitForTask('job~retry1')).toMatchObject({ status: 'completed', payload: { n: 1 } });
  });

  test('bad requests are refused with a reason, and never reach the orchestrator', async () => {
    expect((await act({ action: 'pauseAgent', agentId: 'nobody' })).status).toBe(409);
    expect((await act({ action: 'retryTask', taskId: 'missing' })).status).toBe(409);
    expect((await act({ action: 'explode' })).status).toBe(400);
    expect((await act({ action: 'pauseAgent', agentId: 'worker', extra: 1 })).status).toBe(400);
    expect((await act({ action: 'pauseAgent', agentId: 42 })).status).toBe(400);
    expect((await act('{"__proto__": {"action": "pauseAgent"}}')).status).toBe(400);
    expect((await act('not json')).status).toBe(400);
    expect((await act(JSON.stringify({ action: 'pauseAgent', agentId: 'x'.repeat(5000) }))).status).toBe(400);
    expect((await act({ action: 'pauseAgent', agentId: 'worker' }, { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await http(`${inspector.url}api/actions`)).status).toBe(405);
    expect(nf.orchestrator.isAgentPaused('worker')).toBe(false);
  });
});
