import type { AnyActorRef } from 'xstate';
import { z } from 'zod';
import { NotRunningError, ValidationError } from '../errors';
import type { OrchestratorAgentOptions, OrchestratorStats } from '../orchestration/taskOrchestrator';
import type { TaskRecord } from '../orchestration/taskTypes';
import { composeNeuroFlux, type NeuroFlux, type NeuroFluxOptions } from './createNeuroFlux';
import { validationErrorOf } from './neuroFluxOptionsSchema';
import type { NeuroFluxEvent, NeuroFluxParentEvent } from './neuroFluxEvents';

// The envelope of each command; what it carries (capabilities, tasks...) is checked by the
// orchestrator, which names the field (`capabilities`, `tasks.0.payload`) as its API does.
const RegisterAgentEventSchema = z
  .object({
    type: z.literal('neuroflux.registerAgent'),
    agentId: z.string().min(1),
    capabilities: z.unknown(),
    maxConcurrentTasks: z.unknown().optional(),
    execute: z.unknown().optional(),
  })
  .strict();
const SubmitWorkflowEventSchema = z
  .object({
    type: z.literal('neuroflux.submitWorkflow'),
    workflowId: z.string().min(1).max(200).optional(),
    tasks: z.array(z.unknown()),
  })
  .strict();
const CancelTaskEventSchema = z.object({ type: z.literal('neuroflux.cancelTask'), taskId: z.string().min(1) }).strict();

/** Marks the runtimes' own `statsChanged` events (module-private: nobody else can forge them). */
const RUNTIME_KEY = Symbol('neuroflux runtime event');

/** Whether `event` was sent by a runtime (its `statsChanged`), not forged by someone else. @internal */
export function isRuntimeEvent(event: { readonly key?: unknown }): boolean {
  return event.key === RUNTIME_KEY;
}

/** A workflow submitted through an event, until its last task is final. */
interface RunningWorkflow {
  readonly workflowId: string;
  readonly taskIds: readonly string[];
  readonly records: Map<string, TaskRecord>;
}

/**
 * One NeuroFlux runtime rooted in a `neuroFluxLogic` actor: runs its parent's commands on the
 * runtime and tells the parent what finished. The parent hears of finishes a microtask after
 * they happen, in order (each task's `taskFinished` before its workflow's `workflowFinished`),
 * and never from inside the orchestrator's own step: a parent that submits more work when a
 * task finishes cannot re-enter it.
 * @internal
 */
export class EmbeddedRuntime {
  readonly nf: NeuroFlux;
  /** Settles once `start()` has: a stop waits for it, so nothing starts after the stop. */
  readonly started: Promise<void>;
  private readonly workflows = new Map<string, RunningWorkflow>();
  private readonly workflowOfTask = new Map<string, RunningWorkflow>();
  /** Records of the tasks finished since the last flush, taken when they finished (`retention` may let them go before the flush). */
  private finishedRecords: TaskRecord[] = [];
  /** Workflows with no task: finished as soon as they are submitted. */
  private emptyWorkflows: string[] = [];
  private flushQueued = false;
  private closed = false;
  private workflowCount = 0;

  constructor(
    private readonly root: AnyActorRef,
    options: NeuroFluxOptions | undefined,
  ) {
    // Checked there (input from outside: whatever its static type says); `null` is refused as createNeuroFlux(null) is.
    this.nf = composeNeuroFlux(options === undefined ? {} : options, { root });
    const subscription = this.nf.orchestrator.events$.subscribe((event) => {
      if (event.type === 'task_finished') {
        const record = this.nf.orchestrator.getTask(event.taskId);
        if (record) this.finishedRecords.push(record);
      }
      this.queueFlush();
    });
    // The parent stopped this actor (or it failed): stop the runtime's actors now (its
    // components end with their root), close transports and stores in the background.
    root.subscribe({ complete: () => this.close(subscription), error: () => this.close(subscription) });
    this.watchParent(subscription);
    this.started = this.nf.start();
  }

  /** The orchestrator's stats. */
  stats(): OrchestratorStats {
    return this.nf.orchestrator.getStats();
  }

  /** Runs one command; one the API refuses is sent to the parent as `neuroflux.rejected`. */
  run(command: NeuroFluxEvent): void {
    try {
      this.apply(command);
    } catch (error) {
      this.reject(command, error);
    }
    this.queueFlush();
  }

  /** Tells the parent that `command` was refused with `error` (`null`: the runtime's start). */
  reject(command: { readonly type: unknown } | null, error: unknown): void {
    const type = command && typeof command.type === 'string' ? (command.type as NeuroFluxEvent['type']) : null;
    this.tell({ type: 'neuroflux.rejected', error: error instanceof Error ? error : new Error(String(error)), command: type });
  }

  private apply(command: NeuroFluxEvent): void {
    const orchestrator = this.nf.orchestrator;
    switch (command.type) {
      case 'neuroflux.registerAgent': {
        const { agentId, capabilities, maxConcurrentTasks, execute } = parse(RegisterAgentEventSchema, command);
        orchestrator.registerAgent(agentId, {
          capabilities: capabilities as string[],
          ...(maxConcurrentTasks !== undefined && { maxConcurrentTasks: maxConcurrentTasks as number }),
          ...(execute !== undefined && { execute: execute as OrchestratorAgentOptions['execute'] }),
        });
        return;
      }
      case 'neuroflux.submitWorkflow': {
        const { workflowId: given, tasks } = parse(SubmitWorkflowEventSchema, command);
        if (given !== undefined && this.workflows.has(given)) {
          throw new ValidationError('submitWorkflow event', [{ path: 'workflowId', message: `workflow '${given}' is still running: give another id` }]);
        }
        const workflowId = given ?? this.nextWorkflowId();
        const submitted = orchestrator.submitWorkflow({ tasks: tasks as Parameters<typeof orchestrator.submitWorkflow>[0]['tasks'] });
        const workflow: RunningWorkflow = { workflowId, taskIds: submitted.map((s) => s.taskId), records: new Map() };
        if (workflow.taskIds.length === 0) {
          this.emptyWorkflows.push(workflowId);
          return;
        }
        this.workflows.set(workflowId, workflow);
        for (const taskId of workflow.taskIds) this.workflowOfTask.set(taskId, workflow);
        return;
      }
      case 'neuroflux.cancelTask': {
        const { taskId } = parse(CancelTaskEventSchema, command);
        orchestrator.cancelTask(taskId);
        return;
      }
      default:
        throw new ValidationError('NeuroFlux event', [{ path: 'type', message: `unknown command '${String((command as { type: unknown }).type)}'` }]);
    }
  }

  private nextWorkflowId(): string {
    let id: string;
    do id = `workflow-${++this.workflowCount}`;
    while (this.workflows.has(id));
    return id;
  }

  private queueFlush(): void {
    if (this.flushQueued || this.closed) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** Refreshes the snapshot's stats, then tells the parent what finished since the last flush. */
  private flush(): void {
    this.flushQueued = false;
    if (this.closed) return;
    // First: a parent reacting to a finish reads stats that already count it.
    this.root.send({ type: 'neuroflux.statsChanged', key: RUNTIME_KEY });
    const finished = this.finishedRecords;
    this.finishedRecords = [];
    for (const record of finished) {
      const taskId = record.taskId;
      this.tell({ type: 'neuroflux.taskFinished', record });
      const workflow = this.workflowOfTask.get(taskId);
      if (!workflow) continue;
      this.workflowOfTask.delete(taskId);
      workflow.records.set(taskId, record);
      if (workflow.records.size < workflow.taskIds.length) continue;
      this.workflows.delete(workflow.workflowId);
      this.tell({ type: 'neuroflux.workflowFinished', workflowId: workflow.workflowId, records: workflow.taskIds.map((id) => workflow.records.get(id) as TaskRecord) });
    }
    const empty = this.emptyWorkflows;
    this.emptyWorkflows = [];
    for (const workflowId of empty) this.tell({ type: 'neuroflux.workflowFinished', workflowId, records: [] });
  }

  private tell(event: NeuroFluxParentEvent): void {
    // A root actor (no parent) runs, with nobody to tell.
    this.root._parent?.send(event);
  }

  /**
   * A parent that spawns a second child with this actor's id forgets this one (XState
   * overwrites its children record): it would never stop it, nor anything the runtime owns.
   * This runtime then tells the parent and stops (its actors, transports and stores), as
   * it would with its parent.
   */
  private watchParent(subscription: { unsubscribe(): void }): void {
    const parent = this.root._parent;
    if (!parent) return;
    const watch = parent.subscribe({
      next: (snapshot: unknown) => {
        const children = (snapshot as { children?: Record<string, unknown> }).children;
        if (!children || typeof children !== 'object' || children[this.root.id] === this.root || this.closed) return;
        // Forgotten only if another actor holds the id (an invoke left is removed, and stopped, by XState).
        if (children[this.root.id] === undefined) return;
        this.tell({
          type: 'neuroflux.rejected',
          error: new ValidationError('NeuroFlux actor', [{ path: 'id', message: `a second NeuroFlux was spawned with the id '${this.root.id}': the first one stops` }]),
          command: null,
        });
        // Only a root actor may be stopped directly: the runtime stops, the forgotten actor stays inert.
        this.close(subscription);
      },
    });
    this.onClose = () => watch.unsubscribe();
  }

  private onClose: () => void = () => {};

  private close(subscription: { unsubscribe(): void }): void {
    if (this.closed) return;
    this.closed = true;
    subscription.unsubscribe();
    this.onClose();
    this.workflows.clear();
    this.workflowOfTask.clear();
    const logger = this.nf.logger;
    const stop = (): Promise<void> => this.nf.stop();
    // Never an unhandled rejection in the user's process: a close that fails is logged.
    this.started.then(stop, stop).catch((error: unknown) => logger.error({ err: error }, 'embedded NeuroFlux did not stop cleanly'));
  }
}

function parse<T>(schema: z.ZodType<T>, event: unknown): T {
  const parsed = schema.safeParse(event);
  if (!parsed.success) throw validationErrorOf(`${String((event as { type?: unknown }).type)} event`, parsed.error);
  return parsed.data;
}

/**
 * The error a command gets when the actor has no runtime: `cause` is the start's error when
 * it could not start. @internal
 */
export function notRunning(why: 'startFailed' | 'restored', cause: unknown): NotRunningError {
  return why === 'startFailed'
    ? new NotRunningError('embedded NeuroFlux', { reason: 'its runtime failed to start (see cause); start a new one', cause })
    : new NotRunningError('embedded NeuroFlux', { reason: 'it was restored from a persisted snapshot, which holds no runtime; start a new one' });
}
