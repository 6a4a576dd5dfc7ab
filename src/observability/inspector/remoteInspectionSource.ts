import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { CommunicationBus } from '../../bus/communicationBus';
import type { InspectionSource, SourceDelta } from './inspectionSource';
import {
  INSPECTION_ACTION_TOPIC,
  INSPECTION_FRAME_TOPIC,
  INSPECTION_INTEREST_TOPIC,
  INSPECTION_WIRE_VERSION,
  RuntimeInspectionFrameSchema,
  type RuntimeInspectionFrame,
  type RuntimeRole,
} from './inspectionWire';
import type {
  ActionReply,
  ActionRequest,
  ActorView,
  ConflictView,
  DeadLetterView,
  MessageView,
  SamplingView,
  StatechartFrame,
  StatechartGraph,
  StatsView,
  SwarmView,
  TaskView,
  WorkflowView,
  XStateEventView,
} from './inspectorProtocol';
import { RingBuffer } from './ringBuffer';
import type { InspectorActions } from './inspectorActions';

const ACTION_TIMEOUT_MS = 5000;
const ActionReplySchema: z.ZodType<ActionReply> = z.union([
  z.object({ ok: z.literal(true), message: z.string().max(2000) }),
  z.object({ ok: z.literal(false), error: z.string().max(2000) }),
]);

/** Options of the inspector's side of inspection over NATS. */
export interface RemoteInspectionOptions {
  /** How long runtimes keep publishing after the last interest (renewed every third of it). Default 6 s. */
  readonly ttlMs?: number;
  /** A runtime silent for this long is shown stopped; after three times as long it is forgotten. Default 10 s. */
  readonly silentAfterMs?: number;
  /** Page title. */
  readonly name?: string;
}

interface RuntimeEntry {
  readonly runtimeId: string;
  name: string;
  role: RuntimeRole;
  seq: number;
  lastSeen: number;
  stopped: boolean;
  readonly root: string;
  readonly actorIds: Set<string>;
  readonly taskIds: Set<string>;
  readonly workflowIds: Set<string>;
  readonly conflictIds: Set<string>;
  readonly graphs: Map<string, StatechartGraph>;
  swarm: SwarmView | null;
  stats: StatsView | null;
  sampling: SamplingView | null;
  createdAt: number;
  /** The runtime runs page actions sent to it. */
  actions: boolean;
}

const SEPARATOR = '/';
const EVENT_BUFFER = 1000;
const MESSAGE_BUFFER = 1000;

/** Actor ids are unique per runtime only: the inspector prefixes them with the runtime id. */
function scoped(runtimeId: string, id: string): string {
  return `${runtimeId}${SEPARATOR}${id}`;
}

/**
 * Every runtime of a NATS namespace, seen from an inspector in its own process: announces
 * its interest on the bus (renewed every third of `ttlMs`), merges the runtimes' frames
 * (actor ids and logic ids prefixed with the runtime id, each runtime a root of the actor
 * tree, tasks, workflows and conflicts merged, messages seen by two runtimes shown once),
 * asks for a snapshot when a runtime's frames have a gap, and shows a runtime that went
 * silent as stopped.
 * @internal
 */
export function remoteInspectionSource(
  bus: CommunicationBus,
  options: RemoteInspectionOptions = {},
): InspectionSource & { readonly runtimes: () => string[]; readonly actions: InspectorActions } {
  const ttlMs = options.ttlMs ?? 6000;
  const silentAfterMs = options.silentAfterMs ?? 10_000;
  const inspectorId = randomUUID();
  const agentId = `nf-inspector-${inspectorId}`;
  const runtimes = new Map<string, RuntimeEntry>();
  const actors = new Map<string, ActorView>();
  const tasks = new Map<string, TaskView>();
  const workflows = new Map<string, WorkflowView>();
  const conflicts = new Map<string, ConflictView>();
  const events = new RingBuffer<XStateEventView>(EVENT_BUFFER);
  const messages = new RingBuffer<MessageView>(MESSAGE_BUFFER);
  const deadLetters = new RingBuffer<DeadLetterView>(200);
  const seenMessages = new Set<string>();
  const resync = new Set<string>();
  let invalidFrames = 0;
  let pending = emptyDelta();
  let swarmChanged = false;
  let statsChanged = false;

  function emptyDelta(): { -readonly [K in keyof SourceDelta]-?: K extends 'swarm' | 'stats' ? unknown : SourceDelta[K] extends readonly (infer U)[] ? U[] : never } {
    return { actors: [], removedActors: [], events: [], messages: [], deadLetters: [], tasks: [], removedTasks: [], workflows: [], removedWorkflows: [], conflicts: [], removedConflicts: [], swarm: undefined, stats: undefined };
  }

  const announce = () => {
    try {
      bus.publishEvent({ senderId: agentId, topic: INSPECTION_INTEREST_TOPIC, priority: 'low', payload: { v: INSPECTION_WIRE_VERSION, inspectorId, ttlMs, resync: [...resync] } });
      resync.clear();
    } catch {
      // The bus is stopping; the next beat tries again.
    }
  };

  const rootView = (entry: RuntimeEntry): ActorView => ({
    id: entry.root,
    name: `${entry.role} ${entry.runtimeId}`,
    systemId: `runtime:${entry.runtimeId}`,
    parentId: null,
    kind: 'actor',
    logicId: null,
    status: entry.stopped ? 'stopped' : 'active',
    value: null,
    context: { name: entry.name, role: entry.role },
    createdAt: entry.createdAt,
    updatedAt: entry.lastSeen,
  });

  const putActor = (view: ActorView) => {
    actors.set(view.id, view);
    pending.actors.push(view);
  };

  const removeActor = (id: string) => {
    if (actors.delete(id)) pending.removedActors.push(id);
  };

  const forgetOwned = <T>(ids: Set<string>, keep: ReadonlySet<string>, store: Map<string, T>, removed: string[]) => {
    for (const id of ids) {
      if (keep.has(id)) continue;
      ids.delete(id);
      if (store.delete(id)) removed.push(id);
    }
  };

  const onFrame = (frame: RuntimeInspectionFrame) => {
    const now = Date.now();
    let entry = runtimes.get(frame.runtimeId);
    if (frame.kind === 'delta' && (!entry || frame.seq !== entry.seq + 1)) {
      // A gap (or a runtime first heard mid-stream): ask it for a snapshot now.
      resync.add(frame.runtimeId);
      announce();
      if (entry) entry.lastSeen = now;
      return;
    }
    if (!entry) {
      entry = {
        runtimeId: frame.runtimeId, name: frame.name, role: frame.role, seq: 0, lastSeen: now, stopped: false, root: `runtime${SEPARATOR}${frame.runtimeId}`,
        actorIds: new Set(), taskIds: new Set(), workflowIds: new Set(), conflictIds: new Set(), graphs: new Map(), swarm: null, stats: null, sampling: null, createdAt: now, actions: false,
      };
      runtimes.set(frame.runtimeId, entry);
    }
    const e = entry;
    e.seq = frame.seq;
    e.lastSeen = now;
    e.name = frame.name;
    e.role = frame.role;
    e.stopped = frame.leaving === true;
    e.sampling = frame.sampling;
    e.actions = frame.actions === true;
    const id = (local: string) => scoped(e.runtimeId, local);
    if (frame.kind === 'snapshot') {
      e.graphs.clear();
      const keepActors = new Set(frame.actors.map((a) => id(a.id)));
      for (const actorId of e.actorIds) if (!keepActors.has(actorId)) removeActor(actorId);
      e.actorIds.clear();
      forgetOwned(e.taskIds, new Set(frame.tasks.map((t) => t.taskId)), tasks, pending.removedTasks);
      forgetOwned(e.workflowIds, new Set(frame.workflows.map((w) => w.workflowId)), workflows, pending.removedWorkflows);
      forgetOwned(e.conflictIds, new Set(frame.conflicts.map((c) => c.conflictId)), conflicts, pending.removedConflicts);
    }
    for (const [logicId, graph] of Object.entries(frame.graphs)) e.graphs.set(logicId, graph);
    putActor(rootView(e));
    for (const a of frame.actors) {
      const scopedId = id(a.id);
      e.actorIds.add(scopedId);
      putActor({ ...a, id: scopedId, parentId: a.parentId === null ? e.root : id(a.parentId), logicId: a.logicId === null ? null : id(a.logicId) });
    }
    for (const removed of frame.removedActors) {
      e.actorIds.delete(id(removed));
      removeActor(id(removed));
    }
    for (const ev of frame.events) {
      const view = { ...ev, sourceId: ev.sourceId === null ? null : id(ev.sourceId), targetId: id(ev.targetId) };
      events.push(view);
      pending.events.push(view);
    }
    for (const m of frame.messages) {
      if (seenMessages.has(m.id)) continue;
      if (seenMessages.size >= 10_000) seenMessages.clear();
      seenMessages.add(m.id);
      messages.push(m);
      pending.messages.push(m);
    }
    for (const d of frame.deadLetters) {
      deadLetters.push(d);
      pending.deadLetters.push(d);
    }
    for (const t of frame.tasks) {
      e.taskIds.add(t.taskId);
      tasks.set(t.taskId, t);
      pending.tasks.push(t);
    }
    for (const taskId of frame.removedTasks) if (tasks.delete(taskId)) pending.removedTasks.push(taskId);
    for (const w of frame.workflows) {
      e.workflowIds.add(w.workflowId);
      workflows.set(w.workflowId, w);
      pending.workflows.push(w);
    }
    for (const workflowId of frame.removedWorkflows) if (workflows.delete(workflowId)) pending.removedWorkflows.push(workflowId);
    for (const c of frame.conflicts) {
      e.conflictIds.add(c.conflictId);
      conflicts.set(c.conflictId, c);
      pending.conflicts.push(c);
    }
    for (const conflictId of frame.removedConflicts) if (conflicts.delete(conflictId)) pending.removedConflicts.push(conflictId);
    if (frame.swarm !== undefined) {
      e.swarm = frame.swarm;
      swarmChanged = true;
    }
    if (frame.stats !== undefined) {
      e.stats = frame.stats;
      statsChanged = true;
    }
  };

  /** The swarm and stats of the deployment are the orchestrator's (a host's are empty). */
  const primary = (pick: (entry: RuntimeEntry) => unknown): RuntimeEntry | undefined => {
    const live = [...runtimes.values()].filter((r) => pick(r) !== null && pick(r) !== undefined);
    return live.find((r) => r.role === 'orchestrator') ?? live[0];
  };

  const noteSilence = () => {
    const now = Date.now();
    for (const entry of [...runtimes.values()]) {
      const silent = now - entry.lastSeen;
      if (silent > 3 * silentAfterMs) {
        runtimes.delete(entry.runtimeId);
        for (const actorId of entry.actorIds) removeActor(actorId);
        removeActor(entry.root);
        swarmChanged = statsChanged = true;
      } else if (silent > silentAfterMs && !entry.stopped) {
        entry.stopped = true;
        putActor(rootView(entry));
      }
    }
  };

  bus.registerAgent(agentId, {
    topics: [INSPECTION_FRAME_TOPIC],
    handler: (message) => {
      const parsed = RuntimeInspectionFrameSchema.safeParse(message.payload);
      if (!parsed.success) {
        invalidFrames++;
        return;
      }
      onFrame(parsed.data);
    },
  });
  announce();
  const beat = setInterval(() => {
    announce();
    noteSilence();
  }, Math.max(100, Math.floor(ttlMs / 3)));
  beat.unref?.();

  /**
   * Sends a page action to the runtimes that accept actions (`publishInspection({ actions:
   * true })`): the one that holds the task first, orchestrators before others; the first
   * that succeeds answers.
   */
  const forward = async (request: ActionRequest): Promise<string> => {
    const owns = (r: RuntimeEntry) => ('taskId' in request ? r.taskIds.has(request.taskId) : r.role === 'orchestrator');
    const candidates = [...runtimes.values()].filter((r) => r.actions && !r.stopped).sort((a, b) => Number(owns(b)) - Number(owns(a)));
    if (candidates.length === 0) throw new Error('no runtime of this namespace accepts actions (publishInspection({ actions: true }))');
    let refusal = 'refused';
    for (const runtime of candidates) {
      const response = await bus.sendRequest({ senderId: agentId, recipientId: `nf-inspection-${runtime.runtimeId}`, topic: INSPECTION_ACTION_TOPIC, payload: request, timeoutMs: ACTION_TIMEOUT_MS });
      const reply = ActionReplySchema.safeParse(response.payload);
      if (!reply.success) refusal = `${runtime.runtimeId} answered with an invalid reply`;
      else if (reply.data.ok) return `${reply.data.message} (on ${runtime.runtimeId})`;
      else refusal = `${runtime.runtimeId}: ${reply.data.error}`;
    }
    throw new Error(refusal);
  };

  return {
    actions: {
      cancelTask: (taskId) => forward({ action: 'cancelTask', taskId }),
      retryTask: (taskId) => forward({ action: 'retryTask', taskId }),
      pauseAgent: (agentId) => forward({ action: 'pauseAgent', agentId }),
      resumeAgent: (agentId) => forward({ action: 'resumeAgent', agentId }),
    },
    name: options.name ?? 'NeuroFlux deployment',
    runtimes: () => [...runtimes.keys()].sort(),
    drain() {
      const d = pending;
      pending = emptyDelta();
      const out: SourceDelta = {
        actors: d.actors, removedActors: d.removedActors, events: d.events, messages: d.messages, deadLetters: d.deadLetters,
        tasks: d.tasks, removedTasks: d.removedTasks, workflows: d.workflows, removedWorkflows: d.removedWorkflows,
        conflicts: d.conflicts, removedConflicts: d.removedConflicts,
        ...(swarmChanged && { swarm: primary((r) => r.swarm)?.swarm ?? { neurons: [], connections: [], truncated: false } }),
        ...(statsChanged && { stats: primary((r) => r.stats)?.stats ?? { bus: {}, orchestrator: {}, conflicts: {} } }),
      };
      swarmChanged = statsChanged = false;
      return out;
    },
    snapshot() {
      return {
        actors: [...actors.values()],
        events: events.toArray(),
        messages: messages.toArray(),
        deadLetters: deadLetters.toArray(),
        tasks: [...tasks.values()],
        workflows: [...workflows.values()],
        conflicts: [...conflicts.values()],
        swarm: primary((r) => r.swarm)?.swarm ?? null,
        stats: primary((r) => r.stats)?.stats ?? null,
      };
    },
    describe(query): StatechartFrame {
      let actor = query.actorId !== undefined ? actors.get(query.actorId) : undefined;
      if (!actor && query.systemId !== undefined) for (const a of actors.values()) if (a.systemId === query.systemId && a.logicId) (actor ??= a);
      const base = { type: 'statechart' as const, actorId: actor?.id ?? query.actorId ?? null, systemId: query.systemId ?? actor?.systemId ?? null };
      if (!actor) return { ...base, logicId: null, graph: null, value: null, status: null, reason: 'unknown actor' };
      const runtimeId = actor.id.slice(0, actor.id.indexOf(SEPARATOR));
      const graph = actor.logicId ? runtimes.get(runtimeId)?.graphs.get(actor.logicId.slice(runtimeId.length + 1)) : undefined;
      if (!graph) return { ...base, logicId: null, graph: null, value: null, status: actor.status, reason: actor.logicId ? 'statechart not received yet' : 'not a state machine' };
      return { ...base, logicId: actor.logicId, graph, value: actor.value, status: actor.status };
    },
    sampling(flushIntervalMs) {
      const all = [...runtimes.values()].map((r) => r.sampling).filter((s): s is SamplingView => s !== null);
      const sum = (key: keyof SamplingView) => all.reduce((total, s) => total + s[key], 0);
      return {
        flushIntervalMs,
        eventsPerFlush: all[0]?.eventsPerFlush ?? 0,
        eventBuffer: EVENT_BUFFER,
        eventsSeen: sum('eventsSeen'),
        eventsDropped: sum('eventsDropped'),
        messagesPerFlush: all[0]?.messagesPerFlush ?? 0,
        messagesSeen: sum('messagesSeen'),
        messagesDropped: sum('messagesDropped') + invalidFrames,
        actorLimit: sum('actorLimit'),
        actorsTracked: sum('actorsTracked'),
        actorsUntracked: sum('actorsUntracked'),
        finishedKept: sum('finishedKept'),
      };
    },
    close() {
      clearInterval(beat);
      if (bus.getAgent(agentId)) bus.unregisterAgent(agentId);
    },
  };
}
