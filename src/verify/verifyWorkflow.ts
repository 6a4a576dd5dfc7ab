import { performance } from 'node:perf_hooks';
import { ValidationError } from '../errors';
import type { TaskOrchestrator } from '../orchestration/taskOrchestrator';
import type { CapacityAgent } from './agentCapacity';
import type { TaskLogic } from './taskAutomaton';
import { WorkflowReduction, type ReductionOptions, type ResolvedReduction } from './reduction';
import { ExplorationBudget, type VerificationProgress } from './explorationBudget';
import { evaluateGoal, evaluateInvariant, namedChecks, type Checks, type NamedCheck } from './checks';
import { DEFAULT_MAX_STATES, exploreStateSpace } from './stateSpace';
import { buildResult, WORKFLOW_PROPERTIES, type PropertyName, type VerificationResult, type Violation, type Witness, type WorkflowProperty } from './verificationResult';
import { WorkflowModel, type EnvironmentOptions, type WorkflowState } from './workflowModel';
import { parseAgents, parseWorkflow, type AgentDeclaration, type ParsedWorkflow, type Workflow } from './workflowSchema';
import { decodeState, WorkflowStateSpaceModel, type EncodedState } from './workflowStateSpace';

/**
 * A property every reachable state must have. Return `true` when it holds; `false`, or a
 * message saying what is wrong, when it does not.
 */
export type WorkflowInvariant = (state: WorkflowState) => boolean | string;

/** A state to look for: return true when `state` is one. */
export type WorkflowGoal = (state: WorkflowState) => boolean;

/** Options of {@link verifyWorkflow}. */
export interface VerifyWorkflowOptions {
  /** Your invariants, checked in every reachable state. */
  readonly invariants?: Checks<WorkflowInvariant>;
  /** States that must be reachable; each reachable one gets a witness trace. */
  readonly canReach?: Checks<WorkflowGoal>;
  /** Built-in properties to check. Default: all of them. */
  readonly properties?: readonly WorkflowProperty[];
  /** Agents you will register (besides those the workflow declares). */
  readonly agents?: readonly AgentDeclaration[];
  /** A running orchestrator whose registered agents count as available. */
  readonly orchestrator?: Pick<TaskOrchestrator, 'getStats' | 'getAgent'>;
  /** What the environment may do besides tasks succeeding, failing and timing out. */
  readonly environment?: EnvironmentOptions;
  /** `false` to explore every interleaving (for comparison), or pick reductions. Default: all on. */
  readonly reduction?: boolean | ReductionOptions;
  /**
   * Units of work allowed: each distinct state stored and each scheduling choice tried (a
   * way of filling free slots) is one. Spent, the result is `incomplete`. Default 500 000.
   */
  readonly maxStates?: number;
  /** Stop after this many milliseconds (model building included) with an `incomplete` result. Default: no limit. */
  readonly timeLimitMs?: number;
  /** Called about once a second while the search runs (not at all for searches under a second). */
  readonly onProgress?: (progress: VerificationProgress) => void;
  /** @internal The task machine to model (default: the runtime's); mutation tests of the verifier change it. */
  readonly taskMachine?: TaskLogic;
}

interface ResolvedCheck<F> extends NamedCheck<F> {
  readonly taskIndices: readonly number[] | undefined;
}

/**
 * Proves properties of a workflow before running it: explores every interleaving of task
 * outcomes (success, failure, timeout, cancellation, agent loss), retries included, under
 * the workflow's own retry, timeout and dependency-failure policies, following the real
 * task machine. Checks termination, deadlock freedom, dependency order, bounded retries,
 * capability coverage, your invariants and reachability goals. Each violation comes with
 * a shortest trace that `replayTrace` reproduces on the real runtime.
 *
 * @example
 * ```ts
 * const result = verifyWorkflow(
 *   { tasks: [{ taskId: 'fetch', retryPolicy: { maxRetries: 2 } }, { taskId: 'report', dependencies: ['fetch'] }] },
 *   { invariants: { 'report never fails': (s) => s.tasks.report?.state !== 'failed' } },
 * );
 * result.ok; // false: fetch can fail three times, then report fails
 * result.violations[0].trace; // [{ type: 'task_started', taskId: 'fetch', attempt: 0 }, ...]
 * ```
 * @throws ValidationError for a malformed workflow or options; WorkflowValidationError for
 * an unknown dependency, a cycle or a duplicate id.
 */
export function verifyWorkflow(workflow: Workflow, options: VerifyWorkflowOptions = {}): VerificationResult {
  const startedAt = performance.now();
  const timeLimitMs = options.timeLimitMs;
  if (timeLimitMs !== undefined && !(typeof timeLimitMs === 'number' && Number.isFinite(timeLimitMs) && timeLimitMs > 0)) {
    throw new ValidationError('verify options', [{ path: 'timeLimitMs', message: 'expected a positive number of milliseconds' }]);
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new ValidationError('verify options', [{ path: 'onProgress', message: 'expected a function' }]);
  }
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES;
  if (!Number.isInteger(maxStates) || maxStates < 1) {
    throw new ValidationError('verify options', [{ path: 'maxStates', message: 'expected a positive integer' }]);
  }
  // Started before the model is built: the time limit covers building it (agent capacity).
  const budget = new ExplorationBudget(maxStates, timeLimitMs, options.onProgress, startedAt);
  const parsed = parseWorkflow(workflow);
  const agents = collectAgents(parsed, options);
  const model = new WorkflowModel(parsed, agents, options.environment, options.taskMachine, () => budget.checkClock());
  const invariants = resolveChecks(options.invariants, 'invariants', model);
  const goals = resolveChecks(options.canReach, 'canReach', model);
  const properties = new Set<WorkflowProperty>(options.properties ?? WORKFLOW_PROPERTIES);
  for (const [i, property] of [...properties].entries()) {
    if (!WORKFLOW_PROPERTIES.includes(property)) {
      throw new ValidationError('verify options', [{ path: `properties.${i}`, message: `expected one of ${WORKFLOW_PROPERTIES.join(', ')}` }]);
    }
  }

  const requested = resolveReduction(options.reduction);
  // Which task gets a slot, and in which order independent tasks move, can only matter to a
  // check that reads states, or to a task machine other than the runtime's.
  const builtInOnly = invariants.length === 0 && goals.length === 0 && options.taskMachine === undefined;
  const reduction = { ...requested, verdictsOnly: requested.verdictsOnly && builtInOnly };
  const visible = visibleTasks(model, [...invariants, ...goals]);
  const system = new WorkflowStateSpaceModel(model, new WorkflowReduction(model, reduction, visible), budget);
  const notes: string[] = [];
  const violations: Violation[] = [];
  const witnesses: Witness[] = [];

  if (properties.has('capability_coverage')) {
    if (!model.capacity.declared) {
      notes.push('capability coverage not checked: no agents declared or registered (every task is assumed to have one)');
    } else {
      for (const t of model.tasks) {
        if (model.capacity.coverable[t.index]) continue;
        violations.push({
          property: 'capability_coverage',
          message: `no agent has all of [${t.spec.requiredCapabilities.join(', ')}] needed by task '${t.taskId}'`,
          taskIds: [t.taskId],
          trace: [],
        });
      }
    }
  }

  // Properties of single states are judged as states are found (breadth-first: the first
  // hit has a shortest trace); they remember the state index and build the trace after.
  const localHits = new Map<string, { index: number; property: WorkflowProperty; message: string; taskId: string }>();
  const invariantHits: { check: ResolvedCheck<WorkflowInvariant>; index: number; message: string }[] = [];
  const goalHits = new Map<ResolvedCheck<WorkflowGoal>, number>();
  const checkLocal = properties.has('dependency_order') || properties.has('bounded_retries');
  const onState = (encoded: EncodedState, index: number) => {
    if (checkLocal) {
      for (const t of model.tasks) {
        const violation = t.automaton.state(encoded.charCodeAt(t.index)).violation;
        if (!violation || !properties.has(violation.property)) continue;
        const key = `${violation.property}|${t.taskId}`;
        if (!localHits.has(key)) localHits.set(key, { index, property: violation.property, message: violation.message, taskId: t.taskId });
      }
    }
    if (invariants.length === 0 && goals.length === 0) return;
    const view = model.view(decodeState(encoded));
    for (const invariant of invariants) {
      if (invariantHits.some((h) => h.check === invariant)) continue;
      const message = evaluateInvariant(invariant, view);
      if (message !== null) invariantHits.push({ check: invariant, index, message });
    }
    for (const goal of goals) {
      if (!goalHits.has(goal) && evaluateGoal(goal, view)) goalHits.set(goal, index);
    }
  };

  const space = exploreStateSpace(system, { maxStates, budget, recordEdges: properties.has('termination'), onState });

  for (const hit of localHits.values()) {
    violations.push({
      property: hit.property,
      message: `task '${hit.taskId}' ${hit.message}`,
      taskIds: [hit.taskId],
      trace: system.traceTo(space, hit.index),
    });
  }
  if (properties.has('deadlock') && space.deadlocks.length > 0) {
    const first = space.deadlocks[0] as number;
    const stuck = describeStuck(model, decodeState(space.states[first] as EncodedState));
    const more = space.deadlocks.length > 1 ? ` (${space.deadlocks.length} deadlocked states found; this is the first met, breadth first in the explored graph)` : '';
    violations.push({
      property: 'deadlock',
      message: `nothing can happen by itself but the workflow is unfinished: ${stuck.text}${more}`,
      taskIds: stuck.taskIds,
      trace: system.traceTo(space, first),
    });
  }
  if (properties.has('termination')) {
    const cannotFinish = space.cannotReachFinal();
    if (cannotFinish === undefined) notes.push('termination not decided: the exploration is incomplete');
    else if (cannotFinish.length > 0) {
      const first = cannotFinish[0] as number;
      const stuck = describeStuck(model, decodeState(space.states[first] as EncodedState), true);
      violations.push({
        property: 'termination',
        message: `from this state no run finishes every task: ${stuck.text}`,
        taskIds: stuck.taskIds,
        trace: system.traceTo(space, first),
      });
    }
  }
  for (const hit of invariantHits) {
    violations.push({ property: 'invariant', name: hit.check.name, message: hit.message, trace: system.traceTo(space, hit.index) });
  }
  for (const goal of goals) {
    const index = goalHits.get(goal);
    if (index !== undefined) witnesses.push({ goal: goal.name, trace: system.traceTo(space, index) });
    else if (space.complete) {
      violations.push({ property: 'reachability', name: goal.name, message: `no reachable state satisfies '${goal.name}'`, trace: [] });
    } else notes.push(`goal '${goal.name}' not reached in the explored states`);
  }

  const checked: PropertyName[] = WORKFLOW_PROPERTIES.filter((p) => properties.has(p) && (p !== 'capability_coverage' || model.capacity.declared));
  if (invariants.length > 0) checked.push('invariant');
  if (goals.length > 0) checked.push('reachability');
  if (reduction.verdictsOnly) {
    notes.push(
      "only built-in properties: one way of filling free slots per step (priority lane, then workflow order, not the runtime's queue order) and one task's steps per state explored; verdicts are those of the full model, traces are shortest in the reduced graph; add an invariant or goal to explore every state",
    );
  } else if (model.tracksQueue) {
    notes.push(
      model.capacity.pooled
        ? 'scarce agents: slots filled as the orchestrator does, in its queue order (priority lane, then order of joining the queue); assumes the balancer gives a waiting task any capable agent with room when there is one (every scoring balancer does; a choosing balancer that declines is not modelled)'
        : "agents with different capabilities: each running task's agent is tracked and every capable agent with room is explored for each dispatch, in the queue order (contains every scoring balancer's pick; a choosing balancer that declines is not modelled)",
    );
    if (reduction.partialOrder) notes.push('partial-order reduction only in states where no task can wait for a slot: the agents cannot run every task at once');
    if (reduction.symmetry) notes.push('symmetry reduction off: interchangeable tasks differ by their places in the queue');
  }
  if (space.size === 0 && budget.exhausted !== undefined) {
    notes.push('the budget ran out before the first state was complete (building the model, or filling the agents after submission): nothing was explored');
  }
  return buildResult({
    stoppedBy: budget.exhausted,
    work: budget.work,
    complete: space.complete,
    statesExplored: space.size,
    transitions: space.transitions,
    violations,
    witnesses,
    checked,
    notes,
    startedAt,
    now: performance.now(),
  });
}

function resolveReduction(option: boolean | ReductionOptions | undefined): ResolvedReduction {
  if (option === false) return { partialOrder: false, symmetry: false, forgetFinished: false, verdictsOnly: false };
  const o = option === true || option === undefined ? {} : option;
  return {
    partialOrder: o.partialOrder ?? true,
    symmetry: o.symmetry ?? true,
    forgetFinished: o.forgetFinished ?? true,
    verdictsOnly: o.verdictsOnly ?? true,
  };
}

/** Agents declared by the workflow, passed in options, or registered on an orchestrator. */
function collectAgents(workflow: ParsedWorkflow, options: VerifyWorkflowOptions): CapacityAgent[] | undefined {
  const sources: CapacityAgent[][] = [];
  if (workflow.agents) sources.push([...workflow.agents]);
  if (options.agents) sources.push(parseAgents(options.agents, 'verify options', 'agents'));
  if (options.orchestrator) {
    const orchestrator = options.orchestrator;
    sources.push(
      Object.keys(orchestrator.getStats().agents).flatMap((agentId) => {
        const view = orchestrator.getAgent(agentId);
        return view ? [{ agentId, capabilities: [...view.capabilities], maxConcurrentTasks: view.maxConcurrentTasks }] : [];
      }),
    );
  }
  if (sources.length === 0) return undefined;
  const byId = new Map<string, CapacityAgent>();
  for (const agent of sources.flat()) if (!byId.has(agent.agentId)) byId.set(agent.agentId, agent);
  return [...byId.values()];
}

function resolveChecks<F>(checks: Checks<F> | undefined, path: string, model: WorkflowModel): ResolvedCheck<F>[] {
  return namedChecks(checks, path).map((check) => {
    const taskIndices = check.reads?.map((taskId, k) => {
      const index = model.taskIndex(taskId);
      if (index < 0) throw new ValidationError('verify options', [{ path: `${path}.${check.name}.reads.${k}`, message: `unknown task '${taskId}'` }]);
      return index;
    });
    return { ...check, taskIndices };
  });
}

function visibleTasks(model: WorkflowModel, checks: readonly { taskIndices: readonly number[] | undefined }[]): boolean[] | true {
  const visible = model.tasks.map(() => false);
  for (const check of checks) {
    if (check.taskIndices === undefined) return true;
    for (const i of check.taskIndices) visible[i] = true;
  }
  return visible;
}

/**
 * Why a state cannot finish: tasks no agent can take (queued now, or, for termination,
 * any unfinished one) and the tasks waiting behind them.
 */
function describeStuck(model: WorkflowModel, state: readonly number[], forTermination = false): { text: string; taskIds: string[] } {
  const parts: string[] = [];
  const taskIds: string[] = [];
  for (const t of model.tasks) {
    if (model.capacity.coverable[t.index]) continue;
    const phase = model.phase(state, t.index);
    if (phase === 'queued' || (forTermination && !t.automaton.state(state[t.index] as number).final)) {
      taskIds.push(t.taskId);
      parts.push(`'${t.taskId}' is ${phase} and no agent has all of [${t.spec.requiredCapabilities.join(', ')}]`);
    }
  }
  const waiting = model.tasks.filter((t) => model.phase(state, t.index) === 'waiting').map((t) => `'${t.taskId}'`);
  if (waiting.length > 0 && taskIds.length > 0 && !forTermination) parts.push(`waiting on them: ${waiting.join(', ')}`);
  if (parts.length === 0) {
    const unfinished = model.tasks.filter((t) => !t.automaton.state(state[t.index] as number).final).map((t) => `'${t.taskId}'`);
    parts.push(`unfinished: ${unfinished.join(', ')}`);
  }
  return { text: parts.join('; '), taskIds };
}
