import { z } from 'zod';
import { RetryPolicySchema, TaskInputSchema } from './taskTypes';

// Every object of a workflow file is strict: a key the schema does not know is an error
// (`dependson: [t0]` once ran with no dependency and exit 0), and every field carries a
// description, which `neuroflux schema` hands to editors.

/** A built-in executor that simulates work: succeeds with `successRate`, takes about `durationMs`. */
export const SimulatedExecutorSchema = z
  .object({
    simulated: z
      .object({
        successRate: z.number().min(0).max(1).default(1).describe('Probability in [0, 1] that an attempt succeeds (default 1).'),
        durationMs: z
          .object({
            mean: z.number().nonnegative().default(0).describe('Mean duration of an attempt in milliseconds (default 0).'),
            jitter: z.number().nonnegative().default(0).describe('Largest deviation from the mean in milliseconds, uniformly drawn (default 0).'),
          })
          .strict()
          .default({ mean: 0, jitter: 0 })
          .describe('How long an attempt takes, on the runtime clock.'),
      })
      .strict()
      .describe('Simulated work, reproducible for a given --seed.'),
  })
  .strict()
  .describe('A built-in executor that simulates work.');

const ExecutorModuleSchema = z
  .string()
  .regex(/^[^#]+#[A-Za-z_$][\w$]*$/, 'expected "<module path>#<export name>"')
  .describe('"<module path>#<export name>": the named function export of a module beside the workflow file.');

/**
 * An id as a workflow file may spell it: no control characters. Ids are printed to the
 * terminal (progress, stall reports, the summary): `"a\e[2J"` would clear the screen, a
 * newline would forge a line of output.
 */
const WorkflowIdSchema = z
  .string()
  .min(1)
  .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'control characters are not allowed in an id');

/** An agent of a workflow file. */
export const WorkflowAgentSchema = z
  .object({
    agentId: WorkflowIdSchema.describe('Unique id of the agent.'),
    // No minimum: as registerAgent and verifyWorkflow's agents, an agent may offer none (it takes tasks that require none).
    capabilities: z
      .array(z.string().min(1))
      .describe('Capabilities the agent offers (may be empty: it then takes tasks that require none); a task goes to an agent that has all its requiredCapabilities.'),
    maxConcurrentTasks: z.number().int().positive().default(5).describe('Tasks the agent runs at once (default 5).'),
    /**
     * `"./agents.js#analyse"`: the named export of a module (path relative to the workflow
     * file) is the executor; or `{ "simulated": { "successRate": 0.9, "durationMs": { "mean": 50, "jitter": 20 } } }`.
     * Without it the agent is declared only (for verification, or served from another process).
     * The module must lie in the workflow file's folder (symlinks resolved) unless its folder
     * is trusted (`--allow-executors-outside <dir>`): a workflow file with executors is code.
     */
    executor: z
      .union([ExecutorModuleSchema, SimulatedExecutorSchema])
      .optional()
      .describe(
        'What runs the tasks: "./module.js#exportName" (inside the workflow file\'s folder unless trusted with --allow-executors-outside) or { simulated: ... }. Without it the agent is declared only.',
      ),
  })
  .strict()
  .describe('An agent: its capabilities and what runs its tasks.');

/** The retry policy of a task in a workflow file (strict: unknown keys are errors). */
export const WorkflowRetryPolicySchema = z
  .object({
    maxRetries: RetryPolicySchema.shape.maxRetries.describe('Retries after the first attempt (default 3).'),
    backoffFactor: RetryPolicySchema.shape.backoffFactor.describe('Each retry waits this many times longer than the one before (≥ 1, default 2).'),
    initialDelay: RetryPolicySchema.shape.initialDelay.describe('Seconds before the first retry (default 1).'),
    retryOnFailure: RetryPolicySchema.shape.retryOnFailure.describe('Retry an attempt that failed (default true).'),
  })
  .strict();

/** A task of a workflow file: `submitWorkflow`'s task input, strict, every field described. */
export const WorkflowTaskSchema = TaskInputSchema.extend({
  taskId: WorkflowIdSchema.optional().describe('Unique id of the task (generated when absent; required to depend on it).'),
  name: TaskInputSchema.shape.name.describe('Display name (default: the task id).'),
  description: TaskInputSchema.shape.description.describe('Free text (default empty).'),
  taskType: TaskInputSchema.shape.taskType.describe('Groups tasks for agent specialization and statistics (default "default").'),
  priority: TaskInputSchema.shape.priority.describe('low, medium (default), high or critical: critical tasks are assigned first.'),
  payload: TaskInputSchema.shape.payload.describe('Any JSON value handed to the executor (default {}).'),
  dependencies: z.array(WorkflowIdSchema).default([]).describe('Ids of tasks that must complete before this one starts.'),
  requiredCapabilities: TaskInputSchema.shape.requiredCapabilities.describe('Capabilities an agent needs, all of them, to take the task.'),
  estimatedDuration: TaskInputSchema.shape.estimatedDuration.describe('Seconds the task is expected to take (default 300).'),
  timeoutSeconds: TaskInputSchema.shape.timeoutSeconds.describe('Seconds an attempt may run before it is aborted (default 600).'),
  retryPolicy: WorkflowRetryPolicySchema.default(RetryPolicySchema.parse({})).describe('How failed attempts are retried.'),
  onDependencyFailure: TaskInputSchema.shape.onDependencyFailure.describe(
    'When a dependency fails or is cancelled: fail (default), ignore (run anyway) or skip (cancel this task).',
  ),
  balancer: TaskInputSchema.shape.balancer.describe("Name of the balancer for this task (default: the orchestrator's)."),
})
  .strict()
  .describe('A task: what it needs, what it depends on, how it is retried.');

/**
 * A workflow file (`neuroflux run|verify|host workflow.json|yaml`): agents with their
 * capabilities and executors, and tasks with dependencies, priorities, retry and timeout
 * policies. Every object is strict: an unknown key is an error. `neuroflux schema` prints
 * the JSON Schema generated from this zod schema.
 */
export const WorkflowFileSchema = z
  .object({
    $schema: z.string().optional().describe('URL or path of this JSON Schema (for editors; ignored by neuroflux).'),
    name: z.string().optional().describe('Name of the workflow (informative).'),
    /** The orchestrator's balancer (`default`, `weighted`, `least_loaded`, `round_robin`, `swarm`). */
    balancer: z
      .enum(['default', 'weighted', 'least_loaded', 'round_robin', 'swarm'])
      .optional()
      .describe("The orchestrator's balancer: default, weighted, least_loaded, round_robin or swarm."),
    agents: z.array(WorkflowAgentSchema).default([]).describe('The agents that run the tasks (none: declared elsewhere, e.g. by `neuroflux host`).'),
    tasks: z.array(WorkflowTaskSchema).min(1, 'a workflow needs at least one task').describe('The tasks, at least one.'),
  })
  .strict()
  .describe('A NeuroFlux workflow file: agents and tasks (neuroflux run, verify, host).');
export type WorkflowFile = z.output<typeof WorkflowFileSchema>;
export type WorkflowFileInput = z.input<typeof WorkflowFileSchema>;

/**
 * The JSON Schema of workflow files, for editors (generated from {@link WorkflowFileSchema}):
 * every object has `additionalProperties: false` (but a task's free-form `payload`) and
 * every field a description.
 *
 * @example
 * ```ts
 * writeFileSync('workflow.schema.json', JSON.stringify(workflowJsonSchema(), null, 2));
 * ```
 */
export function workflowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(WorkflowFileSchema, { io: 'input', unrepresentable: 'any' });
}
