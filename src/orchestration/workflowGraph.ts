import type { WorkflowProblem } from '../errors';
import type { ParsedTask } from './taskTypes';

/** What the workflow check needs to know of the world outside the workflow. */
export interface WorkflowContext {
  /** True when a task with this id already exists. */
  isKnownTask(taskId: string): boolean;
  /** True when a new task may not take this id (defaults to `isKnownTask`; e.g. an id reserved by a submission still being accepted). */
  isTakenId?(taskId: string): boolean;
  /** True when some registered agent has every one of these capabilities. */
  canServe(requiredCapabilities: readonly string[]): boolean;
}

/**
 * Every problem that keeps a workflow from running: duplicate ids, dependencies on unknown
 * tasks, cycles, and capabilities no agent has. Empty when the workflow is sound.
 *
 * @example
 * ```ts
 * const problems = findWorkflowProblems(tasks, { isKnownTask: () => false, canServe: () => true });
 * ```
 */
export function findWorkflowProblems(tasks: readonly ParsedTask[], context: WorkflowContext, checkCapabilities: boolean): WorkflowProblem[] {
  const steps = workflowProblemSteps(tasks, context, checkCapabilities);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Tasks checked between two pauses of {@link workflowProblemSteps}. */
const STEP_TASKS = 512;

/**
 * {@link findWorkflowProblems} in steps: it pauses (yields) every few hundred tasks, so
 * that a caller checking 100 000 tasks can give the event loop a turn in between. Linear
 * in tasks and dependencies; the problems are the generator's return value. Given
 * `dependenciesFirst`, it fills it with the tasks ordered so that each comes after the
 * workflow's tasks it depends on (meaningful only when there is no problem).
 * @internal
 */
export function* workflowProblemSteps(
  tasks: readonly ParsedTask[],
  context: WorkflowContext,
  checkCapabilities: boolean,
  dependenciesFirst?: ParsedTask[],
): Generator<void, WorkflowProblem[]> {
  const problems: WorkflowProblem[] = [];
  const ids = new Map<string, ParsedTask>();
  let done = 0;
  for (const task of tasks) {
    if (++done % STEP_TASKS === 0) yield;
    if (ids.has(task.taskId) || (context.isTakenId ? context.isTakenId(task.taskId) : context.isKnownTask(task.taskId))) {
      problems.push({ kind: 'duplicate_id', taskIds: [task.taskId], message: `duplicate task id '${task.taskId}'` });
    }
    ids.set(task.taskId, task);
  }
  for (const task of tasks) {
    if (++done % STEP_TASKS === 0) yield;
    for (const dependency of task.dependencies) {
      if (!ids.has(dependency) && !context.isKnownTask(dependency)) {
        problems.push({
          kind: 'unknown_dependency',
          taskIds: [task.taskId, dependency],
          message: `task '${task.taskId}' depends on unknown task '${dependency}'`,
        });
      }
    }
    if (checkCapabilities && !context.canServe(task.requiredCapabilities)) {
      problems.push({
        kind: 'no_capable_agent',
        taskIds: [task.taskId],
        message: `no registered agent has all of [${task.requiredCapabilities.join(', ')}] needed by task '${task.taskId}'`,
      });
    }
  }
  for (const cycle of yield* findCycles(tasks, ids, dependenciesFirst)) {
    problems.push({ kind: 'cycle', taskIds: cycle, message: `dependency cycle: ${[...cycle, cycle[0]].join(' → ')}` });
  }
  return problems;
}

/** Cycles among the workflow's own tasks (iterative DFS, so deep chains do not overflow the stack). */
function* findCycles(tasks: readonly ParsedTask[], ids: ReadonlyMap<string, ParsedTask>, dependenciesFirst?: ParsedTask[]): Generator<void, string[][]> {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[][] = [];
  let visited = 0;
  for (const root of tasks) {
    if (state.has(root.taskId)) continue;
    if (++visited % STEP_TASKS === 0) yield;
    // The task the walk would visit under this id (the last of duplicates, as `ids` keeps).
    const task = ids.get(root.taskId) ?? root;
    if (task.dependencies.length === 0) {
      // Nothing to walk (most tasks of a flat batch): no path or stack made for it.
      state.set(root.taskId, 'done');
      dependenciesFirst?.push(task);
      continue;
    }
    const path: string[] = [];
    const stack: { id: string; next: number }[] = [{ id: root.taskId, next: 0 }];
    state.set(root.taskId, 'open');
    path.push(root.taskId);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as { id: string; next: number };
      const deps = ids.get(frame.id)?.dependencies ?? [];
      if (frame.next < deps.length) {
        const dep = deps[frame.next++] as string;
        if (!ids.has(dep)) continue;
        const seen = state.get(dep);
        if (seen === 'open') cycles.push(path.slice(path.indexOf(dep)).reverse());
        else if (seen === undefined) {
          if (++visited % STEP_TASKS === 0) yield;
          state.set(dep, 'open');
          path.push(dep);
          stack.push({ id: dep, next: 0 });
        }
      } else {
        state.set(frame.id, 'done');
        // Post-order: a task is done only after everything it depends on.
        dependenciesFirst?.push(ids.get(frame.id) as ParsedTask);
        path.pop();
        stack.pop();
      }
    }
  }
  return cycles;
}
