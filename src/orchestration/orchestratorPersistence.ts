import { z } from 'zod';
import { RetryPolicySchema, TaskPriority, TaskStatus, type TaskRecord } from './taskTypes';

const priorities = Object.values(TaskPriority) as [TaskPriority, ...TaskPriority[]];
const statuses = Object.values(TaskStatus) as [TaskStatus, ...TaskStatus[]];
const states = ['waiting', 'queued', 'assigned', 'running', 'retrying', 'completed', 'failed', 'timedOut', 'cancelled'] as const;

/** A persisted task record, validated when loaded: a store is outside input like any other. */
const PersistedRecordSchema = z
  .object({
    taskId: z.string().min(1),
    name: z.string(),
    description: z.string(),
    taskType: z.string().min(1),
    priority: z.enum(priorities),
    payload: z.unknown().optional(),
    dependencies: z.array(z.string().min(1)),
    requiredCapabilities: z.array(z.string().min(1)),
    estimatedDuration: z.number().positive(),
    timeoutSeconds: z.number().positive(),
    retryPolicy: RetryPolicySchema,
    onDependencyFailure: z.enum(['fail', 'ignore', 'skip']),
    status: z.enum(statuses),
    state: z.enum(states),
    assignedAgent: z.string().nullable(),
    createdAt: z.number(),
    startedAt: z.number().nullable(),
    completedAt: z.number().nullable(),
    retryCount: z.number().int().nonnegative(),
    // Absent in documents written before it existed.
    retryAt: z.number().nullable().default(null),
    // JSON drops `undefined`: a task without result comes back without the field.
    result: z.unknown().optional(),
    error: z.string().nullable(),
    reason: z.string().nullable(),
    progress: z.number(),
  })
  .transform((r) => r as TaskRecord);

/** A task as stored: its record and the balancer that places it. */
export const PersistedTaskSchema = z.object({ record: PersistedRecordSchema, balancer: z.string().nullable() });
export type PersistedTask = z.output<typeof PersistedTaskSchema>;

/**
 * The head value of the orchestrator's store. Version 2 (this one): open tasks are in
 * record keys of their own and finished ones in the writer's archive, so the head is
 * small. Version 1 (earlier): every open task in `tasks` (documents from before the
 * archive carry finished ones there as well); still restored.
 */
export const PersistedOrchestratorSchema = z.union([
  z.object({ version: z.literal(2), savedAt: z.number() }).strict(),
  z.object({ version: z.literal(1), savedAt: z.number(), tasks: z.array(PersistedTaskSchema) }),
]);
export type PersistedOrchestrator = z.output<typeof PersistedOrchestratorSchema>;
