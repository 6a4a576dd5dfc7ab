import type { AnyActorLogic, AnyActorRef } from 'xstate';
import { LazyMap, LazySet } from './lazyCollections';
import { isEmptyRecord } from '../idRecord';

/**
 * What XState allocates for every actor and every machine snapshot whether or not it is
 * used, and what a quiet child (a queued task, an idle agent) can share instead. Heap
 * snapshot of 20 000 queued tasks (bench/profiles/liveTaskHeap.ts): each task actor kept an
 * empty `tags` `Set` (~170 bytes with its table), empty `children` and `historyValue`
 * records (60 each) in its snapshot, and empty `observers` `Set` and `eventListeners` `Map`
 * (~350 with their tables) on the actor, and once started, its options (460 bytes of
 * hidden-class metadata) and the array its start actions were deferred in (~100 bytes of
 * backing store after they ran). The XState shapes this relies on are checked in
 * test/xstateContract.test.ts.
 */

/** The tags of a snapshot whose states have none: shared, and it refuses to be written. */
class NoTags extends Set<string> {
  override add(): this {
    throw new TypeError('A snapshot’s tags are read-only');
  }
}
const NO_TAGS: ReadonlySet<string> = Object.freeze(new NoTags());
/** An empty `children` or `historyValue` record: XState replaces these records, never writes them. */
const NOTHING: Readonly<Record<string, never>> = Object.freeze({});

interface MachineSnapshotParts {
  tags?: ReadonlySet<string>;
  children?: object;
  historyValue?: object;
}

/**
 * Gives the snapshot (one XState has just made, not yet seen by anyone) shared empty parts
 * where its own are empty. XState treats `children` and `historyValue` as immutable (a spawn,
 * a stop or a history state makes a new record), and builds `tags` afresh for each snapshot.
 */
function lighten<T>(snapshot: T): T {
  const parts = snapshot as MachineSnapshotParts;
  const tags = parts.tags;
  if (tags !== undefined && tags !== NO_TAGS && tags.size === 0) parts.tags = NO_TAGS;
  const children = parts.children;
  if (children !== undefined && children !== NOTHING && isEmptyRecord(children)) parts.children = NOTHING;
  const history = parts.historyValue;
  if (history !== undefined && history !== NOTHING && isEmptyRecord(history)) parts.historyValue = NOTHING;
  return snapshot;
}

/**
 * The logic with its snapshots' empty `tags`, `children` and `historyValue` shared among all
 * its actors: the initial snapshot, each transition's and each restored one. For machine
 * logic; other logic's snapshots lack these parts and pass through unchanged.
 * @internal
 */
export function withLightSnapshots<TLogic extends AnyActorLogic>(logic: TLogic): TLogic {
  const light = Object.create(logic) as TLogic;
  type Made = ReturnType<TLogic['transition']>;
  light.getInitialSnapshot = (scope, input) => lighten(logic.getInitialSnapshot(scope, input) as Made);
  light.transition = (snapshot, event, scope) => lighten(logic.transition(snapshot, event, scope) as Made);
  const restore = logic.restoreSnapshot;
  if (restore) light.restoreSnapshot = (persisted, scope) => lighten(restore.call(logic, persisted, scope) as Made);
  return light;
}

interface ActorInternals {
  observers: unknown;
  eventListeners: unknown;
  options: unknown;
  _deferred: unknown[];
}

/**
 * Gives a newly created actor collections of observers and event listeners that allocate on
 * first use. Call before anyone subscribes (right after `createActor`): the actor's own
 * collections are then empty and are dropped. Does nothing if they are not what XState 5.33
 * makes (an empty `Set` and `Map`).
 * @internal
 */
export function lightenActor(actor: AnyActorRef): void {
  const internals = actor as unknown as ActorInternals;
  const { observers, eventListeners } = internals;
  if (observers instanceof Set && observers.size === 0) internals.observers = new LazySet();
  if (eventListeners instanceof Map && eventListeners.size === 0) internals.eventListeners = new LazyMap();
}

/** What a started actor keeps of its options: XState 5.33 reads them only in `start()` (and for devtools, never enabled here). */
const STARTED_OPTIONS = Object.freeze({ devTools: false });

/**
 * Drops what a started actor no longer needs:
 * - its options object (its input among them). XState builds it as
 *   `{ ...defaultOptions, ...options }`, and V8 gives each such spread its own hidden class:
 *   460 bytes of metadata per actor, for an object XState no longer reads once started;
 * - the array its initial actions were deferred in: emptied by `shift()`, it keeps the
 *   backing store those pushes grew (about 100 bytes); an empty one takes its place.
 * @internal
 */
export function lightenStartedActor(actor: AnyActorRef): void {
  const internals = actor as unknown as ActorInternals;
  internals.options = STARTED_OPTIONS;
  if (Array.isArray(internals._deferred) && internals._deferred.length === 0) internals._deferred = [];
}
