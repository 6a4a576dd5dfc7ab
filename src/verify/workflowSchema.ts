import { z } from 'zod';
import { ValidationError, WorkflowValidationError } from '../errors';
import type { ParsedTask, TaskInput } from '../orchestration/taskTypes';
import { WorkflowTaskSchema } from '../orchestration/workflowFile';
import { findWorkflowProblems } from '../orchestration/workflowGraph';

/** An agent a workflow declares it will run on (what `registerAgent` will be given). */
export const AgentDeclarationSchema = z
  .object({
    agentId: z.string().min(1),
    capabilities: z.array(z.string().min(1)),
    /** Tasks the agent runs at once. Default 5, as in `registerAgent`. */
    maxConcurrentTasks: z.number().int().positive().default(5),
  })
  .strict();
/** A list of {@link AgentDeclarationSchema} (built once: a schema built at each call costs ~6 µs). */
const AgentDeclarationsSchema = z.array(AgentDeclarationSchema);
export type AgentDeclaration = z.input<typeof AgentDeclarationSchema>;

/**
 * A workflow to verify: the tasks (as `submitWorkflow` takes them) and, optionally, the
 * agents that will run them. Strict like workflow files: an unknown key (`dependson`) is
 * an error, not a task without dependencies that verifies.
 */
export const WorkflowSchema = z
  .object({
    tasks: z.array(WorkflowTaskSchema).min(1, 'a workflow needs at least one task'),
    agents: z.array(AgentDeclarationSchema).optional(),
  })
  .strict();

/** A workflow as users write it (every task field but the ids has a default). */
export interface Workflow {
  readonly tasks: readonly TaskInput[];
  readonly agents?: readonly AgentDeclaration[];
}

/** @internal A workflow after validation: ids filled in, defaults applied. */
export interface ParsedWorkflow {
  readonly tasks: readonly ParsedTask[];
  /** `undefined` when the workflow declares no agents (capacity and coverage are then unknown). */
  readonly agents: readonly z.output<typeof AgentDeclarationSchema>[] | undefined;
}

/**
 * Validates a workflow once, at the boundary: field errors as a `ValidationError` whose
 * issues name the path (`tasks.2.retryPolicy.maxRetries`), graph errors (unknown
 * dependency, cycle, duplicate id) as a `WorkflowValidationError` naming the tasks.
 * Capabilities are not checked here: coverage is a property the verifier reports.
 *
 * @example
 * ```ts
 * const workflow = parseWorkflow({ tasks: [{ taskId: 'a' }, { taskId: 'b', dependencies: ['a'] }] });
 * ```
 * @internal
 */
export function parseWorkflow(input: unknown, what = 'workflow'): ParsedWorkflow {
  const result = WorkflowSchema.safeParse(input);
  if (!result.success) throw ValidationError.fromZod(what, result.error);
  let generated = 0;
  const tasks: ParsedTask[] = result.data.tasks.map((task) => {
    // Ids are generated the way a fresh orchestrator would, so traces name the same tasks.
    const taskId = task.taskId ?? `task-${++generated}`;
    return { ...task, taskId, name: task.name ?? taskId };
  });
  const problems = findWorkflowProblems(tasks, { isKnownTask: () => false, canServe: () => true }, false);
  if (problems.length > 0) throw new WorkflowValidationError(problems);
  const agents = result.data.agents;
  if (agents) checkAgentIds(agents, what, 'agents');
  return { tasks, agents };
}

/**
 * Validates a list of agent declarations (e.g. the agents you will register).
 * @internal
 */
export function parseAgents(input: unknown, what: string, path: string): z.output<typeof AgentDeclarationSchema>[] {
  const result = AgentDeclarationsSchema.safeParse(input);
  if (!result.success) {
    throw new ValidationError(
      what,
      result.error.issues.map((i) => ({ path: [path, ...i.path.map(String)].join('.'), message: i.message })),
    );
  }
  checkAgentIds(result.data, what, path);
  return result.data;
}

function checkAgentIds(agents: readonly { agentId: string }[], what: string, path: string): void {
  const ids = new Set<string>();
  agents.forEach((agent, index) => {
    if (ids.has(agent.agentId)) {
      throw new ValidationError(what, [{ path: `${path}.${index}.agentId`, message: `duplicate agent id '${agent.agentId}'` }]);
    }
    ids.add(agent.agentId);
  });
}
