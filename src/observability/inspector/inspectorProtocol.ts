/**
 * The inspector's WebSocket protocol (JSON text frames). The server sends `hello`, then a
 * full `snapshot`, then a `delta` every flush interval with what changed; the page asks
 * for a statechart with `statechart` and gets one back. Every field is JSON: no actor
 * refs, no machines, no functions.
 */
export const INSPECTOR_PROTOCOL_VERSION = 1;

/**
 * A state of a statechart as the inspector page draws it. Paths are the state's keys from
 * the root joined with `.` (`open.collectingVotes`); compound and parallel states are
 * drawn as clusters around their children; `any` nodes stand for "from any state of the
 * enclosing cluster" (transitions declared on a compound state or the root).
 */
export interface StatechartNode {
  readonly path: string;
  readonly key: string;
  /** Path of the enclosing cluster; null at the top level. */
  readonly parent: string | null;
  readonly kind: 'atomic' | 'compound' | 'parallel' | 'final' | 'history' | 'any';
  /** The initial state of its parent. */
  readonly initial: boolean;
}

/** A transition between drawn nodes (targets are always atomic, final or history states). */
export interface StatechartEdge {
  readonly source: string;
  readonly target: string;
  readonly label: string;
}

/** A machine definition reduced to what the page lays out: JSON, computed once per logic. */
export interface StatechartGraph {
  readonly machineId: string;
  readonly nodes: readonly StatechartNode[];
  readonly edges: readonly StatechartEdge[];
}

/** One actor of the XState system. */
export interface ActorView {
  /** XState's session id: unique in the system. */
  readonly id: string;
  /** The actor's id (its key in its parent). */
  readonly name: string;
  readonly systemId: string | null;
  readonly parentId: string | null;
  /** `machine` when its logic is a state machine (it has a statechart). */
  readonly kind: 'machine' | 'actor';
  /** Same for every actor of one logic: the page caches statecharts by it. */
  readonly logicId: string | null;
  readonly status: 'active' | 'done' | 'error' | 'stopped';
  /** The machine's state value (null for other logic). */
  readonly value: unknown;
  /** A bounded summary of the context. */
  readonly context: unknown;
  /** Wall-clock ms. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** An `@xstate.event` inspection event: an event sent to an actor. */
export interface XStateEventView {
  readonly type: '@xstate.event';
  readonly sourceId: string | null;
  readonly targetId: string;
  readonly event: { readonly type: string };
  /** Wall-clock ms. */
  readonly at: number;
}

/** A message the bus accepted. */
export interface MessageView {
  readonly id: string;
  readonly from: string;
  /** Recipient, or null for events and broadcasts (see `topic`). */
  readonly to: string | null;
  readonly messageType: string;
  readonly topic: string;
  readonly priority: string;
  readonly correlationId: string | null;
  /** Runtime clock ms. */
  readonly at: number;
}

export interface DeadLetterView {
  readonly reason: string;
  readonly messageId: string | null;
  readonly topic: string | null;
  readonly agentId: string | null;
  readonly at: number;
}

/** A task with what the DAG needs. */
export interface TaskView {
  readonly taskId: string;
  readonly name: string;
  readonly taskType: string;
  readonly dependencies: readonly string[];
  readonly workflowId: string;
  readonly status: string;
  readonly state: string;
  readonly agentId: string | null;
  readonly retryCount: number;
  readonly progress: number;
  readonly error: string | null;
}

/** Tasks linked by dependencies form one workflow. */
export interface WorkflowView {
  readonly workflowId: string;
  readonly taskIds: readonly string[];
  /** Every task is final. */
  readonly finished: boolean;
}

export interface VoteView {
  readonly agentId: string;
  /** The decision as text; null for an abstention. */
  readonly decision: string | null;
  readonly confidence: number;
  readonly stake: number;
  readonly reasoning: string;
}

export interface ConflictView {
  readonly conflictId: string;
  readonly conflictType: string;
  readonly description: string;
  readonly involvedAgents: readonly string[];
  readonly severity: number;
  readonly status: 'detected' | 'resolving' | 'awaiting_human' | 'resolved' | 'escalated';
  readonly strategy: string | null;
  readonly algorithm: string | null;
  readonly votes: readonly VoteView[];
  readonly outcome: { readonly decision: string | null; readonly confidence: number; readonly action: string; readonly reason: string | null } | null;
  readonly detectedAt: number;
}

export interface SwarmView {
  readonly neurons: readonly { readonly agentId: string; readonly performance: number; readonly activation: number; readonly fireCount: number }[];
  readonly connections: readonly { readonly id: string; readonly source: string; readonly target: string; readonly strength: number }[];
  /** The strongest connections are kept when there are more than the limit. */
  readonly truncated: boolean;
}

export interface StatsView {
  readonly bus: Readonly<Record<string, unknown>>;
  readonly orchestrator: Readonly<Record<string, unknown>>;
  readonly conflicts: Readonly<Record<string, unknown>>;
}

/** What was kept and what was left out: the page states it. */
export interface SamplingView {
  readonly flushIntervalMs: number;
  /** XState events: at most this many per flush (the newest), and the page keeps this many. */
  readonly eventsPerFlush: number;
  readonly eventBuffer: number;
  readonly eventsSeen: number;
  readonly eventsDropped: number;
  readonly messagesPerFlush: number;
  readonly messagesSeen: number;
  readonly messagesDropped: number;
  /** Live actors tracked at most; actors past it are counted, not shown. */
  readonly actorLimit: number;
  readonly actorsTracked: number;
  readonly actorsUntracked: number;
  /** Finished actors kept (for their last state). */
  readonly finishedKept: number;
}

export interface SnapshotFrame {
  readonly type: 'snapshot';
  readonly actors: readonly ActorView[];
  readonly events: readonly XStateEventView[];
  readonly messages: readonly MessageView[];
  readonly deadLetters: readonly DeadLetterView[];
  readonly tasks: readonly TaskView[];
  readonly workflows: readonly WorkflowView[];
  readonly conflicts: readonly ConflictView[];
  readonly swarm: SwarmView | null;
  readonly stats: StatsView | null;
  readonly sampling: SamplingView;
}

export interface DeltaFrame {
  readonly type: 'delta';
  readonly seq: number;
  /** Added or changed. */
  readonly actors: readonly ActorView[];
  /** Forgotten (finished actors past the kept limit). */
  readonly removedActors: readonly string[];
  readonly events: readonly XStateEventView[];
  readonly messages: readonly MessageView[];
  readonly deadLetters: readonly DeadLetterView[];
  readonly tasks: readonly TaskView[];
  readonly removedTasks: readonly string[];
  readonly workflows: readonly WorkflowView[];
  readonly removedWorkflows: readonly string[];
  readonly conflicts: readonly ConflictView[];
  readonly removedConflicts: readonly string[];
  /** Present when the network changed. */
  readonly swarm?: SwarmView;
  readonly stats?: StatsView;
  readonly sampling: SamplingView;
}

export interface StatechartFrame {
  readonly type: 'statechart';
  readonly actorId: string | null;
  readonly systemId: string | null;
  readonly logicId: string | null;
  /** Null when the actor is unknown or its logic is not a state machine (see `reason`). */
  readonly graph: StatechartGraph | null;
  readonly value: unknown;
  readonly status: string | null;
  readonly reason?: string;
}

export type ServerFrame =
  | {
      readonly type: 'hello';
      readonly protocol: number;
      readonly name: string;
      readonly flushIntervalMs: number;
    }
  | SnapshotFrame
  | DeltaFrame
  | StatechartFrame
  | { readonly type: 'pong' }
  | { readonly type: 'error'; readonly message: string };

/** What the page sends. */
export type ClientFrame = { readonly type: 'statechart'; readonly actorId?: string; readonly systemId?: string } | { readonly type: 'ping' };

/**
 * An action the page asks for: `POST /api/actions` with this JSON body and the page's token
 * in the `X-NeuroFlux-Token` header. Only from loopback, from the inspector's own page.
 */
export type ActionRequest =
  | { readonly action: 'cancelTask'; readonly taskId: string }
  | { readonly action: 'retryTask'; readonly taskId: string }
  | { readonly action: 'pauseAgent'; readonly agentId: string }
  | { readonly action: 'resumeAgent'; readonly agentId: string };

/** The answer to an action request. */
export type ActionReply = { readonly ok: true; readonly message: string } | { readonly ok: false; readonly error: string };

/**
 * The `reason` of a statechart frame for an actor of an attached runtime whose statechart
 * has not arrived yet: the page asks again until it does.
 */
export const STATECHART_NOT_RECEIVED = 'statechart not received yet';
