import { z } from 'zod';
import { ValidationError } from '../errors';
import type { TaskOrchestrator } from '../orchestration/taskOrchestrator';
import type { TaskExecutor } from '../orchestration/taskExecutor';
import type { HostLauncher, LaunchedHost } from './hostLauncher';

/** How a {@link MemoryHostLauncher} host runs the agent of a capability. */
export interface MemoryHostAgent {
  /** Tasks the agent runs at once. Default 1. */
  maxConcurrentTasks?: number;
  execute: TaskExecutor;
}

/** Options of a {@link MemoryHostLauncher}. */
export interface MemoryHostLauncherOptions {
  orchestrator: Pick<TaskOrchestrator, 'registerAgent' | 'unregisterAgent'>;
  /** The agent a host of each capability runs. */
  agents: Readonly<Record<string, MemoryHostAgent>>;
  /** Host ids are `<prefix>-<n>`. Default `memory-host`. */
  hostIdPrefix?: string;
}

const AgentSchema = z.object({
  maxConcurrentTasks: z.number().int().positive().default(1),
  execute: z.custom<TaskExecutor>((v) => typeof v === 'function', 'must be a function'),
});

/**
 * The in-process {@link HostLauncher}: a "host" is one agent registered on the orchestrator
 * with an executor, for tests, examples and single-process deployments. `stop` unregisters
 * the agent at once: a task it still held goes back to the queue for another agent (the
 * `ScalingManager` stops only hosts that run no task).
 *
 * @example
 * ```ts
 * const launcher = new MemoryHostLauncher({ orchestrator: nf.orchestrator, agents: { compute: { maxConcurrentTasks: 2, execute: compute } } });
 * ```
 */
export class MemoryHostLauncher implements HostLauncher {
  private readonly orchestrator: MemoryHostLauncherOptions['orchestrator'];
  private readonly agents = new Map<string, z.output<typeof AgentSchema>>();
  private readonly prefix: string;
  private readonly running = new Map<string, LaunchedHost>();
  private seq = 0;

  constructor(options: MemoryHostLauncherOptions) {
    if (typeof options?.orchestrator?.registerAgent !== 'function') {
      throw new ValidationError('memory host launcher options', [{ path: 'orchestrator', message: 'must be an orchestrator' }]);
    }
    for (const [capability, agent] of Object.entries(options.agents ?? {})) {
      const parsed = AgentSchema.safeParse(agent);
      if (!parsed.success) throw ValidationError.fromZod(`memory host agent '${capability}'`, parsed.error);
      this.agents.set(capability, parsed.data);
    }
    this.orchestrator = options.orchestrator;
    this.prefix = options.hostIdPrefix ?? 'memory-host';
  }

  async start(capability: string): Promise<LaunchedHost> {
    const agent = this.agents.get(capability);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- a JavaScript caller may pass a symbol, which a template literal throws on
    if (!agent) throw new ValidationError('capability', [{ path: 'capability', message: `no agent configured for '${String(capability)}'` }]);
    const hostId = `${this.prefix}-${++this.seq}`;
    const agentId = `${hostId}-${capability}`;
    this.orchestrator.registerAgent(agentId, { capabilities: [capability], maxConcurrentTasks: agent.maxConcurrentTasks, execute: agent.execute });
    const host: LaunchedHost = { hostId, capability, agentIds: [agentId], state: 'running' };
    this.running.set(hostId, host);
    return host;
  }

  async stop(hostId: string): Promise<void> {
    const host = this.running.get(hostId);
    if (!host) return;
    this.running.delete(hostId);
    for (const agentId of host.agentIds) this.orchestrator.unregisterAgent(agentId);
  }

  hosts(): readonly LaunchedHost[] {
    return [...this.running.values()];
  }

  async close(): Promise<void> {
    for (const hostId of [...this.running.keys()]) await this.stop(hostId);
  }
}
