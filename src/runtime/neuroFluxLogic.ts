import { assign, fromPromise, type AnyActorRef } from 'xstate';
import { neuroFluxMachineOf } from '../../machines/neuroFlux.machine';
import type { OrchestratorStats } from '../orchestration/taskOrchestrator';
import { EmbeddedRuntime, notRunning } from './embeddedRuntime';
import type { NeuroFluxOptions } from './createNeuroFlux';
import type { NeuroFluxEvent } from './neuroFluxEvents';

/** The runtime of each `neuroFluxLogic` actor, by the actor. */
const runtimes = new WeakMap<AnyActorRef, EmbeddedRuntime>();

/**
 * NeuroFlux as XState actor logic, to `invoke` or `spawnChild` in your own machine. Its input
 * is the options of `createNeuroFlux`, checked the same way (a bad one is refused with the same
 * `ValidationError`, sent to the parent as `neuroflux.rejected`; the actor stays, refusing
 * every command).
 *
 * It takes `neuroflux.registerAgent`, `neuroflux.submitWorkflow` and `neuroflux.cancelTask`
 * ({@link NeuroFluxEvent}); commands sent while the runtime starts (stores, transports) wait
 * and run in order. It sends its parent `neuroflux.taskFinished` for every finished task,
 * `neuroflux.workflowFinished` once every task of a submitted workflow is final, and
 * `neuroflux.rejected` with the error the API would throw for a command it refuses
 * ({@link NeuroFluxParentEvent}); it never stops or throws into the parent on bad input. Its
 * snapshot's `context.stats` is the orchestrator's stats.
 *
 * Its task, agent and conflict actors live in the parent's actor system: an `inspect`
 * observer given to your `createActor` sees them. The clock is the system's (the one given to
 * your `createActor`; a `clock` option may only repeat it). Stopping the parent stops the
 * runtime's actors at once; transports and stores close in the background. A second
 * NeuroFlux in the same system prefixes its system ids (`neuroflux-1/task:<id>`).
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
export const neuroFluxLogic = neuroFluxMachineOf<OrchestratorStats, NeuroFluxOptions | undefined>().provide({
  actors: {
    startRuntime: fromPromise<void>(async ({ self }) => {
      // The invoked promise's parent is the `neuroFluxLogic` actor: the runtime's root.
      const root = self._parent;
      if (!root) throw notRunning(undefined);
      const { options } = (root.getSnapshot() as { context: { options: NeuroFluxOptions | undefined } }).context;
      const runtime = new EmbeddedRuntime(root, options);
      runtimes.set(root, runtime);
      await runtime.started;
    }),
  },
  actions: {
    runCommand: ({ self }, { command }) => {
      const runtime = runtimes.get(self);
      if (runtime) runtime.run(command as unknown as NeuroFluxEvent);
    },
    refuseCommand: ({ self }, { command }) => {
      const runtime = runtimes.get(self);
      if (runtime) runtime.reject(command, notRunning(undefined));
      else self._parent?.send({ type: 'neuroflux.rejected', error: notRunning(undefined), command: command.type });
    },
    reportStartFailure: ({ self }, { error }) => {
      const runtime = runtimes.get(self);
      if (runtime) runtime.reject(null, error);
      else self._parent?.send({ type: 'neuroflux.rejected', error: error instanceof Error ? error : notRunning(error), command: null });
    },
    refreshStats: assign({ stats: ({ self }) => runtimes.get(self)?.stats() ?? null }),
  },
});

export type NeuroFluxLogic = typeof neuroFluxLogic;
