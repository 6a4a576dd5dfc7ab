import { ValidationError } from '../errors';
import { TASK_FAILURE_CAUSES } from './model/failureAttribution';
import type { TaskOutcomeBatch } from './model/outcomeLearning';
import { MAX_PRODUCERS_PER_OUTCOME, TaskOutcomeSchema } from './model/swarmSchemas';
import type { TaskOutcome } from './model/swarmTypes';

/** One entry of `recordTaskOutcomes`, validated (the outcome parsed by `TaskOutcomeSchema`). */
export type ParsedTaskOutcome = TaskOutcomeBatch['outcomes'][number];

/**
 * Checks `recordTaskOutcomes`' argument: an array of `{ outcome, success }` with `success` a
 * boolean and `outcome` what `TaskOutcomeSchema` accepts (accepts exactly what
 * `TaskOutcomesSchema` does; the fast-check test in test/swarmOutcomeFlush.test.ts checks it).
 * By hand around the per-outcome parse so that whatever a getter or proxy throws becomes
 * a `ValidationError` naming the field it was reading (zod lets it escape). An outcome is
 * checked by hand ({@link parseOutcome}), and only one refused goes through zod, for the
 * message: the zod parse of each outcome was 1.5 % of the 10 000-task benches' CPU profiles
 * (the runtime sends every attempt through here).
 */
export function parseTaskOutcomes(outcomes: unknown): ParsedTaskOutcome[] {
  const what = 'task outcomes';
  let path = '';
  try {
    if (!Array.isArray(outcomes)) throw new ValidationError(what, [{ path, message: 'must be an array' }]);
    const count = outcomes.length;
    const parsed: ParsedTaskOutcome[] = new Array<ParsedTaskOutcome>(count);
    for (let i = 0; i < count; i++) {
      path = String(i);
      const entry: unknown = outcomes[i];
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        throw new ValidationError(what, [{ path, message: 'must be an object' }]);
      }
      path = `${i}.success`;
      const success: unknown = (entry as { success?: unknown }).success;
      if (typeof success !== 'boolean') throw new ValidationError(what, [{ path, message: 'must be a boolean' }]);
      path = `${i}.outcome`;
      const result = parseOutcome((entry as { outcome?: unknown }).outcome);
      if (!result.success) {
        throw new ValidationError(
          what,
          result.error.issues.map((issue) => ({ path: [i, 'outcome', ...issue.path].map(String).join('.'), message: issue.message })),
          { cause: result.error },
        );
      }
      parsed[i] = { outcome: result.data, success };
    }
    return parsed;
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(what, [{ path, message: `could not be read: ${String(error)}` }], { cause: error });
  }
}

const FAILURE_CAUSES: ReadonlySet<unknown> = new Set(TASK_FAILURE_CAUSES);

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** `z.number().min(0)`: finite, not NaN, at least 0 (−0 included). */
function isNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** `TaskOutcome` as built here, field by field. */
type OutcomeFields = { -readonly [K in keyof TaskOutcome]: TaskOutcome[K] };

/**
 * `TaskOutcomeSchema.safeParse(outcome)`, with the zod parse only for an outcome it refuses
 * (for the message). The schema's fields are read once each, in its order (a getter runs
 * once), and checked by hand; the result is what zod gives: the same fields in the same order,
 * one whose value is `undefined` kept only if the outcome has the key (zod's `key in input`),
 * a new producer list (`[]` when absent). An outcome refused is given to zod as those values,
 * so zod reads no getter again. test/parseTaskOutcomes.test.ts holds it to the schema on
 * random and hostile input.
 */
function parseOutcome(outcome: unknown): ReturnType<typeof TaskOutcomeSchema.safeParse> {
  if (typeof outcome !== 'object' || outcome === null || Array.isArray(outcome)) return TaskOutcomeSchema.safeParse(outcome);
  const source = outcome as Record<string, unknown>;
  const { taskId, agentId, taskType, producerAgentIds, durationMs, at, failureCause } = source;
  const hasTaskType = taskType !== undefined || 'taskType' in source;
  const hasDuration = durationMs !== undefined || 'durationMs' in source;
  const hasAt = at !== undefined || 'at' in source;
  const hasCause = failureCause !== undefined || 'failureCause' in source;
  let producers: string[] | undefined;
  if (producerAgentIds === undefined) producers = [];
  else if (Array.isArray(producerAgentIds) && producerAgentIds.length <= MAX_PRODUCERS_PER_OUTCOME) {
    producers = new Array<string>(producerAgentIds.length);
    for (let i = 0; i < producers.length; i++) {
      const id: unknown = producerAgentIds[i];
      if (!isId(id)) {
        producers = undefined;
        break;
      }
      producers[i] = id;
    }
  }
  if (
    producers !== undefined &&
    isId(taskId) &&
    isId(agentId) &&
    (taskType === undefined || isId(taskType)) &&
    (durationMs === undefined || isNonNegative(durationMs)) &&
    (at === undefined || isNonNegative(at)) &&
    (failureCause === undefined || FAILURE_CAUSES.has(failureCause))
  ) {
    // In the schema's order: the task type before the producers.
    const parsed: OutcomeFields = hasTaskType ? { taskId, agentId, taskType, producerAgentIds: producers } : { taskId, agentId, producerAgentIds: producers };
    if (hasDuration) parsed.durationMs = durationMs;
    if (hasAt) parsed.at = at;
    if (hasCause) parsed.failureCause = failureCause as TaskOutcome['failureCause'];
    return { success: true, data: parsed } as ReturnType<typeof TaskOutcomeSchema.safeParse>;
  }
  const read: Record<string, unknown> = { taskId, agentId };
  if (hasTaskType) read['taskType'] = taskType;
  read['producerAgentIds'] = producerAgentIds;
  if (hasDuration) read['durationMs'] = durationMs;
  if (hasAt) read['at'] = at;
  if (hasCause) read['failureCause'] = failureCause;
  return TaskOutcomeSchema.safeParse(read);
}
