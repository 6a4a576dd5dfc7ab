import { performance } from 'node:perf_hooks';
import type { Attributes, Context, Span, TextMapPropagator, Tracer } from '@opentelemetry/api';
import type { Subscription } from 'rxjs';
import type { Message } from '../../bus/message';
import type { ConflictEvent } from '../../conflict/conflictEvents';
import { ConflictTopic, type Decision } from '../../conflict/model/conflictTypes';
import { decisionKey } from '../../conflict/model/decisionKey';
import type { TaskEvent } from '../../orchestration/taskOrchestrator';
import { TaskTopic } from '../../orchestration/taskProtocol';
import { attachBusHooks } from '../busHooks';
import type { ObservedRuntime } from '../observedRuntime';
import { defaultPropagator, headerGetter, headerSetter } from './traceContext';
import { otelApi } from './otelApi';
import { describeError } from '../../describeError';

/** Options of {@link instrumentTracing}. */
export interface TracingOptions {
  /** Default: `trace.getTracer('neuroflux')` from the globally registered provider. */
  readonly tracer?: Tracer;
  /**
   * How trace context goes into message headers. Default: the global propagator when the
   * application registered one, else W3C Trace Context (`traceparent`, `tracestate`).
   */
  readonly propagator?: TextMapPropagator;
  /** Spans for send → deliver → handle of every message. Default true. */
  readonly messages?: boolean;
  /** Spans for workflows, tasks, queueing, attempts and retry backoffs. Default true. */
  readonly tasks?: boolean;
  /** Spans for conflicts and their consensus rounds. Default true. */
  readonly conflicts?: boolean;
}

const FINAL_STATES = new Set(['completed', 'failed', 'timedOut', 'cancelled']);

interface Traced {
  readonly span: Span;
  readonly ctx: Context;
}

interface WorkflowTrace extends Traced {
  readonly taskIds: string[];
  open: number;
  failed: number;
}

interface AttemptTrace extends Traced {
  readonly number: number;
  readonly agentId: string | null;
}

interface TaskTrace extends Traced {
  readonly taskId: string;
  readonly workflow: WorkflowTrace;
  queued?: Span;
  backoff?: Span;
  attempt?: AttemptTrace;
}

interface ConflictTrace extends Traced {
  consensus?: Traced;
}

interface Delivery {
  readonly agentId: string;
  readonly deliver: Span;
  readonly handle: Span;
}

function errorMessage(error: unknown): string {
  return describeError(error);
}

function decisionText(decision: Decision | null): string {
  if (decision === null) return '(none)';
  return typeof decision === 'string' ? decision : decisionKey(decision);
}

function traced(span: Span, parent: Context): Traced {
  return { span, ctx: otelApi().trace.setSpan(parent, span) };
}

/**
 * The spans of one runtime. Bus hooks open `send` (at acceptance), `deliver` (acceptance
 * to the end of handling, per recipient) and `handle` (the behaviour's run); the
 * orchestrator's and conflict engine's event streams open workflow, task, attempt and
 * consensus spans. Messages the runtime sends for a task or a conflict
 * (`task_assignment`, `conflict_vote`...) are parented on that task's attempt or that
 * conflict's consensus round, so that one workflow is one trace.
 * @internal
 */
class RuntimeTracing {
  private readonly sendContexts = new WeakMap<Message, Context>();
  private readonly acceptedAt = new WeakMap<Message, number>();
  private readonly deliveries = new Map<Message, Delivery | Delivery[]>();
  /** Contexts of the deliveries running synchronously, for code that sends without a context manager. */
  private readonly deliveryStack: Context[] = [];
  private readonly tasks = new Map<string, TaskTrace>();
  /** Tasks of unfinished workflows (finished ones included), so that dependents join their workflow. */
  private readonly workflowOfTask = new Map<string, WorkflowTrace>();
  /** The workflow opened in the current synchronous burst (one `submitWorkflow` call). */
  private burstWorkflow: WorkflowTrace | undefined;
  private readonly conflicts = new Map<string, ConflictTrace>();
  /** Attempts running per agent: what an in-process executor sends belongs to its attempt. */
  private readonly attemptsByAgent = new Map<string, Set<AttemptTrace>>();
  private readonly subscriptions: Subscription[] = [];
  private detachHooks: (() => void) | undefined;

  constructor(
    private readonly runtime: ObservedRuntime,
    private readonly tracer: Tracer,
    private readonly propagator: TextMapPropagator,
    options: TracingOptions,
  ) {
    if (options.messages !== false) {
      this.detachHooks = attachBusHooks(runtime.bus, {
        onAccepted: (message) => this.onAccepted(message),
        aroundDelivery: (message, agentId, run) => this.aroundDelivery(message, agentId, run),
        onSettled: (message, agentId, _durationMs, error) => this.onSettled(message, agentId, error),
      });
    }
    if (options.tasks !== false) this.subscriptions.push(runtime.orchestrator.events$.subscribe((event) => this.onTaskEvent(event)));
    if (options.conflicts !== false) this.subscriptions.push(runtime.conflicts.events$.subscribe((event) => this.onConflictEvent(event)));
  }

  // ---------------------------------------------------------------- messages

  private currentContext(): Context {
    const active = otelApi().context.active();
    if (otelApi().trace.getSpan(active)) return active;
    return this.deliveryStack[this.deliveryStack.length - 1] ?? active;
  }

  /** The task attempt or consensus round a runtime message belongs to. */
  private domainParent(message: Message): Context | undefined {
    const payload = message.payload as { task?: { taskId?: unknown }; taskId?: unknown; attempt?: unknown; conflictId?: unknown } | null;
    if (typeof payload !== 'object' || payload === null) return undefined;
    if (message.topic === TaskTopic.ASSIGNMENT && typeof payload.task?.taskId === 'string') {
      const attempt = typeof payload.attempt === 'number' ? payload.attempt : 0;
      return this.ensureAttempt(payload.task.taskId, attempt, message.recipientId)?.ctx;
    }
    if (message.topic === TaskTopic.CANCEL && typeof payload.taskId === 'string') {
      const task = this.tasks.get(payload.taskId);
      return task?.attempt?.ctx ?? task?.ctx;
    }
    if (typeof payload.conflictId === 'string') {
      const conflict = this.conflicts.get(payload.conflictId);
      if (!conflict) return undefined;
      const isVote = message.topic === ConflictTopic.VOTE || message.topic === ConflictTopic.EXPERT_RESOLUTION;
      return (isVote ? conflict.consensus?.ctx : undefined) ?? conflict.ctx;
    }
    return undefined;
  }

  /**
   * Where a message's `send` span goes, most specific first: the trace its headers carry
   * (another process's), the task attempt or conflict round it is about, the delivery
   * whose handler is sending it, the one task attempt its sender is running (executors
   * run outside any delivery), then the active context.
   */
  private parentOf(message: Message): Context {
    if (message.headers?.['traceparent'] !== undefined) {
      const remote = this.propagator.extract(otelApi().ROOT_CONTEXT, message.headers, headerGetter);
      if (otelApi().trace.getSpanContext(remote)) return remote;
    }
    const domain = this.domainParent(message);
    if (domain) return domain;
    const delivery = this.deliveryStack[this.deliveryStack.length - 1];
    if (delivery) return delivery;
    const attempts = this.attemptsByAgent.get(message.senderId);
    if (attempts?.size === 1) return (attempts.values().next().value as AttemptTrace).ctx;
    return otelApi().context.active();
  }

  /** One object, no spreads: this runs for every recorded span of every message. */
  private messageAttributes(message: Message, operation: string, agentId?: string): Attributes {
    const attributes: Attributes = {
      'messaging.system': 'neuroflux',
      'messaging.operation.type': operation,
      'messaging.destination.name': message.topic,
      'messaging.message.id': message.messageId,
      'neuroflux.message.type': message.messageType,
      'neuroflux.message.priority': message.priority,
      'neuroflux.message.sender': message.senderId,
    };
    if (message.recipientId !== null) attributes['neuroflux.message.recipient'] = message.recipientId;
    if (message.correlationId !== undefined) attributes['messaging.message.conversation_id'] = message.correlationId;
    if (agentId !== undefined) {
      attributes['neuroflux.agent.id'] = agentId;
      attributes['neuroflux.message.retry_count'] = message.retryCount;
    }
    return attributes;
  }

  private onAccepted(message: Message): void {
    const parent = this.parentOf(message);
    const span = this.tracer.startSpan(`send ${message.topic}`, { kind: otelApi().SpanKind.PRODUCER }, parent);
    // No SDK and no remote parent: a no-op span with nothing to propagate. Stop here, so
    // that tracing without an SDK costs one no-op span per message.
    if (!otelApi().isSpanContextValid(span.spanContext())) return;
    // Attributes are built only for spans that record them (a sampler sees the name and kind).
    if (span.isRecording()) span.setAttributes(this.messageAttributes(message, 'send'));
    span.end();
    const ctx = otelApi().trace.setSpan(parent, span);
    this.sendContexts.set(message, ctx);
    this.acceptedAt.set(message, performance.now());
    // A copy: the caller's headers object may be shared by other messages.
    const headers: Record<string, string> = message.headers ? { ...message.headers } : {};
    this.propagator.inject(ctx, headers, headerSetter);
    message.headers = headers;
  }

  private aroundDelivery(message: Message, agentId: string, run: () => unknown): unknown {
    // Retried deliveries are copies of the message: their parent comes from the headers.
    let parent = this.sendContexts.get(message);
    if (parent === undefined && message.headers?.['traceparent'] !== undefined) {
      parent = this.propagator.extract(otelApi().ROOT_CONTEXT, message.headers, headerGetter);
    }
    if (parent === undefined || !otelApi().trace.getSpanContext(parent)) return run();
    const startTime = this.acceptedAt.get(message);
    const deliver = this.tracer.startSpan(`deliver ${message.topic}`, { kind: otelApi().SpanKind.CONSUMER, startTime }, parent);
    if (deliver.isRecording()) deliver.setAttributes(this.messageAttributes(message, 'receive', agentId));
    const deliverCtx = otelApi().trace.setSpan(parent, deliver);
    const handle = this.tracer.startSpan(`handle ${message.topic}`, { kind: otelApi().SpanKind.INTERNAL }, deliverCtx);
    if (handle.isRecording()) handle.setAttribute('neuroflux.agent.id', agentId);
    const handleCtx = otelApi().trace.setSpan(deliverCtx, handle);
    const delivery: Delivery = { agentId, deliver, handle };
    const known = this.deliveries.get(message);
    // Most messages have one recipient: an array only for fan-out.
    if (known === undefined) this.deliveries.set(message, delivery);
    else if (Array.isArray(known)) known.push(delivery);
    else this.deliveries.set(message, [known, delivery]);
    this.deliveryStack.push(handleCtx);
    try {
      return otelApi().context.with(handleCtx, run);
    } finally {
      this.deliveryStack.pop();
    }
  }

  private takeDelivery(message: Message, agentId: string): Delivery | undefined {
    const known = this.deliveries.get(message);
    if (known === undefined) return undefined;
    if (!Array.isArray(known)) {
      if (known.agentId !== agentId) return undefined;
      this.deliveries.delete(message);
      return known;
    }
    const index = known.findIndex((d) => d.agentId === agentId);
    if (index < 0) return undefined;
    const [delivery] = known.splice(index, 1) as [Delivery];
    if (known.length === 0) this.deliveries.delete(message);
    return delivery;
  }

  private onSettled(message: Message, agentId: string, error: unknown): void {
    const delivery = this.takeDelivery(message, agentId);
    if (!delivery) return;
    if (error !== undefined) {
      delivery.handle.recordException(error instanceof Error ? error : errorMessage(error));
      delivery.handle.setStatus({ code: otelApi().SpanStatusCode.ERROR, message: errorMessage(error) });
      delivery.deliver.setStatus({ code: otelApi().SpanStatusCode.ERROR, message: errorMessage(error) });
    }
    delivery.handle.end();
    // Its start was given as a performance timestamp: so must its end be.
    delivery.deliver.end(performance.now());
  }

  // ---------------------------------------------------------------- tasks

  private openWorkflow(): WorkflowTrace {
    if (this.burstWorkflow) return this.burstWorkflow;
    const parent = this.currentContext();
    const span = this.tracer.startSpan('workflow', { kind: otelApi().SpanKind.INTERNAL }, parent);
    const workflow: WorkflowTrace = { ...traced(span, parent), taskIds: [], open: 0, failed: 0 };
    this.burstWorkflow = workflow;
    // Tasks first seen in the same synchronous burst (one submission) share the workflow.
    queueMicrotask(() => {
      if (this.burstWorkflow === workflow) this.burstWorkflow = undefined;
    });
    return workflow;
  }

  private ensureTask(taskId: string): TaskTrace | undefined {
    const known = this.tasks.get(taskId);
    if (known) return known;
    const record = this.runtime.orchestrator.getTask(taskId);
    if (!record) return undefined;
    let workflow: WorkflowTrace | undefined;
    for (const dependencyId of record.dependencies) {
      workflow = this.workflowOfTask.get(dependencyId);
      if (workflow) break;
    }
    workflow ??= this.openWorkflow();
    const span = this.tracer.startSpan(
      `task ${record.taskType}`,
      {
        kind: otelApi().SpanKind.INTERNAL,
        attributes: {
          'neuroflux.task.id': taskId,
          'neuroflux.task.name': record.name,
          'neuroflux.task.type': record.taskType,
          'neuroflux.task.priority': record.priority,
          'neuroflux.task.dependencies': [...record.dependencies],
        },
      },
      workflow.ctx,
    );
    const task: TaskTrace = { ...traced(span, workflow.ctx), taskId, workflow };
    this.tasks.set(taskId, task);
    workflow.taskIds.push(taskId);
    workflow.open++;
    this.workflowOfTask.set(taskId, workflow);
    return task;
  }

  private ensureAttempt(taskId: string, number: number, agentId: string | null): Traced | undefined {
    const task = this.ensureTask(taskId);
    if (!task) return undefined;
    if (task.attempt?.number === number) return task.attempt;
    this.endAttempt(task, undefined);
    task.queued?.end();
    task.queued = undefined;
    task.backoff?.end();
    task.backoff = undefined;
    const span = this.tracer.startSpan(
      'task.attempt',
      { kind: otelApi().SpanKind.INTERNAL, attributes: { 'neuroflux.task.id': taskId, 'neuroflux.task.attempt': number, ...(agentId && { 'neuroflux.agent.id': agentId }) } },
      task.ctx,
    );
    const attempt: AttemptTrace = { ...traced(span, task.ctx), number, agentId };
    task.attempt = attempt;
    if (agentId !== null) {
      let running = this.attemptsByAgent.get(agentId);
      if (!running) this.attemptsByAgent.set(agentId, (running = new Set()));
      running.add(attempt);
    }
    return attempt;
  }

  private endAttempt(task: TaskTrace, error: string | null | undefined, outcome?: string): void {
    const attempt = task.attempt;
    if (!attempt) return;
    task.attempt = undefined;
    if (attempt.agentId !== null) {
      const running = this.attemptsByAgent.get(attempt.agentId);
      running?.delete(attempt);
      if (running?.size === 0) this.attemptsByAgent.delete(attempt.agentId);
    }
    if (outcome) attempt.span.setAttribute('neuroflux.task.attempt_outcome', outcome);
    if (error) attempt.span.setStatus({ code: otelApi().SpanStatusCode.ERROR, message: error });
    attempt.span.end();
  }

  private onTaskEvent(event: TaskEvent): void {
    if (event.type !== 'task_transition') return;
    const task = this.ensureTask(event.taskId);
    if (!task) return;
    switch (event.state) {
      case 'queued':
        task.backoff?.end();
        task.backoff = undefined;
        // Back to the queue without a failure: the agent went away.
        this.endAttempt(task, undefined, 'agent_lost');
        task.queued ??= this.tracer.startSpan('task.queued', { kind: otelApi().SpanKind.INTERNAL, attributes: { 'neuroflux.task.id': task.taskId } }, task.ctx);
        return;
      case 'assigned':
      case 'running':
        this.ensureAttempt(task.taskId, event.retryCount, event.agentId);
        if (event.state === 'running') task.attempt?.span.addEvent('started');
        return;
      case 'retrying': {
        const error = this.runtime.orchestrator.getTask(task.taskId)?.error ?? 'attempt failed';
        this.endAttempt(task, error, 'failed');
        task.span.addEvent('retry', { 'neuroflux.task.retry_count': event.retryCount, 'neuroflux.task.error': error });
        task.backoff = this.tracer.startSpan(
          'task.retry_backoff',
          { kind: otelApi().SpanKind.INTERNAL, attributes: { 'neuroflux.task.id': task.taskId, 'neuroflux.task.retry_count': event.retryCount } },
          task.ctx,
        );
        return;
      }
      default:
        if (FINAL_STATES.has(event.state)) this.finishTask(task, event);
    }
  }

  private finishTask(task: TaskTrace, event: Extract<TaskEvent, { type: 'task_transition' }>): void {
    const record = this.runtime.orchestrator.getTask(task.taskId);
    const failed = event.state === 'failed' || event.state === 'timedOut';
    const error = failed ? (record?.error ?? event.state) : undefined;
    this.endAttempt(task, error, event.state);
    task.queued?.end();
    task.backoff?.end();
    task.span.setAttributes({
      'neuroflux.task.status': event.status,
      'neuroflux.task.retry_count': event.retryCount,
      ...(record?.reason && { 'neuroflux.task.reason': record.reason }),
    });
    if (failed) task.span.setStatus({ code: otelApi().SpanStatusCode.ERROR, message: error ?? event.state });
    else if (event.state === 'completed') task.span.setStatus({ code: otelApi().SpanStatusCode.OK });
    task.span.end();
    this.tasks.delete(task.taskId);
    const workflow = task.workflow;
    workflow.open--;
    if (failed) workflow.failed++;
    if (workflow.open === 0) {
      // Dependents of this task become ready in the same synchronous step: check after it.
      queueMicrotask(() => this.endWorkflowIfDone(workflow));
    }
  }

  private endWorkflowIfDone(workflow: WorkflowTrace): void {
    if (workflow.open > 0 || this.burstWorkflow === workflow) return;
    workflow.span.setAttributes({ 'neuroflux.workflow.tasks': workflow.taskIds.length, 'neuroflux.workflow.failed_tasks': workflow.failed });
    if (workflow.failed > 0) workflow.span.setStatus({ code: otelApi().SpanStatusCode.ERROR, message: `${workflow.failed} task(s) failed` });
    workflow.span.end();
    for (const id of workflow.taskIds) this.workflowOfTask.delete(id);
  }

  // ---------------------------------------------------------------- conflicts

  private onConflictEvent(event: ConflictEvent): void {
    switch (event.type) {
      case 'CONFLICT_DETECTED': {
        const parent = this.currentContext();
        const span = this.tracer.startSpan(
          `conflict ${event.conflict.conflictType}`,
          {
            kind: otelApi().SpanKind.INTERNAL,
            attributes: {
              'neuroflux.conflict.id': event.conflictId,
              'neuroflux.conflict.type': event.conflict.conflictType,
              'neuroflux.conflict.severity': event.conflict.severity,
              'neuroflux.conflict.agents': [...event.conflict.involvedAgents],
            },
          },
          parent,
        );
        this.conflicts.set(event.conflictId, traced(span, parent));
        return;
      }
      case 'RESOLUTION_STARTED': {
        const conflict = this.conflicts.get(event.conflictId);
        if (!conflict || conflict.consensus) return;
        const span = this.tracer.startSpan(
          `consensus ${event.strategy}`,
          { kind: otelApi().SpanKind.INTERNAL, attributes: { 'neuroflux.conflict.strategy': event.strategy, 'neuroflux.conflict.algorithm': event.algorithm } },
          conflict.ctx,
        );
        conflict.consensus = traced(span, conflict.ctx);
        return;
      }
      case 'VOTE_RECEIVED': {
        const conflict = this.conflicts.get(event.conflictId);
        const vote = event.vote;
        (conflict?.consensus ?? conflict)?.span.addEvent('vote', {
          'neuroflux.vote.agent': vote.agentId,
          'neuroflux.vote.decision': decisionText(vote.decision),
          'neuroflux.vote.confidence': vote.confidence,
          'neuroflux.vote.stake': vote.stake,
          'neuroflux.vote.abstained': vote.decision === null,
        });
        return;
      }
      case 'HUMAN_DECISION_REQUESTED':
        this.conflicts.get(event.conflictId)?.span.addEvent('human_decision_requested');
        return;
      case 'CONFLICT_RESOLVED':
      case 'CONFLICT_ESCALATED': {
        const conflict = this.conflicts.get(event.conflictId);
        if (!conflict) return;
        const r = event.resolution;
        const attributes: Attributes = {
          'neuroflux.conflict.outcome': r.status,
          'neuroflux.conflict.action': r.action,
          'neuroflux.conflict.achieved': r.achieved,
          'neuroflux.conflict.confidence': r.confidence,
          'neuroflux.conflict.agreement': r.agreement,
          'neuroflux.conflict.decision': decisionText(r.decision),
          ...(r.reason && { 'neuroflux.conflict.reason': r.reason }),
        };
        if (conflict.consensus) {
          conflict.consensus.span.setAttributes(attributes);
          conflict.consensus.span.end();
        }
        conflict.span.setAttributes(attributes);
        // The decision's effects are reported right after the outcome, in the same step.
        queueMicrotask(() => {
          conflict.span.end();
          this.conflicts.delete(event.conflictId);
        });
        return;
      }
      case 'DECISION_EXECUTED':
        this.conflicts.get(event.conflictId)?.span.addEvent('decision_executed', { 'messaging.destination.name': event.topic, 'neuroflux.recipients': [...event.recipients] });
        return;
      case 'DECISION_HELD':
        this.conflicts.get(event.conflictId)?.span.addEvent('decision_held', { 'neuroflux.conflict.confidence': event.confidence });
        return;
      case 'DELIVERY_FAILED':
        this.conflicts.get(event.conflictId)?.span.addEvent('delivery_failed', { 'messaging.destination.name': event.topic, 'neuroflux.error': event.error });
        return;
    }
  }

  // ---------------------------------------------------------------- lifecycle

  dispose(): void {
    this.detachHooks?.();
    this.detachHooks = undefined;
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions.length = 0;
    const incomplete = { 'neuroflux.trace.incomplete': true };
    for (const known of this.deliveries.values()) {
      for (const d of Array.isArray(known) ? known : [known]) {
        d.handle.setAttributes(incomplete).end();
        d.deliver.setAttributes(incomplete).end(performance.now());
      }
    }
    this.deliveries.clear();
    const workflows = new Set<WorkflowTrace>();
    for (const task of this.tasks.values()) {
      for (const span of [task.attempt?.span, task.queued, task.backoff, task.span]) span?.setAttributes(incomplete).end();
      workflows.add(task.workflow);
    }
    for (const workflow of workflows) workflow.span.setAttributes(incomplete).end();
    this.tasks.clear();
    this.workflowOfTask.clear();
    this.attemptsByAgent.clear();
    for (const conflict of this.conflicts.values()) {
      conflict.consensus?.span.setAttributes(incomplete).end();
      conflict.span.setAttributes(incomplete).end();
    }
    this.conflicts.clear();
  }
}

/**
 * Traces a runtime with OpenTelemetry, through `@opentelemetry/api` only: register your
 * SDK (a `TracerProvider`, an exporter and, for async handlers, a context manager such as
 * `AsyncLocalStorageContextManager`) and the spans go wherever it sends them. Without an
 * SDK the API's no-op tracer makes them cost little; without calling this, nothing is
 * installed at all.
 *
 * Spans:
 * - `send <topic>` (producer, at acceptance) → `deliver <topic>` (consumer, acceptance to
 *   the end of handling, one per recipient) → `handle <topic>` (the behaviour's run);
 *   messages a handler sends are children of its `handle` span;
 * - `workflow` → `task <type>` → `task.queued`, `task.attempt` (one per attempt, with the
 *   `task_assignment` message under it), `task.retry_backoff`: tasks submitted together,
 *   or linked by dependencies, share one workflow and so one trace;
 * - `conflict <type>` → `consensus <strategy>` with one `vote` event per vote, and the
 *   vote requests under it.
 *
 * Every accepted message carries W3C trace context in its headers (`traceparent`,
 * `tracestate`), so a trace continues in the process that receives it (a transport passes
 * headers along; see `traceContextOf`).
 *
 * Returns a function that removes the instrumentation and ends the spans still open.
 *
 * @example
 * ```ts
 * const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
 * trace.setGlobalTracerProvider(provider);
 * const stopTracing = instrumentTracing(nf);
 * nf.orchestrator.submitWorkflow({ tasks });
 * stopTracing();
 * ```
 */
export function instrumentTracing(runtime: ObservedRuntime, options: TracingOptions = {}): () => void {
  const tracing = new RuntimeTracing(runtime, options.tracer ?? otelApi().trace.getTracer('neuroflux'), options.propagator ?? defaultPropagator(), options);
  let disposed = false;
  return () => {
    if (disposed) return;
    disposed = true;
    tracing.dispose();
  };
}
