/**
 * Inspection interest and frames on one in-memory bus, time driven by jest's fake timers:
 * a runtime publishes only while an inspector's interest is current, a gap in a runtime's
 * frames makes the inspector ask it for a snapshot, and hostile frames are refused.
 */
import { createNeuroFlux, type NeuroFlux } from '../src/kernel/createNeuroFlux';
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
    expect(frames.slice(1).map((f) => (f.payload as { kind: string }).kind).every((k) => k === 'delta')).toBe(true);
    expect(source.snapshot().tasks.map((t) => [t.taskId, t.status])).toEqual([['job', 'completed']]);
    const chart = source.describe({ systemId: 'agent:worker' });
    expect(chart.graph?.machineId).toBe('agent');

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
    await expect(source.actions.pauseAgent?.('worker')).rejects.toThrow(/no runtime of this namespace accepts actions/);
    const acting = publishInspection(nf, { runtimeId: 'r2', role: 'orchestrator', sampleMs: 100, actions: true });
    await advance(900); // r2 hears the next interest and publishes
    expect(source.runtimes()).toEqual(['r1', 'r2']);
    await expect(source.actions.pauseAgent?.('worker')).resolves.toBe('agent worker paused: it gets no new task (on r2)');
    expect(nf.orchestrator.isAgentPaused('worker')).toBe(true);
    await expect(source.actions.retryTask?.('missing')).rejects.toThrow("r2: task 'missing' is not known");
    // A request straight to the agent of a runtime without actions is refused, never run.
    const reply = await nf.bus.sendRequest({ senderId: 'someone', recipientId: 'nf-inspection-r1', topic: 'neuroflux.inspect.action', payload: { action: 'resumeAgent', agentId: 'worker' } });
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
