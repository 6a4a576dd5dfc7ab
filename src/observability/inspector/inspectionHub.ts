import { FifoMap } from '../../kernel/fifoMap';
import type { AnyActorRef, AnyStateMachine, InspectionEvent, Observer, Subscription } from 'xstate';
import { z } from 'zod';
import { ValidationError } from '../../errors';
import type { ActorView, StatechartFrame, XStateEventView } from './inspectorProtocol';
import { RingBuffer } from './ringBuffer';
import { describeStatechart, type StatechartGraph } from './statechartGraph';
import { stateValueOf, summarizeEvent, summarizeValue } from './valueSummary';

const HubOptionsSchema = z.object({
  /** Live actors tracked at most; more are counted, not shown. */
  maxActors: z.number().int().positive().default(5000),
  /** Finished actors kept (for their last state and statechart). */
  maxFinishedActors: z.number().int().nonnegative().default(1000),
  /** `@xstate.event`s kept per drain (the newest); the rest are counted as dropped. */
  eventsPerDrain: z.number().int().positive().default(500),
  /** Recent `@xstate.event`s kept for a page that connects. */
  eventBuffer: z.number().int().nonnegative().default(1000),
  /** Actor states serialized per drain at most; the rest wait for the next one. */
  actorsPerDrain: z.number().int().positive().default(2000),
});

/** Options of {@link createInspectionHub}; every limit bounds memory or work per drain. */
export type InspectionHubOptions = z.input<typeof HubOptionsSchema>;

type ActorStatus = ActorView['status'];

/**
 * What the hub reads of an actor. XState's `Actor` has all of it, though `ActorRef`'s
 * type shows only part (`logic`, `systemId` and `_parent` are on the class).
 */
interface InspectedActor {
  readonly sessionId: string;
  readonly id: string;
  readonly systemId?: string;
  readonly logic?: unknown;
  readonly _parent?: InspectedActor;
  getSnapshot(): unknown;
}

function inspected(ref: unknown): InspectedActor {
  return ref as InspectedActor;
}

interface TrackedActor {
  readonly id: string;
  readonly name: string;
  readonly parentId: string | null;
  /** Dropped once the actor has finished, so that a stopped actor can be collected. */
  ref: InspectedActor | null;
  readonly logic: AnyStateMachine | null;
  readonly logicId: string | null;
  systemId: string | null;
  /** The latest snapshot, serialized only when a drain needs it. */
  snapshot: unknown;
  status: ActorStatus;
  readonly createdAt: number;
  updatedAt: number;
}

interface RawEvent {
  readonly sourceId: string | null;
  readonly targetId: string;
  readonly event: unknown;
  readonly at: number;
}

/** What changed in the actor system since the last drain. */
export interface HubDelta {
  readonly actors: ActorView[];
  readonly removedActors: string[];
  readonly events: XStateEventView[];
}

/** Counters behind the sampling the page states. */
export interface HubCounters {
  readonly eventsSeen: number;
  readonly eventsDropped: number;
  readonly actorsTracked: number;
  readonly actorsUntracked: number;
  readonly finishedKept: number;
}

const FINAL_STATUSES: ReadonlySet<string> = new Set(['done', 'error', 'stopped']);

function isMachine(logic: unknown): logic is AnyStateMachine {
  const l = logic as { root?: unknown; transition?: unknown; config?: unknown } | null;
  return typeof l === 'object' && l !== null && typeof l.root === 'object' && typeof l.transition === 'function';
}

function statusOf(snapshot: unknown): ActorStatus {
  const status = (snapshot as { status?: unknown } | null)?.status;
  return status === 'done' || status === 'error' || status === 'stopped' ? status : 'active';
}

/**
 * Turns XState's inspection events into JSON the inspector page can show, within fixed
 * bounds: actors are tracked up to `maxActors`, finished ones kept up to
 * `maxFinishedActors`, state changes are coalesced (one serialization per actor per
 * drain, at most `actorsPerDrain`), and `@xstate.event`s are kept newest-first up to
 * `eventsPerDrain` per drain. Receiving an event costs a map lookup and a field write;
 * serialization happens in `drain()`, which the inspector server calls on its own beat.
 *
 * Feed it either from creation (`createNeuroFlux({ inspect: hub.observer })`: every actor
 * from the start) or later with `hub.observe(nf.system)`, which seeds the actors that
 * already exist.
 *
 * @example
 * ```ts
 * const hub = createInspectionHub();
 * const nf = createNeuroFlux({ inspect: hub.observer });
 * const inspector = await startInspector(nf, { hub });
 * ```
 */
export class InspectionHub {
  /** Pass to `createNeuroFlux({ inspect })` (or any XState `inspect` option). */
  readonly observer: Observer<InspectionEvent>;

  private readonly options: z.output<typeof HubOptionsSchema>;
  private readonly live = new Map<string, TrackedActor>();
  /** In finishing order: the oldest is evicted first (a `FifoMap`: a `Map` read from its start is slow there). */
  private readonly finished = new FifoMap<string, TrackedActor>();
  private readonly dirty = new Set<TrackedActor>();
  private removed: string[] = [];
  private readonly pendingEvents: RingBuffer<RawEvent>;
  private readonly recentEvents: RingBuffer<XStateEventView>;
  private readonly logicIds = new WeakMap<AnyStateMachine, string>();
  private readonly graphs = new WeakMap<AnyStateMachine, StatechartGraph>();
  private logicCount = 0;
  private eventsSeen = 0;
  private eventsDropped = 0;
  private actorsUntracked = 0;

  constructor(options: InspectionHubOptions = {}) {
    const parsed = HubOptionsSchema.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod('inspection hub options', parsed.error);
    this.options = parsed.data;
    this.pendingEvents = new RingBuffer(this.options.eventsPerDrain);
    this.recentEvents = new RingBuffer(this.options.eventBuffer);
    this.observer = { next: (event) => this.receive(event) };
  }

  /**
   * Feeds the hub from a running system it was not given at creation: subscribes to the
   * system's inspection and records the actors that already exist (the root, every actor
   * with a system id, and their ancestors). Unsubscribe to stop.
   *
   * @example
   * ```ts
   * const subscription = hub.observe(nf.system);
   * ```
   */
  observe(root: AnyActorRef): Subscription {
    const subscription = root.system.inspect(this.observer);
    const known = (ref: InspectedActor) => this.live.has(ref.sessionId) || this.finished.has(ref.sessionId);
    const seed = (ref: InspectedActor) => {
      const chain: InspectedActor[] = [];
      for (let r: InspectedActor | undefined = ref; r && !known(r); r = r._parent) chain.push(r);
      for (let i = chain.length - 1; i >= 0; i--) {
        const actor = chain[i] as InspectedActor;
        const entry = this.track(actor);
        if (!entry) continue;
        entry.snapshot = actor.getSnapshot();
        entry.status = statusOf(entry.snapshot);
        if (FINAL_STATUSES.has(entry.status)) this.finish(entry);
      }
    };
    seed(inspected(root));
    for (const ref of Object.values(root.system.getAll() as Record<string, unknown>)) if (ref) seed(inspected(ref));
    return subscription;
  }

  private receive(event: InspectionEvent): void {
    switch (event.type) {
      case '@xstate.actor':
        this.track(inspected(event.actorRef));
        return;
      case '@xstate.snapshot': {
        const entry = this.live.get(event.actorRef.sessionId);
        if (!entry) return;
        entry.snapshot = event.snapshot;
        entry.updatedAt = Date.now();
        const status = statusOf(event.snapshot);
        entry.status = status;
        if (status === 'active') this.dirty.add(entry);
        else this.finish(entry);
        return;
      }
      case '@xstate.event':
        this.eventsSeen++;
        this.pendingEvents.push({
          sourceId: event.sourceRef?.sessionId ?? null,
          targetId: event.actorRef.sessionId,
          event: event.event,
          at: Date.now(),
        });
        return;
      default:
        // Microsteps and actions are far more numerous and the page does not show them.
        return;
    }
  }

  private track(ref: InspectedActor): TrackedActor | undefined {
    const existing = this.live.get(ref.sessionId);
    if (existing) return existing;
    if (this.live.size >= this.options.maxActors) {
      this.actorsUntracked++;
      return undefined;
    }
    const logic = isMachine(ref.logic) ? ref.logic : null;
    const now = Date.now();
    const entry: TrackedActor = {
      id: ref.sessionId,
      // An actor created without an id is named by its session id: its machine's id says more.
      name: ref.id === ref.sessionId && logic ? logic.id : ref.id,
      parentId: ref._parent?.sessionId ?? null,
      ref,
      logic,
      logicId: logic ? this.logicIdOf(logic) : null,
      systemId: ref.systemId ?? null,
      snapshot: null,
      status: 'active',
      createdAt: now,
      updatedAt: now,
    };
    this.live.set(entry.id, entry);
    this.dirty.add(entry);
    return entry;
  }

  private logicIdOf(logic: AnyStateMachine): string {
    let id = this.logicIds.get(logic);
    if (!id) {
      id = `${logic.id}#${this.logicCount++}`;
      this.logicIds.set(logic, id);
    }
    return id;
  }

  private finish(entry: TrackedActor): void {
    // The system id is set on the ref after the actor event; read it before letting go.
    entry.systemId ??= entry.ref?.systemId ?? null;
    entry.ref = null;
    this.live.delete(entry.id);
    if (this.options.maxFinishedActors === 0) {
      this.dirty.delete(entry);
      this.removed.push(entry.id);
      return;
    }
    this.finished.set(entry.id, entry);
    this.dirty.add(entry);
    if (this.finished.size > this.options.maxFinishedActors) {
      const oldest = this.finished.oldestValue() as TrackedActor;
      this.finished.delete(oldest.id);
      this.dirty.delete(oldest);
      this.removed.push(oldest.id);
    }
  }

  private view(entry: TrackedActor): ActorView {
    if (entry.ref) entry.systemId ??= entry.ref.systemId ?? null;
    let snapshot = entry.snapshot;
    if (snapshot === null && entry.ref) {
      snapshot = entry.ref.getSnapshot();
      entry.snapshot = snapshot;
    }
    const s = snapshot as { value?: unknown; context?: unknown } | null;
    return {
      id: entry.id,
      name: entry.name,
      systemId: entry.systemId,
      parentId: entry.parentId,
      kind: entry.logic ? 'machine' : 'actor',
      logicId: entry.logicId,
      status: entry.status,
      value: entry.logic && s ? stateValueOf(s.value) : null,
      context: s && s.context !== undefined ? summarizeValue(s.context) : null,
      createdAt: entry.createdAt,
      updatedAt: entry.updatedAt,
    };
  }

  private eventView(raw: RawEvent): XStateEventView {
    return { type: '@xstate.event', sourceId: raw.sourceId, targetId: raw.targetId, event: summarizeEvent(raw.event), at: raw.at };
  }

  /**
   * What changed since the last drain: actors added or changed (coalesced), actors
   * forgotten, and the newest `@xstate.event`s.
   *
   * @example
   * ```ts
   * const { actors, events } = hub.drain();
   * ```
   */
  drain(): HubDelta {
    const actors: ActorView[] = [];
    let budget = this.options.actorsPerDrain;
    for (const entry of this.dirty) {
      if (budget-- <= 0) break;
      this.dirty.delete(entry);
      actors.push(this.view(entry));
    }
    const removedActors = this.removed;
    this.removed = [];
    this.eventsDropped += this.pendingEvents.takeDropped();
    const events = this.pendingEvents.drain().map((raw) => this.eventView(raw));
    for (const event of events) this.recentEvents.push(event);
    this.recentEvents.takeDropped();
    return { actors, removedActors, events };
  }

  /**
   * Everything a page needs when it connects: every tracked actor (live and finished) and
   * the recent events.
   *
   * @example
   * ```ts
   * const { actors } = hub.snapshot();
   * ```
   */
  snapshot(): { actors: ActorView[]; events: XStateEventView[] } {
    const actors: ActorView[] = [];
    for (const entry of this.live.values()) actors.push(this.view(entry));
    for (const entry of this.finished.valuesInOrder()) actors.push(this.view(entry));
    return { actors, events: this.recentEvents.toArray() };
  }

  /** Counters for the sampling note. */
  counters(): HubCounters {
    return {
      eventsSeen: this.eventsSeen,
      eventsDropped: this.eventsDropped,
      actorsTracked: this.live.size,
      actorsUntracked: this.actorsUntracked,
      finishedKept: this.finished.size,
    };
  }

  /** The configured limits. */
  get limits(): Readonly<z.output<typeof HubOptionsSchema>> {
    return this.options;
  }

  /** A tracked actor by session id, or by system id (a scan: only on a page's request). */
  private find(query: { actorId?: string; systemId?: string }): TrackedActor | undefined {
    if (query.actorId !== undefined) return this.live.get(query.actorId) ?? this.finished.get(query.actorId);
    if (query.systemId === undefined) return undefined;
    for (const pool of [this.live.values(), this.finished.valuesInOrder()]) {
      for (const entry of pool) {
        const systemId = entry.systemId ?? entry.ref?.systemId ?? null;
        if (systemId === query.systemId) return entry;
      }
    }
    return undefined;
  }

  /**
   * The statechart of an actor (by session id or system id): its machine reduced to a
   * graph (computed once per logic) and its current state value.
   *
   * @example
   * ```ts
   * hub.describe({ systemId: 'task:analysis' }).graph?.nodes;
   * ```
   */
  describe(query: { actorId?: string; systemId?: string }): StatechartFrame {
    const entry = this.find(query);
    const base = { type: 'statechart' as const, actorId: entry?.id ?? query.actorId ?? null, systemId: query.systemId ?? entry?.systemId ?? null };
    if (!entry) return { ...base, logicId: null, graph: null, value: null, status: null, reason: 'unknown actor' };
    const view = this.view(entry);
    if (!entry.logic) {
      return { ...base, logicId: null, graph: null, value: null, status: view.status, reason: 'not a state machine' };
    }
    let graph = this.graphs.get(entry.logic);
    if (!graph) {
      graph = describeStatechart(entry.logic);
      this.graphs.set(entry.logic, graph);
    }
    return { ...base, logicId: entry.logicId, graph, value: view.value, status: view.status };
  }
}

/**
 * Creates an {@link InspectionHub}.
 *
 * @example
 * ```ts
 * const hub = createInspectionHub({ maxActors: 10_000 });
 * const nf = createNeuroFlux({ inspect: hub.observer });
 * ```
 */
export function createInspectionHub(options: InspectionHubOptions = {}): InspectionHub {
  return new InspectionHub(options);
}
