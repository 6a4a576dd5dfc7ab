import { z } from 'zod';
import { TaskInputSchema } from './taskTypes';

/** A built-in executor that simulates work: succeeds with `successRate`, takes about `durationMs`. */
export const SimulatedExecutorSchema = z.object({
  simulated: z.object({
    successRate: z.number().min(0).max(1).default(1),
    durationMs: z
      .object({ mean: z.number().nonnegative().default(0), jitter: z.number().nonnegative().default(0) })
      .default({ mean: 0, jitter: 0 }),
  }),
});

/** An agent of a workflow file. */
export const WorkflowAgentSchema = z.object({
  agentId: z.string().min(1),
  capabilities: z.array(z.string().min(1)).min(1),
  maxConcurrentTasks: z.number().int().positive().default(5),
  /**
   * `"./agents.js#analyse"`: the named export of a module (path relative to the workflow
   * file) is the executor; or `{ "simulated": { "successRate": 0.9, "durationMs": { "mean": 50, "jitter": 20 } } }`.
   * Without it the agent is declared only (for verification, or served from another process).
   * The module must lie in the workflow file's folder (symlinks resolved) unless its folder
   * is trusted (`--allow-executors-outside <dir>`): a workflow file with executors is code.
   */
  executor: z.union([z.string().regex(/^[^#]+#[A-Za-z_$][\w$]*$/, 'expected "<module path>#<export name>"'), SimulatedExecutorSchema]).optional(),
});

/**
 * A workflow file (`neuroflux run|verify workflow.json|yaml`): agents with their
 * capabilities and executors, and tasks with dependencies, priorities, retry and timeout
 * policies. `neuroflux schema` prints the JSON Schema generated from this zod schema.
 */
export const WorkflowFileSchema = z.object({
  $schema: z.string().optional(),
  name: z.string().optional(),
  /** The orchestrator's balancer (`default`, `weighted`, `least_loaded`, `round_robin`, `swarm`). */
  balancer: z.enum(['default', 'weighted', 'least_loaded', 'round_robin', 'swarm']).optional(),
  agents: z.array(WorkflowAgentSchema).default([]),
  tasks: z.array(TaskInputSchema).min(1),
});
export type WorkflowFile = z.output<typeof WorkflowFileSchema>;
export type WorkflowFileInput = z.input<typeof WorkflowFileSchema>;

/**
 * The JSON Schema of workflow files, for editors (generated from {@link WorkflowFileSchema}).
 *
 * @example
 * ```ts
 * writeFileSync('workflow.schema.json', JSON.stringify(workflowJsonSchema(), null, 2));
 * ```
 */
export function workflowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(WorkflowFileSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
