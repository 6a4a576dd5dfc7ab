import { z } from 'zod';
import { idRecordSchema } from '../idRecord';

/**
 * The bus protocol between the orchestrator and agents (spec section 2), so that agents
 * can live in other processes:
 * - orchestrator → agent, command `task_assignment`: `{ action: 'execute_task', task, attempt, dependencyResults, dispatch }`;
 * - agent → orchestrator, notification `task_started` (optional): `{ taskId, attempt, dispatch }`;
 * - agent → orchestrator, notification `task_result`: `{ taskId, attempt?, dispatch, status: 'completed' | 'failed', result?, error? }`;
 * - agent → orchestrator, notification `task_progress` (optional): `{ taskId, attempt, progress, dispatch }`;
 * - orchestrator → agent, command `task_cancel`: `{ taskId, attempt, reason, dispatch }` when the attempt timed out, was cancelled or its agent was lost;
 * - agent host → every orchestrator, event on topic `agent_presence`: `{ hostId, status, heartbeatIntervalMs, agents }`,
 *   at start, every heartbeat interval, and `status: 'leaving'` on a clean stop (see `AgentHost`).
 */
export const TaskTopic = {
  ASSIGNMENT: 'task_assignment',
  STARTED: 'task_started',
  RESULT: 'task_result',
  PROGRESS: 'task_progress',
  CANCEL: 'task_cancel',
  PRESENCE: 'agent_presence',
} as const;

/** A dispatch token as it travels (`TaskOrchestrator` generates random UUIDs). */
export const DispatchTokenSchema = z.string().min(1).max(128);

export const TaskAssignmentPayloadSchema = z.object({
  action: z.literal('execute_task'),
  task: z.object({ taskId: z.string().min(1) }).passthrough(),
  attempt: z.number().int().nonnegative(),
  // Keyed by task ids: z.record would drop a dependency named `__proto__`.
  dependencyResults: idRecordSchema(z.unknown()).default({}),
  /**
   * This dispatch's token: random, unguessable, new for every dispatch. Echo it in
   * `task_started`, `task_progress` and `task_result`: a result that comes over the network
   * without it (or with another one) is refused, so nobody who merely reads or guesses task
   * ids can complete a task, and a stale run's answer is recognised.
   */
  dispatch: DispatchTokenSchema.optional(),
});
export type TaskAssignmentPayload = z.output<typeof TaskAssignmentPayloadSchema>;

export const TaskStartedPayloadSchema = z.object({
  taskId: z.string().min(1),
  attempt: z.number().int().nonnegative().optional(),
  dispatch: DispatchTokenSchema.optional(),
});

export const TaskResultPayloadSchema = z.object({
  taskId: z.string().min(1),
  /** The attempt this result belongs to; without it the current attempt is assumed. */
  attempt: z.number().int().nonnegative().optional(),
  /** The `dispatch` token of the assignment (required for results that come over the network). */
  dispatch: DispatchTokenSchema.optional(),
  status: z.enum(['completed', 'failed']),
  result: z.unknown().optional(),
  error: z.string().optional(),
  /** Why it failed, as the runtime decided it (`invalid_result`: the result was not JSON); `execution` when absent. */
  failureKind: z.enum(['execution', 'invalid_result']).optional(),
});
export type TaskResultPayload = z.output<typeof TaskResultPayloadSchema>;

/**
 * Where a completed result's value comes from, which says what keeping it frozen costs:
 * `copy`, an in-process executor's (`runAttempt` made a frozen JSON copy); `frame`,
 * parsed from a transport's frame (a plain JSON value of its own, frozen where it is);
 * `sender`, a bus-protocol agent's in this process (its own object, copied; an agent host's
 * frozen copy is kept as it is, see `isSharedJsonCopy`).
 * @internal
 */
export type ResultSource = 'copy' | 'frame' | 'sender';

export const TaskProgressPayloadSchema = z.object({
  taskId: z.string().min(1),
  attempt: z.number().int().nonnegative(),
  progress: z.number().finite(),
  dispatch: DispatchTokenSchema.optional(),
});

export const TaskCancelPayloadSchema = z.object({
  taskId: z.string().min(1),
  attempt: z.number().int().nonnegative(),
  reason: z.string().optional(),
  /**
   * The `dispatch` token of the assignment to stop: only that run stops (a task moved off a
   * host and later given back to it runs the same attempt under a new token). Absent (an
   * orchestrator from before it was sent): every run of the attempt stops.
   */
  dispatch: DispatchTokenSchema.optional(),
});

/** One agent an {@link HostPresencePayloadSchema} announces. */
export const PresentAgentSchema = z.object({
  agentId: z.string().min(1),
  capabilities: z.array(z.string().min(1)),
  maxConcurrentTasks: z.number().int().positive(),
  specializations: idRecordSchema(z.number().finite().nonnegative()).default({}),
});

/** A host's heartbeat: who it is, how often it beats, and the agents it runs. */
export const HostPresencePayloadSchema = z.object({
  hostId: z.string().min(1),
  /** Differs for each process that runs the host: a new one means the old process died. */
  incarnation: z.string().min(1).max(100).optional(),
  status: z.enum(['alive', 'leaving']),
  heartbeatIntervalMs: z.number().int().positive(),
  agents: z.array(PresentAgentSchema).max(10_000),
  /**
   * With `leaving`: the attempts whose results the host sent last. Results travel through
   * JetStream and may arrive after this plain message: the orchestrator waits for these
   * before it moves the host's other tasks (else they would run twice).
   */
  resultsSent: z
    .array(z.object({ agentId: z.string().min(1), taskId: z.string().min(1), attempt: z.number().int().nonnegative() }))
    .max(1000)
    .optional(),
});
export type HostPresencePayload = z.output<typeof HostPresencePayloadSchema>;
