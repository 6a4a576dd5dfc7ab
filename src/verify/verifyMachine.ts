import { performance } from 'node:perf_hooks';
import {
  __unsafe_getAllOwnEventDescriptors,
  initialTransition,
  transition,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventFromLogic,
  type EventObject,
  type InputFrom,
  type SnapshotFrom,
  type StateValue,
} from 'xstate';
import { ValidationError } from '../errors';
import { exploreStateSpace, type Expansion, type StateSpaceModel } from './stateSpace';
import { buildResult, type PropertyName, type VerificationResult, type Violation, type Witness } from './verificationResult';
import { evaluateGoal, evaluateInvariant, namedChecks, type Checks } from './checks';
import { describeError } from '../describeError';

/** An invariant of a machine: `true` when it holds, `false` or a message when it does not. */
export type MachineInvariant<TSnapshot = AnyMachineSnapshot> = (snapshot: TSnapshot) => boolean | string;

/** A machine state to look for. */
export type MachineGoal<TSnapshot = AnyMachineSnapshot> = (snapshot: TSnapshot) => boolean;

/** Options of {@link verifyMachine}. */
export interface VerifyMachineOptions<TMachine extends AnyStateMachine = AnyStateMachine> {
  /** Input of the machine's initial state. */
  readonly input?: InputFrom<TMachine>;
  /**
   * Events to try, with their payloads. In each state every event type the state handles
   * is tried: with the events of that type listed here, or as `{ type }` alone (as
   * `xstate/graph` does). A function returns exactly the events that can happen in a
   * state; types it leaves out are not tried, except XState's own. Timers
   * (`xstate.after.*`) and invoked actors' `xstate.done.actor.*` / `xstate.error.actor.*`
   * are ordinary events: list a done event with each `output` worth exploring.
   */
  readonly events?: readonly EventFromLogic<TMachine>[] | ((snapshot: SnapshotFrom<TMachine>) => readonly EventFromLogic<TMachine>[]);
  readonly invariants?: Checks<MachineInvariant<SnapshotFrom<TMachine>>>;
  readonly canReach?: Checks<MachineGoal<SnapshotFrom<TMachine>>>;
  /** Built-in properties. Default `['deadlock']`; add `termination` for machines meant to end. */
  readonly properties?: readonly ('deadlock' | 'termination')[];
  /** What makes two snapshots the same state. Default: JSON of `value` and `context`. */
  readonly serializeState?: (snapshot: SnapshotFrom<TMachine>) => string;
  /** Stop after this many distinct states with an `incomplete` result. Default 100 000. */
  readonly maxStates?: number;
}

/** Default bound for machines: contexts with counters never end, and snapshots are bigger than workflow states. */
export const DEFAULT_MACHINE_MAX_STATES = 100_000;

/** What {@link verifyMachine} returns: the verdict, and the state values reached. */
export interface MachineVerificationResult<TEvent extends EventObject = EventObject> extends VerificationResult<TEvent> {
  /** Distinct state values reached, in breadth-first order. */
  readonly stateValues: readonly StateValue[];
}

/**
 * Explores any XState machine with XState's pure `transition` (no actor runs, no effect
 * executes): every reachable state under the given events, deadlocks (an active state in
 * which no offered event is enabled), your invariants, reachability goals and optionally
 * termination, each violation with the shortest event sequence that shows it.
 *
 * @example
 * ```ts
 * const result = verifyMachine(taskMachine, {
 *   input,
 *   events: [{ type: 'AGENT_ASSIGNED', agentId: 'a', at: 0 }, { type: 'EXECUTION_FAILED', attempt: 0, error: 'x', at: 0 }],
 *   invariants: { 'bounded retries': (s) => s.context.retryCount <= s.context.maxRetries },
 * });
 * result.ok; // true
 * ```
 */
export function verifyMachine<TMachine extends AnyStateMachine>(
  machine: TMachine,
  options: VerifyMachineOptions<TMachine> = {},
): MachineVerificationResult<EventFromLogic<TMachine>> {
  type Snapshot = SnapshotFrom<TMachine>;
  type Event = EventFromLogic<TMachine>;
  const startedAt = performance.now();
  const maxStates = options.maxStates ?? DEFAULT_MACHINE_MAX_STATES;
  if (!Number.isInteger(maxStates) || maxStates < 1) {
    throw new ValidationError('verify options', [{ path: 'maxStates', message: 'expected a positive integer' }]);
  }
  const properties = new Set(options.properties ?? ['deadlock']);
  for (const [i, property] of [...properties].entries()) {
    if (property !== 'deadlock' && property !== 'termination') {
      throw new ValidationError('verify options', [{ path: `properties.${i}`, message: 'expected deadlock or termination' }]);
    }
  }
  const invariants = namedChecks(options.invariants, 'invariants');
  const goals = namedChecks(options.canReach, 'canReach');
  const serialize = options.serializeState ?? ((s: Snapshot) => serializeSnapshot(s as AnyMachineSnapshot));
  const notes: string[] = [];
  const failures = new Set<string>();

  const eventsFor = (snapshot: Snapshot): Event[] => {
    const exact = typeof options.events === 'function';
    const given = typeof options.events === 'function' ? options.events(snapshot) : (options.events ?? []);
    const types = (__unsafe_getAllOwnEventDescriptors(snapshot as AnyMachineSnapshot) as string[]).filter((t) => !t.includes('*'));
    return types.flatMap((type) => {
      const matching = given.filter((e) => e.type === type);
      if (matching.length > 0) return matching;
      // A function says exactly which events can happen; timers and actor outcomes still
      // happen by themselves.
      return !exact || type.startsWith('xstate.') ? [{ type } as Event] : [];
    });
  };

  const model: StateSpaceModel<Snapshot, Event | undefined> = {
    initial: () => [{ label: undefined, state: initialTransition(machine, options.input as InputFrom<TMachine>)[0], progress: true }],
    key: serialize,
    isFinal: (snapshot) => (snapshot as AnyMachineSnapshot).status === 'done',
    expand: (snapshot) => {
      const steps: Expansion<Snapshot, Event>[] = [];
      if ((snapshot as AnyMachineSnapshot).status !== 'active') return steps;
      for (const event of eventsFor(snapshot)) {
        try {
          if (!(snapshot as AnyMachineSnapshot).can(event)) continue;
          const [next] = transition(machine, snapshot, event);
          steps.push({ label: event, state: next, progress: true });
        } catch (error) {
          // A guard or action that cannot handle a bare event: say so once, and skip it.
          const note = `event '${event.type}' could not be explored (${describeError(error)}); pass it with a payload in \`events\``;
          if (!failures.has(note)) {
            failures.add(note);
            notes.push(note);
          }
        }
      }
      return steps;
    },
  };

  const invariantHits: { name: string; index: number; message: string }[] = [];
  const goalHits = new Map<string, number>();
  const values = new Map<string, StateValue>();
  const space = exploreStateSpace(model, {
    maxStates,
    recordEdges: properties.has('termination'),
    onState: (snapshot, index) => {
      const value = (snapshot as AnyMachineSnapshot).value as StateValue;
      const valueKey = JSON.stringify(value);
      if (!values.has(valueKey)) values.set(valueKey, value);
      for (const invariant of invariants) {
        if (invariantHits.some((h) => h.name === invariant.name)) continue;
        const message = evaluateInvariant(invariant, snapshot);
        if (message !== null) invariantHits.push({ name: invariant.name, index, message });
      }
      for (const goal of goals) {
        if (!goalHits.has(goal.name) && evaluateGoal(goal, snapshot)) goalHits.set(goal.name, index);
      }
    },
  });

  const traceTo = (index: number): Event[] => space.pathTo(index).labels.slice(1) as Event[];
  const describe = (index: number) => JSON.stringify((space.states[index] as AnyMachineSnapshot).value);
  const violations: Violation<Event>[] = [];
  const witnesses: Witness<Event>[] = [];
  if (properties.has('deadlock') && space.deadlocks.length > 0) {
    const first = space.deadlocks[0] as number;
    const more = space.deadlocks.length > 1 ? ` (${space.deadlocks.length} deadlocked states found; this is the closest to the start)` : '';
    violations.push({ property: 'deadlock', message: `state ${describe(first)} is not final and no event is enabled${more}`, trace: traceTo(first) });
  }
  if (properties.has('termination')) {
    const stuck = space.cannotReachFinal();
    if (stuck === undefined) notes.push('termination not decided: the exploration is incomplete');
    else if (stuck.length > 0) {
      const first = stuck[0] as number;
      violations.push({ property: 'termination', message: `from state ${describe(first)} no final state can be reached`, trace: traceTo(first) });
    }
  }
  for (const hit of invariantHits) violations.push({ property: 'invariant', name: hit.name, message: hit.message, trace: traceTo(hit.index) });
  for (const goal of goals) {
    const index = goalHits.get(goal.name);
    if (index !== undefined) witnesses.push({ goal: goal.name, trace: traceTo(index) });
    else if (space.complete) violations.push({ property: 'reachability', name: goal.name, message: `no reachable state satisfies '${goal.name}'`, trace: [] });
    else notes.push(`goal '${goal.name}' not reached in the explored states`);
  }
  const checked: PropertyName[] = (['deadlock', 'termination'] as const).filter((p) => properties.has(p));
  if (invariants.length > 0) checked.push('invariant');
  if (goals.length > 0) checked.push('reachability');
  const result = buildResult<Event>({
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
  return { ...result, stateValues: [...values.values()] };
}

/** JSON of `value` and `context`, with actor references written as their ids. */
function serializeSnapshot(snapshot: AnyMachineSnapshot): string {
  return JSON.stringify({ value: snapshot.value as unknown, context: snapshot.context as unknown }, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && 'sessionId' in value && typeof (value as { send?: unknown }).send === 'function') {
      return `actor:${(value as { id?: string }).id ?? ''}`;
    }
    return value;
  });
}
