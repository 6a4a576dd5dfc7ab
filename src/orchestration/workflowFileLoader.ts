import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ValidationError } from '../errors';
import type { NeuroFluxClock } from '../kernel/clock';
import { describeError } from '../describeError';
import { resolveExecutorModule } from './executorModule';
import type { TaskExecutor } from './taskExecutor';
import { WorkflowFileSchema, type WorkflowFile } from './workflowFile';

/**
 * Reads and validates a workflow file (`.json`, `.yaml` or `.yml`). Every error names the
 * file, the path inside it and what was expected.
 *
 * @example
 * ```ts
 * const workflow = loadWorkflowFile('workflow.yaml');
 * ```
 */
export function loadWorkflowFile(path: string): WorkflowFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ValidationError(`workflow file ${path}`, [{ path: '', message: `cannot read it: ${describeError(error)}` }]);
  }
  let raw: unknown;
  try {
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`workflow file ${path}`, [{ path: '', message: `not valid ${extname(path).slice(1) || 'JSON'}: ${describeError(error)}` }]);
  }
  const parsed = WorkflowFileSchema.safeParse(raw);
  if (!parsed.success) throw ValidationError.fromZod(`workflow file ${path}`, parsed.error);
  return parsed.data;
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
  const modules = new Map<number, string>();
  workflow.agents.forEach((agent, index) => {
    if (typeof agent.executor !== 'string') return;
    const site = { file: filePath, agentId: agent.agentId, field: `agents.${index}.executor` };
    modules.set(index, resolveExecutorModule(agent.executor.split('#')[0] as string, site, options.trustedDirs ?? []));
  });
  const executors = new Map<string, TaskExecutor>();
  workflow.agents.forEach((agent, index) => {
    const spec = agent.executor;
    if (spec === undefined) return;
    if (typeof spec === 'string') {
      const [modulePath, exportName] = spec.split('#') as [string, string];
      const where = `workflow file ${filePath}`;
      let loaded: Record<string, unknown>;
      try {
        loaded = require(modules.get(index) as string) as Record<string, unknown>;
      } catch (error) {
        throw new ValidationError(where, [{ path: `agents.${index}.executor`, message: `cannot load ${modulePath}: ${describeError(error)}` }]);
      }
      // Own exports only: `#toString` must not find Object.prototype.toString.
      const fn = Object.hasOwn(loaded, exportName) ? loaded[exportName] : undefined;
      if (typeof fn !== 'function') {
        throw new ValidationError(where, [{ path: `agents.${index}.executor`, message: `${modulePath} has no function export '${exportName}'` }]);
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
  return executors;
}
