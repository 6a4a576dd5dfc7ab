import { z } from 'zod';
import { AgentsUnavailableError, ValidationError } from '../errors';
import { timerDelay, type NeuroFluxClock } from '../kernel/clock';
import type { OrchestratorAgent } from './orchestratorAgent';

const WaitForAgentsSchema = z.object({
  capabilities: z.array(z.union([z.string().min(1), z.array(z.string().min(1)).min(1)])),
  timeoutMs: z.number().nonnegative().default(30_000),
});

/** A caller of `waitForAgents`: the capability sets still to be covered. */
interface AgentWaiter {
  readonly sets: readonly (readonly string[])[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  timer: unknown;
}

/**
 * The callers of `waitForAgents`, each waiting until the registered agents cover its
 * capability sets, or its timeout on the runtime's clock. Checked again when an agent
 * registers (`agentsChanged`), never per task.
 * @internal
 */
export class AgentWaiters {
  private readonly waiters = new Set<AgentWaiter>();

  constructor(
    private readonly clock: NeuroFluxClock,
    /** The agents registered now. */
    private readonly agents: () => Iterable<OrchestratorAgent>,
  ) {}

  /** Validates the arguments and resolves once the agents cover `capabilities` (see `TaskOrchestrator.waitForAgents`). */
  wait(capabilities: readonly (string | readonly string[])[], options: { timeoutMs?: number } | undefined, refusal: () => Error | undefined): Promise<void> {
    const parsed = WaitForAgentsSchema.safeParse({ capabilities, timeoutMs: options?.timeoutMs });
    if (!parsed.success) return Promise.reject(ValidationError.fromZod('waitForAgents arguments', parsed.error));
    const refused = refusal();
    if (refused) return Promise.reject(refused);
    const sets = parsed.data.capabilities.map((c) => (typeof c === 'string' ? [c] : [...new Set(c)]));
    if (this.uncovered(sets).length === 0) return Promise.resolve();
    const { timeoutMs } = parsed.data;
    return new Promise<void>((resolve, reject) => {
      const waiter: AgentWaiter = { sets, resolve, reject, timer: undefined };
      this.waiters.add(waiter);
      waiter.timer = this.clock.setTimeout(() => {
        waiter.timer = undefined;
        const unmet = this.uncovered(sets);
        const missing = [...new Set(unmet.flat())].filter((c) => ![...this.agents()].some((agent) => agent.capabilities.has(c)));
        this.settle(waiter, new AgentsUnavailableError(unmet, missing, timeoutMs));
      }, timerDelay(timeoutMs));
    });
  }

  /** An agent registered: resolve the callers it satisfies. */
  agentsChanged(): void {
    if (this.waiters.size === 0) return;
    for (const waiter of [...this.waiters]) if (this.uncovered(waiter.sets).length === 0) this.settle(waiter);
  }

  /** Rejects every caller (the orchestrator stops). */
  rejectAll(error: Error): void {
    for (const waiter of [...this.waiters]) this.settle(waiter, error);
  }

  /** The capability sets no single registered agent holds. */
  private uncovered(sets: readonly (readonly string[])[]): (readonly string[])[] {
    return sets.filter((set) => {
      for (const agent of this.agents()) if (agent.hasCapabilities(set)) return false;
      return true;
    });
  }

  private settle(waiter: AgentWaiter, error?: Error): void {
    if (!this.waiters.delete(waiter)) return;
    if (waiter.timer !== undefined) this.clock.clearTimeout(waiter.timer);
    if (error) waiter.reject(error);
    else waiter.resolve();
  }
}
