import { SimulatedClock } from 'xstate';
import { retryBackoffMs } from '../../machines/task.machine';
import { createNeuroFlux, type NeuroFlux } from '../runtime/createNeuroFlux';
import { silentLogger } from '../kernel/logger';
import type { ChoosingBalancer } from '../orchestration/balancers';
import type { TaskExecutor } from '../orchestration/taskExecutor';
import type { ParsedTask, TaskInput, TaskRecord, TaskState } from '../orchestration/taskTypes';
import { TaskEventKind, type TaskPhase } from './taskAutomaton';
import { scheduleTrace, type TraceTimer } from './timingSchedule';
import type { TraceStep } from './trace';
import { InvalidTraceError } from './verifyErrors';
import { kindOfStep, WorkflowModel, type ModelTask } from './workflowModel';
import { parseWorkflow, type Workflow } from './workflowSchema';

/** A trace step as `replayTrace` accepts it: `attempt` is checked when given. */
export type ReplayStepInput = Omit<TraceStep, 'attempt'> & { readonly attempt?: number };

/** What the runtime looked like after one replayed step. */
export interface ReplayedStep {
  readonly step: TraceStep;
  /** Clock time (ms) at which the step was applied. */
  readonly at: number;
  readonly states: Readonly<Record<string, TaskState>>;
}

/** The first point where the runtime did not do what the trace (and the model) said. */
export interface ReplayDivergence {
  /** Index of the step after which the runtime differed (−1: right after submission). */
  readonly stepIndex: number;
  readonly taskId: string;
  /** The model's view, e.g. `running (retry 1)`. */
  readonly expected: string;
  readonly observed: string;
  readonly message: string;
}

/** What `replayTrace` observed. */
export interface ReplayResult {
  /** Every step was applied and after each one every task was where the model said. */
  readonly reproduced: boolean;
  /** False when no clock times make the real timeouts and backoffs fire as the trace says. */
  readonly realizable: boolean;
  /** Why the trace is not realizable with the workflow's real durations. */
  readonly timingNote?: string;
  readonly steps: readonly ReplayedStep[];
  readonly divergence?: ReplayDivergence;
  /** Every task's record when the replay ended (after the last step, or at the divergence). */
  readonly records: Readonly<Record<string, TaskRecord>>;
}

interface Expected {
  readonly phase: TaskPhase;
  readonly retryCount: number;
  readonly reason: string | null;
}

/**
 * Runs the real runtime (`createNeuroFlux` on XState's `SimulatedClock`) along a trace, so
 * a counterexample from `verifyWorkflow` reproduces in a test. Each `task_started` step
 * registers a fresh single-slot agent and assigns it the task; executors hang until the
 * trace makes them return (`task_succeeded`) or throw (`task_failed`); `task_cancelled`
 * calls `cancelTask`, `agent_lost` unregisters the task's agent; timeouts and backoffs
 * fire by setting the clock to the times chosen by `scheduleTrace`. After each step the
 * runtime's task states are compared with the model's.
 *
 * @example
 * ```ts
 * const result = verifyWorkflow(workflow);
 * const replay = await replayTrace(workflow, result.violations[0].trace);
 * expect(replay.reproduced).toBe(true);
 * expect(replay.records.report.status).toBe('failed');
 * ```
 * @throws InvalidTraceError when a step names an unknown task or cannot happen there;
 * ValidationError / WorkflowValidationError for a malformed workflow.
 */
export async function replayTrace(workflow: Workflow, trace: readonly ReplayStepInput[]): Promise<ReplayResult> {
  const parsed = parseWorkflow(workflow);
  const model = new WorkflowModel(parsed, undefined, { cancellations: 'anywhere', agentLoss: true });
  const { expected, steps, timers, settlesWithNext } = walkModel(model, trace);
  const timerSteps = steps.map((s) => s.type === 'task_timed_out' || s.type === 'backoff_elapsed');
  const schedule = scheduleTrace(steps.length, timers, timerSteps);

  const clock = new SimulatedClock();
  // The trace says who starts when: the orchestrator never places a task by itself.
  // Silent: the failures a trace asks for are not news, and the default logger looks for
  // pino on every runtime created (a module lookup per replay, a tenth of a replay's time).
  const nf = createNeuroFlux({ clock, orchestrator: { balancer: traceBalancer }, logger: silentLogger });
  await nf.start();
  const runtime = new ReplayRuntime(nf, parsed.tasks);
  const replayed: ReplayedStep[] = [];
  let divergence: ReplayDivergence | undefined;
  try {
    runtime.submit();
    await flush();
    divergence = compare(model, runtime, expected[0] as Expected[], -1);
    for (let i = 0; i < steps.length && !divergence; i++) {
      const step = steps[i] as TraceStep;
      const at = schedule.times[i] as number;
      // Setting the clock fires the timers due by then (a timer step's own, at its due time).
      if (at > clock.now() || timerSteps[i]) clock.set(Math.max(at, clock.now()));
      await flush();
      const problem = runtime.apply(step);
      await flush();
      runtime.releaseIdleAgents();
      if (problem) {
        divergence = {
          stepIndex: i,
          taskId: step.taskId,
          expected: `${step.type} applicable`,
          observed: problem,
          message: `step ${i + 1} (${step.type} ${step.taskId}): ${problem}`,
        };
      } else if (!settlesWithNext[i]) {
        divergence = compare(model, runtime, expected[i + 1] as Expected[], i);
      }
      replayed.push({ step, at: clock.now(), states: runtime.states() });
    }
    return {
      reproduced: divergence === undefined,
      realizable: schedule.realizable,
      ...(schedule.reason !== undefined && { timingNote: schedule.reason }),
      steps: replayed,
      ...(divergence && { divergence }),
      records: runtime.records(),
    };
  } finally {
    await nf.stop();
  }
}

/** Walks the model along the trace: expected task states after each step, and the timers armed. */
function walkModel(model: WorkflowModel, trace: readonly ReplayStepInput[]): { expected: Expected[][]; steps: TraceStep[]; timers: TraceTimer[]; settlesWithNext: boolean[] } {
  const initial = model.tasks.map((t) => t.automaton.initial);
  const expected: Expected[][] = [expectedOf(model, initial)];
  const steps: TraceStep[] = [];
  const open = new Map<string, { kind: 'timeout' | 'backoff'; armedAt: number; durationMs: number; taskId: string }>();
  const timers: TraceTimer[] = [];
  let state = initial;
  trace.forEach((input, i) => {
    const task = model.taskIndex(input.taskId);
    if (task < 0) throw new InvalidTraceError(i, `unknown task '${input.taskId}'`);
    const kind = kindOfStep(input.type);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- the trace is the caller's, unvalidated: a symbol would make a template literal throw
    if (kind === undefined) throw new InvalidTraceError(i, `unknown step type '${String(input.type)}'`);
    const step = model.traceStep(state, task, kind);
    if (input.attempt !== undefined && input.attempt !== step.attempt) {
      throw new InvalidTraceError(i, `'${input.taskId}' is at attempt ${step.attempt}, the step says ${input.attempt}`);
    }
    const next = kind === TaskEventKind.DISPATCH ? model.dispatch(state, task) : model.applyEnvironment(state, task, kind);
    if (!next) throw new InvalidTraceError(i, `${input.type} cannot happen while '${input.taskId}' is ${model.phase(state, task)}`);
    // Timers follow the phases: running arms the timeout, retrying the backoff.
    for (const t of model.tasks) {
      const before = model.phase(state, t.index);
      const after = model.phase(next, t.index);
      for (const [phase, timerKind] of [
        ['running', 'timeout'],
        ['retrying', 'backoff'],
      ] as const) {
        const key = `${t.taskId}|${timerKind}`;
        if (before === phase && after !== phase) {
          const timer = open.get(key);
          open.delete(key);
          const fired = t.index === task && ((timerKind === 'timeout' && kind === TaskEventKind.TIMEOUT) || (timerKind === 'backoff' && kind === TaskEventKind.BACKOFF));
          if (timer) timers.push({ ...timer, firesAt: fired ? i : undefined, disarmedAt: fired ? undefined : i });
        }
        if (before !== phase && after === phase) {
          open.set(key, { kind: timerKind, armedAt: i, durationMs: durationOf(t, timerKind, next), taskId: t.taskId });
        }
      }
    }
    steps.push(step);
    state = next;
    expected.push(expectedOf(model, state));
  });
  for (const timer of open.values()) timers.push({ ...timer, firesAt: undefined, disarmedAt: undefined });
  // A zero backoff armed by a timeout fires in the same clock flush as the timeout: the
  // runtime is only comparable after the `backoff_elapsed` step that follows.
  const settlesWithNext = steps.map(() => false);
  for (const timer of timers) {
    const armedByTimer = steps[timer.armedAt]?.type === 'task_timed_out';
    if (timer.kind === 'backoff' && timer.durationMs === 0 && armedByTimer && timer.firesAt === timer.armedAt + 1) {
      settlesWithNext[timer.armedAt] = true;
    }
  }
  return { expected, steps, timers, settlesWithNext };
}

function durationOf(task: ModelTask, kind: 'timeout' | 'backoff', state: readonly number[]): number {
  if (kind === 'timeout') return task.spec.timeoutSeconds * 1000;
  const retryCount = task.automaton.state(state[task.index] as number).retryCount;
  const policy = task.spec.retryPolicy;
  return retryBackoffMs(policy.initialDelay * 1000, policy.backoffFactor, retryCount);
}

function expectedOf(model: WorkflowModel, state: readonly number[]): Expected[] {
  return model.tasks.map((t) => {
    const local = t.automaton.state(state[t.index] as number);
    return { phase: local.phase, retryCount: local.retryCount, reason: local.final ? local.endReason : null };
  });
}

function compare(model: WorkflowModel, runtime: ReplayRuntime, expected: readonly Expected[], stepIndex: number): ReplayDivergence | undefined {
  for (const t of model.tasks) {
    const want = expected[t.index] as Expected;
    const record = runtime.record(t.taskId);
    const phase = record.state === 'assigned' ? 'running' : record.state;
    const sameReason = want.reason === null || record.reason === want.reason;
    if (phase !== want.phase || record.retryCount !== want.retryCount || !sameReason) {
      const describe = (p: string, r: number, reason: string | null) => `${p} (retry ${r}${reason ? `, ${reason}` : ''})`;
      const expectedText = describe(want.phase, want.retryCount, want.reason);
      const observedText = describe(phase, record.retryCount, want.reason === null ? null : record.reason);
      const where = stepIndex < 0 ? 'after submission' : `after step ${stepIndex + 1}`;
      return {
        stepIndex,
        taskId: t.taskId,
        expected: expectedText,
        observed: observedText,
        message: `${where}, task '${t.taskId}' is ${observedText}; the model says ${expectedText}`,
      };
    }
  }
  return undefined;
}

/** Leaves every task waiting: replay assigns explicitly (`assignTaskToAgent`) at `task_started` steps. */
const traceBalancer: ChoosingBalancer = { name: 'replay-trace', choose: () => undefined };

/** Lets the runtime settle: bus deliveries, executor continuations and scheduling rounds. */
async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The runtime side of a replay: agents made on demand, executors that wait for the trace. */
class ReplayRuntime {
  private readonly attempts = new Map<string, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly agentOf = new Map<string, string>();
  private agentSeq = 0;
  private readonly execute: TaskExecutor = (task, context) =>
    new Promise((resolve, reject) => {
      const key = `${task.taskId}#${context.attempt}`;
      this.attempts.set(key, { resolve, reject });
      context.signal.addEventListener(
        'abort',
        () => {
          this.attempts.delete(key);
          reject(new Error('aborted'));
        },
        { once: true },
      );
    });

  constructor(
    private readonly nf: NeuroFlux,
    private readonly tasks: readonly ParsedTask[],
  ) {}

  submit(): void {
    // No agents yet: every task waits until the trace starts it. Tasks lose their own
    // balancer so that the trace balancer decides for all of them.
    const tasks = this.tasks.map(({ balancer: _ignored, ...task }) => task as TaskInput);
    this.nf.orchestrator.submitWorkflow({ tasks }, { requireCapableAgents: false });
  }

  /** Applies one step; returns why it could not be applied, if so. */
  apply(step: TraceStep): string | undefined {
    const orchestrator = this.nf.orchestrator;
    const key = `${step.taskId}#${step.attempt}`;
    switch (step.type) {
      case 'task_started': {
        const agentId = `replay-agent-${++this.agentSeq}`;
        const spec = this.tasks.find((t) => t.taskId === step.taskId) as ParsedTask;
        orchestrator.registerAgent(agentId, { capabilities: [...spec.requiredCapabilities], maxConcurrentTasks: 1, execute: this.execute });
        try {
          orchestrator.assignTaskToAgent(step.taskId, agentId);
        } catch (error) {
          return (error as Error).message;
        }
        this.agentOf.set(step.taskId, agentId);
        return undefined;
      }
      case 'task_succeeded':
      case 'task_failed': {
        const attempt = this.attempts.get(key);
        if (!attempt) return `attempt ${step.attempt + 1} of '${step.taskId}' is not running`;
        this.attempts.delete(key);
        if (step.type === 'task_succeeded') attempt.resolve({ replayed: true });
        else attempt.reject(new Error('replayed failure'));
        return undefined;
      }
      case 'task_cancelled':
        orchestrator.cancelTask(step.taskId);
        return undefined;
      case 'agent_lost': {
        const agentId = this.agentOf.get(step.taskId);
        if (agentId === undefined) return `'${step.taskId}' has no agent`;
        this.agentOf.delete(step.taskId);
        orchestrator.unregisterAgent(agentId);
        return undefined;
      }
      default:
        // Timeouts and backoffs fired when the clock was set.
        return undefined;
    }
  }

  /** Agents whose attempt ended leave, so that no idle agent picks up a task the trace did not start. */
  releaseIdleAgents(): void {
    for (const [taskId, agentId] of this.agentOf) {
      const view = this.nf.orchestrator.getAgent(agentId);
      if (view && view.load > 0) continue;
      this.agentOf.delete(taskId);
      this.nf.orchestrator.unregisterAgent(agentId);
    }
  }

  record(taskId: string): TaskRecord {
    return this.nf.orchestrator.getTask(taskId) as TaskRecord;
  }

  states(): Record<string, TaskState> {
    return Object.fromEntries(this.tasks.map((t) => [t.taskId, this.record(t.taskId).state]));
  }

  records(): Record<string, TaskRecord> {
    return Object.fromEntries(this.tasks.map((t) => [t.taskId, this.record(t.taskId)]));
  }
}
