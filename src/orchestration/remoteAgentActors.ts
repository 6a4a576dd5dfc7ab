import { FifoMap } from '../kernel/fifoMap';
import type { AnyActorRef } from 'xstate';
import { agentMachine } from '../../machines/agent.machine';
import { ShardedSupervisor } from '../kernel/shardedSupervisor';
import { AgentActorLink } from './agentActorLink';
import type { OrchestratorAgent } from './orchestratorAgent';

/** Stand-ins kept for agents whose host is gone; past this the oldest is forgotten. */
const MAX_OFFLINE_STAND_INS = 1024;

/**
 * Stand-in agent actors (machines/agent.machine.ts, system id `remoteAgent:<id>`) for the
 * agents that hosts elsewhere announced to this orchestrator: the inspector of the
 * orchestrator's process shows them. Each shows the tasks the orchestrator assigned to
 * the agent (busy/saturated against its `maxConcurrentTasks`, told through an
 * {@link AgentActorLink} as for a local agent) and reads `offline` once its host is lost,
 * left or stopped announcing it; a heartbeat announcing it again brings it back online.
 * The host's own process has the agent's real actor on its bus.
 * @internal
 */
export class RemoteAgentActors {
  private readonly actors: ShardedSupervisor<typeof agentMachine>;
  /** Agents whose host is gone, oldest first: their stand-ins read offline. */
  private readonly offline = new FifoMap<string, true>();

  constructor(parent: AnyActorRef, kind: string) {
    this.actors = new ShardedSupervisor(parent, kind, agentMachine);
  }

  /** A host announced the agent (first, or again): its stand-in is online and linked to the agent's record. */
  hosted(agent: OrchestratorAgent): void {
    let actor = this.actors.get(agent.agentId);
    if (!actor) actor = this.actors.spawn(agent.agentId, { agentId: agent.agentId, capacity: agent.maxConcurrentTasks });
    else if (this.offline.delete(agent.agentId)) actor.send({ type: 'CAME_ONLINE' });
    agent.linkActor(new AgentActorLink(actor, agent.maxConcurrentTasks, true));
  }

  /**
   * The agent's host is gone (or dropped it) and the orchestrator let go of the agent (its
   * link already told the stand-in its tasks went back to the queue): it reads offline.
   */
  gone(agentId: string): void {
    const actor = this.actors.get(agentId);
    if (!actor || this.offline.has(agentId)) return;
    actor.send({ type: 'WENT_OFFLINE' });
    this.offline.set(agentId, true);
    if (this.offline.size <= MAX_OFFLINE_STAND_INS) return;
    const oldest = this.offline.shift() as string;
    this.actors.release([oldest]);
  }

  /** The stand-in of an agent, if there is one (tests, diagnostics). */
  get(agentId: string): AnyActorRef | undefined {
    return this.actors.get(agentId);
  }

  stopAll(): void {
    this.actors.stopAll();
    this.offline.clear();
  }
}
