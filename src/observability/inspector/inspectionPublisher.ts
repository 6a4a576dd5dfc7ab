import { z } from 'zod';
import { messageOrigin } from '../../bus/messageOrigin';
import { ValidationError } from '../../errors';
import { SubjectTokenSchema } from '../../transport/natsOptions';
import { runtimeName, type ObservedRuntime } from '../observedRuntime';
import { localInspectionSource, type InspectionSource } from './inspectionSource';
import { runAction, runtimeActions } from './inspectorActions';
import {
  INSPECTION_ACTION_TOPIC,
  INSPECTION_FRAME_TOPIC,
  INSPECTION_INTEREST_TOPIC,
  INSPECTION_WIRE_VERSION,
  InspectionInterestSchema,
  RuntimeIdSchema,
  RuntimeRoleSchema,
  clampFrameText,
  type RuntimeInspectionFrame,
} from './inspectionWire';
import type { StatechartGraph } from './inspectorProtocol';

const PublisherOptionsSchema = z.object({
  /** This runtime in the inspector (unique in the namespace; e.g. the host id). */
  runtimeId: RuntimeIdSchema,
  role: RuntimeRoleSchema.default('runtime'),
  /** Shown beside the role. Default: the runtime's name. */
  name: z.string().min(1).max(200).optional(),
  /** One frame per this many ms while an inspector is interested (default 1 s). */
  sampleMs: z.number().int().min(100).max(60_000).default(1000),
  /**
   * A frame whose JSON is larger than this many UTF-8 bytes is cut (the newest half of each
   * list kept, again until it fits; a cut delta is followed by a snapshot). Keep it under the
   * NATS server's `max_payload` (1 MB by default).
   */
  maxFrameBytes: z.number().int().min(10_000).max(900_000).default(500_000),
  /**
   * Runs the page's actions (cancel, retry, pause, resume) that inspectors send as bus
   * requests to this runtime's inspection agent. Off by default. `true`: from inspectors in
   * this process only. `{ from: [identities] }`: also from inspectors of other processes that
   * publish under one of these NATS identities (`messageOrigin`; with per-process NATS users,
   * `neuroflux nats-config --inspectors`, the server vouches for them). Requests from any
   * other sender, unidentified ones included, are refused.
   */
  actions: z.union([z.boolean(), z.object({ from: z.array(SubjectTokenSchema).max(1000) }).strict()]).default(false),
});

/** Options of {@link publishInspection}. */
export type InspectionPublisherOptions = z.input<typeof PublisherOptionsSchema>;

/** A runtime that answers inspectors on its NATS namespace. */
export interface InspectionPublisher {
  /** The bus agent that hears inspectors (`nf-inspection-<runtimeId>`). */
  readonly agentId: string;
  /** True while an inspector's interest is current and frames go out. */
  readonly publishing: boolean;
  /** Frames published so far, frames cut because they were too large, interests refused, actions refused (sender not allowed). */
  readonly counters: { readonly frames: number; readonly cut: number; readonly invalidInterests: number; readonly refusedActions: number };
  /** Stops answering (a last frame says the runtime leaves) and unregisters the agent. */
  close(): Promise<void>;
}

/** Sampling limits of a published runtime: a busy runtime sends little per frame. */
const HUB_LIMITS = { maxActors: 2000, maxFinishedActors: 200, eventsPerDrain: 100, eventBuffer: 100, actorsPerDrain: 500 } as const;
const FEED_LIMITS = { messagesPerDrain: 100, messageBuffer: 100, deadLetterBuffer: 50, maxTasks: 1000 } as const;

/**
 * Lets inspectors of other processes (`neuroflux inspect --nats URL`) show this runtime.
 * Costs one bus agent that listens to `neuroflux.inspect.interest` until an inspector asks;
 * then the runtime samples its actors, tasks, messages, conflicts and swarm (the same
 * bounded hub and feed as the local inspector, with smaller limits) and publishes one frame
 * per `sampleMs` on `neuroflux.inspect.frame`, until no inspector has renewed its interest
 * within its time to live. The runtime must have a transport (NATS) for frames to leave
 * the process.
 *
 * @example
 * ```ts
 * const nf = createNeuroFlux({ transport: nats({ servers: 'nats://127.0.0.1:4222', namespace: 'prod' }) });
 * await nf.start();
 * const inspection = publishInspection(nf, { runtimeId: 'orchestrator-1', role: 'orchestrator' });
 * // ...
 * await inspection.close();
 * ```
 */
export function publishInspection(runtime: ObservedRuntime, options: InspectionPublisherOptions): InspectionPublisher {
  const parsed = PublisherOptionsSchema.safeParse(options);
  if (!parsed.success) throw ValidationError.fromZod('inspection publisher options', parsed.error);
  const o = parsed.data;
  const agentId = `nf-inspection-${o.runtimeId}`;
  const name = o.name ?? runtimeName(runtime);
  const counters = { frames: 0, cut: 0, invalidInterests: 0, refusedActions: 0 };
  const actionsFrom = new Set(typeof o.actions === 'object' ? o.actions.from : []);
  const actionsOn = o.actions !== false;
  /** Who may act: this process, or a listed NATS identity (read from the subject, never from the message). */
  const mayAct = (message: Parameters<typeof messageOrigin>[0]): string | undefined => {
    const origin = messageOrigin(message);
    if (origin.kind === 'local' || (origin.kind === 'remote' && actionsFrom.has(origin.identity))) return undefined;
    return origin.kind === 'remote' ? `identity ${origin.identity}` : 'an unidentified sender';
  };
  let source: (InspectionSource & { hub: { describe: InspectionSource['describe'] } }) | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let expiresAt = 0;
  let needSnapshot = true;
  let seq = 0;
  let sentGraphs = new Set<string>();
  let closed = false;

  const publish = (frame: RuntimeInspectionFrame) => {
    try {
      runtime.bus.publishEvent({ senderId: agentId, topic: INSPECTION_FRAME_TOPIC, payload: frame, priority: 'low' });
      counters.frames++;
    } catch {
      // A stopping bus or a refused frame: the inspector sees a gap and asks for a snapshot.
      needSnapshot = true;
    }
  };

  const graphsFor = (frame: Pick<RuntimeInspectionFrame, 'actors'>): Record<string, StatechartGraph> => {
    const graphs: Record<string, StatechartGraph> = {};
    for (const actor of frame.actors) {
      if (!actor.logicId || sentGraphs.has(actor.logicId) || !source) continue;
      const graph = source.describe({ actorId: actor.id }).graph;
      sentGraphs.add(actor.logicId);
      if (graph) graphs[actor.logicId] = graph;
    }
    return graphs;
  };

  /** The newer half of a list (an element of one, none). */
  const newerHalf = <T>(items: readonly T[]): readonly T[] => items.slice(items.length - Math.floor(items.length / 2));

  /**
   * Cuts a frame to the size limit, halving each list (the newest kept) until it fits; graphs
   * cut are sent again with a later frame. Undefined when even the emptied frame is too large.
   */
  const fit = (frame: RuntimeInspectionFrame): { frame: RuntimeInspectionFrame; cut: boolean } | undefined => {
    let candidate = frame;
    for (let attempt = 0; attempt < 24; attempt++) {
      if (Buffer.byteLength(JSON.stringify(candidate), 'utf8') <= o.maxFrameBytes) return { frame: candidate, cut: attempt > 0 };
      if (attempt === 0) counters.cut++;
      const graphIds = Object.keys(candidate.graphs);
      const keptGraphs = new Set(newerHalf(graphIds));
      for (const logicId of graphIds) if (!keptGraphs.has(logicId)) sentGraphs.delete(logicId);
      candidate = {
        ...candidate,
        actors: newerHalf(candidate.actors),
        events: newerHalf(candidate.events),
        messages: newerHalf(candidate.messages),
        deadLetters: newerHalf(candidate.deadLetters),
        tasks: newerHalf(candidate.tasks),
        workflows: newerHalf(candidate.workflows),
        conflicts: newerHalf(candidate.conflicts),
        graphs: Object.fromEntries(Object.entries(candidate.graphs).filter(([logicId]) => keptGraphs.has(logicId))),
      };
    }
    return undefined;
  };

  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    source?.close();
    source = undefined;
  };

  const tick = () => {
    if (!source) return;
    if (Date.now() > expiresAt) {
      stop();
      return;
    }
    const base = { v: INSPECTION_WIRE_VERSION, runtimeId: o.runtimeId, name, role: o.role, sampleMs: o.sampleMs, actions: actionsOn } as const;
    let frame: RuntimeInspectionFrame;
    if (needSnapshot) {
      needSnapshot = false;
      sentGraphs = new Set();
      source.drain(); // what was pending is in the snapshot
      const s = source.snapshot();
      frame = {
        ...base,
        kind: 'snapshot',
        seq: ++seq,
        ...s,
        removedActors: [],
        removedTasks: [],
        removedWorkflows: [],
        removedConflicts: [],
        sampling: source.sampling(o.sampleMs),
        graphs: {},
      };
    } else {
      const d = source.drain();
      frame = { ...base, kind: 'delta', seq: ++seq, ...d, sampling: source.sampling(o.sampleMs), graphs: {} };
    }
    const fitted = fit(clampFrameText({ ...frame, graphs: graphsFor(frame) }));
    if (fitted) publish(fitted.frame);
    // What a cut delta left out is lost: the next frame is a snapshot (a cut snapshot is as
    // much of the runtime as fits).
    if (!fitted || (fitted.cut && frame.kind === 'delta')) needSnapshot = true;
  };

  const start = () => {
    source = localInspectionSource(runtime, { hubOptions: HUB_LIMITS, feed: FEED_LIMITS, name });
    needSnapshot = true;
    timer = setInterval(tick, o.sampleMs);
    timer.unref?.();
    tick();
  };

  const actions = actionsOn ? runtimeActions(runtime) : undefined;
  runtime.bus.registerAgent(agentId, {
    topics: [INSPECTION_INTEREST_TOPIC],
    handler: async (message, agent) => {
      if (message.topic === INSPECTION_ACTION_TOPIC && message.messageType === 'request') {
        // Validated like the page's own requests; refused unless actions are on and the sender may act.
        const refused = actions ? mayAct(message) : undefined;
        if (refused !== undefined) {
          counters.refusedActions++;
          agent.respond(message, { ok: false, error: `actions from ${refused} are not allowed on this runtime (publishInspection actions.from)` });
          return;
        }
        const { reply } = await runAction(actions, message.payload);
        agent.respond(message, reply);
        return;
      }
      const interest = InspectionInterestSchema.safeParse(message.payload);
      if (!interest.success || closed) {
        if (!interest.success) counters.invalidInterests++;
        return;
      }
      expiresAt = Math.max(expiresAt, Date.now() + interest.data.ttlMs);
      if (interest.data.resync.includes(o.runtimeId)) needSnapshot = true;
      if (!source) start();
    },
  });

  return {
    agentId,
    get publishing() {
      return source !== undefined;
    },
    counters,
    async close() {
      if (closed) return;
      closed = true;
      if (source) {
        const sampling = source.sampling(o.sampleMs);
        publish({
          v: INSPECTION_WIRE_VERSION,
          runtimeId: o.runtimeId,
          name,
          role: o.role,
          sampleMs: o.sampleMs,
          kind: 'delta',
          seq: ++seq,
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
          leaving: true,
        });
      }
      stop();
      if (runtime.bus.getAgent(agentId)) runtime.bus.unregisterAgent(agentId);
    },
  };
}
