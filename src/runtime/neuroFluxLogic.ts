import { assign, fromPromise, type AnyActorRef, type EventObject, type StateMachine } from 'xstate';
import { neuroFluxMachineOf } from '../../machines/neuroFlux.machine';
import type { OrchestratorStats } from '../orchestration/taskOrchestrator';
import { NotRunningError, ValidationError } from '../errors';
import { isFromChildActor } from '../kernel/componentEvents';
import { EmbeddedRuntime, isRuntimeEvent, notRunning } from './embeddedRuntime';
import type { NeuroFlux, NeuroFluxOptions } from './createNeuroFlux';
import type { NeuroFluxEvent, NeuroFluxRejectedEvent } from './neuroFluxEvents';

/** The runtime of each `neuroFluxLogic` actor, by the actor. */
const runtimes = new WeakMap<AnyActorRef, EmbeddedRuntime>();
/** Why the runtime of each actor that could not start did not (the `cause` of its refusals). */
const startErrors = new WeakMap<AnyActorRef, unknown>();

const providedLogic = neuroFluxMachineOf<OrchestratorStats, NeuroFluxOptions | undefined>().provide({
  actors: {
    startRuntime: fromPromise<void>(async ({ self }) => {
      // The invoked promise's parent is the `neuroFluxLogic` actor: the runtime's root.
      const root = self._parent;
      if (!root) throw new NotRunningError('embedded NeuroFlux', { reason: 'it has no actor to root it' });
      const { options } = (root.getSnapshot() as { context: { options: NeuroFluxOptions | undefined } }).context;
      const runtime = new EmbeddedRuntime(root, options);
      runtimes.set(root, runtime);
      await runtime.started;
    }),
  },
  actions: {
    runCommand: ({ self }, { command }) => {
      const runtime = runtimes.get(self);
      // Never silent: `running` without a runtime cannot happen, but a command there is refused all the same.
      if (runtime) runtime.run(command as unknown as NeuroFluxEvent);
      else refuse(self, command.type, notRunning('restored', undefined));
    },
    refuseCommand: ({ self }, { command, why }) => {
      refuse(self, command.type, notRunning(why, startErrors.get(self)));
    },
    refuseEvent: ({ self, event }) => {
      const type = (event as { type?: unknown }).type;
      refuse(
        self,
        null,
        new ValidationError('NeuroFlux event', [
          { path: 'type', message: `'${String(type)}' is not a command of NeuroFlux (neuroflux.registerAgent, neuroflux.submitWorkflow, neuroflux.cancelTask)` },
        ]),
      );
    },
    reportStartFailure: ({ self }, { error }) => {
      startErrors.set(self, error);
      refuse(self, null, error instanceof Error ? error : new NotRunningError('embedded NeuroFlux', { reason: 'it could not start', cause: error }));
    },
    refreshStats: assign({ stats: ({ self }) => runtimes.get(self)?.stats() ?? null }),
  },
  guards: {
    fromChildActor: ({ event }) => isFromChildActor(event),
    fromRuntime: ({ event }) => isRuntimeEvent(event as { key?: unknown }),
  },
});

// Live options (functions, transports with cycles, secrets) and the runtime are not persisted:
// a persisted NeuroFlux comes back in `restored`, refusing every command, instead of a
// `running` with no runtime behind it.
const persistWhole = providedLogic.getPersistedSnapshot.bind(providedLogic);
providedLogic.getPersistedSnapshot = (snapshot, options) =>
  persistWhole({ ...snapshot, value: 'restored', context: { ...snapshot.context, options: undefined, pending: [] }, children: {} }, options);

/**
 * NeuroFlux as XState actor logic, to `invoke` or `spawnChild` in your own machine. Its input
 * is the options of `createNeuroFlux`, checked the same way (a bad one is refused with the same
 * `ValidationError`, sent to the parent as `neuroflux.rejected`; the actor stays, refusing
 * every command with a `NotRunningError` whose `cause` is the start's error).
 *
 * It takes `neuroflux.registerAgent`, `neuroflux.submitWorkflow` and `neuroflux.cancelTask`
 * ({@link NeuroFluxEvent}, its event type); commands sent while the runtime starts (stores,
 * transports) wait and run in order. Any other event is refused with a `ValidationError`
 * naming `type`. It sends its parent `neuroflux.taskFinished` for every finished task,
 * `neuroflux.workflowFinished` once every task of a submitted workflow is final, and
 * `neuroflux.rejected` with the error the API would throw for a command it refuses
 * ({@link NeuroFluxParentEvent}); it never stops or throws into the parent on bad input. Its
 * snapshot's `context.stats` is the orchestrator's stats.
 *
 * Its task, agent and conflict actors live in the parent's actor system: an `inspect`
 * observer given to your `createActor` sees them. The clock is the system's (the one given to
 * your `createActor`; a `clock` option may only repeat it). Stopping the parent stops the
 * runtime's actors at once; transports and stores close in the background. A NeuroFlux
 * embedded while another is live in the same system prefixes its system ids
 * (`neuroflux-1/task:<id>`). A second `spawnChild` with the id of a live NeuroFlux stops the
 * first one (XState forgets it), which tells the parent `neuroflux.rejected`.
 *
 * Persisting the parent (`getPersistedSnapshot`) persists no runtime: the options and the
 * runtime's work are left out, and a restored NeuroFlux refuses every command with a
 * `NotRunningError`. Start a new one (enter its invoking state again) to run work.
 *
 * @example
 * ```ts
 * const app = setup({ actors: { neuroflux: neuroFluxLogic } }).createMachine({
 *   invoke: { id: 'nf', src: 'neuroflux', input: { name: 'embedded' } },
 *   entry: [
 *     sendTo('nf', { type: 'neuroflux.registerAgent', agentId: 'a', capabilities: ['x'], execute: async () => 'done' }),
 *     sendTo('nf', { type: 'neuroflux.submitWorkflow', workflowId: 'w', tasks: [{ taskId: 't', requiredCapabilities: ['x'] }] }),
 *   ],
 *   on: { 'neuroflux.workflowFinished': { actions: ({ event }) => console.log(event.records) } },
 * });
 * createActor(app).start();
 * ```
 */
export const neuroFluxLogic = providedLogic as unknown as WithEvents<typeof providedLogic, NeuroFluxEvent>;

/** A machine type with its accepted events narrowed to `TEvent` (the internal ones are refused from outside at run time). */
type WithEvents<M, TEvent extends EventObject> =
  M extends StateMachine<infer C, infer _E, infer Ch, infer A, infer Act, infer G, infer D, infer SV, infer T, infer I, infer O, infer EE, infer Me, infer SS, infer TM>
    ? StateMachine<C, TEvent, Ch, A, Act, G, D, SV, T, I, O, EE, Me, SS, TM>
    : never;

/** Sends `neuroflux.rejected` to the parent of `self`. */
function refuse(self: AnyActorRef, command: NeuroFluxEvent['type'] | null, error: Error): void {
  self._parent?.send({ type: 'neuroflux.rejected', error, command } satisfies NeuroFluxRejectedEvent);
}

export type NeuroFluxLogic = typeof neuroFluxLogic;

/**
 * The runtime of a `neuroFluxLogic` actor (undefined before it is created), for this
 * package's tests and tools: not exported from the package. @internal
 */
export function embeddedNeuroFluxOf(actor: AnyActorRef): NeuroFlux | undefined {
  return runtimes.get(actor)?.nf;
}
