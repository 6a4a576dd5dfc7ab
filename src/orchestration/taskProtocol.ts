import { z } from 'zod';

/**
 * The bus protocol between the orchestrator and agents (spec section 2), so that agents
 * can live in other processes:
 * - orchestrator → agent, command `task_assignment`: `{ action: 'execute_task', task, attempt, dependencyResults }`;
 * - agent → orchestrator, notification `task_started` (optional): `{ taskId, attempt }`;
 * - agent → orchestrator, notification `task_result`: `{ taskId, attempt?, status: 'completed' | 'failed', result?, error? }`;
 * - orchestrator → agent, command `task_cancel`: `{ taskId, attempt, reason }` when the attempt timed out or was cancelled.
 */
export const TaskTopic = {
  ASSIGNMENT: 'task_assignment',
  STARTED: 'task_started',
  RESULT: 'task_result',
  CANCEL: 'task_cancel',
} as const;

export const TaskAssignmentPayloadSchema = z.object({
  action: z.literal('execute_task'),
  task: z.object({ taskId: z.string().min(1) }).passthrough(),
  attempt: z.number().int().nonnegative(),
  dependencyResults: z.record(z.string(), z.unknown()).default({}),
  /** Identity of this dispatch; echo it in `task_result` so a stale run's answer is recognised. */
  dispatch: z.number().int().nonnegative().optional(),
});
export type TaskAssignmentPayload = z.output<typeof TaskAssignmentPayloadSchema>;

export const TaskStartedPayloadSchema = z.object({
  taskId: z.string().min(1),
  attempt: z.number().int().nonnegative().optional(),
});

export const TaskResultPayloadSchema = z.object({
  taskId: z.string().min(1),
  /** The attempt this result belongs to; without it the current attempt is assumed. */
  attempt: z.number().int().nonnegative().optional(),
  /** The `dispatch` of the assignment, when the agent echoes it. */
  dispatch: z.number().int().nonnegative().optional(),
  status: z.enum(['completed', 'failed']),
  result: z.unknown().optional(),
  error: z.string().optional(),
});
export type TaskResultPayload = z.output<typeof TaskResultPayloadSchema>;
