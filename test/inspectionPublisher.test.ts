/**
 * Inspection interest and frames on one in-memory bus, time driven by jest's fake timers:
 * a runtime publishes only while an inspector's interest is current, a gap in a runtime's
 * frames makes the inspector ask it for a snapshot, and hostile frames are refused.
 */
import { createNeuroFlux, type NeuroFlux } from '../src/runtime/createNeuroFlux';
import { INSPECTION_FRAME_TOPIC, INSPECTION_INTEREST_TOPIC, publishInspection, type InspectionPublisher } from '../src/observability';
import { remoteInspectionSource } from '../src/observability/inspector/remoteInspectionSource';
import type { Message } from '../src/bus/message';
import { settle } from './support/settle';

describe('inspection publisher and remote source (in memory, fake timers)', () => {
  let nf: NeuroFlux;
  let publisher: InspectionPublisher;
  const interests: Message[] = [];
  const frames: Message[] = [];

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    nf = createNeuroFlux({ name: 'inspected' });
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: () => 'done' });
    nf.bus.registerAgent('wire-tap', {
      topics: [INSPECTION_INTEREST_TOPIC, INSPECTION_FRAME_TOPIC],
      handler: (m) => void (m.topic === INSPECTION_INTEREST_TOPIC ? interests : frames).push(m),
    });
    await nf.start();
    interests.length = 0;
    frames.length = 0;
    publisher = publishInspection(nf, { runtimeId: 'r1', role: 'orchestrator', sampleMs: 100 });
  });

  afterEach(async () => {
    await publisher.close();
    await nf.stop();
    jest.useRealTimers();
  });

  async function advance(ms: number, step = 50): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      jest.advanceTimersByTime(Math.min(step, ms - t));
      await settle(2);
    }
  }

  test('publishes a snapshot when asked, deltas after, and stops once the interest lapses', async () => {
    await advance(1000);
    expect(publisher.publishing).toBe(false);
    expect(frames).toEqual([]);

    const source = remoteInspectionSource(nf.bus, { ttlMs: 900 });
    await settle(4);
    expect(publisher.publishing).toBe(true);
    expect(source.runtimes()).toEqual(['r1']);
    const first = frames[0]?.payload as { kind: string; seq: number; runtimeId: string };
    expect(first).toMatchObject({ kind: 'snapshot', seq: 1, runtimeId: 'r1' });
    expect(source.snapshot().actors.find((a) => a.id === 'runtime/r1')).toMatchObject({ name: 'orchestrator r1', status: 'active', parentId: null });

    nf.orchestrator.submitTask({ taskId: 'job', requiredCapabilities: ['x'] });
    await nf.orchestrator.waitForTask('job');
    await advance(300);
    expect(
      frames
        .slice(1)
        .map((f) => (f.payload as { kind: string }).kind)
        .every((k) => k === 'delta'),
    ).toBe(true);
    // Task ids are scoped by runtime like actor ids: two runtimes may both have a task t0.
    expect(source.snapshot().tasks.map((t) => [t.taskId, t.status])).toEqual([['r1/job', 'completed']]);
    const chart = source.describe({ systemId: 'agent:worker' });
    expect(chart.graph?.machineId).toBe('agent');
    // The page's workflow graph names a task's actor by the scoped task id.
    expect(source.describe({ systemId: 'task:r1/job' })).toMatchObject({ graph: { machineId: 'task' }, value: 'completed' });
    expect(source.describe({ systemId: 'task:r2/job' }).graph).toBeNull();

    // Interest renewed every ttl/3: still publishing long after the first ttl.
    await advance(3000);
    expect(publisher.publishing).toBe(true);
    // The inspector goes: its last interest was at most ttl/3 (300 ms) ago, so the runtime
    // goes on for at least 600 ms more, and stops within a ttl and a sample (1 000 ms).
    source.close();
    await advance(500);
    expect(publisher.publishing).toBe(true);
    await advance(600);
    expect(publisher.publishing).toBe(false);
    const count = frames.length;
    await advance(1000);
    expect(frames.length).toBe(count);
  });

  test('a gap in a runtime’s frames makes the inspector ask that runtime for a snapshot', async () => {
    const source = remoteInspectionSource(nf.bus, { ttlMs: 900 });
    await settle(4);
    const snapshots = () => frames.filter((f) => (f.payload as { kind: string }).kind === 'snapshot').length;
    expect(snapshots()).toBe(1);
    const latest = frames.at(-1)?.payload as Record<string, unknown>;
    // A delta that skips sequence numbers (frames were lost).
    nf.bus.publishEvent({ senderId: 'replayer', topic: INSPECTION_FRAME_TOPIC, payload: { ...latest, kind: 'delta', seq: (latest['seq'] as number) + 5 } });
    await settle(4);
    expect(interests.at(-1)?.payload).toMatchObject({ resync: ['r1'] });
    await advance(200);
    expect(snapshots()).toBe(2);
    source.close();
  });

  test('hostile frames are counted and change nothing', async () => {
    const source = remoteInspectionSource(nf.bus, { ttlMs: 900 });
    await settle(4);
    const before = source.snapshot().actors.length;
    const dropped = source.sampling(100).messagesDropped;
    const latest = frames.at(-1)?.payload as Record<string, unknown>;
    const hostile: unknown[] = [
      'text',
      { ...latest, v: 2 },
      { ...latest, kind: 'snapshot', runtimeId: '' },
      { ...latest, kind: 'snapshot', actors: [{ id: 1 }] },
      { ...latest, kind: 'snapshot', sampling: { ...(latest['sampling'] as object), eventsSeen: -1 } },
      { ...latest, kind: 'snapshot', role: 'king' },
    ];
    for (const payload of hostile) nf.bus.publishEvent({ senderId: 'hostile', topic: INSPECTION_FRAME_TOPIC, payload });
    await settle(4);
    expect(source.sampling(100).messagesDropped).toBe(dropped + hostile.length);
    expect(source.snapshot().actors.length).toBe(before);
    expect(source.runtimes()).toEqual(['r1']);
    source.close();
  });

  test('actions reach only a runtime that accepts them', async () => {
    const source = remoteInspectionSource(nf.bus, { ttlMs: 900 });
    await settle(4);
    await expect(source.actions.pauseAgent?.('worker')).rejects.toThrow(/no orchestrator of this namespace accepts actions/);
    const acting = publishInspection(nf, { runtimeId: 'r2', role: 'orchestrator', sampleMs: 100, actions: true });
    await advance(900); // r2 hears the next interest and publishes
    expect(source.runtimes()).toEqual(['r1', 'r2']);
    await expect(source.actions.pauseAgent?.('worker')).resolves.toBe('agent worker paused: it gets no new task (on r2)');
    expect(nf.orchestrator.isAgentPaused('worker')).toBe(true);
    await expect(source.actions.retryTask?.('r2/missing')).rejects.toThrow(/task r2\/missing is not known to this inspector/);
    // A request straight to the agent of a runtime without actions is refused, never run.
    const reply = await nf.bus.sendRequest({
      senderId: 'someone',
      recipientId: 'nf-inspection-r1',
      topic: 'neuroflux.inspect.action',
      payload: { action: 'resumeAgent', agentId: 'worker' },
    });
    expect(reply.payload).toEqual({ ok: false, error: 'resumeAgent is not available on this inspector' });
    expect(nf.orchestrator.isAgentPaused('worker')).toBe(true);
    await acting.close();
    source.close();
  });

  test('options are validated', () => {
    expect(() => publishInspection(nf, { runtimeId: 'a.b' })).toThrow(/runtimeId/);
    expect(() => publishInspection(nf, { runtimeId: 'ok', sampleMs: 1 })).toThrow(/sampleMs/);
  });
});

/**
 * The review of issue #18's inspector: who may act, who may speak for a runtime, ids scoped
 * by runtime, bounded memory, frames cut to the wire's limits. Frames "from other processes"
 * are published here with the origin header a NATS transport stamps (`nf-origin`).
 */
describe('inspection over the bus: identities, scoping, limits (in memory, fake timers)', () => {
  let nf: NeuroFlux;
  const frames: Message[] = [];
  const closers: Array<() => unknown> = [];

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    nf = createNeuroFlux({ name: 'inspected' });
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: () => 'done' });
    nf.bus.registerAgent('wire-tap', { topics: [INSPECTION_FRAME_TOPIC], handler: (m) => void frames.push(m) });
    await nf.start();
    frames.length = 0;
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await nf.stop();
    jest.useRealTimers();
  });

  async function advance(ms: number, step = 50): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      jest.advanceTimersByTime(Math.min(step, ms - t));
      await settle(2);
    }
  }

  function source(options: Parameters<typeof remoteInspectionSource>[1] = {}) {
    const s = remoteInspectionSource(nf.bus, { ttlMs: 900, ...options });
    closers.push(() => s.close());
    return s;
  }

  function publisher(options: Parameters<typeof publishInspection>[1]) {
    const p = publishInspection(nf, { sampleMs: 100, ...options });
    closers.push(() => p.close());
    return p;
  }

  const sampling = {
    flushIntervalMs: 100,
    eventsPerFlush: 0,
    eventBuffer: 0,
    eventsSeen: 0,
    eventsDropped: 0,
    messagesPerFlush: 0,
    messagesSeen: 0,
    messagesDropped: 0,
    actorLimit: 0,
    actorsTracked: 0,
    actorsUntracked: 0,
    finishedKept: 0,
  };
  const task = (taskId: string, status = 'running') => ({
    taskId,
    name: taskId,
    taskType: 'x',
    dependencies: [],
    workflowId: 'w',
    status,
    state: status,
    agentId: null,
    retryCount: 0,
    progress: 0,
    error: null,
  });
  const actor = (id: string) => ({
    id,
    name: id,
    systemId: null,
    parentId: null,
    kind: 'actor',
    logicId: null,
    status: 'active',
    value: null,
    context: null,
    createdAt: 0,
    updatedAt: 0,
  });
  function frame(runtimeId: string, seq: number, parts: Record<string, unknown> = {}, kind: 'snapshot' | 'delta' = 'snapshot') {
    return {
      v: 1,
      runtimeId,
      name: runtimeId,
      role: 'orchestrator',
      kind,
      seq,
      sampleMs: 100,
      actors: [],
      removedActors: [],
      events: [],
      messages: [],
      deadLetters: [],
      tasks: [],
      removedTasks: [],
      workflows: [],
      removedWorkflows: [],
      conflicts: [],
      removedConflicts: [],
      sampling,
      graphs: {},
      ...parts,
    };
  }
  /** A frame as it arrives from another process: with the identity its transport read from the subject. */
  function send(payload: unknown, origin?: string): void {
    nf.bus.publishEvent({ senderId: 'elsewhere', topic: INSPECTION_FRAME_TOPIC, payload: payload as never, ...(origin !== undefined && { headers: { 'nf-origin': origin } }) });
  }
  function askAction(recipientId: string, payload: unknown, origin?: string) {
    return nf.bus.sendRequest({
      senderId: 'someone',
      recipientId,
      topic: 'neuroflux.inspect.action',
      payload: payload as never,
      ...(origin !== undefined && { headers: { 'nf-origin': origin } }),
    });
  }

  test('actions run only for this process and the NATS identities listed in actions.from', async () => {
    const local = publisher({ runtimeId: 'r-local', role: 'orchestrator', actions: true });
    const listed = publisher({ runtimeId: 'r-listed', role: 'orchestrator', actions: { from: ['inspector-a'] } });
    const pause = { action: 'pauseAgent', agentId: 'worker' };
    const resume = { action: 'resumeAgent', agentId: 'worker' };
    for (const [agent, origin] of [
      ['nf-inspection-r-local', 'someone'],
      ['nf-inspection-r-local', '~'],
      ['nf-inspection-r-listed', 'someone'],
      ['nf-inspection-r-listed', '~'],
    ] as const) {
      const reply = await askAction(agent, pause, origin);
      expect(reply.payload).toEqual({ ok: false, error: expect.stringMatching(/^actions from (identity someone|an unidentified sender) are not allowed on this runtime/) });
      expect(nf.orchestrator.isAgentPaused('worker')).toBe(false);
    }
    expect(local.counters.refusedActions + listed.counters.refusedActions).toBe(4);
    expect((await askAction('nf-inspection-r-listed', pause, 'inspector-a')).payload).toMatchObject({ ok: true });
    expect(nf.orchestrator.isAgentPaused('worker')).toBe(true);
    expect((await askAction('nf-inspection-r-local', resume)).payload).toMatchObject({ ok: true });
    expect(nf.orchestrator.isAgentPaused('worker')).toBe(false);
    expect(() => publishInspection(nf, { runtimeId: 'bad', actions: { from: ['a.b'] } })).toThrow(/actions/);
  });

  test('a runtime speaks for itself only: frames under another identity, ids with a slash and hostile graphs are refused', async () => {
    publisher({ runtimeId: 'r1', role: 'orchestrator' });
    const s = source();
    await settle(4);
    const before = s.snapshot();
    expect(before.actors.some((a) => a.id === 'runtime/r1')).toBe(true);
    // Another process claims r1: refused, r1 unchanged (no overwrite, no resync forced).
    send(frame('r1', 1, { tasks: [task('forged')], actions: true }), 'mallory');
    send(frame('r1', 1, { tasks: [task('forged')] }), '~');
    await settle(4);
    expect(s.counters().forgedFrames).toBe(2);
    expect(s.snapshot().tasks.map((t) => t.taskId)).not.toContain('r1/forged');
    // Ids that would collide with another runtime's scoped ids, or with the roots.
    send(frame('r1/x', 1), 'r1/x');
    send(frame('runtime', 1), 'runtime');
    await settle(4);
    expect(s.counters().invalidFrames).toBe(2);
    // Mallory may speak for mallory; then no unidentified process may speak for it.
    const protoGraph = JSON.parse('{"__proto__": {"machineId": "evil", "nodes": [], "edges": []}}') as unknown;
    send(frame('mallory', 1, { tasks: [task('t0')], graphs: protoGraph }), 'mallory');
    await settle(4);
    expect(s.runtimes()).toEqual(['mallory', 'r1']);
    expect(({} as Record<string, unknown>)['machineId']).toBeUndefined();
    send(frame('mallory', 1, { tasks: [] }), '~');
    await settle(4);
    expect(s.counters().forgedFrames).toBe(3);
    expect(s.snapshot().tasks.map((t) => t.taskId)).toContain('mallory/t0');
  });

  test('tasks, workflows and conflicts are scoped by runtime; a task action goes to its runtime only', async () => {
    const s = source();
    const asked: Array<[string, unknown]> = [];
    for (const runtimeId of ['ra', 'rb']) {
      nf.bus.registerAgent(`nf-inspection-${runtimeId}`, {
        handler: (m, agent) => {
          asked.push([runtimeId, m.payload]);
          agent.respond(m, runtimeId === 'ra' ? { ok: false, error: 'task t0 is already finished' } : { ok: true, message: 'task t0 cancelled' });
        },
      });
    }
    const conflict = {
      conflictId: 'c0',
      conflictType: 'x',
      description: '',
      involvedAgents: [],
      severity: 1,
      status: 'detected',
      strategy: null,
      algorithm: null,
      votes: [],
      outcome: null,
      detectedAt: 0,
    };
    send(frame('ra', 1, { tasks: [task('t0', 'completed')], workflows: [{ workflowId: 'w', taskIds: ['t0'], finished: true }], conflicts: [conflict], actions: true }));
    send(frame('rb', 1, { tasks: [task('t0')], workflows: [{ workflowId: 'w', taskIds: ['t0'], finished: false }], conflicts: [conflict], actions: true }));
    await settle(4);
    const snap = s.snapshot();
    expect(snap.tasks.map((t) => [t.taskId, t.status, t.workflowId]).sort()).toEqual([
      ['ra/t0', 'completed', 'ra/w'],
      ['rb/t0', 'running', 'rb/w'],
    ]);
    expect(snap.workflows.map((w) => [w.workflowId, w.taskIds]).sort()).toEqual([
      ['ra/w', ['ra/t0']],
      ['rb/w', ['rb/t0']],
    ]);
    expect(snap.conflicts.map((c) => c.conflictId).sort()).toEqual(['ra/c0', 'rb/c0']);
    // "cancel t0" on ra's finished task is refused by ra and never falls through to rb's running t0.
    await expect(s.actions.cancelTask?.('ra/t0')).rejects.toThrow('ra: task t0 is already finished');
    expect(asked).toEqual([['ra', { action: 'cancelTask', taskId: 't0' }]]);
    await expect(s.actions.cancelTask?.('rb/t0')).resolves.toBe('task t0 cancelled (on rb)');
    await expect(s.actions.cancelTask?.('t0')).rejects.toThrow(/not known to this inspector/);
    expect(asked).toHaveLength(2);
    // A snapshot of ra without t0 removes ra's only.
    send(frame('ra', 2, {}));
    await settle(4);
    expect(s.snapshot().tasks.map((t) => t.taskId)).toEqual(['rb/t0']);
    expect(s.snapshot().conflicts.map((c) => c.conflictId)).toEqual(['rb/c0']);
  });

  test('memory is bounded: a forgotten runtime takes its tasks along, removals free their place, floods are capped and counted', async () => {
    const s = source({ silentAfterMs: 200, maxPerRuntime: 3 });
    send(frame('ra', 1, { tasks: [task('t1'), task('t2'), task('t3')] }));
    await settle(4);
    send(frame('ra', 2, { removedTasks: ['t1'] }, 'delta'));
    send(frame('ra', 3, { tasks: [task('t4')] }, 'delta'));
    await settle(4);
    expect(
      s
        .snapshot()
        .tasks.map((t) => t.taskId)
        .sort(),
    ).toEqual(['ra/t2', 'ra/t3', 'ra/t4']);
    const flood = Array.from({ length: 5000 }, (_, i) => actor(`a${i}`));
    send(frame('ra', 4, { actors: flood, tasks: [task('t5')] }, 'delta'));
    await settle(4);
    expect(s.snapshot().actors.filter((a) => a.id.startsWith('ra/'))).toHaveLength(3);
    expect(s.counters().dropped).toBe(5000 - 3 + 1);
    expect(s.snapshot().actors.find((a) => a.id === 'runtime/ra')?.context).toMatchObject({ dropped: 4998 });
    // Silent for three times silentAfterMs: forgotten, with everything it had.
    await advance(900);
    expect(s.runtimes()).toEqual([]);
    expect(s.snapshot()).toMatchObject({ actors: [], tasks: [], workflows: [], conflicts: [] });
    // Runtimes are capped too.
    const few = source({ maxRuntimes: 2 });
    for (const runtimeId of ['x1', 'x2', 'x3']) send(frame(runtimeId, 1));
    await settle(4);
    expect(few.runtimes()).toEqual(['x1', 'x2']);
    expect(few.counters().droppedRuntimes).toBe(1);
  });

  test('a long task name is cut to the wire limit instead of hiding its runtime; refused frames are counted on the runtime', async () => {
    publisher({ runtimeId: 'r1', role: 'orchestrator' });
    const s = source();
    nf.orchestrator.submitTask({ taskId: 'long', name: 'n'.repeat(3000), requiredCapabilities: ['x'] });
    await nf.orchestrator.waitForTask('long');
    await advance(300);
    expect(s.counters().invalidFrames).toBe(0);
    const seen = s.snapshot().tasks.find((t) => t.taskId === 'r1/long');
    expect(seen?.name.length).toBe(2000);
    send({ ...frame('r1', 99), actors: [{ id: 1 }] });
    await settle(4);
    expect(s.snapshot().actors.find((a) => a.id === 'runtime/r1')?.context).toMatchObject({ rejectedFrames: 1 });
  });

  test('frames are cut to maxFrameBytes in UTF-8 bytes, and a cut delta is followed by a snapshot', async () => {
    const p = publisher({ runtimeId: 'r1', role: 'orchestrator', maxFrameBytes: 10_000 });
    source();
    await settle(4);
    expect((frames.at(-1)?.payload as { kind: string }).kind).toBe('snapshot');
    // Two tasks whose names are 2 000 three-byte characters: 12 kB, under 10 000 characters.
    for (const taskId of ['e1', 'e2']) nf.orchestrator.submitTask({ taskId, name: '€'.repeat(2000), requiredCapabilities: ['x'] });
    await nf.orchestrator.waitForWorkflow(['e1', 'e2']);
    await advance(500);
    expect(p.counters.cut).toBeGreaterThan(0);
    for (const f of frames) expect(Buffer.byteLength(JSON.stringify(f.payload), 'utf8')).toBeLessThanOrEqual(10_000);
    const kinds = frames.map((f) => (f.payload as { kind: string; tasks: unknown[] }).kind);
    // The delta that carried the two tasks was cut: the next frame is a snapshot again.
    const second = kinds.indexOf('snapshot', 1);
    expect(second).toBeGreaterThan(1);
    expect(kinds[second - 1]).toBe('delta');
  });

  test("the orchestrator's stats list its paused agents (the page draws resume for them)", async () => {
    publisher({ runtimeId: 'r1', role: 'orchestrator' });
    const s = source();
    await settle(4);
    expect(s.snapshot().stats?.orchestrator['pausedAgents']).toEqual([]);
    nf.orchestrator.pauseAgent('worker');
    await advance(1500);
    expect(s.snapshot().stats?.orchestrator['pausedAgents']).toEqual(['worker']);
  });

  test('inspector options are validated', () => {
    expect(() => remoteInspectionSource(nf.bus, { ttlMs: 100 })).toThrow(/ttlMs/);
    expect(() => remoteInspectionSource(nf.bus, { ttlMs: 1e9 })).toThrow(/ttlMs/);
    expect(() => remoteInspectionSource(nf.bus, { silentAfterMs: -1 })).toThrow(/silentAfterMs/);
    expect(() => remoteInspectionSource(nf.bus, { maxRuntimes: 0 })).toThrow(/maxRuntimes/);
  });
});
