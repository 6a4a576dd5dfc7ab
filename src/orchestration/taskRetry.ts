import { TaskNotRetryableError } from '../errors';
import { FINAL_STATES, type TaskInput, type TaskRecord } from './taskTypes';

/** The suffix of a retry's id: `task~retry1`, `task~retry2`, ... */
const RETRY_SUFFIX = /~retry\d+$/;

/**
 * The submission that runs a failed, cancelled or timed-out task again, as
 * `TaskOrchestrator.retryTask` submits it: a new id (`<task>~retry<n>`, the first free n),
 * the same definition, and each failed dependency replaced by its latest completed retry.
 * Throws `TaskNotRetryableError` for a task that has not finished or completed, or whose
 * failed dependency has no completed retry. `lookup` reads the task table (no copy).
 * @internal
 */
export function retrySubmission(record: TaskRecord, balancer: string | undefined, lookup: (taskId: string) => TaskRecord | undefined): TaskInput {
  const taskId = record.taskId;
  if (!FINAL_STATES.has(record.state) || record.status === 'completed') throw new TaskNotRetryableError(taskId, record.status);
  const dependencies = record.dependencies.map((dependency) => {
    const dependencyRecord = lookup(dependency);
    if (!dependencyRecord || dependencyRecord.status === 'completed' || !FINAL_STATES.has(dependencyRecord.state)) return dependency;
    const root = dependency.replace(RETRY_SUFFIX, '');
    let latest: string | undefined;
    for (let k = 1; lookup(`${root}~retry${k}`) !== undefined; k++) if (lookup(`${root}~retry${k}`)?.status === 'completed') latest = `${root}~retry${k}`;
    if (latest === undefined) throw new TaskNotRetryableError(taskId, record.status, dependency);
    return latest;
  });
  const base = taskId.replace(RETRY_SUFFIX, '');
  let n = 1;
  while (lookup(`${base}~retry${n}`) !== undefined) n++;
  return {
    taskId: `${base}~retry${n}`,
    name: record.name,
    description: record.description,
    taskType: record.taskType,
    priority: record.priority,
    payload: record.payload,
    dependencies,
    requiredCapabilities: [...record.requiredCapabilities],
    estimatedDuration: record.estimatedDuration,
    timeoutSeconds: record.timeoutSeconds,
    retryPolicy: record.retryPolicy,
    onDependencyFailure: record.onDependencyFailure,
    ...(balancer !== undefined && { balancer }),
  };
}
