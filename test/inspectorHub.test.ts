import { SimulatedClock, createActor, createMachine, fromCallback, type InspectionEvent } from 'xstate';
import { conflictMachine } from '../machines/conflict.machine';
import { taskMachine } from '../machines/task.machine';
import { createNeuroFlux } from '../src/runtime/createNeuroFlux';
import { activeStatePaths, combineInspectionObservers, createInspectionHub, describeStatechart, type ActorView } from '../src/observability';
import { RingBuffer } from '../src/observability/inspector/ringBuffer';
import { summarizeValue } from '../src/observability/inspector/valueSummary';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function bySystemId(actors: readonly ActorView[], systemId: string): ActorView | undefined {
  return actors.find((a) => a.systemId === systemId);
}

describe('inspection hub: the actor tree', () => {
  test('tracks every actor with its parent, system id, state value and a context summary', async () => {
    const hub = createInspectionHub();
    const nf = createNeuroFlux({ clock: new SimulatedClock(), inspect: hub.observer });
    nf.bus.registerAgent('echo', { handler: (m, agent) => void agent.respond(m, m.payload) });
    await nf.start();
    const { actors } = hub.drain();
    const root = actors.find((a) => a.parentId === null);
    expect(root).toMatchObject({ name: 'neuroflux', systemId: 'neuroflux', kind: 'machine', status: 'active', value: 'running' });
    const echo = bySystemId(actors, 'agent:echo') as ActorView;
    expect(echo).toMatchObject({ name: 'agent:echo', kind: 'machine', status: 'active' });
    // The agent sits in a supervisor shard, itself under the root.
    const shard = actors.find((a) => a.id === echo.parentId) as ActorView;
    expect(shard.name).toMatch(/^agents-/);
    expect(shard.parentId).toBe(root?.id);
    expect(echo.context).toMatchObject({ agentId: 'echo' });
    // Everything is plain JSON.
    expect(JSON.parse(JSON.stringify(actors))).toEqual(actors);
    await nf.stop();
  });

  test('coalesces state changes: one view per changed actor per drain', async () => {
    const hub = createInspectionHub();
    const nf = createNeuroFlux({ clock: new SimulatedClock(), inspect: hub.observer });
    const agent = nf.bus.registerAgent('worker', { handler: () => undefined });
    await nf.start();
    hub.drain();
    for (let i = 0; i < 20; i++) agent.setOnline(i % 2 === 1);
    const { actors, events } = hub.drain();
    expect(actors.filter((a) => a.systemId === 'agent:worker')).toHaveLength(1);
    expect(bySystemId(actors, 'agent:worker')?.value).toEqual({ online: 'idle' });
    expect(events.filter((e) => e.event.type === 'WENT_OFFLINE')).toHaveLength(10);
    expect(hub.drain().actors).toEqual([]);
    await nf.stop();
  });

  test('keeps finished actors up to the limit, then reports them removed', async () => {
    const hub = createInspectionHub({ maxFinishedActors: 2 });
    const nf = createNeuroFlux({ clock: new SimulatedClock(), inspect: hub.observer });
    nf.orchestrator.registerAgent('a', { capabilities: ['x'], execute: () => 'done' });
    await nf.start();
    const submitted = nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 't1', requiredCapabilities: ['x'] },
        { taskId: 't2', requiredCapabilities: ['x'] },
        { taskId: 't3', requiredCapabilities: ['x'] },
      ],
    });
    await nf.orchestrator.waitForWorkflow(submitted.map((s) => s.taskId));
    await settle();
    const { actors, removedActors } = hub.drain();
    const finishedTasks = actors.filter((a) => a.systemId?.startsWith('task:') && a.status !== 'active');
    expect(finishedTasks.length).toBeGreaterThan(0);
    expect(finishedTasks.every((t) => t.value === 'completed')).toBe(true);
    expect(hub.counters().finishedKept).toBe(2);
    expect(removedActors.length).toBeGreaterThan(0);
    // What is kept can still be described; statechart lookups by system id work after the end.
    const kept = hub.snapshot().actors.filter((a) => a.status !== 'active');
    expect(kept).toHaveLength(2);
    await nf.stop();
  });

  test('counts the actors past the limit instead of tracking them', async () => {
    const hub = createInspectionHub({ maxActors: 5 });
    const nf = createNeuroFlux({ clock: new SimulatedClock(), inspect: hub.observer });
    for (let i = 0; i < 10; i++) nf.bus.registerAgent(`a${i}`, { handler: () => undefined });
    const counters = hub.counters();
    expect(counters.actorsTracked).toBe(5);
    expect(counters.actorsUntracked).toBeGreaterThan(0);
    await nf.stop();
  });

  test('keeps the newest events of a burst and counts the dropped ones', async () => {
    const hub = createInspectionHub({ eventsPerDrain: 10, eventBuffer: 15 });
    const nf = createNeuroFlux({ clock: new SimulatedClock(), inspect: hub.observer });
    const agent = nf.bus.registerAgent('worker', { handler: () => undefined });
    hub.drain();
    const seenBefore = hub.counters().eventsSeen;
    for (let i = 0; i < 50; i++) agent.setOnline(i % 2 === 1);
    const { events } = hub.drain();
    expect(events).toHaveLength(10);
    expect(events[events.length - 1]?.event.type).toBe('CAME_ONLINE');
    expect(hub.counters().eventsSeen - seenBefore).toBe(50);
    expect(hub.counters().eventsDropped).toBe(40);
    for (let i = 0; i < 10; i++) agent.setOnline(i % 2 === 1);
    hub.drain();
    expect(hub.snapshot().events).toHaveLength(15);
    await nf.stop();
  });

  test('observe() attaches to a running system and seeds the actors that already exist', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.bus.registerAgent('early', { handler: () => undefined });
    await nf.start();
    const hub = createInspectionHub();
    const subscription = hub.observe(nf.system);
    nf.bus.registerAgent('late', { handler: () => undefined });
    const { actors } = hub.drain();
    expect(bySystemId(actors, 'agent:early')).toBeDefined();
    expect(bySystemId(actors, 'agent:late')).toBeDefined();
    expect(bySystemId(actors, 'agent:early')?.parentId).toBe(bySystemId(actors, 'agent:late')?.parentId);
    subscription.unsubscribe();
    nf.bus.registerAgent('unseen', { handler: () => undefined });
    expect(bySystemId(hub.drain().actors, 'agent:unseen')).toBeUndefined();
    await nf.stop();
  });
});

describe('inspection hub: statecharts', () => {
  test('describes an actor by system id: its machine graph (once per logic) and its state', async () => {
    const hub = createInspectionHub();
    const nf = createNeuroFlux({ clock: new SimulatedClock(), inspect: hub.observer });
    nf.orchestrator.registerAgent('a', { capabilities: ['x'] });
    await nf.start();
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'first', requiredCapabilities: ['x'] },
        { taskId: 'second', dependencies: ['first'], requiredCapabilities: ['x'] },
      ],
    });
    const waiting = hub.describe({ systemId: 'task:second' });
    expect(waiting).toMatchObject({ type: 'statechart', systemId: 'task:second', status: 'active', value: 'waiting' });
    expect(waiting.graph?.machineId).toBe('task');
    const first = hub.describe({ systemId: 'task:first' });
    expect(first.logicId).toBe(waiting.logicId);
    expect(first.graph).toBe(waiting.graph);
    expect(hub.describe({ systemId: 'task:nope' })).toMatchObject({ graph: null, reason: 'unknown actor' });
    await nf.stop();
  });

  test('a callback actor has no statechart', () => {
    const hub = createInspectionHub();
    const actor = createActor(createMachine({ invoke: { id: 'cb', src: fromCallback(() => undefined) } }), { inspect: hub.observer });
    actor.start();
    const { actors } = hub.drain();
    const root = actors.find((a) => a.parentId === null) as ActorView;
    const callback = actors.find((a) => a.parentId === root.id) as ActorView;
    expect(callback).toMatchObject({ name: 'cb', kind: 'actor', logicId: null });
    expect(hub.describe({ actorId: root.id }).graph).not.toBeNull();
    expect(hub.describe({ actorId: callback.id })).toMatchObject({ graph: null, reason: 'not a state machine' });
    actor.stop();
  });

  test('the task machine: atomic and final states, transitions from any state, eventless and delayed ones', () => {
    const graph = describeStatechart(taskMachine);
    const node = (path: string) => graph.nodes.find((n) => n.path === path);
    expect(node('waiting')).toMatchObject({ kind: 'atomic', initial: true, parent: null });
    expect(node('completed')).toMatchObject({ kind: 'final' });
    expect(node('*')).toMatchObject({ kind: 'any' });
    const edge = (source: string, target: string) => graph.edges.filter((e) => e.source === source && e.target === target).map((e) => e.label);
    expect(edge('*', 'cancelled')).toContain('CANCELLED');
    expect(edge('waiting', 'dependencyFailed')).toEqual(expect.arrayContaining(['DEPENDENCY_FAILED', 'always']));
    expect(edge('retrying', 'queued')).toEqual(['after retryBackoff']);
    // Every edge ends on a drawn node.
    const paths = new Set(graph.nodes.map((n) => n.path));
    for (const e of graph.edges) {
      expect(paths.has(e.source)).toBe(true);
      expect(paths.has(e.target)).toBe(true);
    }
  });

  test('a compound state is a cluster; transitions into it enter its initial state', () => {
    const graph = describeStatechart(conflictMachine);
    expect(graph.nodes.find((n) => n.path === 'open')).toMatchObject({ kind: 'compound', initial: true });
    expect(graph.nodes.find((n) => n.path === 'open.detected')).toMatchObject({ parent: 'open', initial: true });
    // `open` escalates after its deadline from whichever child is active.
    expect(graph.edges.some((e) => e.source === 'open.*' && e.target === 'escalated')).toBe(true);
    expect(graph.edges.every((e) => graph.nodes.find((n) => n.path === e.target)?.kind !== 'compound')).toBe(true);
    expect(activeStatePaths({ open: 'collectingVotes' })).toEqual(['open', 'open.collectingVotes']);
    expect(activeStatePaths('idle')).toEqual(['idle']);
  });
});

describe('inspection: defensive serialization and fan-out', () => {
  test('summaries survive cycles, functions, actor refs and large collections', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;
    const ref = { sessionId: 'x:1', id: 'agent', send: () => undefined };
    const summary = summarizeValue({
      cyclic,
      fn: function handler() {},
      ref,
      list: Array.from({ length: 100 }, (_, i) => i),
      map: new Map([[1, 2]]),
      text: 'x'.repeat(500),
      big: 10n,
      nan: Number.NaN,
    }) as Record<string, unknown>;
    expect(() => JSON.stringify(summary)).not.toThrow();
    expect(summary['fn']).toBe('[Function handler]');
    expect(summary['ref']).toEqual({ $actor: 'x:1', id: 'agent' });
    expect(summary['list']).toHaveLength(9);
    expect(summary['map']).toBe('[Map(1)]');
    expect((summary['text'] as string).length).toBeLessThanOrEqual(121);
    expect(summary['nan']).toBe('NaN');
  });

  test('the ring buffer keeps the newest items and counts what it dropped', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect(ring.takeDropped()).toBe(2);
    expect(ring.drain()).toEqual([3, 4, 5]);
    expect(ring.size).toBe(0);
  });

  test('combined observers each get every event, and one that throws does not stop the others', () => {
    const seen: string[] = [];
    const observer = combineInspectionObservers(
      () => {
        throw new Error('broken inspector');
      },
      { next: (event: InspectionEvent) => seen.push(event.type) },
      undefined,
    );
    const actor = createActor(createMachine({ initial: 'a', states: { a: {} } }), { inspect: observer }).start();
    expect(seen).toContain('@xstate.actor');
    expect(seen).toContain('@xstate.snapshot');
    actor.stop();
  });
});
