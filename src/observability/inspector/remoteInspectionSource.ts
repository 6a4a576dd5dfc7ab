import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { CommunicationBus } from '../../bus/communicationBus';
import { messageOrigin } from '../../bus/messageOrigin';
import { ValidationError } from '../../errors';
import { InspectorActionRefusedError } from '../observabilityErrors';
import type { InspectionSource, SourceDelta } from './inspectionSource';
import {
  INSPECTION_ACTION_TOPIC,
  INSPECTION_FRAME_TOPIC,
  INSPECTION_INTEREST_TOPIC,
  INSPECTION_WIRE_VERSION,
  RuntimeIdSchema,
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
import { STATECHART_NOT_RECEIVED } from './inspectorProtocol';
import { RingBuffer } from './ringBuffer';
import type { InspectorActions } from './inspectorActions';

const ACTION_TIMEOUT_MS = 5000;
const ActionReplySchema: z.ZodType<ActionReply> = z.union([
  z.object({ ok: z.literal(true), message: z.string().max(2000) }),
  z.object({ ok: z.literal(false), error: z.string().max(2000) }),
]);

const RemoteInspectionOptionsSchema = z
  .object({
    /** How long runtimes keep publishing after the last interest (renewed every third of it). Default 6 s (runtimes accept 500 ms to 10 min). */
    ttlMs: z.number().int().min(500).max(600_000).default(6000),
    /** A runtime silent for this long is shown stopped; after three times as long it is forgotten. Default 10 s. */
    silentAfterMs: z.number().int().min(100).max(3_600_000).default(10_000),
    /** Page title. */
    name: z.string().min(1).max(200).optional(),
    /** Runtimes shown at most; frames of more are dropped (counted). Default 200. */
    maxRuntimes: z.number().int().min(1).max(100_000).default(200),
    /** Actors, and tasks, workflows and conflicts (each), kept per runtime; more are dropped (counted on its root). Default 10 000. */
    maxPerRuntime: z.number().int().min(1).max(1_000_000).default(10_000),
  })
  .strict();

/** Options of the inspector's side of inspection over NATS. */
export type RemoteInspectionOptions = z.input<typeof RemoteInspectionOptionsSchema>;

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
  /** The NATS identity its frames came under, or this process (then frames from anyone else are refused). */
  readonly speaker: string | undefined;
  /** Its frames refused by the wire schema, and its actors, tasks, ... dropped over the limits. */
  rejectedFrames: number;
  dropped: number;
}

const SEPARATOR = '/';
/** The speaker of in-process frames (a space: no NATS identity has one). */
const LOCAL_SPEAKER = ' local';
const EVENT_BUFFER = 1000;
const MESSAGE_BUFFER = 1000;

/** Actor, task, workflow and conflict ids are unique per runtime only: the inspector prefixes them with the runtime id. */
function scoped(runtimeId: string, id: string): string {
  return `${runtimeId}${SEPARATOR}${id}`;
}

/** What an inspector of a namespace refused or dropped. */
export interface RemoteInspectionCounters {
  /** Frames refused by the wire schema. */
  readonly invalidFrames: number;
  /** Frames naming another runtime than the NATS identity they came under. */
  readonly forgedFrames: number;
  /** Frames of runtimes beyond `maxRuntimes`. */
  readonly droppedRuntimes: number;
  /** Actors, tasks, workflows, conflicts and graphs dropped beyond `maxPerRuntime`. */
  readonly dropped: number;
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
): InspectionSource & { readonly runtimes: () => string[]; readonly actions: InspectorActions; readonly counters: () => RemoteInspectionCounters } {
  const parsedOptions = RemoteInspectionOptionsSchema.safeParse(options);
  if (!parsedOptions.success) throw ValidationError.fromZod('remote inspection options', parsedOptions.error);
  const { ttlMs, silentAfterMs, maxRuntimes, maxPerRuntime } = parsedOptions.data;
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
  let forgedFrames = 0;
  let droppedRuntimes = 0;
  let pending = emptyDelta();
  let swarmChanged = false;
  let statsChanged = false;

  function emptyDelta(): { -readonly [K in keyof SourceDelta]-?: K extends 'swarm' | 'stats' ? unknown : SourceDelta[K] extends readonly (infer U)[] ? U[] : never } {
    return {
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
      swarm: undefined,
      stats: undefined,
    };
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
    context: { name: entry.name, role: entry.role, rejectedFrames: entry.rejectedFrames, dropped: entry.dropped },
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

  /** Adds an id to a runtime's set unless the set is full (then counts the drop). */
  const admit = (e: RuntimeEntry, ids: Set<string>, id: string): boolean => {
    if (ids.has(id)) return true;
    if (ids.size >= maxPerRuntime) {
      e.dropped++;
      return false;
    }
    ids.add(id);
    return true;
  };

  const onFrame = (frame: RuntimeInspectionFrame, speaker: string | undefined) => {
    const now = Date.now();
    let entry = runtimes.get(frame.runtimeId);
    if (!entry && runtimes.size >= maxRuntimes) {
      droppedRuntimes++;
      return;
    }
    if (frame.kind === 'delta' && (!entry || frame.seq !== entry.seq + 1)) {
      // A gap (or a runtime first heard mid-stream): ask it for a snapshot now.
      resync.add(frame.runtimeId);
      announce();
      if (entry) entry.lastSeen = now;
      return;
    }
    if (!entry) {
      entry = {
        runtimeId: frame.runtimeId,
        name: frame.name,
        role: frame.role,
        seq: 0,
        lastSeen: now,
        stopped: false,
        root: `runtime${SEPARATOR}${frame.runtimeId}`,
        actorIds: new Set(),
        taskIds: new Set(),
        workflowIds: new Set(),
        conflictIds: new Set(),
        graphs: new Map(),
        swarm: null,
        stats: null,
        sampling: null,
        createdAt: now,
        actions: false,
        speaker,
        rejectedFrames: 0,
        dropped: 0,
      };
      runtimes.set(frame.runtimeId, entry);
    }
    const e = entry;
    const droppedBefore = e.dropped;
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
      forgetOwned(e.taskIds, new Set(frame.tasks.map((t) => id(t.taskId))), tasks, pending.removedTasks);
      forgetOwned(e.workflowIds, new Set(frame.workflows.map((w) => id(w.workflowId))), workflows, pending.removedWorkflows);
      forgetOwned(e.conflictIds, new Set(frame.conflicts.map((c) => id(c.conflictId))), conflicts, pending.removedConflicts);
    }
    for (const [logicId, graph] of Object.entries(frame.graphs)) {
      if (e.graphs.has(logicId) || e.graphs.size < maxPerRuntime) e.graphs.set(logicId, graph);
      else e.dropped++;
    }
    putActor(rootView(e));
    for (const a of frame.actors) {
      const scopedId = id(a.id);
      if (!admit(e, e.actorIds, scopedId)) continue;
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
      const view = { ...t, taskId: id(t.taskId), workflowId: id(t.workflowId), dependencies: t.dependencies.map(id) };
      if (!admit(e, e.taskIds, view.taskId)) continue;
      tasks.set(view.taskId, view);
      pending.tasks.push(view);
    }
    const removeOwned = <T>(ids: Set<string>, removedIds: readonly string[], store: Map<string, T>, removed: string[]) => {
      for (const local of removedIds) {
        const scopedId = id(local);
        if (ids.delete(scopedId) && store.delete(scopedId)) removed.push(scopedId);
      }
    };
    removeOwned(e.taskIds, frame.removedTasks, tasks, pending.removedTasks);
    for (const w of frame.workflows) {
      const view = { ...w, workflowId: id(w.workflowId), taskIds: w.taskIds.map(id) };
      if (!admit(e, e.workflowIds, view.workflowId)) continue;
      workflows.set(view.workflowId, view);
      pending.workflows.push(view);
    }
    removeOwned(e.workflowIds, frame.removedWorkflows, workflows, pending.removedWorkflows);
    for (const c of frame.conflicts) {
      const view = { ...c, conflictId: id(c.conflictId) };
      if (!admit(e, e.conflictIds, view.conflictId)) continue;
      conflicts.set(view.conflictId, view);
      pending.conflicts.push(view);
    }
    removeOwned(e.conflictIds, frame.removedConflicts, conflicts, pending.removedConflicts);
    if (e.dropped !== droppedBefore) putActor(rootView(e)); // its count of dropped items
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
        forgetOwned(entry.taskIds, new Set(), tasks, pending.removedTasks);
        forgetOwned(entry.workflowIds, new Set(), workflows, pending.removedWorkflows);
        forgetOwned(entry.conflictIds, new Set(), conflicts, pending.removedConflicts);
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
      // A runtime speaks for itself only (as a host's presence): a frame published under a NATS
      // identity must name that identity as its runtime, and a runtime first heard under an
      // identity (or from this process) is not overwritten by anyone else.
      const origin = messageOrigin(message);
      const identity = origin.kind === 'remote' ? origin.identity : undefined;
      const speaker = origin.kind === 'local' ? LOCAL_SPEAKER : identity;
      const parsed = RuntimeInspectionFrameSchema.safeParse(message.payload);
      if (!parsed.success) {
        invalidFrames++;
        const claimed = RuntimeIdSchema.safeParse((message.payload as { runtimeId?: unknown } | null)?.runtimeId);
        const entry = claimed.success ? runtimes.get(claimed.data) : undefined;
        if (entry && (entry.speaker === undefined || entry.speaker === speaker)) {
          entry.rejectedFrames++;
          putActor(rootView(entry));
        }
        return;
      }
      const frame = parsed.data;
      const known = runtimes.get(frame.runtimeId)?.speaker;
      if ((identity !== undefined && identity !== frame.runtimeId) || (known !== undefined && known !== speaker)) {
        forgedFrames++;
        return;
      }
      onFrame(frame, speaker);
    },
  });
  announce();
  const beat = setInterval(
    () => {
      announce();
      noteSilence();
    },
    Math.max(100, Math.floor(ttlMs / 3)),
  );
  beat.unref?.();

  /** One action to one runtime: its reply, or an error naming the runtime. */
  const ask = async (runtime: RuntimeEntry, request: ActionRequest): Promise<{ ok: true; message: string } | { ok: false; error: string }> => {
    const response = await bus.sendRequest({
      senderId: agentId,
      recipientId: `nf-inspection-${runtime.runtimeId}`,
      topic: INSPECTION_ACTION_TOPIC,
      payload: request,
      timeoutMs: ACTION_TIMEOUT_MS,
    });
    const reply = ActionReplySchema.safeParse(response.payload);
    if (!reply.success) return { ok: false, error: `${runtime.runtimeId} answered with an invalid reply` };
    return reply.data.ok ? { ok: true, message: `${reply.data.message} (on ${runtime.runtimeId})` } : { ok: false, error: `${runtime.runtimeId}: ${reply.data.error}` };
  };

  /**
   * Sends a page action to the runtimes that accept actions (`publishInspection({ actions })`).
   * A task's id here is `<runtime>/<task id>`: the action goes to that runtime only, with the
   * runtime's own task id. An agent's action goes to the orchestrators that accept actions,
   * one after the other until one runs it (an orchestrator that does not know the agent
   * refuses); `<runtime>/<agent id>` names the runtime.
   */
  const forward = async (request: ActionRequest): Promise<string> => {
    const target = 'taskId' in request ? request.taskId : request.agentId;
    const slash = target.indexOf(SEPARATOR);
    const named = slash > 0 ? runtimes.get(target.slice(0, slash)) : undefined;
    const accepting = (r: RuntimeEntry) => r.actions && !r.stopped;
    if ('taskId' in request) {
      if (!named || !named.taskIds.has(target)) throw new InspectorActionRefusedError(`task ${target} is not known to this inspector (its tasks are <runtime>/<task id>)`);
      if (!accepting(named)) throw new InspectorActionRefusedError(`${named.runtimeId} does not accept actions (publishInspection({ actions }))`);
      const reply = await ask(named, { ...request, taskId: target.slice(slash + 1) });
      if (reply.ok) return reply.message;
      throw new InspectorActionRefusedError(reply.error);
    }
    const candidates = named ? [named].filter(accepting) : [...runtimes.values()].filter((r) => accepting(r) && r.role === 'orchestrator');
    if (candidates.length === 0) throw new InspectorActionRefusedError('no orchestrator of this namespace accepts actions (publishInspection({ actions }))');
    const forwarded: ActionRequest = named ? { ...request, agentId: target.slice(slash + 1) } : request;
    let refusal = 'refused';
    for (const runtime of candidates) {
      const reply = await ask(runtime, forwarded);
      if (reply.ok) return reply.message;
      refusal = reply.error;
    }
    throw new InspectorActionRefusedError(refusal);
  };

  return {
    actions: {
      cancelTask: (taskId) => forward({ action: 'cancelTask', taskId }),
      retryTask: (taskId) => forward({ action: 'retryTask', taskId }),
      pauseAgent: (agentId) => forward({ action: 'pauseAgent', agentId }),
      resumeAgent: (agentId) => forward({ action: 'resumeAgent', agentId }),
    },
    name: parsedOptions.data.name ?? 'NeuroFlux deployment',
    runtimes: () => [...runtimes.keys()].sort(),
    counters: () => ({
      invalidFrames,
      forgedFrames,
      droppedRuntimes,
      dropped: [...runtimes.values()].reduce((total, r) => total + r.dropped, 0),
    }),
    drain() {
      const d = pending;
      pending = emptyDelta();
      const out: SourceDelta = {
        actors: d.actors,
        removedActors: d.removedActors,
        events: d.events,
        messages: d.messages,
        deadLetters: d.deadLetters,
        tasks: d.tasks,
        removedTasks: d.removedTasks,
        workflows: d.workflows,
        removedWorkflows: d.removedWorkflows,
        conflicts: d.conflicts,
        removedConflicts: d.removedConflicts,
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
      if (!actor && query.systemId !== undefined) for (const a of actors.values()) if (a.systemId === query.systemId && a.logicId) actor ??= a;
      // The page names a task's actor by the task's id here (`task:<runtime>/<task id>`).
      const scopedSystemId = query.systemId === undefined ? null : /^([^:]+):([^/]+)\/(.+)$/.exec(query.systemId);
      if (!actor && scopedSystemId) {
        const [, kind, runtimeId, local] = scopedSystemId;
        for (const a of actors.values()) if (a.systemId === `${kind}:${local}` && a.logicId && a.id.startsWith(`${runtimeId}${SEPARATOR}`)) actor ??= a;
      }
      const base = { type: 'statechart' as const, actorId: actor?.id ?? query.actorId ?? null, systemId: query.systemId ?? actor?.systemId ?? null };
      if (!actor) return { ...base, logicId: null, graph: null, value: null, status: null, reason: 'unknown actor' };
      const runtimeId = actor.id.slice(0, actor.id.indexOf(SEPARATOR));
      const graph = actor.logicId ? runtimes.get(runtimeId)?.graphs.get(actor.logicId.slice(runtimeId.length + 1)) : undefined;
      if (!graph) return { ...base, logicId: null, graph: null, value: null, status: actor.status, reason: actor.logicId ? STATECHART_NOT_RECEIVED : 'not a state machine' };
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
        messagesDropped: sum('messagesDropped') + invalidFrames + forgedFrames,
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
