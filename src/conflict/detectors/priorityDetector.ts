import { z } from 'zod';
import { ValidationError } from '../../errors';
import { ownValue } from '../../idRecord';
import { ConflictType, type ConflictInput } from '../model/conflictTypes';

export const PRIORITY_DEADLINE_MS = 30_000;

/** Task priorities, most urgent last. */
const PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
type TaskPriorityName = (typeof PRIORITIES)[number];

/** Severity of a priority conflict by the priority of the tasks that collide. */
export const PRIORITY_CONFLICT_SEVERITY: Readonly<Record<TaskPriorityName, number>> = {
  low: 0.25,
  medium: 0.5,
  high: 0.75,
  critical: 1,
};

/** A task that wants a slot on an agent. */
export const TaskClaimSchema = z.object({
  taskId: z.string().min(1),
  /** The agent whose slot the task wants. */
  agentId: z.string().min(1),
  priority: z.enum(PRIORITIES),
  /** The agent that submitted the task, if any: it gets a vote. */
  requesterId: z.string().min(1).optional(),
});
/** A list of {@link TaskClaimSchema} (built once: a schema built at each call costs ~6 µs). */
const TaskClaimsSchema = z.array(TaskClaimSchema);
export type TaskClaim = z.input<typeof TaskClaimSchema>;

/** Free task slots per agent: a table, or a function. Missing agents have 0. */
export type AgentSlots = Readonly<Record<string, number>> | ((agentId: string) => number);

const slotsSchema = z.number().int().nonnegative();

/**
 * Finds tasks of equal top priority competing for too few slots of one agent (e.g. two
 * critical tasks and one slot left). Claims of lower priority than the agent's top one
 * are not part of the conflict: priority order already settles them. One conflict per
 * contested agent; severity by priority (critical 1, high 0.75, medium 0.5, low 0.25);
 * the voters are the requesters and the contested agent; the options are the task ids;
 * 30 s deadline. Pure.
 *
 * @example
 * ```ts
 * const [conflict] = detectPriorityConflicts(
 *   [
 *     { taskId: 't1', agentId: 'worker', priority: 'critical', requesterId: 'a' },
 *     { taskId: 't2', agentId: 'worker', priority: 'critical', requesterId: 'b' },
 *   ],
 *   { worker: 1 },
 *   clock.now(),
 * ); // options ['t1', 't2'], involvedAgents ['a', 'b', 'worker']
 * ```
 */
export function detectPriorityConflicts(claims: readonly TaskClaim[], slots: AgentSlots, now: number): ConflictInput[] {
  const parsed = TaskClaimsSchema.safeParse(claims);
  if (!parsed.success) throw ValidationError.fromZod('task claims', parsed.error);
  const byAgent = new Map<string, z.output<typeof TaskClaimSchema>[]>();
  for (const claim of parsed.data) {
    let group = byAgent.get(claim.agentId);
    if (!group) byAgent.set(claim.agentId, (group = []));
    group.push(claim);
  }
  const conflicts: ConflictInput[] = [];
  for (const [agentId, group] of byAgent) {
    const top = group.reduce((best, c) => Math.max(best, PRIORITIES.indexOf(c.priority)), 0);
    const priority = PRIORITIES[top] as TaskPriorityName;
    const contending = group.filter((c) => c.priority === priority);
    const raw = typeof slots === 'function' ? slots(agentId) : (ownValue(slots, agentId) ?? 0);
    const checked = slotsSchema.safeParse(raw);
    if (!checked.success) throw ValidationError.fromZod(`free slots of ${agentId}`, checked.error);
    const freeSlots = checked.data;
    const taskIds = [...new Set(contending.map((c) => c.taskId))];
    if (taskIds.length < 2 || freeSlots >= taskIds.length) continue;
    const requesters = contending.flatMap((c) => (c.requesterId ? [c.requesterId] : []));
    conflicts.push({
      conflictType: ConflictType.PRIORITY_CONFLICT,
      description: `${taskIds.length} ${priority} tasks compete for ${freeSlots} free slot(s) of ${agentId}`,
      involvedAgents: [...requesters, agentId],
      conflictingElements: { agentId, priority, freeSlots, contendingTasks: taskIds, claims: contending },
      severity: PRIORITY_CONFLICT_SEVERITY[priority],
      detectedAt: now,
      resolutionDeadline: now + PRIORITY_DEADLINE_MS,
      options: taskIds,
    });
  }
  return conflicts;
}
