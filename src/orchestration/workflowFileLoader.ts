import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { NeuroFluxClock } from '../kernel/clock';
import { describeError } from '../describeError';
import { ValidationError, type NeuroFluxErrorOptions } from '../errors';
import { ExecutorNotAllowedError, resolveExecutorModule } from './executorModule';
import { suggestKey } from './keySuggestion';
import type { ParsedTask } from './taskTypes';
import type { TaskExecutor } from './taskExecutor';
import { WorkflowFileSchema, WorkflowTaskSchema, type WorkflowFile } from './workflowFile';
import { formatIssuePath, MAX_WORKFLOW_FILE_ISSUES, WorkflowFileError, type WorkflowFileIssue } from './workflowFileError';
import { describeContentIssues, type ContentIssue } from './workflowFileIssues';
import { parseWorkflowSource, type ParsedSource } from './workflowFileSource';
import { findWorkflowProblems } from './workflowGraph';

/** Largest workflow file read: a runaway file is refused before it is parsed. */
export const MAX_WORKFLOW_FILE_BYTES = 32 * 1024 * 1024;

/** Where the parts of each loaded workflow are in its file, for errors found later (executors). */
const locators = new WeakMap<WorkflowFile, ParsedSource['locate']>();

/**
 * Reads and validates a workflow file (`.yaml` or `.yml` as YAML, anything else as JSON).
 * Every object of the file is strict: an unknown key is an error, with the key it
 * probably meant. All problems of the file are reported at once in a
 * {@link WorkflowFileError}, each naming the file, the line and column and the path
 * (`flow.yaml:12:5 tasks[3].retryPolicy.maxRetries: expected a non-negative integer, got -1`):
 * syntax, fields, duplicate ids, dependencies on unknown tasks and dependency cycles.
 *
 * @example
 * ```ts
 * const workflow = loadWorkflowFile('workflow.yaml');
 * ```
 */
export function loadWorkflowFile(path: string): WorkflowFile {
  const fail = (problems: WorkflowFileIssue[], options?: NeuroFluxErrorOptions): never => {
    throw new WorkflowFileError(path, problems.slice(0, MAX_WORKFLOW_FILE_ISSUES), Math.max(0, problems.length - MAX_WORKFLOW_FILE_ISSUES), options);
  };
  let bytes: Buffer;
  try {
    const size = statSync(path).size;
    if (size > MAX_WORKFLOW_FILE_BYTES) return fail([{ file: path, path: '', message: `${size} bytes: larger than the ${MAX_WORKFLOW_FILE_BYTES} a workflow file may have` }]);
    bytes = readFileSync(path);
  } catch (error) {
    return fail([{ file: path, path: '', message: `cannot read it: ${describeError(error)}` }], { cause: error });
  }
  const source = parseWorkflowSource(bytes, ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? 'yaml' : 'json');
  if (source.problems.length > 0) return fail(source.problems.map((p) => ({ file: path, ...(p.position && { position: p.position }), path: '', message: p.message })));
  const located = (issue: ContentIssue): WorkflowFileIssue => {
    const position = source.locate(issue.path, issue.atKey);
    return { file: path, ...(position && { position }), path: formatIssuePath(issue.path), message: issue.message };
  };
  const parsed = WorkflowFileSchema.safeParse(source.value);
  const issues = parsed.success ? [] : describeContentIssues(WorkflowFileSchema, source.value, parsed.error.issues);
  issues.push(...graphIssues(source.value), ...agentIdIssues(source.value));
  if (issues.length > 0 || !parsed.success) {
    const sorted = issues.map(located).sort((a, b) => (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.column ?? 0) - (b.position?.column ?? 0));
    return fail(sorted);
  }
  locators.set(parsed.data, source.locate);
  return parsed.data;
}

/** The ids and dependencies of a raw file's tasks, by index (what is invalid in them the schema reports). */
function validTasks(raw: unknown): { tasks: Map<number, ParsedTask>; ids: Map<string, number[]> } {
  const tasks = new Map<number, ParsedTask>();
  const ids = new Map<string, number[]>();
  const list = raw !== null && typeof raw === 'object' && Object.hasOwn(raw, 'tasks') ? (raw as { tasks: unknown }).tasks : undefined;
  if (!Array.isArray(list)) return { tasks, ids };
  list.forEach((item: unknown, index) => {
    const id = item !== null && typeof item === 'object' && Object.hasOwn(item, 'taskId') ? (item as { taskId: unknown }).taskId : undefined;
    // A task with an invalid field still has its id: depending on it is not a second error.
    if (typeof id === 'string') ids.set(id, [...(ids.get(id) ?? []), index]);
    // A task invalid in another field still takes part in the graph with its id and dependencies.
    const dependencies = item !== null && typeof item === 'object' && Object.hasOwn(item, 'dependencies') ? (item as { dependencies: unknown }).dependencies : undefined;
    const task = WorkflowTaskSchema.safeParse({ ...(typeof id === 'string' && { taskId: id }), ...(dependencies !== undefined && { dependencies }) });
    // Tasks without id get one no file can name (ids are strings of the file, without NUL).
    if (task.success) tasks.set(index, { ...task.data, taskId: task.data.taskId ?? `\u0000tasks[${index}]`, name: task.data.name ?? '' });
  });
  return { tasks, ids };
}

/** Duplicate task ids, dependencies on unknown tasks and dependency cycles, each at its place in the file. */
function graphIssues(raw: unknown): ContentIssue[] {
  const { tasks, ids } = validTasks(raw);
  const issues: ContentIssue[] = [];
  for (const [id, indices] of ids) {
    for (const index of indices.slice(1)) issues.push({ path: ['tasks', index, 'taskId'], message: `duplicate task id '${id}' (also tasks[${indices[0]}])` });
  }
  const known = [...ids.keys()];
  for (const [index, task] of tasks) {
    task.dependencies.forEach((dependency, d) => {
      if (ids.has(dependency)) return;
      // A guess at a short id (`t9` for `t0`) is noise: only the same id in another case, or a typo of a longer one.
      const guess = suggestKey(dependency, known);
      const suggestion = guess !== undefined && (dependency.length >= 4 || guess.toLowerCase() === dependency.toLowerCase()) ? guess : undefined;
      issues.push({
        path: ['tasks', index, 'dependencies', d],
        message: `unknown task '${dependency}'${suggestion !== undefined ? `; did you mean '${suggestion}'?` : ''}`,
      });
    });
  }
  const indexOf = new Map([...tasks].map(([index, task]) => [task.taskId, index]));
  const checked = [...tasks.values()].filter((task) => (ids.get(task.taskId)?.length ?? 1) === 1);
  const cycles = findWorkflowProblems(checked, { isKnownTask: (id) => ids.has(id), canServe: () => true }, false).filter((p) => p.kind === 'cycle');
  for (const cycle of cycles) {
    // Told from the task the file lists first, each followed by the one it waits for.
    const members = new Set(cycle.taskIds);
    const first = [...members].sort((a, b) => (indexOf.get(a) ?? 0) - (indexOf.get(b) ?? 0))[0] as string;
    const order = [first];
    for (let at = first; order.length <= members.size;) {
      const next = tasks.get(indexOf.get(at) as number)?.dependencies.find((d) => members.has(d));
      if (next === undefined) break;
      order.push(next);
      if (next === first) break;
      at = next;
    }
    issues.push({
      path: ['tasks', indexOf.get(first) as number, 'dependencies'],
      message: `dependency cycle: ${order.join(' → ')} (each waits for the next)`,
    });
  }
  return issues;
}

function agentIdIssues(raw: unknown): ContentIssue[] {
  const list = raw !== null && typeof raw === 'object' && Object.hasOwn(raw, 'agents') ? (raw as { agents: unknown }).agents : undefined;
  if (!Array.isArray(list)) return [];
  const first = new Map<string, number>();
  const issues: ContentIssue[] = [];
  list.forEach((item: unknown, index) => {
    const id = item !== null && typeof item === 'object' && Object.hasOwn(item, 'agentId') ? (item as { agentId: unknown }).agentId : undefined;
    if (typeof id !== 'string') return;
    const earlier = first.get(id);
    if (earlier !== undefined) issues.push({ path: ['agents', index, 'agentId'], message: `duplicate agent id '${id}' (also agents[${earlier}])` });
    else first.set(id, index);
  });
  return issues;
}

/** A number in [0, 1) fixed by the seed and the key (so simulated runs are reproducible). */
function seededUnit(seed: number, key: string): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d) >>> 0;
  h ^= h >>> 12;
  return (h >>> 0) / 4294967296;
}

/**
 * The executor of each agent of a workflow file: a module export (resolved relative to
 * the file) or a simulated executor that succeeds with its success rate after about its
 * duration on the runtime clock. Agents without executor are left out (declared only).
 *
 * A workflow file with module executors is code: loading it runs those modules. So a
 * module must lie inside the workflow file's folder (symlinks resolved) or one of
 * `trustedDirs` (real paths, see `trustedExecutorDirs`); otherwise
 * `ExecutorNotAllowedError` is thrown before any module is loaded.
 */
export function resolveWorkflowExecutors(
  workflow: WorkflowFile,
  filePath: string,
  options: { clock: NeuroFluxClock; seed: number; trustedDirs?: readonly string[] },
): Map<string, TaskExecutor> {
  // Every module is checked before the first is loaded: a refused file runs nothing.
  const locate = locators.get(workflow);
  const issueAt = (index: number, message: string): WorkflowFileIssue => {
    const position = locate?.(['agents', index, 'executor']);
    return { file: filePath, ...(position && { position }), path: `agents[${index}].executor`, message };
  };
  const modules = new Map<number, string>();
  const problems: WorkflowFileIssue[] = [];
  const refused: ExecutorNotAllowedError[] = [];
  workflow.agents.forEach((agent, index) => {
    if (typeof agent.executor !== 'string') return;
    const modulePath = agent.executor.split('#')[0] as string;
    const position = locate?.(['agents', index, 'executor']);
    const site = { file: filePath, agentId: agent.agentId, field: `agents[${index}].executor`, ...(position && { position }) };
    try {
      modules.set(index, resolveExecutorModule(modulePath, site, options.trustedDirs ?? []));
    } catch (error) {
      if (error instanceof ExecutorNotAllowedError) {
        refused.push(error);
        problems.push(
          issueAt(
            index,
            `module '${error.modulePath}' of agent '${error.agentId}' (${error.resolvedPath}) is outside ${error.allowedDirs.join(', ')}${tasksOf(workflow, agent.capabilities)}; a workflow file runs the code it names: trust that folder with --allow-executors-outside <dir>`,
          ),
        );
        return;
      }
      if (!(error instanceof ValidationError)) throw error;
      problems.push(issueAt(index, `${error.issues[0]?.message ?? error.message}${tasksOf(workflow, agent.capabilities)}`));
    }
  });
  // A refused module: nothing of the file is loaded. Alone, it is its own typed error.
  if (refused.length === 1 && problems.length === 1) throw refused[0] as ExecutorNotAllowedError;
  if (refused.length > 0) throw new WorkflowFileError(filePath, problems);
  const executors = new Map<string, TaskExecutor>();
  workflow.agents.forEach((agent, index) => {
    const spec = agent.executor;
    if (spec === undefined) return;
    if (typeof spec === 'string') {
      const [modulePath, exportName] = spec.split('#') as [string, string];
      // Not found: said above, with the other modules' problems (loaded below: their failures are said too).
      if (!modules.has(index)) return;
      let loaded: Record<string, unknown>;
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's executor module, by the path its workflow file names, loaded at run time
        loaded = require(modules.get(index) as string) as Record<string, unknown>;
      } catch (error) {
        // One line: Node's require stack says nothing the workflow's author can act on.
        problems.push(issueAt(index, `cannot load module '${modulePath}' of agent '${agent.agentId}': ${firstLine(describeError(error))}${tasksOf(workflow, agent.capabilities)}`));
        return;
      }
      // Own exports only: `#toString` must not find Object.prototype.toString.
      const fn = Object.hasOwn(loaded, exportName) ? loaded[exportName] : undefined;
      if (typeof fn !== 'function') {
        problems.push(issueAt(index, `module '${modulePath}' of agent '${agent.agentId}' has no function export '${exportName}'${tasksOf(workflow, agent.capabilities)}`));
        return;
      }
      executors.set(agent.agentId, fn as TaskExecutor);
      return;
    }
    const { successRate, durationMs } = spec.simulated;
    executors.set(agent.agentId, (task, { attempt, signal }) => {
      const key = `${agent.agentId}:${task.taskId}:${attempt}`;
      const duration = Math.max(0, durationMs.mean + (seededUnit(options.seed, `d:${key}`) * 2 - 1) * durationMs.jitter);
      const succeeds = seededUnit(options.seed, `s:${key}`) < successRate;
      return new Promise((resolveTask, reject) => {
        const finish = () => (succeeds ? resolveTask({ simulated: true, durationMs: Math.round(duration) }) : reject(new Error('simulated failure')));
        if (duration === 0) return finish();
        const timer = options.clock.setTimeout(finish, duration);
        signal.addEventListener('abort', () => options.clock.clearTimeout(timer), { once: true });
      });
    });
  });
  if (problems.length > 0) throw new WorkflowFileError(filePath, problems);
  return executors;
}

/** `; it would run tasks a, b, c and 4 more`: the tasks of the file an agent can take ('' for none). */
function tasksOf(workflow: WorkflowFile, capabilities: readonly string[]): string {
  const ids = workflow.tasks.flatMap((task, index) =>
    task.requiredCapabilities.every((c) => capabilities.includes(c)) ? [task.taskId === undefined ? `tasks[${index}]` : `'${task.taskId}'`] : [],
  );
  if (ids.length === 0) return '';
  const shown = ids.slice(0, 3).join(', ');
  return `; it would run task${ids.length === 1 ? '' : 's'} ${shown}${ids.length > 3 ? ` and ${ids.length - 3} more` : ''}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/**
 * A {@link WorkflowFileError} for problems a caller finds in a loaded workflow by rules of
 * its own (`run --state-dir` needs every task id), positioned in the file like the loader's.
 * @internal
 */
export function workflowFileError(workflow: WorkflowFile, file: string, issues: readonly ContentIssue[]): WorkflowFileError {
  const locate = locators.get(workflow);
  return new WorkflowFileError(
    file,
    issues.map((issue) => {
      const position = locate?.(issue.path, issue.atKey);
      return { file, ...(position && { position }), path: formatIssuePath(issue.path), message: issue.message };
    }),
  );
}

/**
 * Throws a {@link WorkflowFileError} naming each task whose required capabilities no agent
 * of the file has all of (when the file's agents are the only ones that will run it).
 * @internal
 */
export function requireCapableAgents(workflow: WorkflowFile, file: string): void {
  const issues: ContentIssue[] = [];
  workflow.tasks.forEach((task, index) => {
    if (workflow.agents.some((agent) => task.requiredCapabilities.every((c) => agent.capabilities.includes(c)))) return;
    const offered = [...new Set(workflow.agents.flatMap((a) => a.capabilities))];
    issues.push({
      path: ['tasks', index, 'requiredCapabilities'],
      message:
        task.requiredCapabilities.length === 0
          ? 'the file has no agent to run it (a task without requiredCapabilities runs on any agent; agents of other processes need --nats and --remote-agents)'
          : `no agent of the file has all of [${task.requiredCapabilities.join(', ')}] (they offer ${offered.length > 0 ? `[${offered.join(', ')}]` : 'nothing: the file has no agents'}; agents of other processes need --nats and --remote-agents)`,
    });
  });
  if (issues.length > 0) throw workflowFileError(workflow, file, issues);
}
