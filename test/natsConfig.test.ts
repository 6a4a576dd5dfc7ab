/**
 * Per-process NATS users with the permissions `neuroflux nats-config` generates, on a real
 * nats-server started with that configuration: an orchestrator and a host run a workflow;
 * a third user can neither publish under another host's identity (the server refuses it)
 * nor get its own forgeries believed (the orchestrator refuses them).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import {
  AgentHost,
  createNeuroFlux,
  nats,
  natsServerConfig,
  NatsKvSnapshotStore,
  publishInspection,
  type NatsServerConfig,
  type NatsUserCredentials,
  type NeuroFlux,
} from '../src';
import { remoteInspectionSource } from '../src/observability/inspector/remoteInspectionSource';
import { buildCli } from '../src/cli/main';
import { Subjects } from '../src/transport';
import { cleanupAfterEach } from './support/cleanup';
import { startNatsServerWithConfig, type ConfiguredNatsServer } from './support/natsConfigServer';
import { describeWithServer, NATS_SERVER_BIN, waitFor } from './support/servers';

const namespace = 'secure';

describe('natsServerConfig (no server)', () => {
  test('each user publishes under its own prefix; hosts may not touch the orchestrator consumers; nkeys keep seeds out of the config', () => {
    const { serverConfig, users, permissions } = natsServerConfig({ namespace, orchestrators: ['orch-1'], hosts: ['host-1'] });
    expect(users.map((u) => [u.role, u.identity, u.inboxPrefix])).toEqual([
      ['orchestrator', 'orch-1', '_INBOX_orch-1'],
      ['host', 'host-1', '_INBOX_host-1'],
    ]);
    for (const user of users) expect(serverConfig).not.toContain(user.nkeySeed as string);
    expect(permissions['host-1']?.publish.allow).toContain('nf.secure.from.host-1.>');
    expect(permissions['host-1']?.publish.allow.some((s) => s.startsWith('nf.secure.from.orch-1'))).toBe(false);
    expect(permissions['host-1']?.publish.deny).toContain('$JS.API.CONSUMER.MSG.NEXT.NF_secure.nf_orchestrator_high');
    expect(permissions['host-1']?.publish.allow.some((s) => s.includes('KV'))).toBe(false);
    expect(permissions['host-1']?.subscribe.allow).toContain('_INBOX_host-1.>');
    expect(permissions['orch-1']?.publish.allow).toContain('$KV.neuroflux.>');
    expect(() => natsServerConfig({ namespace, orchestrators: ['x'], hosts: ['x'] })).toThrow(/own identity/);
    expect(() => natsServerConfig({ namespace: 'a.b', orchestrators: ['x'] })).toThrow(/namespace/);
  });

  test("an inspector has its own user: its own prefix, a host's JetStream rights, no KV, not the orchestrators' consumers", () => {
    const { users, permissions, serverConfig } = natsServerConfig({ namespace, orchestrators: ['orch-1'], hosts: ['host-1'], inspectors: ['inspector-1'] });
    expect(users.map((u) => [u.role, u.identity])).toEqual([
      ['orchestrator', 'orch-1'],
      ['host', 'host-1'],
      ['inspector', 'inspector-1'],
    ]);
    const p = permissions['inspector-1'];
    expect(p?.publish.allow).toContain('nf.secure.from.inspector-1.>');
    expect(p?.publish.allow.some((s) => s.startsWith('nf.secure.from.orch-1') || s.startsWith('nf.secure.from.host-1'))).toBe(false);
    expect(p?.publish.allow.some((s) => s.includes('KV'))).toBe(false);
    expect(p?.publish.deny).toContain('$JS.API.CONSUMER.MSG.NEXT.NF_secure.nf_orchestrator_high');
    expect(p?.subscribe.allow).toContain('_INBOX_inspector-1.>');
    expect(serverConfig).toContain('# inspector inspector-1');
    expect(() => natsServerConfig({ namespace, orchestrators: ['x'], inspectors: ['x'] })).toThrow(/own identity/);
    expect(() => natsServerConfig({ namespace, orchestrators: ['x'], inspectors: ['a.b'] })).toThrow(/inspectors/);
  });

  test('the CLI prints the configuration and the credentials as JSON', async () => {
    let out = '';
    const program = buildCli({ write: (text) => void (out += text), isTTY: false });
    await program.parseAsync([
      'node',
      'neuroflux',
      'nats-config',
      '--namespace',
      'prod',
      '--orchestrators',
      'orch-1',
      '--hosts',
      'host-1,host-2',
      '--inspectors',
      'ops',
      '--auth',
      'password',
    ]);
    const printed = JSON.parse(out) as { serverConfig: string; users: NatsUserCredentials[] };
    expect(printed.users.map((u) => [u.role, u.identity])).toEqual([
      ['orchestrator', 'orch-1'],
      ['host', 'host-1'],
      ['host', 'host-2'],
      ['inspector', 'ops'],
    ]);
    expect(printed.serverConfig).toContain(`password: ${JSON.stringify(printed.users[1]?.pass)}`);
    expect(printed.serverConfig).toContain('"nf.prod.from.host-2.>"');
  });
});

describe('neuroflux nats-config --out', () => {
  test('the server config (passwords) and the credentials files are readable by their owner only, also when they existed before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-config-out-'));
    try {
      chmodSync(dir, 0o755);
      writeFileSync(join(dir, 'nats-server.conf'), 'old', { mode: 0o644 });
      writeFileSync(join(dir, 'orch-1.json'), '{}', { mode: 0o644 });
      const program = buildCli({ write: () => undefined, isTTY: false });
      await program.parseAsync(['node', 'neuroflux', 'nats-config', '--namespace', 'prod', '--orchestrators', 'orch-1', '--hosts', 'host-1', '--auth', 'password', '--out', dir]);
      const mode = (path: string) => statSync(path).mode & 0o777;
      expect(mode(dir)).toBe(0o700);
      for (const file of ['nats-server.conf', 'orch-1.json', 'host-1.json']) expect([file, mode(join(dir, file))]).toEqual([file, 0o600]);
      expect(readFileSync(join(dir, 'nats-server.conf'), 'utf8')).toContain('password');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithServer(NATS_SERVER_BIN, 'per-process NATS users (nats-server -c with the generated configuration)', () => {
  const cleanup = cleanupAfterEach();
  let generated: NatsServerConfig;
  const credentials = (identity: string) => generated.users.find((u) => u.identity === identity) as NatsUserCredentials;
  let server: ConfiguredNatsServer;

  beforeAll(async () => {
    server = await startNatsServerWithConfig(
      (port, storeDir) =>
        (generated = natsServerConfig({ namespace, orchestrators: ['orch-1'], hosts: ['host-1', 'host-2'], inspectors: ['inspector-1'], port, storeDir })).serverConfig,
    );
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  const transportOf = (identity: string) => {
    const c = credentials(identity);
    return nats({ servers: server.url, namespace, identity, nkeySeed: c.nkeySeed, inboxPrefix: c.inboxPrefix });
  };
  /** Errors the server reported on a connection (permission violations among them). */
  function watchErrors(nc: NatsConnection | undefined): string[] {
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc?.status() ?? []) if (s.type === 'error') errors.push(String(s.error.message));
    })();
    return errors;
  }
  async function rawConnection(identity: string): Promise<{ nc: NatsConnection; errors: string[] }> {
    const c = credentials(identity);
    const nc = cleanup.add(await connect({ servers: server.url, authenticator: nkeyAuthenticator(new TextEncoder().encode(c.nkeySeed)), inboxPrefix: c.inboxPrefix }));
    return { nc, errors: watchErrors(nc) };
  }

  test('an orchestrator and a host run a workflow; host-2 cannot publish as host-1, and its own forgeries are refused', async () => {
    // The orchestrator first: it creates the streams (hosts may only look them up).
    const orchestratorTransport = transportOf('orch-1');
    const orchestrator: NeuroFlux = cleanup.add(createNeuroFlux({ transport: orchestratorTransport }));
    await orchestrator.start();
    const hostTransport = transportOf('host-1');
    const hostRuntime = cleanup.add(createNeuroFlux({ transport: hostTransport, orchestrator: false }));
    await hostRuntime.start();
    // The generated permissions cover everything the legitimate processes do.
    const legitimateErrors = [...watchErrors(orchestratorTransport.connection), ...watchErrors(hostTransport.connection)];
    const host = cleanup.add(new AgentHost({ bus: hostRuntime.bus, hostId: 'host-1' }));
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    host.addAgent('host-1-worker', {
      capabilities: ['x'],
      execute: async (task) => {
        if (task.name === 'held') await held;
        return `${task.name} by host-1`;
      },
    });
    host.start();
    await waitFor(() => orchestrator.orchestrator.getAgent('host-1-worker') !== undefined, 10_000, 'host-1 registered');

    const submitted = orchestrator.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'a', name: 'a', requiredCapabilities: ['x'] },
        { taskId: 'b', name: 'b', requiredCapabilities: ['x'], dependencies: ['a'] },
      ],
    });
    for (const { taskId } of submitted) expect(await orchestrator.orchestrator.waitForTask(taskId)).toMatchObject({ status: 'completed', result: `${taskId} by host-1` });

    const { taskId } = orchestrator.orchestrator.submitTask({ name: 'held', requiredCapabilities: ['x'] });
    await waitFor(() => orchestrator.orchestrator.getTask(taskId)?.status === 'running', 10_000, 'the held task running on host-1');

    // host-2 under host-1's prefix: the server refuses both publishes (a result, a presence).
    const subjects = new Subjects(namespace, 'host-1');
    const intruder = await rawConnection('host-2');
    intruder.nc.publish(subjects.durable('orchestrator', 'medium'), JSON.stringify({ taskId, status: 'completed', result: 'forged' }));
    intruder.nc.publish(subjects.topic('agent_presence'), JSON.stringify({ hostId: 'host-1', status: 'leaving', heartbeatIntervalMs: 1000, agents: [] }));
    await waitFor(() => intruder.errors.filter((e) => /permissions violation/i.test(e)).length === 2, 10_000, 'two permission violations');
    // Nor may it read the orchestrator's consumers (where results wait).
    const jsm = await jetstreamManager(intruder.nc);
    await expect(jsm.consumers.info(subjects.stream(), 'nf_orchestrator_medium')).rejects.toThrow();

    // Under its own identity it may publish, but the orchestrator believes neither a result
    // in host-1's agent's name nor a presence for host-1.
    const forgerRuntime = cleanup.add(createNeuroFlux({ transport: transportOf('host-2'), orchestrator: false }));
    await forgerRuntime.start();
    forgerRuntime.bus.sendMessage({
      senderId: 'host-1-worker',
      recipientId: 'orchestrator',
      messageType: 'notification',
      topic: 'task_result',
      payload: { taskId, attempt: 0, dispatch: '00000000-0000-4000-8000-000000000000', status: 'completed', result: 'forged' },
    });
    const forgedHost = cleanup.add(new AgentHost({ bus: forgerRuntime.bus, hostId: 'host-1' }));
    forgedHost.addAgent('planted', { capabilities: ['x'], execute: () => 'stolen' });
    forgedHost.start();
    await waitFor(
      () => {
        const stats = orchestrator.orchestrator.getStats();
        return stats.refusedResults.wrongHost === 1 && stats.hosts.refusedAnnouncements >= 1;
      },
      10_000,
      'the forged result and presence refused',
    );
    expect(orchestrator.orchestrator.getAgent('planted')).toBeUndefined();
    expect(orchestrator.orchestrator.getTask(taskId)?.status).toBe('running');

    release();
    expect(await orchestrator.orchestrator.waitForTask(taskId)).toMatchObject({ status: 'completed', result: 'held by host-1' });
    expect(legitimateErrors).toEqual([]);
  }, 60_000);

  test("neuroflux host --credentials runs a workflow file's agents as that host, under its NATS user", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-creds-'));
    cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
    const workflow = join(dir, 'workflow.json');
    writeFileSync(
      workflow,
      JSON.stringify({
        agents: [{ agentId: 'sim-worker', capabilities: ['work'], executor: { simulated: { durationMs: { mean: 5 } } } }],
        tasks: [{ taskId: 'a', requiredCapabilities: ['work'] }],
      }),
    );
    const credentialsFile = join(dir, 'host-2.json');
    writeFileSync(credentialsFile, JSON.stringify({ namespace, ...credentials('host-2') }));
    const orchestrator = cleanup.add(createNeuroFlux({ transport: transportOf('orch-1') }));
    await orchestrator.start();
    let stopHost: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => (stopHost = resolve));
    cleanup.defer(() => stopHost());
    let out = '';
    const hosting = buildCli({ write: (t) => void (out += t), isTTY: false }, { untilInterrupted: () => interrupted }).parseAsync([
      'node',
      'neuroflux',
      'host',
      workflow,
      '--nats',
      server.url,
      '--credentials',
      credentialsFile,
      '--heartbeat',
      '200',
    ]);
    await waitFor(() => orchestrator.orchestrator.getAgent('sim-worker') !== undefined, 10_000, 'sim-worker registered from host-2');
    const { taskId } = orchestrator.orchestrator.submitTask({ requiredCapabilities: ['work'] });
    expect(await orchestrator.orchestrator.waitForTask(taskId)).toMatchObject({ status: 'completed', assignedAgent: 'sim-worker' });
    stopHost();
    await hosting;
    expect(out).toMatch(/^hosting sim-worker as host-2 on nats:\/\/.* \(namespace secure\)/);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ namespace, role: 'host', identity: 'host-2', inboxPrefix: '_INBOX_host-2' }));
    const cli = () => buildCli({ write: () => undefined, isTTY: false }, { untilInterrupted: () => Promise.resolve() });
    await expect(cli().parseAsync(['node', 'neuroflux', 'host', workflow, '--nats', server.url, '--credentials', bad])).rejects.toThrow(/nkeySeed/);
    await expect(cli().parseAsync(['node', 'neuroflux', 'host', workflow, '--nats', server.url, '--credentials', credentialsFile, '--host-id', 'host-1'])).rejects.toThrow(
      /--host-id/,
    );
  }, 60_000);

  test('neuroflux run --credentials runs a workflow as that orchestrator, its tasks taken by a host under its own user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-creds-run-'));
    cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
    const workflow = join(dir, 'workflow.json');
    writeFileSync(workflow, JSON.stringify({ agents: [{ agentId: 'remote', capabilities: ['cli-work'] }], tasks: [{ taskId: 'via-cli', requiredCapabilities: ['cli-work'] }] }));
    const orchestratorFile = join(dir, 'orch-1.json');
    writeFileSync(orchestratorFile, JSON.stringify({ namespace, ...credentials('orch-1') }));
    let out = '';
    const running = buildCli({ write: (t) => void (out += t), isTTY: false }).parseAsync([
      'node',
      'neuroflux',
      'run',
      workflow,
      '--nats',
      server.url,
      '--credentials',
      orchestratorFile,
      '--remote-agents',
      '--json',
    ]);
    const hostTransport = transportOf('host-1');
    const hostRuntime = cleanup.add(createNeuroFlux({ transport: hostTransport, orchestrator: false }));
    await hostRuntime.start();
    const host = cleanup.add(new AgentHost({ bus: hostRuntime.bus, hostId: 'host-1', heartbeatIntervalMs: 200 }));
    host.addAgent('host-1-cli-worker', { capabilities: ['cli-work'], execute: (task) => `${task.taskId} by host-1` });
    host.start();
    await running;
    expect(JSON.parse(out)).toEqual([expect.objectContaining({ taskId: 'via-cli', status: 'completed', result: 'via-cli by host-1', assignedAgent: 'host-1-cli-worker' })]);

    const hostFile = join(dir, 'host-1.json');
    writeFileSync(hostFile, JSON.stringify({ namespace, ...credentials('host-1') }));
    const cli = () => buildCli({ write: () => undefined, isTTY: false });
    await expect(cli().parseAsync(['node', 'neuroflux', 'run', workflow, '--nats', server.url, '--credentials', hostFile, '--remote-agents'])).rejects.toMatchObject({
      field: '--credentials',
    });
    await expect(cli().parseAsync(['node', 'neuroflux', 'run', workflow, '--credentials', orchestratorFile])).rejects.toThrow(/credentials/);
    // An inspector's user is neither an orchestrator's nor a host's.
    const inspectorFile = join(dir, 'inspector-1.json');
    writeFileSync(inspectorFile, JSON.stringify({ namespace, ...credentials('inspector-1') }));
    await expect(cli().parseAsync(['node', 'neuroflux', 'run', workflow, '--nats', server.url, '--credentials', inspectorFile, '--remote-agents'])).rejects.toThrow(
      /is inspector inspector-1's: run needs an orchestrator's/,
    );
    await expect(cli().parseAsync(['node', 'neuroflux', 'host', workflow, '--nats', server.url, '--credentials', inspectorFile])).rejects.toThrow(
      /is inspector inspector-1's: host needs a host's/,
    );
  }, 60_000);

  test('an inspector under its own user sees the orchestrator and acts on it when listed in actions.from; a host may not act', async () => {
    const orchestratorTransport = transportOf('orch-1');
    const orchestrator: NeuroFlux = cleanup.add(createNeuroFlux({ transport: orchestratorTransport }));
    orchestrator.orchestrator.registerAgent('paused-worker', { capabilities: ['inspected'], execute: () => 'done' });
    await orchestrator.start();
    const inspectorTransport = transportOf('inspector-1');
    const inspectorRuntime = cleanup.add(createNeuroFlux({ transport: inspectorTransport, orchestrator: false }));
    await inspectorRuntime.start();
    const hostRuntime = cleanup.add(createNeuroFlux({ transport: transportOf('host-1'), orchestrator: false }));
    await hostRuntime.start();
    const errors = [...watchErrors(orchestratorTransport.connection), ...watchErrors(inspectorTransport.connection)];
    const publisher = publishInspection(orchestrator, { runtimeId: 'orch-1', role: 'orchestrator', sampleMs: 100, actions: { from: ['inspector-1'] } });
    cleanup.defer(() => publisher.close());
    const source = remoteInspectionSource(inspectorRuntime.bus);
    cleanup.defer(() => source.close());
    await waitFor(() => source.runtimes().includes('orch-1'), 15_000, 'the orchestrator seen by the inspector');
    await expect(source.actions.pauseAgent?.('paused-worker')).resolves.toMatch(/paused/);
    expect(orchestrator.orchestrator.isAgentPaused('paused-worker')).toBe(true);
    const forged = await hostRuntime.bus.sendRequest({
      senderId: 'nf-inspector-x',
      recipientId: 'nf-inspection-orch-1',
      topic: 'neuroflux.inspect.action',
      payload: { action: 'resumeAgent', agentId: 'paused-worker' },
      timeoutMs: 10_000,
    });
    expect(forged.payload).toMatchObject({ ok: false, error: expect.stringContaining('identity host-1') });
    expect(orchestrator.orchestrator.isAgentPaused('paused-worker')).toBe(true);
    expect(errors).toEqual([]);
  }, 60_000);

  test('an orchestrator keeps its state in the KV bucket; a host may not open it', async () => {
    const orchestrator = await rawConnection('orch-1');
    const store = await NatsKvSnapshotStore.open(orchestrator.nc);
    const revision = await store.save('orchestrator', { tasks: [] }, 0);
    expect(await store.load('orchestrator')).toMatchObject({ value: { tasks: [] }, revision });
    await store.save('orchestrator', { tasks: ['a'] }, revision);
    expect(await store.keys()).toEqual(['orchestrator']);
    await store.delete('orchestrator');
    expect(orchestrator.errors).toEqual([]);
    const host = await rawConnection('host-1');
    await expect(NatsKvSnapshotStore.open(host.nc)).rejects.toThrow();
  }, 60_000);
});
