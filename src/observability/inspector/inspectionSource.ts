import type { Subscription } from 'xstate';
import { runtimeName, type ObservedRuntime } from '../observedRuntime';
import { DomainFeed, type DomainFeedOptions } from './domainFeed';
import { InspectionHub, type InspectionHubOptions } from './inspectionHub';
import type { DeltaFrame, SamplingView, SnapshotFrame, StatechartFrame } from './inspectorProtocol';

/** What a delta carries besides its type, sequence number and sampling note. */
export type SourceDelta = Omit<DeltaFrame, 'type' | 'seq' | 'sampling'>;
/** What a snapshot carries besides its type and sampling note. */
export type SourceSnapshot = Omit<SnapshotFrame, 'type' | 'sampling'>;

/**
 * What the inspector server shows: one runtime in this process (its hub and domain feed),
 * or every runtime of a NATS namespace (`remoteInspectionSource.ts`).
 * @internal
 */
export interface InspectionSource {
  /** The page title. */
  readonly name: string;
  /** What changed since the last drain. */
  drain(): SourceDelta;
  /** Everything, for a page that connects. */
  snapshot(): SourceSnapshot;
  /** The statechart of an actor, by session id or system id. */
  describe(query: { actorId?: string; systemId?: string }): StatechartFrame;
  sampling(flushIntervalMs: number): SamplingView;
  close(): void;
}

/** The hub's and the feed's counters as the page's sampling note. @internal */
export function samplingOf(hub: InspectionHub, feed: DomainFeed, flushIntervalMs: number): SamplingView {
  const h = hub.counters();
  const f = feed.counters();
  return {
    flushIntervalMs,
    eventsPerFlush: hub.limits.eventsPerDrain,
    eventBuffer: hub.limits.eventBuffer,
    eventsSeen: h.eventsSeen,
    eventsDropped: h.eventsDropped,
    messagesPerFlush: feed.limits.messagesPerDrain,
    messagesSeen: f.messagesSeen,
    messagesDropped: f.messagesDropped,
    actorLimit: hub.limits.maxActors,
    actorsTracked: h.actorsTracked,
    actorsUntracked: h.actorsUntracked,
    finishedKept: h.finishedKept,
  };
}

/**
 * A runtime of this process: its hub (given, fed since the runtime's creation, or made
 * here and subscribed to the running system) and a domain feed.
 * @internal
 */
export function localInspectionSource(
  runtime: ObservedRuntime,
  options: { hub?: InspectionHub; hubOptions?: InspectionHubOptions; feed?: DomainFeedOptions; name?: string },
): InspectionSource & { readonly hub: InspectionHub; readonly feed: DomainFeed } {
  const hub = options.hub ?? new InspectionHub(options.hubOptions);
  const hubSubscription: Subscription | undefined = options.hub ? undefined : hub.observe(runtime.system);
  const feed = new DomainFeed(runtime, options.feed);
  feed.start();
  return {
    hub,
    feed,
    name: options.name ?? runtimeName(runtime),
    drain() {
      const actors = hub.drain();
      feed.noteActors(actors.actors);
      return { ...actors, ...feed.drain() };
    },
    snapshot() {
      return { ...hub.snapshot(), ...feed.snapshot() };
    },
    describe: (query) => hub.describe(query),
    sampling: (flushIntervalMs) => samplingOf(hub, feed, flushIntervalMs),
    close() {
      hubSubscription?.unsubscribe();
      feed.stop();
    },
  };
}
