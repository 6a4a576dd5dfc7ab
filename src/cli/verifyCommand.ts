import type { Command } from 'commander';
import { z } from 'zod';
import { ValidationError, WorkflowValidationError } from '../errors';
import { loadWorkflowFile } from '../orchestration/workflowFileLoader';
import { DEFAULT_MAX_STATES } from '../verify/stateSpace';
import { formatVerificationResult } from '../verify/verificationResult';
import { verifyWorkflow } from '../verify/verifyWorkflow';
import { parseCliOptions } from './cliOptions';
import { ExitCode } from './exitCodes';
import { WorkflowFileError } from '../orchestration/workflowFileError';

const VerifyOptionsSchema = z.object({
  maxStates: z.coerce.number().int().positive().default(DEFAULT_MAX_STATES),
  timeLimit: z.coerce.number().positive().optional(),
  reduction: z.boolean().default(true),
  cancellations: z.enum(['none', 'inFlight', 'anywhere']).default('inFlight'),
  agentLoss: z.boolean().default(true),
  json: z.boolean().optional(),
});

/** Exit codes of `neuroflux verify`: the CLI's table ({@link ExitCode}) as this command uses it. */
export const VerifyExitCode = {
  VERIFIED: ExitCode.SUCCESS,
  VIOLATED: ExitCode.FAILED,
  INVALID_FILE: ExitCode.INVALID_INPUT,
  /** The state bound stopped the search before a verdict: it could not be verified. */
  INCOMPLETE: ExitCode.CANNOT_RUN,
} as const;

/**
 * `neuroflux verify <file>`: reads a workflow file (JSON or YAML, the format of
 * `neuroflux run`), proves its properties (termination, deadlock freedom, dependency
 * order, bounded retries, capability coverage of the declared agents) and prints the
 * verdict with a counterexample trace per violation. Exit code 1 on a violation, 2 for an
 * invalid file, 3 when the state bound stopped the search.
 *
 * @example
 * ```ts
 * const program = new Command('neuroflux').exitOverride();
 * registerVerifyCommand(program, (text) => process.stdout.write(text));
 * await program.parseAsync(['node', 'neuroflux', 'verify', 'workflow.json']);
 * ```
 */
export function registerVerifyCommand(
  program: Command,
  write: (text: string) => void,
  /** Where an invalid file's problems go (stderr by default: stdout keeps the verdict). */
  writeError: (text: string) => void = (text) => process.stderr.write(text),
): void {
  program
    .command('verify')
    .description('prove properties of a workflow file before running it; prints a counterexample trace per violation')
    .argument('<file>', 'the workflow file (.json, .yaml or .yml): { tasks, agents? }')
    .option('--max-states <n>', 'stop with an "incomplete" verdict after this many units of work (states and scheduling choices)', String(DEFAULT_MAX_STATES))
    .option('--time-limit <seconds>', 'stop with an "incomplete" verdict after this many seconds')
    .option('--no-reduction', 'explore every interleaving (no partial-order, symmetry or finished-task reduction)')
    .option('--cancellations <scope>', 'cancellations to explore: none, inFlight or anywhere', 'inFlight')
    .option('--no-agent-loss', 'do not explore agents going away while running a task')
    .option('--json', 'print the result as JSON')
    .action((file: string, raw: Record<string, unknown>) => {
      const options = parseCliOptions(VerifyOptionsSchema, raw);
      let result: ReturnType<typeof verifyWorkflow>;
      try {
        const workflow = loadWorkflowFile(file);
        result = verifyWorkflow(
          // A file without agents declares none: coverage is then reported as not checked.
          {
            tasks: workflow.tasks,
            ...(workflow.agents.length > 0 && {
              agents: workflow.agents.map((a) => ({ agentId: a.agentId, capabilities: a.capabilities, maxConcurrentTasks: a.maxConcurrentTasks })),
            }),
          },
          {
            maxStates: options.maxStates,
            ...(options.timeLimit !== undefined && { timeLimitMs: options.timeLimit * 1000 }),
            // A search over a second says how far it got, on stderr so that --json stays clean.
            onProgress: (p) => process.stderr.write(`verifying ${file}: ${p.statesExplored} states, ${p.work} units of work, ${(p.elapsedMs / 1000).toFixed(1)} s\n`),
            reduction: options.reduction,
            environment: { cancellations: options.cancellations, agentLoss: options.agentLoss },
          },
        );
      } catch (error) {
        if (error instanceof WorkflowFileError) {
          for (const line of error.lines) writeError(`${line}\n`);
        } else if (error instanceof ValidationError) {
          for (const issue of error.issues) writeError(`${file}: ${issue.path || '(file)'}: ${issue.message}\n`);
        } else if (error instanceof WorkflowValidationError) {
          for (const problem of error.problems) writeError(`${file}: tasks: ${problem.message}\n`);
        } else throw error;
        process.exitCode = VerifyExitCode.INVALID_FILE;
        return;
      }
      write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${file}: ${formatVerificationResult(result)}\n`);
      process.exitCode = result.status === 'violated' ? VerifyExitCode.VIOLATED : result.status === 'incomplete' ? VerifyExitCode.INCOMPLETE : VerifyExitCode.VERIFIED;
    });
}
