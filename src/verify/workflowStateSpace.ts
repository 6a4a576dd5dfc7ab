import type { ExplorationBudget } from './explorationBudget';
import type { WorkflowReduction } from './reduction';
import type { Expansion, StateSpace, StateSpaceModel } from './stateSpace';
import { TaskEventKind } from './taskAutomaton';
import type { TraceStep } from './trace';
import { isProgressKind, type ModelOutcome, type ModelTask, type WorkflowModel } from './workflowModel';

/**
 * A state as stored by the explorer: one UTF-16 code unit per task (its local state id).
 * Strings are compact, hash fast as map keys and decode in a loop.
 * @internal
 */
export type EncodedState = string;

/** Read once: a global read per state is slow in a vm context (jest), see agentCapacity.ts. */
const fromCharCode = String.fromCharCode;

/** @internal */
export function encodeState(state: readonly number[]): EncodedState {
  return fromCharCode(...state);
}

/** @internal */
export function decodeState(encoded: EncodedState): number[] {
  const state: number[] = [];
  for (let i = 0; i < encoded.length; i++) state.push(encoded.charCodeAt(i));
  return state;
}

/**
 * Edge labels: `task * 16 + kind` for a step, `-1 - k` for the k-th initial state. A label
 * plus the parent state determines the step; the trace is rebuilt from them on demand.
 */
const KIND_BITS = 16;

/**
 * The workflow model seen through its reduction, as the explorer's transition system.
 * @internal
 */
export class WorkflowStateSpaceModel implements StateSpaceModel<EncodedState, number> {
  constructor(
    readonly model: WorkflowModel,
    readonly reduction: WorkflowReduction,
    /** Spent by the scheduling choices of each step (the explorer spends it on states). */
    readonly budget?: ExplorationBudget,
  ) {}

  initial(): Expansion<EncodedState, number>[] {
    return this.model.initial(this.budget).map((outcome, k) => ({ label: -1 - k, state: encodeState(outcome.state), progress: true }));
  }

  key(state: EncodedState): string {
    if (this.reduction.identity) return state;
    return this.reduction.key(decodeState(state));
  }

  isFinal(state: EncodedState): boolean {
    // Read from the encoding: once per state found, and decoding allocates a task-long array.
    const tasks = this.model.tasks;
    for (let i = 0; i < tasks.length; i++) {
      if (!(tasks[i] as ModelTask).automaton.state(state.charCodeAt(i)).final) return false;
    }
    return true;
  }

  expand(encoded: EncodedState): Expansion<EncodedState, number>[] {
    const state = decodeState(encoded);
    const steps: Expansion<EncodedState, number>[] = [];
    for (const choice of this.reduction.ample(state)) {
      for (const kind of choice.kinds) {
        if (this.budget?.exhausted) return steps;
        const progress = isProgressKind(kind);
        for (const outcome of this.model.apply(state, choice.task, kind, this.budget)) {
          const encoded = encodeState(outcome.state);
          const key = this.reduction.identity ? encoded : this.reduction.key(outcome.state);
          steps.push({ label: choice.task * KIND_BITS + kind, state: encoded, progress, key });
        }
      }
    }
    return steps;
  }

  /** The trace (environment steps and the dispatches they caused) from the start to state `index`. */
  traceTo(space: StateSpace<EncodedState, number>, index: number): TraceStep[] {
    const { labels, states } = space.pathTo(index);
    const trace: TraceStep[] = [];
    const first = labels[0] as number;
    const initial = this.model.initial()[-1 - first] as ModelOutcome;
    this.pushStarts(trace, initial);
    for (let i = 1; i < labels.length; i++) {
      const label = labels[i] as number;
      const parent = decodeState(states[i - 1] as EncodedState);
      const target = states[i] as EncodedState;
      const task = Math.floor(label / KIND_BITS);
      const kind = (label % KIND_BITS) as TaskEventKind;
      trace.push(this.model.traceStep(parent, task, kind));
      const outcome = this.model.apply(parent, task, kind).find((o) => encodeState(o.state) === target) as ModelOutcome;
      this.pushStarts(trace, outcome);
    }
    return trace;
  }

  private pushStarts(trace: TraceStep[], outcome: ModelOutcome): void {
    for (const task of outcome.started) trace.push(this.model.traceStep(outcome.state, task, TaskEventKind.DISPATCH));
  }
}
