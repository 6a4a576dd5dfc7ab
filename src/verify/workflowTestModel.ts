import { fromTransition, type ActorLogic, type EventObject, type Snapshot } from 'xstate';
import type { CapacityAgent } from './agentCapacity';
import { TaskEventKind } from './taskAutomaton';
import type { Trace, TraceStep } from './trace';
import { kindOfStep, WorkflowModel, type EnvironmentOptions, type WorkflowState } from './workflowModel';
import { parseAgents, parseWorkflow, type AgentDeclaration, type Workflow } from './workflowSchema';

/** A trace step as an XState event (its `type` is the step type). */
export type WorkflowModelEvent = TraceStep & EventObject;

/** The state of the workflow model as `fromTransition` logic keeps it. */
export interface WorkflowModelState extends WorkflowState {
  /** Local state id of each task (what identifies the state). @internal */
  readonly local: readonly number[];
}

/** The workflow model as XState logic, with what `xstate/graph` needs to walk it. */
export interface WorkflowTestModel {
  readonly logic: ActorLogic<Snapshot<unknown> & { context: WorkflowModelState }, WorkflowModelEvent, unknown>;
  /** Traversal options for `getShortestPaths(logic, options)` / `getSimplePaths` / `getAdjacencyMap`. */
  readonly traversal: {
    readonly events: (snapshot: { context: WorkflowModelState }) => WorkflowModelEvent[];
    readonly serializeState: (snapshot: { context: WorkflowModelState }) => string;
  };
  /** The trace of a path from `xstate/graph` (its events, without `xstate.init`). */
  traceOf(path: { steps: readonly { event: EventObject }[] }): Trace;
}

/**
 * The verifier's model of a workflow as XState logic (`fromTransition`), one trace step per
 * event, so that XState's own graph tools (`getShortestPaths`, `getSimplePaths`) generate
 * test paths over it, each a trace `replayTrace` can run on the real runtime. Dispatch is
 * urgent as in the runtime: while a queued task can be given to an agent, only
 * `task_started` events are offered.
 *
 * @example
 * ```ts
 * import { getShortestPaths } from 'xstate/graph';
 * const model = createWorkflowTestModel(workflow);
 * for (const path of getShortestPaths(model.logic, model.traversal)) {
 *   const replay = await replayTrace(workflow, model.traceOf(path));
 *   expect(replay.reproduced || !replay.realizable).toBe(true);
 * }
 * ```
 */
export function createWorkflowTestModel(workflow: Workflow, options: { agents?: readonly AgentDeclaration[]; environment?: EnvironmentOptions } = {}): WorkflowTestModel {
  const parsed = parseWorkflow(workflow);
  const extra = options.agents ? parseAgents(options.agents, 'test model options', 'agents') : undefined;
  const agents: CapacityAgent[] | undefined = parsed.agents || extra ? [...(parsed.agents ?? []), ...(extra ?? [])] : undefined;
  const model = new WorkflowModel(parsed, agents, options.environment);
  const stateOf = (local: readonly number[]): WorkflowModelState => ({ ...model.view(local), local });
  const initial = stateOf(model.tasks.map((t) => t.automaton.initial));

  const dispatchable = (local: readonly number[]) => model.tasks.filter((t) => model.dispatch(local, t.index) !== undefined).map((t) => t.index);

  const events = (snapshot: { context: WorkflowModelState }): WorkflowModelEvent[] => {
    const local = snapshot.context.local;
    const ready = dispatchable(local);
    if (ready.length > 0) {
      // The balancer serves the most urgent lane first among tasks needing the same agents.
      const chosen = ready.filter((i) => {
        const t = model.tasks[i];
        return !ready.some((j) => {
          const u = model.tasks[j];
          return u !== undefined && t !== undefined && u.capabilityClass === t.capabilityClass && u.lane < t.lane;
        });
      });
      return chosen.map((i) => model.traceStep(local, i, TaskEventKind.DISPATCH) as WorkflowModelEvent);
    }
    return model.tasks.flatMap((t) => model.enabledKinds(local, t.index).map((kind) => model.traceStep(local, t.index, kind) as WorkflowModelEvent));
  };

  const logic = fromTransition((state: WorkflowModelState, event: WorkflowModelEvent) => {
    const task = model.taskIndex(event.taskId);
    const kind = kindOfStep(event.type);
    if (task < 0 || kind === undefined) return state;
    const next = kind === TaskEventKind.DISPATCH ? model.dispatch(state.local, task) : model.applyEnvironment(state.local, task, kind);
    return next ? stateOf(next) : state;
  }, initial);

  return {
    logic: logic as unknown as WorkflowTestModel['logic'],
    traversal: { events, serializeState: (snapshot) => String.fromCharCode(...snapshot.context.local) },
    traceOf: (path) =>
      path.steps
        .map((s) => s.event)
        .filter((e): e is WorkflowModelEvent => e.type !== 'xstate.init')
        .map(({ type, taskId, attempt }) => ({ type, taskId, attempt })),
  };
}
