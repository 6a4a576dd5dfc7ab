import type { AnyActorRef } from 'xstate';
import { hostLivenessMachine, type HostLivenessInput } from '../../machines/hostLiveness.machine';
import type { Message } from '../bus/message';
import { messageOrigin } from '../bus/messageOrigin';
import { timerDelay, type NeuroFluxClock } from '../kernel/clock';
import type { NeuroFluxLogger } from '../kernel/logger';
import { runtimeLinkOf, type RuntimeLink } from '../kernel/runtimeLink';
import { DEFAULT_SHARD_SIZE, ShardedSupervisor } from '../kernel/shardedSupervisor';
import { HostPresencePayloadSchema } from './taskProtocol';
import { compositeKey } from '../compositeKey';

/** What an agent host announces of one of its agents. @internal */
export interface AnnouncedAgent {
  readonly capabilities: string[];
  readonly maxConcurrentTasks: number;
  readonly specializations: Record<string, number>;
}

/**
 * The orchestrator's agent table as the host registry sees it: hosts' agents are registered
 * and unregistered through it, like agents registered by hand.
 * @internal
 */
export interface HostedAgentTable {
  /** Whether an agent of that id is registered (by hand, or by a host). */
  has(agentId: string): boolean;
  /** Registers an announced agent; throws when the orchestrator cannot take it. */
  register(agentId: string, agent: AnnouncedAgent): void;
  /** Unregisters an agent whose host dropped it or was lost (its tasks go back to the queue). */
  unregister(agentId: string): void;
  /** Tasks the agent holds now (logged when its host is lost). */
  activeTasks(agentId: string): number;
  /** The current attempt of a task assigned to `agentId`, if it is active. */
  currentAttempt(taskId: string, agentId: string): number | undefined;
}

interface HostEntry {
  readonly agents: Set<string>;
  /** The incarnation it announced last (a new one is a restarted process). */
  incarnation: string | undefined;
  /** The NATS identity it was first heard under, if any: it speaks under that one only. */
  readonly identity: string | undefined;
}

/** What the registry counted, for `getStats().hosts`. @internal */
export interface HostRegistryStats {
  readonly alive: number;
  readonly lost: number;
  readonly left: number;
  readonly invalidAnnouncements: number;
  readonly refusedAnnouncements: number;
}

/**
 * The agent hosts an orchestrator heard of by presence (`agent_presence`): the agents each
 * announced, one liveness actor per host (`machines/hostLiveness.machine.ts`, whose timeout
 * ends the host and moves its tasks), and the results a leaving host still has in flight.
 * Presence is validated here; the agents it announces reach the orchestrator's agent table.
 *
 * While the runtime's own transport link is down (`runtimeLinkOf`: its `status$` reads
 * `reconnecting`, or ended) the liveness actors are told `LINK_LOST` and no host can be
 * presumed dead for heartbeats this orchestrator could not hear; back `ready`, each host
 * gets a full `missedHeartbeats × interval` from then (`LINK_RESTORED`).
 * @internal
 */
export class HostRegistry {
  private readonly hosts = new Map<string, HostEntry>();
  private readonly liveness: ShardedSupervisor<typeof hostLivenessMachine>;
  /**
   * Leaving hosts whose last results are still on their way (`agentId\u0000taskId` each):
   * the host's tasks move once these arrived, or when its heartbeats are missed.
   */
  private readonly resultsAwaited = new Map<string, Set<string>>();
  /** Hosts that said goodbye: their end is logged as a departure, not as a loss. */
  private readonly leavingHosts = new Set<string>();
  /** The runtime's transport link, when it has a transport that reports its status. */
  private readonly link: RuntimeLink | undefined;
  private lost = 0;
  private left = 0;
  private invalidAnnouncements = 0;
  private refusedAnnouncements = 0;

  constructor(
    parent: AnyActorRef,
    kind: string,
    private readonly clock: NeuroFluxClock,
    private readonly logger: NeuroFluxLogger,
    /** A host is presumed dead after this many of its heartbeat intervals without one. */
    private readonly missedHeartbeats: number,
    private readonly agents: HostedAgentTable,
  ) {
    const logic = hostLivenessMachine.provide({
      actions: { reportHostLost: (_, params) => this.onHostLost(params.hostId) },
      delays: { hostTimeout: ({ context }) => timerDelay(context.expiresAt - clock.now()) },
    });
    this.liveness = new ShardedSupervisor(parent, kind, logic, DEFAULT_SHARD_SIZE, (hostId) => this.onHostLost(hostId));
    // The orchestrator's actor lives under the runtime's root, where the transport's link state is.
    this.link = runtimeLinkOf(parent);
    this.link?.onChange((down) => this.linkChanged(down));
  }

  /** The orchestrator's own link changed: every host's deadline is suspended, or restarted in full. */
  private linkChanged(down: boolean): void {
    const at = this.clock.now();
    for (const hostId of this.hosts.keys()) {
      const actor = this.liveness.get(hostId);
      if (actor?.getSnapshot().status !== 'active') continue;
      actor.send(down ? { type: 'LINK_LOST' } : { type: 'LINK_RESTORED', at });
    }
  }

  /** Hosts alive now. */
  get size(): number {
    return this.hosts.size;
  }

  stats(): HostRegistryStats {
    return {
      alive: this.hosts.size,
      lost: this.lost,
      left: this.left,
      invalidAnnouncements: this.invalidAnnouncements,
      refusedAnnouncements: this.refusedAnnouncements,
    };
  }

  /** The host of each hosted agent. */
  hostOfAgents(): Map<string, string> {
    const hostOf = new Map<string, string>();
    for (const [hostId, host] of this.hosts) for (const agentId of host.agents) hostOf.set(agentId, hostId);
    return hostOf;
  }

  /** The NATS identity of the host that announced `agentId`, if it announced it under one. */
  identityOf(agentId: string): string | undefined {
    for (const host of this.hosts.values()) if (host.agents.has(agentId)) return host.identity;
    return undefined;
  }

  /**
   * A host's heartbeat: keeps its liveness actor alive, and keeps the orchestrator's agents
   * in step with what it announces (new ones registered, dropped ones unregistered).
   */
  onPresence(message: Message): void {
    const parsed = HostPresencePayloadSchema.safeParse(message.payload);
    if (!parsed.success) {
      this.invalidAnnouncements++;
      return;
    }
    const { hostId, status, heartbeatIntervalMs, agents, incarnation } = parsed.data;
    const origin = messageOrigin(message);
    const identity = origin.kind === 'remote' ? origin.identity : undefined;
    let host = this.hosts.get(hostId);
    // A host speaks for itself only: a presence published under another identity than the
    // host id it names, or for a host first heard under an identity by an unidentified
    // process, is forged.
    if ((identity !== undefined && identity !== hostId) || (host?.identity !== undefined && host.identity !== identity)) {
      this.refusedAnnouncements++;
      return;
    }
    if (host?.incarnation !== undefined && incarnation !== undefined && incarnation !== host.incarnation) {
      // The host restarted faster than its heartbeats could go missing: the work given to the
      // old process died with it.
      this.liveness.get(hostId)?.send({ type: 'HOST_LEFT' });
      host = this.hosts.get(hostId);
    }
    if (status === 'leaving') {
      if (!host) return;
      this.leavingHosts.add(hostId);
      // Results the host sent just before may still be on their way (JetStream is slower than
      // this plain message): moving those tasks now would run them twice.
      const awaited = new Set<string>();
      for (const sent of parsed.data.resultsSent ?? []) {
        if (host.agents.has(sent.agentId) && this.agents.currentAttempt(sent.taskId, sent.agentId) === sent.attempt) awaited.add(compositeKey([sent.agentId, sent.taskId]));
      }
      if (awaited.size > 0) this.resultsAwaited.set(hostId, awaited);
      else this.liveness.get(hostId)?.send({ type: 'HOST_LEFT' });
      return;
    }
    const at = this.clock.now();
    const timeoutMs = heartbeatIntervalMs * this.missedHeartbeats;
    if (host) {
      if (incarnation !== undefined) host.incarnation = incarnation;
      this.liveness.get(hostId)?.send({ type: 'HEARTBEAT_RECEIVED', at, timeoutMs });
    } else {
      host = { agents: new Set(), incarnation, identity };
      this.hosts.set(hostId, host);
      this.logger.info({ hostId, agents: agents.map((a) => a.agentId) }, 'agent host joined');
      // A host back from the dead before its old liveness actor was forgotten.
      if (this.liveness.get(hostId)) this.liveness.release([hostId]);
      this.liveness.spawn(hostId, { hostId, at, timeoutMs } satisfies HostLivenessInput);
      // Heard in the very turn the link went down: its deadline waits for the link like the others'.
      if (this.link?.down) this.liveness.get(hostId)?.send({ type: 'LINK_LOST' });
    }
    const hosted = host.agents;
    const announced = new Set<string>();
    for (const agent of agents) {
      announced.add(agent.agentId);
      if (hosted.has(agent.agentId)) continue;
      // An id registered by hand, or announced by another host, stays with its owner.
      if (this.agents.has(agent.agentId)) continue;
      try {
        this.agents.register(agent.agentId, {
          capabilities: agent.capabilities,
          maxConcurrentTasks: agent.maxConcurrentTasks,
          specializations: agent.specializations,
        });
      } catch {
        // Validated above; what is left (the orchestrator stopping meanwhile) must not fail the bus delivery.
        this.invalidAnnouncements++;
        continue;
      }
      hosted.add(agent.agentId);
    }
    for (const agentId of hosted) {
      if (announced.has(agentId)) continue;
      hosted.delete(agentId);
      this.agents.unregister(agentId);
    }
  }

  /**
   * A result from `agentId` arrived: if a leaving host announced it, and it was the last one,
   * the host's other tasks move. Nothing to do (one size check) while no host is leaving.
   */
  resultArrived(agentId: string, taskId: string): void {
    if (this.resultsAwaited.size === 0) return;
    for (const [hostId, awaited] of this.resultsAwaited) {
      if (!awaited.delete(compositeKey([agentId, taskId])) || awaited.size > 0) continue;
      this.resultsAwaited.delete(hostId);
      this.liveness.get(hostId)?.send({ type: 'HOST_LEFT' });
      return;
    }
  }

  /** The host's heartbeats stopped (or it left): its tasks go back to the queue for other agents. */
  private onHostLost(hostId: string): void {
    const host = this.hosts.get(hostId);
    if (!host) return;
    this.hosts.delete(hostId);
    this.lost++;
    this.resultsAwaited.delete(hostId);
    const left = this.leavingHosts.delete(hostId);
    if (left) this.left++;
    const moved = [...host.agents].reduce((n, agentId) => n + this.agents.activeTasks(agentId), 0);
    if (left) this.logger.info({ hostId, agents: [...host.agents], tasksRequeued: moved }, 'agent host left');
    else this.logger.warn({ hostId, agents: [...host.agents], tasksRequeued: moved }, 'agent host lost (heartbeats stopped)');
    for (const agentId of host.agents) this.agents.unregister(agentId);
    // Not from inside the liveness actor's own step: its shard forgets it afterwards.
    queueMicrotask(() => {
      if (this.liveness.get(hostId)?.getSnapshot().status === 'done') this.liveness.release([hostId]);
    });
  }
}
