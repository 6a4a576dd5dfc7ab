/**
 * Inspection over NATS (own nats-server on a free port): an orchestrator runtime and an
 * agent host publish sampled inspection frames once an inspector of the namespace asks,
 * the inspector (a third runtime) shows both, and they stop publishing when its interest
 * lapses. Also `neuroflux host --inspect` and `neuroflux inspect --nats`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import WebSocket from 'ws';
import { buildCli } from '../src/cli/main';
import { registerInspectCommand } from '../src/cli/inspectCommand';
import { createNeuroFlux, type NeuroFlux } from '../src/runtime/createNeuroFlux';
import { AgentHost } from '../src/orchestration/agentHost';
import { nats } from '../src/transport/natsTransport';
import { publishInspection, startRemoteInspector, type Inspector, type InspectionPublisher, type SnapshotFrame, type StatechartFrame } from '../src/observability';
import { NATS_SERVER_BIN, describeWithServer, natsServerForSuite, waitFor } from './support/servers';

function getJson<T>(url: string): Promise<T> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as T);
        } catch (error) {
          reject(error);
        }
      });
    })
      .on('error', reject)
      .end();
  });
}

/** Asks the page's socket for a statechart and resolves with the answer. */
function statechart(url: string, systemId: string): Promise<StatechartFrame> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}ws`);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'statechart', systemId })));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string };
      if (frame.type !== 'statechart') return;
      ws.close();
      resolve(frame as StatechartFrame);
    });
    ws.on('error', reject);
  });
}

describeWithServer(NATS_SERVER_BIN, 'inspection over NATS', () => {
  const server = natsServerForSuite();

  describe('two runtimes and an inspector in a third', () => {
    const namespace = 'inspectnats';
    let orchestrator: NeuroFlux;
    let hostRuntime: NeuroFlux;
    let inspectorRuntime: NeuroFlux;
    let host: AgentHost;
    let publishers: InspectionPublisher[];
    let inspector: Inspector | undefined;

    beforeAll(async () => {
      // Each process publishes under its identity (what per-process NATS users enforce; see docs/security.md).
      orchestrator = createNeuroFlux({ name: 'orchestrator', transport: nats({ servers: server().url, namespace, name: 'orch', identity: 'orch-1' }) });
      hostRuntime = createNeuroFlux({ orchestrator: false, transport: nats({ servers: server().url, namespace, name: 'host', identity: 'host-1' }) });
      inspectorRuntime = createNeuroFlux({ orchestrator: false, transport: nats({ servers: server().url, namespace, name: 'inspector', identity: 'inspector-1' }) });
      await Promise.all([orchestrator.start(), hostRuntime.start(), inspectorRuntime.start()]);
      host = new AgentHost({ bus: hostRuntime.bus, hostId: 'host-1', heartbeatIntervalMs: 200 });
      host.addAgent('remote-worker', { capabilities: ['work'], maxConcurrentTasks: 2, execute: async (task) => `done ${task.taskId}` });
      host.start();
      publishers = [
        publishInspection(orchestrator, { runtimeId: 'orch-1', role: 'orchestrator', sampleMs: 100, actions: { from: ['inspector-1'] } }),
        publishInspection(hostRuntime, { runtimeId: 'host-1', role: 'host', sampleMs: 100 }),
      ];
    }, 30_000);

    afterAll(async () => {
      await inspector?.close();
      for (const p of publishers ?? []) await p.close();
      await host?.drain(1000);
      await Promise.all([orchestrator?.stop(), hostRuntime?.stop(), inspectorRuntime?.stop()]);
    });

    test('nothing is published before an inspector asks', () => {
      expect(publishers.map((p) => p.publishing)).toEqual([false, false]);
      expect(publishers.map((p) => p.counters.frames)).toEqual([0, 0]);
    });

    test('the inspector shows both runtimes, their actors, the tasks and statecharts; the runtimes stop when it goes', async () => {
      const attached = await startRemoteInspector(inspectorRuntime, { port: 0 });
      inspector = attached;
      // Runtimes answer within a sample or two; the workflow then runs while the inspector watches.
      await waitFor(async () => (await getJson<SnapshotFrame>(`${attached.url}api/snapshot`)).actors.filter((a) => a.parentId === null).length === 2, 15_000, 'both runtimes');
      const workflow = orchestrator.orchestrator.submitWorkflow(
        {
          tasks: [
            { taskId: 'fetch', requiredCapabilities: ['work'] },
            { taskId: 'report', requiredCapabilities: ['work'], dependencies: ['fetch'] },
          ],
        },
        { requireCapableAgents: false },
      ); // the host's agent registers by heartbeat
      await orchestrator.orchestrator.waitForWorkflow(workflow.map((s) => s.taskId));

      let snapshot: SnapshotFrame | undefined;
      await waitFor(
        async () => {
          snapshot = await getJson<SnapshotFrame>(`${attached.url}api/snapshot`);
          const ids = new Set(snapshot.actors.map((a) => a.id));
          const systemIds = new Set(snapshot.actors.map((a) => `${a.id.split('/')[0]}:${a.systemId}`));
          return (
            ids.has('runtime/orch-1') &&
            ids.has('runtime/host-1') &&
            systemIds.has('host-1:agent:remote-worker') &&
            systemIds.has('orch-1:task:report') &&
            snapshot.tasks.filter((t) => t.status === 'completed').length === 2
          );
        },
        15_000,
        'both runtimes in the inspector',
      );
      const s = snapshot as SnapshotFrame;
      const roots = s.actors.filter((a) => a.parentId === null).map((a) => [a.id, a.name, a.status]);
      expect(roots).toEqual(
        expect.arrayContaining([
          ['runtime/orch-1', 'orchestrator orch-1', 'active'],
          ['runtime/host-1', 'host host-1', 'active'],
        ]),
      );
      // Each runtime's actors hang under its root; ids are scoped by runtime.
      for (const actor of s.actors) {
        if (actor.parentId === null) continue;
        const runtimeId = actor.id.split('/')[0];
        expect(['orch-1', 'host-1']).toContain(runtimeId);
        expect(actor.parentId.startsWith(`${runtimeId}/`) || actor.parentId === `runtime/${runtimeId}`).toBe(true);
      }
      expect(Object.fromEntries(s.tasks.map((t) => [t.taskId, [t.status, t.agentId]]))).toEqual({
        'orch-1/fetch': ['completed', 'remote-worker'],
        'orch-1/report': ['completed', 'remote-worker'],
      });
      expect(s.workflows.map((w) => [...w.taskIds].sort())).toEqual([['orch-1/fetch', 'orch-1/report']]);
      // The inspection traffic is not shown as the runtimes' messages.
      expect(s.messages.filter((m) => m.topic.startsWith('neuroflux.inspect.'))).toEqual([]);

      const chart = await statechart(attached.url, 'task:report');
      expect(chart.graph?.machineId).toBe('task');
      expect(chart.value).toBe('completed');
      expect(chart.actorId).toMatch(/^orch-1\//);
      // Both still publish while the inspector stays: their frame counts grow.
      const counted = publishers.map((p) => p.counters.frames);
      await waitFor(() => publishers.every((p, i) => p.counters.frames > (counted[i] ?? 0)), 15_000, 'frames keep coming');

      // The page's actions go to the runtime that accepts them (the orchestrator), over the bus.
      const page = await new Promise<string>((resolve, reject) => {
        request(attached.url, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve(body));
        })
          .on('error', reject)
          .end();
      });
      const token = /name="neuroflux-action-token" content="([^"]+)"/.exec(page)?.[1] ?? '';
      const act = (body: unknown) =>
        fetch(`${attached.url}api/actions`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-NeuroFlux-Token': token }, body: JSON.stringify(body) });
      const paused = await act({ action: 'pauseAgent', agentId: 'remote-worker' });
      expect(paused.status).toBe(200);
      expect(await paused.json()).toEqual({ ok: true, message: 'agent remote-worker paused: it gets no new task (on orch-1)' });
      expect(orchestrator.orchestrator.isAgentPaused('remote-worker')).toBe(true);
      expect((await act({ action: 'resumeAgent', agentId: 'remote-worker' })).status).toBe(200);
      expect(orchestrator.orchestrator.isAgentPaused('remote-worker')).toBe(false);
      const refused = await act({ action: 'cancelTask', taskId: 'orch-1/report' });
      expect(refused.status).toBe(409);
      expect(await refused.json()).toEqual({ ok: false, error: 'orch-1: task report is already finished' });
      expect(await act({ action: 'pauseAgent', agentId: 'remote-worker' }).then((r) => r.status)).toBe(200);
      expect((await fetch(`${attached.url}api/actions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(403);
      await act({ action: 'resumeAgent', agentId: 'remote-worker' });
      // Another process of the namespace (the host's identity is not in actions.from) is refused.
      const forged = await hostRuntime.bus.sendRequest({
        senderId: 'nf-inspector-forged',
        recipientId: 'nf-inspection-orch-1',
        topic: 'neuroflux.inspect.action',
        payload: { action: 'pauseAgent', agentId: 'remote-worker' },
        timeoutMs: 10_000,
      });
      expect(forged.payload).toEqual({ ok: false, error: 'actions from identity host-1 are not allowed on this runtime (publishInspection actions.from)' });
      expect(orchestrator.orchestrator.isAgentPaused('remote-worker')).toBe(false);

      // The inspector goes: its interest lapses and the runtimes stop sampling.
      await attached.close();
      inspector = undefined;
      await waitFor(() => publishers.every((p) => !p.publishing), 15_000, 'publishers stopped');
      const frames = publishers.map((p) => p.counters.frames);
      expect(frames.every((n) => n > 0)).toBe(true);
    }, 40_000);

    test('hostile interest payloads are counted and ignored', async () => {
      const before = publishers[0]?.counters.invalidInterests ?? 0;
      for (const payload of [
        {},
        { v: 1, inspectorId: 'x', ttlMs: 1e12 },
        { v: 2, inspectorId: 'x', ttlMs: 1000 },
        { v: 1, inspectorId: 'x', ttlMs: 1000, resync: 'all' },
        'text',
      ]) {
        inspectorRuntime.bus.publishEvent({ senderId: 'hostile', topic: 'neuroflux.inspect.interest', payload });
      }
      await waitFor(() => (publishers[0]?.counters.invalidInterests ?? 0) >= before + 5, 10_000, 'interests refused');
      expect(publishers.map((p) => p.publishing)).toEqual([false, false]);
    });
  });

  test('neuroflux host --inspect serves its own inspector; neuroflux inspect --nats attaches to the namespace', async () => {
    const namespace = 'inspectcli';
    const file = join(mkdtempSync(join(tmpdir(), 'nf-inspect-')), 'workflow.json');
    writeFileSync(
      file,
      JSON.stringify({
        agents: [{ agentId: 'sim-worker', capabilities: ['work'], executor: { simulated: { durationMs: { mean: 5 } } } }],
        tasks: [{ taskId: 'a', requiredCapabilities: ['work'] }],
      }),
    );
    let stopHost: () => void = () => undefined;
    const hostStopped = new Promise<void>((resolve) => (stopHost = resolve));
    let hostOut = '';
    const hosting = buildCli({ write: (t) => (hostOut += t), isTTY: false }, { untilInterrupted: () => hostStopped }).parseAsync([
      'node',
      'neuroflux',
      'host',
      file,
      '--nats',
      server().url,
      '--namespace',
      namespace,
      '--host-id',
      'cli-host',
      '--inspect',
    ]);
    await waitFor(() => /inspector: http:\/\/127\.0\.0\.1:\d+\//.test(hostOut), 15_000, 'host inspector URL');
    const hostUrl = /inspector: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(hostOut)?.[1] as string;
    await waitFor(
      async () => (await getJson<SnapshotFrame>(`${hostUrl}api/snapshot`)).actors.some((a) => a.systemId === 'agent:sim-worker'),
      10_000,
      'host agent in its inspector',
    );

    let stopInspect: () => void = () => undefined;
    const inspectStopped = new Promise<void>((resolve) => (stopInspect = resolve));
    let inspectUrl = '';
    let inspectOut = '';
    const program = new Command();
    registerInspectCommand(program, (t) => (inspectOut += t), { until: () => inspectStopped, onListening: (url) => (inspectUrl = url) });
    const inspecting = program.parseAsync(['node', 'neuroflux', 'inspect', '--nats', server().url, '--namespace', namespace]);
    await waitFor(() => inspectUrl !== '', 15_000, 'inspect --nats URL');
    await waitFor(
      async () => (await getJson<SnapshotFrame>(`${inspectUrl}api/snapshot`)).actors.some((a) => a.id.startsWith('cli-host/') && a.systemId === 'agent:sim-worker'),
      15_000,
      'the host seen by inspect --nats',
    );
    expect(inspectOut).toContain(`namespace ${namespace}`);
    stopInspect();
    await inspecting;
    stopHost();
    await hosting;
    expect(hostOut).toMatch(/cli-host: 0 completed, 0 failed, 0 aborted/);
  }, 60_000);
});
