import type { Subscription } from 'rxjs';
import { z } from 'zod';
import type { AnyDeadLetter } from '../../bus/deadLetter';
import type { Message } from '../../bus/message';
import type { ConflictEvent } from '../../conflict/conflictEvents';
import type { ConflictRecord } from '../../conflict/conflictRecord';
import type { Conflict, Decision, Vote } from '../../conflict/model/conflictTypes';
import { decisionKey } from '../../conflict/model/decisionKey';
import type { TaskRecord } from '../../orchestration/taskTypes';
import { listConnections, listNeurons } from '../../swarm/model/swarmState';
import type { SwarmSnapshot } from '../../swarm/model/swarmTypes';
import { ValidationError } from '../../errors';
import type { ObservedRuntime } from '../observedRuntime';
import type { ActorView, ConflictView, DeadLetterView, MessageView, StatsView, SwarmView, TaskView, VoteView, WorkflowView } from './inspectorProtocol';
import { RingBuffer } from './ringBuffer';
import { INSPECTION_TOPIC_PREFIX } from './inspectionWire';

const FeedOptionsSchema = z.object({
  /** Bus messages kept per drain (the newest). */
  messagesPerDrain: z.number().int().positive().default(300),
  /** Recent messages kept for a page that connects. */
  messageBuffer: z.number().int().nonnegative().default(1000),
  deadLetterBuffer: z.number().int().nonnegative().default(200),
  /** Tasks kept; the oldest finished workflows go first. */
  maxTasks: z.number().int().positive().default(2000),
  /** Finished conflicts kept besides the open ones. */
  finishedConflicts: z.number().int().nonnegative().default(50),
  swarmIntervalMs: z.number().nonnegative().default(1000),
  statsIntervalMs: z.number().nonnegative().default(1000),
  /** Swarm connections sent at most (the strongest). */
  maxConnections: z.number().int().positive().default(1000),
  maxNeurons: z.number().int().positive().default(500),
});

/** Limits and beats of the domain feed. */
export type DomainFeedOptions = z.input<typeof FeedOptionsSchema>;

/** What changed in the runtime's own terms since the last drain. */
export interface DomainDelta {
  readonly messages: MessageView[];
  readonly deadLetters: DeadLetterView[];
  readonly tasks: TaskView[];
  readonly removedTasks: string[];
  readonly workflows: WorkflowView[];
  readonly removedWorkflows: string[];
  readonly conflicts: ConflictView[];
  readonly removedConflicts: string[];
  readonly swarm?: SwarmView;
  readonly stats?: StatsView;
}

interface WorkflowEntry {
  readonly workflowId: string;
  readonly seq: number;
  readonly taskIds: Set<string>;
}

const FINAL_TASK_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'timeout']);
const FINISHED_CONFLICT: ReadonlySet<string> = new Set(['resolved', 'escalated']);
/** System ids of task actors are `task:<taskId>` (see the orchestrator's supervisor shards). */
const TASK_SYSTEM_ID = 'task:';

function decisionText(decision: Decision | null): string | null {
  if (decision === null) return null;
  return typeof decision === 'string' ? decision : decisionKey(decision);
}

function voteView(vote: Vote): VoteView {
  return {
    agentId: vote.agentId,
    decision: decisionText(vote.decision),
    confidence: vote.confidence,
    stake: vote.stake,
    reasoning: vote.reasoning.slice(0, 200),
  };
}

function messageView(m: Message): MessageView {
  return {
    id: m.messageId,
    from: m.senderId,
    to: m.recipientId,
    messageType: m.messageType,
    topic: m.topic,
    priority: m.priority,
    correlationId: m.correlationId ?? null,
    at: m.timestamp,
  };
}

function deadLetterView(d: AnyDeadLetter): DeadLetterView {
  if (d.reason === 'invalid') return { reason: d.reason, messageId: null, topic: null, agentId: null, at: d.at };
  return { reason: d.reason, messageId: d.message.messageId, topic: d.message.topic, agentId: d.agentId ?? d.message.recipientId, at: d.at };
}

/** Paused agents listed in the page's stats at most (the page draws resume instead of pause for them). */
const PAUSED_AGENTS_SHOWN = 1000;

/**
 * Drops per-agent detail from the orchestrator's stats (with thousands of agents it dwarfs
 * the rest), except which agents are paused (`pausedAgents`, sorted, at most 1 000).
 */
function statsView(runtime: ObservedRuntime): StatsView {
  const { agents, ...orchestrator } = runtime.orchestrator.getStats();
  const pausedAgents = Object.keys(agents)
    .filter((agentId) => runtime.orchestrator.isAgentPaused(agentId))
    .sort()
    .slice(0, PAUSED_AGENTS_SHOWN);
  return { bus: { ...runtime.bus.getStats() }, orchestrator: { ...orchestrator, pausedAgents }, conflicts: { ...runtime.conflicts.getStats() } };
}

/**
 * NeuroFlux's own events for the inspector page: bus messages and dead letters, tasks
 * grouped into workflows (tasks linked by dependencies), conflicts with their votes, the
 * swarm graph and the components' stats. Subscriptions only push references into
 * bounded buffers or mark ids as changed; records are read and serialized in `drain()`.
 * @internal
 */
export class DomainFeed {
  private readonly options: z.output<typeof FeedOptionsSchema>;
  private subscriptions: Subscription[] = [];
  private readonly pendingMessages: RingBuffer<Message>;
  private readonly recentMessages: RingBuffer<MessageView>;
  private readonly deadLetters: RingBuffer<DeadLetterView>;
  private pendingDeadLetters: DeadLetterView[] = [];
  private messagesSeen = 0;
  private messagesDropped = 0;

  private readonly tasks = new Map<string, TaskView>();
  private readonly changedTasks = new Set<string>();
  private readonly workflowOf = new Map<string, string>();
  private readonly workflows = new Map<string, WorkflowEntry>();
  private workflowSeq = 0;

  private readonly conflicts = new Map<string, ConflictView>();
  private readonly changedConflicts = new Set<string>();
  private readonly finishedConflicts: string[] = [];

  private lastSwarmState: SwarmSnapshot | undefined;
  private swarm: SwarmView | null = null;
  private lastSwarmAt = -Infinity;
  private stats: StatsView | null = null;
  private lastStatsAt = -Infinity;

  constructor(
    private readonly runtime: ObservedRuntime,
    options: DomainFeedOptions = {},
  ) {
    const parsed = FeedOptionsSchema.safeParse(options);
    if (!parsed.success) throw ValidationError.fromZod('inspector feed options', parsed.error);
    this.options = parsed.data;
    this.pendingMessages = new RingBuffer(this.options.messagesPerDrain);
    this.recentMessages = new RingBuffer(this.options.messageBuffer);
    this.deadLetters = new RingBuffer(this.options.deadLetterBuffer);
  }

  get limits(): Readonly<z.output<typeof FeedOptionsSchema>> {
    return this.options;
  }

  start(): void {
    if (this.subscriptions.length > 0) return;
    const { bus, orchestrator, conflicts } = this.runtime;
    this.subscriptions = [
      bus.messages$.subscribe((message) => {
        // The inspection traffic itself (interest and frames over NATS) is not the runtime's.
        if (message.topic.startsWith(INSPECTION_TOPIC_PREFIX)) return;
        this.messagesSeen++;
        this.pendingMessages.push(message);
      }),
      bus.deadLetters$.subscribe((letter) => {
        const view = deadLetterView(letter);
        this.pendingDeadLetters.push(view);
        if (this.pendingDeadLetters.length > this.options.deadLetterBuffer) this.pendingDeadLetters.shift();
      }),
      orchestrator.events$.subscribe((event) => {
        if (event.type !== 'store_problem') this.changedTasks.add(event.taskId);
      }),
      conflicts.events$.subscribe((event) => this.onConflictEvent(event)),
    ];
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
  }

  /** Task actors show a task before the orchestrator reports it (while it waits for dependencies). */
  noteActors(actors: readonly ActorView[]): void {
    for (const actor of actors) {
      if (actor.systemId?.startsWith(TASK_SYSTEM_ID)) this.changedTasks.add(actor.systemId.slice(TASK_SYSTEM_ID.length));
    }
  }

  counters(): { messagesSeen: number; messagesDropped: number } {
    return { messagesSeen: this.messagesSeen, messagesDropped: this.messagesDropped };
  }

  // ------------------------------------------------------------------ tasks

  private taskView(record: TaskRecord, workflowId: string): TaskView {
    return {
      taskId: record.taskId,
      name: record.name,
      taskType: record.taskType,
      dependencies: [...record.dependencies],
      workflowId,
      status: record.status,
      state: record.state,
      agentId: record.assignedAgent,
      retryCount: record.retryCount,
      progress: record.progress,
      error: record.error,
    };
  }

  /** Adds a task (and, first, the dependencies it has that are not known yet) to its workflow. */
  private addTask(record: TaskRecord, emitted: Set<string>, touched: Set<string>, depth = 0): void {
    const dependencyWorkflows = new Set<string>();
    for (const dependencyId of record.dependencies) {
      if (!this.tasks.has(dependencyId) && depth < 64) {
        const dependency = this.runtime.orchestrator.getTask(dependencyId);
        if (dependency) this.addTask(dependency, emitted, touched, depth + 1);
      }
      const workflowId = this.workflowOf.get(dependencyId);
      if (workflowId !== undefined) dependencyWorkflows.add(workflowId);
    }
    // Tasks linked by dependencies are one workflow: the oldest workflow absorbs the others.
    const linked = [...dependencyWorkflows].map((id) => this.workflows.get(id) as WorkflowEntry).sort((a, b) => a.seq - b.seq);
    let workflow = linked[0];
    if (!workflow) {
      workflow = { workflowId: record.taskId, seq: this.workflowSeq++, taskIds: new Set() };
      this.workflows.set(workflow.workflowId, workflow);
    }
    for (const other of linked.slice(1)) {
      for (const taskId of other.taskIds) {
        workflow.taskIds.add(taskId);
        this.workflowOf.set(taskId, workflow.workflowId);
        const view = this.tasks.get(taskId);
        if (view) this.tasks.set(taskId, { ...view, workflowId: workflow.workflowId });
        emitted.add(taskId);
      }
      this.workflows.delete(other.workflowId);
      touched.add(other.workflowId);
    }
    workflow.taskIds.add(record.taskId);
    this.workflowOf.set(record.taskId, workflow.workflowId);
    this.tasks.set(record.taskId, this.taskView(record, workflow.workflowId));
    emitted.add(record.taskId);
    touched.add(workflow.workflowId);
  }

  private workflowView(entry: WorkflowEntry): WorkflowView {
    const taskIds = [...entry.taskIds];
    const finished = taskIds.every((id) => FINAL_TASK_STATUSES.has(this.tasks.get(id)?.status ?? ''));
    return { workflowId: entry.workflowId, taskIds, finished };
  }

  /** Oldest finished workflows go first; unfinished ones are never evicted. */
  private evictTasks(removedTasks: string[], removedWorkflows: string[]): void {
    if (this.tasks.size <= this.options.maxTasks) return;
    const bySeq = [...this.workflows.values()].sort((a, b) => a.seq - b.seq);
    for (const workflow of bySeq) {
      if (this.tasks.size <= this.options.maxTasks) break;
      if (!this.workflowView(workflow).finished) continue;
      for (const taskId of workflow.taskIds) {
        this.tasks.delete(taskId);
        this.workflowOf.delete(taskId);
        removedTasks.push(taskId);
      }
      this.workflows.delete(workflow.workflowId);
      removedWorkflows.push(workflow.workflowId);
    }
  }

  private drainTasks(): Pick<DomainDelta, 'tasks' | 'removedTasks' | 'workflows' | 'removedWorkflows'> {
    const emitted = new Set<string>();
    const touched = new Set<string>();
    for (const taskId of this.changedTasks) {
      const record = this.runtime.orchestrator.getTask(taskId);
      if (!record) continue;
      const workflowId = this.workflowOf.get(taskId);
      if (workflowId === undefined) this.addTask(record, emitted, touched);
      else {
        this.tasks.set(taskId, this.taskView(record, workflowId));
        emitted.add(taskId);
        touched.add(workflowId);
      }
    }
    this.changedTasks.clear();
    const removedTasks: string[] = [];
    const removedWorkflows: string[] = [];
    this.evictTasks(removedTasks, removedWorkflows);
    const tasks = [...emitted].flatMap((id) => {
      const view = this.tasks.get(id);
      return view ? [view] : [];
    });
    const workflows: WorkflowView[] = [];
    for (const id of touched) {
      const entry = this.workflows.get(id);
      if (entry) workflows.push(this.workflowView(entry));
      else if (!removedWorkflows.includes(id)) removedWorkflows.push(id);
    }
    return { tasks, removedTasks, workflows, removedWorkflows };
  }

  // ------------------------------------------------------------------ conflicts

  private conflictFromRecord(record: ConflictRecord): ConflictView {
    const resolution = record.resolution;
    return {
      ...this.openConflict(record.conflict),
      status: record.status,
      strategy: record.strategy,
      algorithm: record.algorithm,
      votes: record.votes.map(voteView),
      outcome: resolution ? { decision: decisionText(resolution.decision), confidence: resolution.confidence, action: resolution.action, reason: resolution.reason } : null,
    };
  }

  private openConflict(conflict: Conflict): ConflictView {
    return {
      conflictId: conflict.conflictId,
      conflictType: conflict.conflictType,
      description: conflict.description.slice(0, 300),
      involvedAgents: [...conflict.involvedAgents],
      severity: conflict.severity,
      status: 'detected',
      strategy: null,
      algorithm: null,
      votes: [],
      outcome: null,
      detectedAt: conflict.detectedAt,
    };
  }

  private onConflictEvent(event: ConflictEvent): void {
    if (event.type === 'STORE_PROBLEM') return;
    const id = event.conflictId;
    let view = this.conflicts.get(id);
    if (event.type === 'CONFLICT_DETECTED') view = this.openConflict(event.conflict);
    else if (!view) {
      // Detected before the feed started: take what the engine recorded so far.
      const record = this.runtime.conflicts.getConflict(id);
      if (!record) return;
      view = this.conflictFromRecord(record);
    } else {
      switch (event.type) {
        case 'RESOLUTION_STARTED':
          view = { ...view, status: 'resolving', strategy: event.strategy, algorithm: event.algorithm };
          break;
        case 'VOTE_RECEIVED':
          view = { ...view, votes: [...view.votes, voteView(event.vote)] };
          break;
        case 'HUMAN_DECISION_REQUESTED':
          view = { ...view, status: 'awaiting_human' };
          break;
        case 'CONFLICT_RESOLVED':
        case 'CONFLICT_ESCALATED': {
          const r = event.resolution;
          view = {
            ...view,
            status: r.status,
            strategy: r.strategy ?? view.strategy,
            outcome: { decision: decisionText(r.decision), confidence: r.confidence, action: r.action, reason: r.reason },
          };
          break;
        }
        default:
          return;
      }
    }
    const wasFinished = FINISHED_CONFLICT.has(this.conflicts.get(id)?.status ?? '');
    this.conflicts.set(id, view);
    this.changedConflicts.add(id);
    if (!wasFinished && FINISHED_CONFLICT.has(view.status)) this.finishedConflicts.push(id);
  }

  private drainConflicts(): Pick<DomainDelta, 'conflicts' | 'removedConflicts'> {
    const removedConflicts: string[] = [];
    while (this.finishedConflicts.length > this.options.finishedConflicts) {
      const id = this.finishedConflicts.shift() as string;
      this.conflicts.delete(id);
      this.changedConflicts.delete(id);
      removedConflicts.push(id);
    }
    const conflicts = [...this.changedConflicts].flatMap((id) => {
      const view = this.conflicts.get(id);
      return view ? [view] : [];
    });
    this.changedConflicts.clear();
    return { conflicts, removedConflicts };
  }

  // ------------------------------------------------------------------ swarm and stats

  private networkState(): SwarmSnapshot | undefined {
    try {
      return this.runtime.swarm.getNetworkState();
    } catch {
      return undefined;
    }
  }

  private swarmView(state: SwarmSnapshot): SwarmView {
    const { maxConnections, maxNeurons } = this.options;
    let connections = listConnections(state).map((c) => ({ id: c.connectionId, source: c.source, target: c.target, strength: c.strength }));
    const truncated = connections.length > maxConnections;
    if (truncated) connections = connections.sort((a, b) => b.strength - a.strength).slice(0, maxConnections);
    const all = listNeurons(state);
    const neurons = all.slice(0, maxNeurons).map((n) => ({ agentId: n.agentId, performance: n.performance, activation: n.activation, fireCount: n.fireCount }));
    const kept = new Set(neurons.map((n) => n.agentId));
    return {
      neurons,
      connections: connections.filter((c) => kept.has(c.source) && kept.has(c.target)),
      truncated: truncated || neurons.length < all.length,
    };
  }

  /** The swarm's view when it changed since the last read. */
  private readSwarm(): SwarmView | undefined {
    const state = this.networkState();
    // The swarm's state is immutable: the same object means nothing changed.
    if (state === undefined || state === this.lastSwarmState) return undefined;
    this.lastSwarmState = state;
    this.swarm = this.swarmView(state);
    return this.swarm;
  }

  /**
   * What changed since the last drain. `now` (wall ms) paces the swarm and stats reads.
   *
   * @example
   * ```ts
   * const delta = feed.drain();
   * ```
   */
  drain(now = Date.now()): DomainDelta {
    this.messagesDropped += this.pendingMessages.takeDropped();
    const messages = this.pendingMessages.drain().map(messageView);
    for (const m of messages) this.recentMessages.push(m);
    this.recentMessages.takeDropped();
    const deadLetters = this.pendingDeadLetters;
    this.pendingDeadLetters = [];
    for (const d of deadLetters) this.deadLetters.push(d);
    let swarm: SwarmView | undefined;
    if (now - this.lastSwarmAt >= this.options.swarmIntervalMs) {
      this.lastSwarmAt = now;
      swarm = this.readSwarm();
    }
    let stats: StatsView | undefined;
    if (now - this.lastStatsAt >= this.options.statsIntervalMs) {
      this.lastStatsAt = now;
      stats = this.stats = statsView(this.runtime);
    }
    return {
      messages,
      deadLetters,
      ...this.drainTasks(),
      ...this.drainConflicts(),
      ...(swarm && { swarm }),
      ...(stats && { stats }),
    };
  }

  private currentSwarm(): SwarmView | null {
    const state = this.networkState();
    if (state === undefined || state === this.lastSwarmState) return this.swarm;
    return this.swarmView(state);
  }

  /**
   * Everything known, for a page that connects (call after a `drain()` so that nothing
   * pending is missing).
   */
  snapshot(): Pick<DomainDelta, 'messages' | 'deadLetters' | 'tasks' | 'workflows' | 'conflicts'> & {
    swarm: SwarmView | null;
    stats: StatsView | null;
  } {
    return {
      messages: this.recentMessages.toArray(),
      deadLetters: this.deadLetters.toArray(),
      tasks: [...this.tasks.values()],
      workflows: [...this.workflows.values()].map((w) => this.workflowView(w)),
      conflicts: [...this.conflicts.values()],
      // Current even between the paced reads (the next delta still brings it to the others).
      swarm: this.currentSwarm(),
      stats: this.stats,
    };
  }
}
