import { randomUUID } from 'node:crypto';
import { createActor, type Actor } from 'xstate';
import { z } from 'zod';
import { messageOrigin } from '../bus/messageOrigin';
import { shareJsonCopy } from '../jsonValue';
import { heartbeatMachine } from '../../machines/heartbeat.machine';
import type { AgentHandle } from '../bus/agentHandle';
import type { CommunicationBus } from '../bus/communicationBus';
import type { Message } from '../bus/message';
import { DuplicateAgentError, NotRunningError, ValidationError } from '../errors';
import { idRecordSchema } from '../idRecord';
import { frozenDependencyResults, runAttempt, type TaskExecutor } from './taskExecutor';
import { TaskAssignmentPayloadSchema, TaskCancelPayloadSchema, TaskTopic, type HostPresencePayload } from './taskProtocol';
import type { TaskSpec } from './taskTypes';
import { runtimeLogger } from '../kernel/runtimeLogger';
import type { NeuroFluxLogger } from '../kernel/logger';
import { NonEmptyIdSchema } from '../nonEmptyIdSchema';

const AgentHostOptionsSchema = z.object({
  /**
   * Names this host in presence announcements; unique among the hosts of a namespace. When
   * the transport has an `identity` it must be that identity: orchestrators refuse a presence
   * published under another one (docs/security.md).
   */
  hostId: z.string().min(1),
  /** How often the host announces itself, ms (default 1000). Orchestrators presume it dead after `missedHeartbeats` of these. */
  heartbeatIntervalMs: z.number().int().positive().default(1000),
});

/** Options of an {@link AgentHost}. */
export type AgentHostOptions = z.input<typeof AgentHostOptionsSchema> & {
  bus: CommunicationBus;
  /** Where the host logs each task it runs (info level). Default: the runtime's logger (`createNeuroFlux({ logger })`). */
  logger?: NeuroFluxLogger;
};

const HostedAgentOptionsSchema = z.object({
  capabilities: z.array(z.string().min(1)),
  maxConcurrentTasks: z.number().int().positive().default(5),
  // Keyed by task types: z.record would drop a type named `__proto__`.
  specializations: idRecordSchema(z.number().nonnegative()).default({}),
  execute: z.custom<TaskExecutor>((v) => typeof v === 'function', 'must be a function'),
});

/** How an agent runs on an {@link AgentHost}. */
export interface HostedAgentOptions {
  capabilities: string[];
  /** Tasks the agent runs at once. Default 5. */
  maxConcurrentTasks?: number;
  /** Per task type multiplier of the default score (default 1). */
  specializations?: Record<string, number>;
  /** Runs the task; resolve with the result, throw to fail the attempt. */
  execute: TaskExecutor;
}

/** What an {@link AgentHost} counted. */
export interface AgentHostStats {
  readonly agents: number;
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  /** Attempts aborted by a `task_cancel` (timeout or cancel on the orchestrator's side). */
  readonly aborted: number;
  /** Assignments whose payload did not validate (ignored). */
  readonly invalidAssignments: number;
  /** Assignments that arrived while draining (not run: the orchestrator gives them to another agent once this host leaves). */
  readonly declinedWhileDraining: number;
  readonly heartbeats: number;
  /** Announcements that could not be published (e.g. the connection was closing). */
  readonly announceErrors: number;
}

/** Results a `leaving` announcement lists at most (the schema's bound is 1000). */
const MAX_RESULTS_LISTED = 256;

type HostedAgent = z.output<typeof HostedAgentOptionsSchema> & { handle: AgentHandle };

/** One attempt an {@link AgentHost} runs: what a cancel is matched against. */
interface RunningAttempt {
  readonly agentId: string;
  readonly taskId: string;
  readonly attempt: number;
  /** The assignment's dispatch token (absent from an orchestrator that sends none). */
  readonly dispatch: string | undefined;
}

/**
 * Runs agents for orchestrators in other processes (or in this one): each agent is a bus
 * agent that executes `task_assignment` commands with a {@link TaskExecutor} and answers
 * with `task_started`, `task_progress` and `task_result` (echoing the assignment's dispatch
 * token), aborting on `task_cancel`. The host announces itself and its agents on the
 * `agent_presence` topic at start and every `heartbeatIntervalMs`: an orchestrator
 * registers the agents it hears of, and when the heartbeats stop (the process died) it
 * unregisters them, which sends their assigned and running tasks to other agents.
 *
 * A process that only hosts agents creates its runtime with `orchestrator: false`.
 *
 * @example
 * ```ts
 * const nf = createNeuroFlux({ transport: nats({ servers }), orchestrator: false });
 * const host = new AgentHost({ bus: nf.bus, hostId: 'host-1' });
 * host.addAgent('host-1-risk', { capabilities: ['risk_assessment'], execute: assessRisk });
 * await nf.start();
 * host.start();
 * ```
 */
export class AgentHost {
  readonly hostId: string;
  /** Tells orchestrators that a host with this id restarted (its old process's work is gone). */
  readonly incarnation = randomUUID();
  private readonly bus: CommunicationBus;
  private readonly logger: NeuroFluxLogger;
  private readonly heartbeatIntervalMs: number;
  private readonly agents = new Map<string, HostedAgent>();
  /**
   * The attempts running now, one entry per run (keyed by its own controller): two dispatches
   * of the same attempt (a task moved off this host while it was cut off, then given back to
   * it) are two runs, and a cancel names the one it means by its dispatch token.
   */
  private readonly controllers = new Map<AbortController, RunningAttempt>();
  private heartbeat: Actor<typeof heartbeatMachine> | undefined;
  private stopped = false;
  /** Draining: no new attempt starts; `drained` is called once none runs. */
  private draining = false;
  private drained: (() => void) | undefined;
  private declinedWhileDraining = 0;
  /**
   * The last results sent (bounded): the `leaving` announcement lists them, so that an
   * orchestrator waits for those still on their way before moving this host's tasks.
   */
  private readonly resultsSent: { agentId: string; taskId: string; attempt: number }[] = [];
  private completed = 0;
  private failed = 0;
  private aborted = 0;
  private invalidAssignments = 0;
  private heartbeats = 0;
  private announceErrors = 0;

  constructor(options: AgentHostOptions) {
    const { bus, logger, ...rest } = options;
    const parsed = AgentHostOptionsSchema.safeParse(rest);
    if (!parsed.success) throw ValidationError.fromZod('agent host options', parsed.error);
    this.bus = bus;
    this.hostId = parsed.data.hostId;
    this.logger = logger ? logger.child({ component: 'agentHost', hostId: this.hostId }) : runtimeLogger(bus.root, { component: 'agentHost', hostId: this.hostId });
    this.heartbeatIntervalMs = parsed.data.heartbeatIntervalMs;
  }

  /** Adds an agent (announced with the next heartbeat, at once when the host runs). */
  addAgent(agentId: string, options: HostedAgentOptions): void {
    if (this.stopped) throw new NotRunningError(`agent host '${this.hostId}'`);
    const idCheck = NonEmptyIdSchema.safeParse(agentId);
    if (!idCheck.success) throw ValidationError.fromZod('agentId', idCheck.error);
    const parsed = HostedAgentOptionsSchema.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod('hosted agent options', parsed.error);
    if (this.agents.has(agentId)) throw new DuplicateAgentError(agentId);
    const handle = this.bus.registerAgent(agentId, {
      concurrency: parsed.data.maxConcurrentTasks,
      handler: (message, agent) => this.onMessage(agentId, message, agent),
    });
    this.agents.set(agentId, { ...parsed.data, handle });
    if (this.heartbeat) this.announce('alive');
  }

  /** Removes an agent; work it is running is aborted. */
  removeAgent(agentId: string): boolean {
    if (!this.agents.delete(agentId)) return false;
    this.bus.unregisterAgent(agentId);
    this.abortWhere((run) => run.agentId === agentId);
    if (this.heartbeat) this.announce('alive');
    return true;
  }

  /** Starts the heartbeat (the bus must be started for announcements to leave the process). */
  start(): void {
    if (this.stopped) throw new NotRunningError(`agent host '${this.hostId}'`);
    if (this.heartbeat?.getSnapshot().status === 'active') return;
    const logic = heartbeatMachine.provide({
      actions: { announce: () => this.announce('alive') },
      delays: { heartbeatInterval: this.heartbeatIntervalMs },
    });
    // Under the runtime's root: its timer runs on the runtime's clock. It is not in the
    // root's children, so it is stopped with the runtime explicitly (else its timer would
    // keep the process alive).
    const heartbeat = createActor(logic, { parent: this.bus.root, id: `host:${this.hostId}` });
    this.heartbeat = heartbeat;
    const stopBeating = () => {
      if (heartbeat.getSnapshot().status === 'active') heartbeat.send({ type: 'HOST_STOPPED' });
    };
    this.bus.root.subscribe({ complete: stopBeating, error: stopBeating });
    heartbeat.start();
  }

  /**
   * A graceful stop: starts no new attempt (assignments that still arrive are left for the
   * orchestrator to give to another agent once this host has left), waits until the running
   * attempts have finished and reported, at most `timeoutMs` on the runtime's clock, then
   * {@link stop}s (what still runs then is aborted). Resolves with whether every attempt finished.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => void host.drain(30_000).then(() => nf.stop()));
   * ```
   */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    if (this.stopped) return this.controllers.size === 0;
    this.draining = true;
    let finished = this.controllers.size === 0;
    if (!finished) {
      const clock = this.bus.clock;
      let timer: unknown;
      finished = await new Promise<boolean>((resolve) => {
        this.drained = () => resolve(true);
        timer = clock.setTimeout(() => resolve(false), Math.max(0, timeoutMs));
      });
      clock.clearTimeout(timer);
      this.drained = undefined;
    }
    await this.stop();
    return finished;
  }

  /**
   * Says goodbye, aborts running work and removes the agents. Orchestrators move this
   * host's tasks at once, except those whose results it sent last: those they wait for
   * (until its heartbeats would be missed).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    if (this.heartbeat) this.announce('leaving');
    this.stopped = true;
    // Stopped already when the runtime stopped first.
    if (this.heartbeat?.getSnapshot().status === 'active') this.heartbeat.send({ type: 'HOST_STOPPED' });
    this.heartbeat = undefined;
    this.abortWhere(() => true);
    if (this.bus.running) for (const agentId of this.agents.keys()) this.bus.unregisterAgent(agentId);
    this.agents.clear();
  }

  getStats(): AgentHostStats {
    return {
      agents: this.agents.size,
      running: this.controllers.size,
      completed: this.completed,
      failed: this.failed,
      aborted: this.aborted,
      invalidAssignments: this.invalidAssignments,
      declinedWhileDraining: this.declinedWhileDraining,
      heartbeats: this.heartbeats,
      announceErrors: this.announceErrors,
    };
  }

  private announce(status: HostPresencePayload['status']): void {
    if (!this.bus.running) return;
    const payload: HostPresencePayload = {
      hostId: this.hostId,
      incarnation: this.incarnation,
      status,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      agents: [...this.agents].map(([agentId, a]) => ({
        agentId,
        capabilities: a.capabilities,
        maxConcurrentTasks: a.maxConcurrentTasks,
        specializations: a.specializations,
      })),
      ...(status === 'leaving' && this.resultsSent.length > 0 && { resultsSent: [...this.resultsSent] }),
    };
    try {
      this.bus.publishEvent({ senderId: this.hostId, topic: TaskTopic.PRESENCE, priority: 'high', payload });
      this.heartbeats++;
    } catch {
      // Thrown inside the heartbeat actor it would end the heartbeat for good, and every
      // orchestrator would then declare this live host dead.
      this.announceErrors++;
    }
  }

  private onMessage(agentId: string, message: Message, agent: AgentHandle): Promise<void> | undefined {
    if (message.topic === TaskTopic.CANCEL) {
      const cancel = TaskCancelPayloadSchema.safeParse(message.payload);
      if (cancel.success) {
        const { taskId, attempt, dispatch } = cancel.data;
        // With a token only that dispatch stops: the late cancel of a dispatch the orchestrator
        // gave up (host presumed lost) must not abort its new run of the same attempt here. A
        // cancel without one (an orchestrator from before tokens in cancels) stops every run
        // of the attempt, as it always did.
        this.abortWhere((run) => run.agentId === agentId && run.taskId === taskId && run.attempt === attempt && (dispatch === undefined || run.dispatch === dispatch));
      }
      return undefined;
    }
    if (message.topic !== TaskTopic.ASSIGNMENT) return undefined;
    const assignment = TaskAssignmentPayloadSchema.safeParse(message.payload);
    if (!assignment.success) {
      this.invalidAssignments++;
      return undefined;
    }
    if (this.draining) {
      this.declinedWhileDraining++;
      return undefined;
    }
    const hosted = this.agents.get(agentId);
    return hosted && this.run(hosted, message.senderId, assignment.data, agent, messageOrigin(message).kind !== 'local');
  }

  private async run(hosted: HostedAgent, orchestratorId: string, assignment: z.output<typeof TaskAssignmentPayloadSchema>, agent: AgentHandle, fromFrame: boolean): Promise<void> {
    const { task, attempt, dependencyResults, dispatch } = assignment;
    const taskId = task.taskId;
    const controller = new AbortController();
    this.controllers.set(controller, { agentId: agent.agentId, taskId, attempt, dispatch });
    const reply = (topic: string, payload: Record<string, unknown>) => {
      if (!this.bus.running) return;
      // The token goes back with every report: over the network reports without it are refused.
      agent.send({ recipientId: orchestratorId, messageType: 'notification', topic, payload: { taskId, attempt, ...payload, ...(dispatch !== undefined && { dispatch }) } });
    };
    reply(TaskTopic.STARTED, {});
    const startedAt = this.bus.clock.now();
    this.logger.debug({ taskId, agentId: agent.agentId, attempt }, 'task started');
    const outcome = await runAttempt(hosted.execute, task as unknown as TaskSpec, {
      signal: controller.signal,
      attempt,
      // Frozen as the orchestrator's own results are (parsed from a frame, or its frozen copies in this process).
      dependencyResults: frozenDependencyResults(dependencyResults, fromFrame),
      reportProgress: (progress) => reply(TaskTopic.PROGRESS, { progress }),
    });
    this.controllers.delete(controller);
    const status = controller.signal.aborted ? 'aborted' : outcome.status;
    this.logger.info(
      { taskId, agentId: agent.agentId, attempt, status, durationMs: this.bus.clock.now() - startedAt, ...(status === 'failed' && { error: outcome.error }) },
      `task ${status}`,
    );
    // An aborted attempt's result would be discarded as late: do not send it.
    if (!controller.signal.aborted) {
      if (outcome.status === 'completed') this.completed++;
      else this.failed++;
      // Made by runAttempt (a frozen JSON copy): an orchestrator in this process keeps it as it is.
      if (outcome.status === 'completed') shareJsonCopy(outcome.result);
      reply(TaskTopic.RESULT, { ...outcome });
      this.resultsSent.push({ agentId: agent.agentId, taskId, attempt });
      if (this.resultsSent.length > MAX_RESULTS_LISTED) this.resultsSent.shift();
    }
    if (this.controllers.size === 0) this.drained?.();
  }

  private abortWhere(matches: (run: RunningAttempt) => boolean): void {
    for (const [controller, run] of this.controllers) {
      if (!matches(run)) continue;
      this.controllers.delete(controller);
      this.aborted++;
      controller.abort(new Error('task attempt aborted (timeout, cancel or host stop)'));
    }
  }
}
