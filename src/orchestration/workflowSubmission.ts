import type { NeuroFluxClock } from '../kernel/clock';
import { nextTurn, turnBudgetSpent, turnStartedAt } from '../kernel/chunkedQueue';
import { DuplicateTaskError, ValidationError, WorkflowValidationError, type WorkflowProblem } from '../errors';
import { capabilityCoverage } from './capabilityCoverage';
import type { OrchestratorAgent } from './orchestratorAgent';
import { RecordInterning } from './recordInterning';
import { newTaskRecord, taskEntry, type TaskEntry } from './taskEntry';
import type { TaskScheduler } from './taskScheduler';
import type { TaskTable } from './taskTable';
import { TaskInputSchema, type ParsedTask, type TaskInput, type TaskSubmission } from './taskTypes';
import { findWorkflowProblems, workflowProblemSteps } from './workflowGraph';

/**
 * What a submission reads of the orchestrator: the task table it inserts into, the agents
 * (the capability check), the scheduler (each task's balancer and pool), the clock, and the
 * check that the orchestrator takes submissions now.
 * @internal
 */
export interface WorkflowSubmissionHost {
  readonly table: TaskTable;
  readonly agents: ReadonlyMap<string, OrchestratorAgent>;
  readonly scheduler: TaskScheduler;
  readonly clock: NeuroFluxClock;
  /** Throws `NotRunningError` (stopping or stopped) or `StandbyError` (not the active orchestrator). */
  assertActive(): void;
  /**
   * Another actor of the system holds the system id the task's actor would take: the id is
   * refused as a duplicate with the rest of the workflow's problems, before any task exists
   * (refused only when its actor was spawned, the chunks beyond the first of a large
   * workflow stayed accepted while the call threw).
   */
  systemIdTaken(taskId: string): boolean;
}

/**
 * Submission of tasks and workflows: each task parsed at the boundary (zod, errors naming
 * the field by index), the workflow checked as a whole (unknown dependencies, cycles,
 * duplicate or reserved ids, capabilities no agent has), rows made and inserted into the
 * task table, all or none. `submit` does it in the caller's turn; `submitAsync` a slice per
 * turn, holding the workflow's ids reserved until its tasks exist.
 *
 * On the submission path of every task: one parse, one row and one record per task, as
 * before the split from `TaskOrchestrator` (plain method calls, no closure per task).
 * @internal
 */
export class WorkflowSubmission {
  /** Slices `submitAsync` inserted tasks in, and the largest (read by tests). */
  readonly insertion = { slices: 0, largestSlice: 0 };
  /** Equal lists and retry policies of records stored once. */
  private readonly interning = new RecordInterning();
  private taskIdSeq = 0;
  private readonly table: TaskTable;
  private readonly agents: ReadonlyMap<string, OrchestratorAgent>;
  private readonly scheduler: TaskScheduler;
  private readonly clock: NeuroFluxClock;

  constructor(private readonly host: WorkflowSubmissionHost) {
    this.table = host.table;
    this.agents = host.agents;
    this.scheduler = host.scheduler;
    this.clock = host.clock;
  }

  /**
   * `submitWorkflowAsync`: parsed, checked and inserted a slice per turn (all or none until
   * accepted), dependencies first; resolves once every actor is spawned.
   */
  async submitAsync(tasks: readonly TaskInput[], checkCapabilities: boolean): Promise<TaskSubmission[]> {
    const table = this.table;
    this.host.assertActive();
    // A copy: the caller may change its array while this yields.
    const inputs = [...tasks];
    /** Ids this submission holds against every other submission until its tasks exist. */
    const ours = new Set<string>();
    /**
     * Kept from retention until the turn after this settles: tasks outside the workflow it
     * depends on, and its own tasks as they are inserted. An inserted task may finish (and
     * be let go) before a dependent in a later slice is spawned, or before the caller's
     * `waitForWorkflow` right after the promise: both must still find its record.
     */
    const pinned = new Set<string>();
    // The first slice is this caller's: its turn's budget starts with this call.
    turnStartedAt();
    const yieldIfOverBudget = async (): Promise<void> => {
      if (turnBudgetSpent()) await nextTurn();
    };
    try {
      const parsed: ParsedTask[] = [];
      for (let index = 0; index < inputs.length; index++) {
        const task = this.parseTask(inputs[index] as TaskInput, index, 'tasks');
        parsed.push(task);
        if (!table.tasks.has(task.taskId) && !table.reservedIds.has(task.taskId)) {
          table.reservedIds.add(task.taskId);
          ours.add(task.taskId);
        }
        if ((index & 63) === 63) await yieldIfOverBudget();
      }
      const dependenciesFirst: ParsedTask[] = [];
      const context = {
        isTakenId: (id: string) => table.tasks.has(id) || (table.reservedIds.has(id) && !ours.has(id)) || this.host.systemIdTaken(id),
        // Pinned as soon as found: the check stays true until the workflow's tasks exist.
        isKnownTask: (id: string) => {
          if (!table.tasks.has(id)) return false;
          if (!pinned.has(id)) {
            pinned.add(id);
            table.retention.pin(id);
          }
          return true;
        },
        canServe: capabilityCoverage(this.agents),
      };
      const steps = workflowProblemSteps(parsed, context, checkCapabilities, dependenciesFirst);
      let problems: WorkflowProblem[];
      for (;;) {
        const step = steps.next();
        if (step.done) {
          problems = step.value;
          break;
        }
        await yieldIfOverBudget();
      }
      if (problems.length > 0) throw new WorkflowValidationError(problems);
      this.host.assertActive();
      // Accepted. Inserted a slice per turn, each task after those it depends on: every
      // inserted task can be spawned (or cancelled) at once, and what exists at any time
      // is a workflow of its own (if `stop()` cuts the insertion short, it stays so).
      const now = this.clock.now();
      let slice: TaskEntry[] = [];
      for (const task of dependenciesFirst) {
        if (!pinned.has(task.taskId)) {
          pinned.add(task.taskId);
          table.retention.pin(task.taskId);
        }
        slice.push(this.newEntry(task, now));
        if ((slice.length & 31) === 0 && turnBudgetSpent()) {
          this.insertReserved(slice, ours);
          slice = [];
          await nextTurn();
          this.host.assertActive();
        }
      }
      this.insertReserved(slice, ours);
      await table.spawned();
      return parsed.map(({ taskId }): TaskSubmission => ({ taskId, status: 'pending' }));
    } finally {
      for (const id of ours) table.reservedIds.delete(id);
      setImmediate(() => {
        for (const id of pinned) table.retention.unpin(id);
      });
    }
  }

  /** Tasks of a `submitWorkflowAsync` that were reserved: they exist from now on, their actors come on later turns. */
  private insertReserved(entries: readonly TaskEntry[], reserved: Set<string>): void {
    for (const { record } of entries) {
      this.table.reservedIds.delete(record.taskId);
      reserved.delete(record.taskId);
    }
    this.table.insertTasks(entries, false);
    this.insertion.slices++;
    this.insertion.largestSlice = Math.max(this.insertion.largestSlice, entries.length);
  }

  /** Parses, checks and creates the tasks, all or none, in the caller's turn (`submitTask`, `submitWorkflow`). */
  submit(inputs: readonly TaskInput[], checkCapabilities: boolean, path: string): TaskSubmission[] {
    this.host.assertActive();
    return this.accept(
      inputs.map((input, index) => this.parseTask(input, index, path)),
      checkCapabilities,
      path,
    );
  }

  private parseTask(input: TaskInput, index: number, path: string): ParsedTask {
    const result = TaskInputSchema.safeParse(input);
    if (!result.success) {
      const prefix = path === 'task' ? '' : `${path}.${index}.`;
      throw new ValidationError(
        'task',
        result.error.issues.map((i) => ({ path: `${prefix}${i.path.map(String).join('.')}`, message: i.message })),
      );
    }
    const taskId = result.data.taskId ?? `task-${++this.taskIdSeq}`;
    return { ...result.data, taskId, name: result.data.name ?? taskId };
  }

  /** Checks the parsed tasks as a whole and creates them, all or none, in one turn. */
  private accept(parsed: ParsedTask[], checkCapabilities: boolean, path: string): TaskSubmission[] {
    const { tasks, reservedIds } = this.table;
    const problems = findWorkflowProblems(
      parsed,
      {
        isKnownTask: (id) => tasks.has(id),
        isTakenId: (id) => tasks.has(id) || reservedIds.has(id) || this.host.systemIdTaken(id),
        canServe: capabilityCoverage(this.agents),
      },
      checkCapabilities,
    );
    if (problems.length > 0) {
      if (path === 'task' && problems.every((p) => p.kind === 'duplicate_id')) {
        throw new DuplicateTaskError(problems[0]?.taskIds[0] as string);
      }
      throw new WorkflowValidationError(problems);
    }
    return this.createTasks(parsed);
  }

  private createTasks(tasks: readonly ParsedTask[]): TaskSubmission[] {
    const now = this.clock.now();
    return this.table.insertTasks(tasks.map((task) => this.newEntry(task, now)));
  }

  private newEntry(task: ParsedTask, now: number): TaskEntry {
    const chooser = task.balancer ? this.scheduler.balancerNamed(task.balancer) : this.scheduler.defaultBalancer;
    return taskEntry(newTaskRecord(task, now, this.interning), chooser, this.scheduler.poolFor(chooser, task));
  }
}
