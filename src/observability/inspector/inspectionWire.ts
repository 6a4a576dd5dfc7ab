import { z } from 'zod';
import type {
  ActorView,
  ConflictView,
  DeadLetterView,
  MessageView,
  SamplingView,
  StatechartGraph,
  StatsView,
  SwarmView,
  TaskView,
  WorkflowView,
  XStateEventView,
} from './inspectorProtocol';

/**
 * Inspection over NATS: bus events on the namespace, through the runtime's transport
 * (so they carry its identity, signatures and permissions like any other message).
 *
 * - An inspector publishes an {@link InspectionInterest} on `neuroflux.inspect.interest`
 *   every third of its `ttlMs`.
 * - A runtime that serves inspection (`publishInspection`) starts sampling when it sees
 *   one, publishes a {@link RuntimeInspectionFrame} on `neuroflux.inspect.frame` every
 *   `sampleMs` (a snapshot first, then deltas), and stops once no interest was renewed
 *   within its `ttlMs`.
 */
export const INSPECTION_TOPIC_PREFIX = 'neuroflux.inspect.';
export const INSPECTION_INTEREST_TOPIC = 'neuroflux.inspect.interest';
export const INSPECTION_FRAME_TOPIC = 'neuroflux.inspect.frame';
/** A request to a runtime's inspection agent: run a page action (`ActionRequest`), answered with an `ActionReply`. */
export const INSPECTION_ACTION_TOPIC = 'neuroflux.inspect.action';
export const INSPECTION_WIRE_VERSION = 1;

/** The longest text a frame's fields may hold: publishers cut longer ones (`clampFrameText`). */
export const WIRE_TEXT_LIMIT = 2000;
const text = z.string().max(WIRE_TEXT_LIMIT);

/**
 * A runtime's id in the inspector: the prefix of its actors', tasks', workflows' and
 * conflicts' ids there (`<runtimeId>/<id>`), hence no `/`; `runtime` names the roots.
 */
export const RuntimeIdSchema = z
  .string()
  .min(1)
  .max(120)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only')
  .refine((id) => id !== 'runtime', 'runtime is reserved');
const ms = z.number().finite();
const count = z.number().int().nonnegative();

export const InspectionInterestSchema = z
  .object({
    v: z.literal(INSPECTION_WIRE_VERSION),
    inspectorId: z.string().min(1).max(200),
    /** The runtimes stop publishing this long after the last interest they saw. */
    ttlMs: z.number().int().min(500).max(600_000),
    /** Runtimes that should send a snapshot next (the inspector missed a frame of theirs). */
    resync: z.array(z.string().min(1).max(200)).max(1000).default([]),
  })
  .strict();
export type InspectionInterest = z.output<typeof InspectionInterestSchema>;

const ActorViewSchema: z.ZodType<ActorView> = z.object({
  id: text,
  name: text,
  systemId: text.nullable(),
  parentId: text.nullable(),
  kind: z.enum(['machine', 'actor']),
  logicId: text.nullable(),
  status: z.enum(['active', 'done', 'error', 'stopped']),
  value: z.unknown(),
  context: z.unknown(),
  createdAt: ms,
  updatedAt: ms,
});
const XStateEventViewSchema: z.ZodType<XStateEventView> = z.object({
  type: z.literal('@xstate.event'),
  sourceId: text.nullable(),
  targetId: text,
  event: z.object({ type: text }),
  at: ms,
});
const MessageViewSchema: z.ZodType<MessageView> = z.object({
  id: text,
  from: text,
  to: text.nullable(),
  messageType: text,
  topic: text,
  priority: text,
  correlationId: text.nullable(),
  at: ms,
});
const DeadLetterViewSchema: z.ZodType<DeadLetterView> = z.object({
  reason: text,
  messageId: text.nullable(),
  topic: text.nullable(),
  agentId: text.nullable(),
  at: ms,
});
const TaskViewSchema: z.ZodType<TaskView> = z.object({
  taskId: text,
  name: text,
  taskType: text,
  dependencies: z.array(text),
  workflowId: text,
  status: text,
  state: text,
  agentId: text.nullable(),
  retryCount: count,
  progress: z.number().finite(),
  error: z.string().nullable(),
});
const WorkflowViewSchema: z.ZodType<WorkflowView> = z.object({ workflowId: text, taskIds: z.array(text), finished: z.boolean() });
const ConflictViewSchema: z.ZodType<ConflictView> = z.object({
  conflictId: text,
  conflictType: text,
  description: z.string(),
  involvedAgents: z.array(text),
  severity: z.number().finite(),
  status: z.enum(['detected', 'resolving', 'awaiting_human', 'resolved', 'escalated']),
  strategy: text.nullable(),
  algorithm: text.nullable(),
  votes: z.array(z.object({ agentId: text, decision: text.nullable(), confidence: z.number().finite(), stake: z.number().finite(), reasoning: z.string() })),
  outcome: z.object({ decision: text.nullable(), confidence: z.number().finite(), action: text, reason: z.string().nullable() }).nullable(),
  detectedAt: ms,
});
const SwarmViewSchema: z.ZodType<SwarmView> = z.object({
  neurons: z.array(z.object({ agentId: text, performance: z.number().finite(), activation: z.number().finite(), fireCount: count })),
  connections: z.array(z.object({ id: text, source: text, target: text, strength: z.number().finite() })),
  truncated: z.boolean(),
});
const StatsViewSchema: z.ZodType<StatsView> = z.object({
  bus: z.record(z.string(), z.unknown()),
  orchestrator: z.record(z.string(), z.unknown()),
  conflicts: z.record(z.string(), z.unknown()),
});
const SamplingViewSchema: z.ZodType<SamplingView> = z.object({
  flushIntervalMs: ms,
  eventsPerFlush: count,
  eventBuffer: count,
  eventsSeen: count,
  eventsDropped: count,
  messagesPerFlush: count,
  messagesSeen: count,
  messagesDropped: count,
  actorLimit: count,
  actorsTracked: count,
  actorsUntracked: count,
  finishedKept: count,
});
const StatechartGraphSchema: z.ZodType<StatechartGraph> = z.object({
  machineId: text,
  nodes: z.array(
    z.object({
      path: text,
      key: text,
      parent: text.nullable(),
      kind: z.enum(['atomic', 'compound', 'parallel', 'final', 'history', 'any']),
      initial: z.boolean(),
    }),
  ),
  edges: z.array(z.object({ source: text, target: text, label: text })),
});

/** What a runtime is in the deployment: shown in the inspector's actor tree. */
export const RuntimeRoleSchema = z.enum(['orchestrator', 'host', 'runtime']);
export type RuntimeRole = z.output<typeof RuntimeRoleSchema>;

export const RuntimeInspectionFrameSchema = z.object({
  v: z.literal(INSPECTION_WIRE_VERSION),
  runtimeId: RuntimeIdSchema,
  name: text,
  role: RuntimeRoleSchema,
  /** `snapshot`: everything (the receiver replaces what it had of this runtime); `delta`: changes. */
  kind: z.enum(['snapshot', 'delta']),
  /** Per runtime, +1 per frame: a gap makes the inspector ask for a snapshot. */
  seq: count,
  /** Milliseconds between frames. */
  sampleMs: z.number().int().positive(),
  actors: z.array(ActorViewSchema),
  removedActors: z.array(text),
  events: z.array(XStateEventViewSchema),
  messages: z.array(MessageViewSchema),
  deadLetters: z.array(DeadLetterViewSchema),
  tasks: z.array(TaskViewSchema),
  removedTasks: z.array(text),
  workflows: z.array(WorkflowViewSchema),
  removedWorkflows: z.array(text),
  conflicts: z.array(ConflictViewSchema),
  removedConflicts: z.array(text),
  swarm: SwarmViewSchema.nullable().optional(),
  stats: StatsViewSchema.nullable().optional(),
  sampling: SamplingViewSchema,
  /** Statechart graphs by logic id, each sent once per snapshot epoch. */
  graphs: z.record(z.string(), StatechartGraphSchema),
  /** The runtime stops publishing (its last frame). */
  leaving: z.boolean().optional(),
  /** The runtime runs page actions sent to its inspection agent (`publishInspection({ actions: true })`). */
  actions: z.boolean().optional(),
});
type ParsedFrame = z.output<typeof RuntimeInspectionFrameSchema>;

/**
 * Cuts every string of a frame to {@link WIRE_TEXT_LIMIT} (a task named with 3 000
 * characters would otherwise get every frame of its runtime refused). Returns the frame
 * itself when nothing is too long.
 */
export function clampFrameText<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return (value.length > WIRE_TEXT_LIMIT ? `${value.slice(0, WIRE_TEXT_LIMIT - 1)}…` : value) as T;
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const clamped = clampFrameText(item, depth + 1);
      if (clamped !== item) (out ??= [...value])[i] = clamped;
    });
    return (out ?? value) as T;
  }
  let out: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const clamped = clampFrameText(item, depth + 1);
    if (clamped !== item) {
      out ??= Object.assign(Object.create(null) as Record<string, unknown>, value);
      out[key] = clamped;
    }
  }
  return (out ? { ...out } : value) as T;
}
/** A frame as runtimes build it (arrays read-only) and as the inspector reads it. */
export type RuntimeInspectionFrame = { readonly [K in keyof ParsedFrame]: ParsedFrame[K] extends (infer U)[] ? readonly U[] : ParsedFrame[K] };
