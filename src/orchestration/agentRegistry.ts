import { Subject } from 'rxjs';
import type { CommunicationBus } from '../bus/communicationBus';
import type { Message } from '../bus/message';
import { DuplicateAgentError, UnknownAgentError, ValidationError } from '../errors';
import { AgentActorLink } from './agentActorLink';
import { AgentOptionsSchema, type OrchestratorAgentOptions } from './orchestratorOptions';
import { OrchestratorAgent, type TaskHistoryEntry } from './orchestratorAgent';
import type { CapabilityFigures, OrchestratorStats } from './orchestratorStats';
import { loadAfterRelease } from './planning/slotAccounting';
import type { TaskEntry } from './taskEntry';
import type { TaskScheduler } from './taskScheduler';
import { NonEmptyIdSchema } from '../nonEmptyIdSchema';

/** What the registry tells the orchestrator's chart. @internal */
export type AgentRegistryEvent = { type: 'AGENT_REGISTERED'; agentId: string } | { type: 'AGENT_UNREGISTERED'; agentId: string } | { type: 'SCHEDULING_REQUESTED' };

/**
 * What the agent registry is given by the orchestrator: the bus, the task table (to tell a
 * lost agent's tasks), and the calls that reach the scheduler, the dispatcher, the chart and
 * the `waitForAgents` callers. None is on the per-task path: they run per registration,
 * unregistration, pause or online change.
 * @internal
 */
export interface AgentRegistryHost {
  readonly bus: CommunicationBus;
  readonly tasks: ReadonlyMap<string, TaskEntry>;
  readonly historyWindowMs: number;
  /** The scheduler; made after the registry (it reads the registry's `agents` map). */
  scheduler(): TaskScheduler;
  /** A bus message for an agent with an executor that the registry registered on the bus. */
  onLocalAgentMessage(agent: OrchestratorAgent, message: Message): Promise<void> | undefined;
  tell(event: AgentRegistryEvent): void;
  /** The registered agents changed: `waitForAgents` callers look again. */
  agentsChanged(): void;
}

/**
 * The orchestrator's agents: registration (validated), unregistration (their tasks go back
 * to the queue), pauses that outlive an unregistration, the bus agents registered for
 * in-process executors, and the link to each agent's actor on the local bus (told of tasks
 * and pauses; tells when the agent goes offline).
 * @internal
 */
export class AgentRegistry {
  /** Registered agents by id: the same map the scheduler and dispatcher read. */
  readonly agents = new Map<string, OrchestratorAgent>();
  /** Ids of agents as they are unregistered. */
  readonly unregistered$: Subject<string> = new Subject<string>();
  /** Paused agent ids: a pause outlives the agent's unregistration (a host's lapse or restart re-registers it). */
  private readonly pausedAgentIds = new Set<string>();
  private readonly busAgentsWeRegistered = new Set<string>();
  private registrationCount = 0;
  /** Stops linking bus agents registered again to our records (on stop); set by `startRelinking`. */
  private stopRelinking: (() => void) | undefined;
  private released = false;

  constructor(private readonly host: AgentRegistryHost) {}

  /**
   * From now on a bus agent registered (again) under the id of one of ours has its new actor
   * linked. Called by the orchestrator once its constructor can no longer throw: a listener
   * added earlier outlived every failed construction (1 000 of them left 1 000 listeners,
   * ~31 KB each). Not after `release`.
   */
  startRelinking(): void {
    if (this.stopRelinking || this.released) return;
    this.stopRelinking = this.host.bus.onAgentRegistered((handle) => {
      const agent = this.agents.get(handle.agentId);
      if (agent) this.linkLocalActor(agent);
    });
  }

  /** Registers an agent (see `TaskOrchestrator.registerAgent`). */
  register(agentId: string, options: OrchestratorAgentOptions): void {
    const idCheck = NonEmptyIdSchema.safeParse(agentId);
    if (!idCheck.success) throw ValidationError.fromZod('agentId', idCheck.error);
    const parsed = AgentOptionsSchema.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod('agent options', parsed.error);
    if (this.agents.has(agentId)) throw new DuplicateAgentError(agentId);
    const o = parsed.data;
    const agent = new OrchestratorAgent(agentId, new Set(o.capabilities), o.maxConcurrentTasks, this.registrationCount++, new Map(Object.entries(o.specializations)), o.execute);
    agent.paused = this.pausedAgentIds.has(agentId);
    const bus = this.host.bus;
    // An agent without executor and not on the local bus lives in another process when a
    // transport is attached; otherwise it reads its assignments from a local mailbox.
    if (!bus.getAgent(agentId) && (o.execute || !bus.hasTransport)) {
      bus.registerAgent(agentId, {
        concurrency: o.maxConcurrentTasks,
        ...(o.execute && { handler: (message: Message) => this.host.onLocalAgentMessage(agent, message) }),
      });
      this.busAgentsWeRegistered.add(agentId);
    }
    this.linkLocalActor(agent);
    this.agents.set(agentId, agent);
    const scheduler = this.host.scheduler();
    scheduler.agentAdded(agent);
    this.host.tell({ type: 'AGENT_REGISTERED', agentId });
    scheduler.requestRound();
    this.host.agentsChanged();
  }

  /** Removes an agent: its assigned and running tasks are told it is lost (they go back to the queue). False when unknown. */
  unregister(agentId: string): boolean {
    const agent = this.agents.get(agentId);
    if (!agent) return false;
    this.agents.delete(agentId);
    for (const pool of [...agent.pools]) pool.remove(agent);
    for (const taskId of [...agent.activeTasks]) this.host.tasks.get(taskId)?.actor?.send({ type: 'AGENT_LOST', agentId });
    agent.linkActor(undefined);
    if (this.busAgentsWeRegistered.delete(agentId)) this.host.bus.unregisterAgent(agentId);
    this.host.tell({ type: 'AGENT_UNREGISTERED', agentId });
    this.unregistered$.next(agentId);
    return true;
  }

  /** Pauses an agent (see `TaskOrchestrator.pauseAgent`). False when it was already paused. */
  pause(agentId: string): boolean {
    const agent = this.agents.get(agentId);
    if (!agent) throw new UnknownAgentError(agentId);
    if (agent.paused) return false;
    agent.paused = true;
    this.pausedAgentIds.add(agentId);
    for (const pool of agent.pools) pool.update(agent);
    return true;
  }

  /** Resumes an agent (see `TaskOrchestrator.resumeAgent`). False when it was not paused. */
  resume(agentId: string): boolean {
    const agent = this.agents.get(agentId);
    const wasPaused = this.pausedAgentIds.delete(agentId);
    if (!agent) {
      if (wasPaused) return true;
      throw new UnknownAgentError(agentId);
    }
    if (!agent.paused) return false;
    agent.paused = false;
    this.host.scheduler().markAgentPools(agent, false);
    this.host.tell({ type: 'SCHEDULING_REQUESTED' });
    return true;
  }

  /** The agent's finished attempts in the last `hours` (default: the history window), oldest first. */
  history(agentId: string, now: number, hours: number | undefined): TaskHistoryEntry[] {
    const agent = this.agents.get(agentId);
    if (!agent) return [];
    const windowMs = (hours ?? this.host.historyWindowMs / 3_600_000) * 3_600_000;
    return agent.historySince(now - windowMs);
  }

  /**
   * Frees the slot `taskId` holds (its task actor crashed or was stopped), and schedules the
   * agent's pools. `agentId` is where to look first; when it does not hold the task (a crash
   * in the assignment's own step, before the record named its agent) every agent is searched
   * (once per crash, not on the per-task path). Returns the agent that held it, else `agentId`.
   */
  freeSlot(agentId: string | null, taskId: string): string | null {
    let agent = agentId === null ? undefined : this.agents.get(agentId);
    if (!agent?.activeTasks.has(taskId)) {
      agent = undefined;
      for (const candidate of this.agents.values()) {
        if (candidate.activeTasks.has(taskId)) {
          agent = candidate;
          break;
        }
      }
    }
    if (!agent) return agentId;
    agent.activeTasks.delete(taskId);
    agent.load = loadAfterRelease(agent.load);
    this.host.scheduler().markAgentPools(agent, true);
    return agent.agentId;
  }

  /** The agent figures of `getStats()`: how many, overall utilization, and each agent's load. */
  figures(): Pick<OrchestratorStats, 'registeredAgents' | 'utilization' | 'agents'> {
    let load = 0;
    let capacity = 0;
    // Entries, then fromEntries: an agent `__proto__` is an own key, where assignment would replace the prototype.
    const agents: [string, { load: number; maxConcurrentTasks: number; utilization: number; performance: number }][] = [];
    for (const agent of this.agents.values()) {
      load += agent.load;
      capacity += agent.maxConcurrentTasks;
      agents.push([
        agent.agentId,
        { load: agent.load, maxConcurrentTasks: agent.maxConcurrentTasks, utilization: agent.load / agent.maxConcurrentTasks, performance: agent.performance },
      ]);
    }
    return { registeredAgents: this.agents.size, utilization: capacity === 0 ? 0 : load / capacity, agents: Object.fromEntries(agents) };
  }

  /** The supply side of `capabilityFigures`: agents with the capability, their load and capacity (one pass over the agents). */
  supplyOf(capability: string): Pick<CapabilityFigures, 'agents' | 'usedSlots' | 'capacity'> {
    let agents = 0;
    let usedSlots = 0;
    let capacity = 0;
    for (const agent of this.agents.values()) {
      if (!agent.capabilities.has(capability)) continue;
      agents++;
      usedSlots += agent.load;
      capacity += agent.maxConcurrentTasks;
    }
    return { agents, usedSlots, capacity };
  }

  /** Whether some agent has every capability in `required`. */
  canServe(required: readonly string[]): boolean {
    for (const agent of this.agents.values()) if (required.every((c) => agent.capabilities.has(c))) return true;
    return false;
  }

  /** Stops relinking and, while the bus runs, unregisters the bus agents registered for executors. Safe to repeat. */
  release(): void {
    this.released = true;
    this.stopRelinking?.();
    if (!this.host.bus.running) return;
    for (const agentId of this.busAgentsWeRegistered) this.host.bus.unregisterAgent(agentId);
    this.busAgentsWeRegistered.clear();
  }

  /** Links the agent's actor on the local bus, if it has one: told of tasks and pauses, it tells when it goes offline. */
  private linkLocalActor(agent: OrchestratorAgent): void {
    const bus = this.host.bus;
    const actor = bus.getAgent(agent.agentId)?.actor;
    if (!actor) return;
    // A handler on the bus counts each assignment as a message in flight; an executor or a pull mailbox does not.
    const reportsTasks = agent.execute !== undefined || !bus.agentPushes(agent.agentId);
    agent.linkActor(new AgentActorLink(actor, agent.maxConcurrentTasks, reportsTasks, (online) => this.agentOnlineChanged(agent, online)));
  }

  /** An offline agent is not available (no new task); back online, its pools are scheduled. */
  private agentOnlineChanged(agent: OrchestratorAgent, online: boolean): void {
    if (agent.online === online) return;
    agent.online = online;
    if (online) this.host.scheduler().markAgentPools(agent, false);
    else for (const pool of agent.pools) pool.update(agent);
    if (online && agent.pools.size > 0) this.host.tell({ type: 'SCHEDULING_REQUESTED' });
  }
}
