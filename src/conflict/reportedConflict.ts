import { ValidationError } from '../errors';
import { DEFAULT_DEADLINE_MS } from './conflictEngineOptions';
import { ConflictInputSchema, type Conflict } from './model/conflictTypes';

/**
 * A reported conflict in the engine's shape: validated (`ConflictInputSchema`), its agents
 * and executors without repeats, its id (given, or `<type>_<uuid>`), detection time (given,
 * or now) and absolute resolution deadline (given, or the type's default delay from
 * detection) filled in. What is stored, forwarded to a leader and given to the conflict's actor.
 *
 * @param newId Makes the id of a conflict reported without one (the engine's: `<type>_<uuid>`).
 * @throws ValidationError naming the first bad field.
 * @example
 * ```ts
 * reportedConflictOf({ conflictType: 'resource_conflict', involvedAgents: ['a', 'b'], severity: 0.5 }, 1_000, () => 'c1');
 * // { conflictId: 'c1', detectedAt: 1000, resolutionDeadline: 121000, description: '', options: [], ... }
 * ```
 * @internal
 */
export function reportedConflictOf(input: unknown, now: number, newId: (conflictType: Conflict['conflictType']) => string): Conflict {
  const parsed = ConflictInputSchema.safeParse(input);
  if (!parsed.success) throw ValidationError.fromZod('conflict', parsed.error);
  const data = parsed.data;
  const detectedAt = data.detectedAt ?? now;
  return {
    conflictId: data.conflictId ?? newId(data.conflictType),
    conflictType: data.conflictType,
    description: data.description,
    involvedAgents: data.involvedAgents,
    conflictingElements: data.conflictingElements,
    severity: data.severity,
    detectedAt,
    resolutionDeadline: data.resolutionDeadline ?? detectedAt + DEFAULT_DEADLINE_MS[data.conflictType],
    options: data.options,
    ...(data.executors !== undefined && { executors: data.executors }),
  };
}
