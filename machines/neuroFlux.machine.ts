import { assign, enqueueActions, fromPromise, setup } from 'xstate';

/** The commands an embedded NeuroFlux takes from its parent. */
export type NeuroFluxCommandType = 'neuroflux.registerAgent' | 'neuroflux.submitWorkflow' | 'neuroflux.cancelTask';

/**
 * A command as the chart sees it: its type only. What it carries is the runtime's to check
 * (`NeuroFluxEvent` in `src/runtime/neuroFluxEvents.ts` says what each one holds).
 */
export interface NeuroFluxCommand {
  readonly type: NeuroFluxCommandType;
  readonly [field: string]: unknown;
}

/**
 * Told by the runtime that its figures changed (a task moved): the snapshot's `stats` is read
 * again. `key` is the runtime's own: the same event from anyone else is refused.
 */
export interface NeuroFluxStatsChangedEvent {
  readonly type: 'neuroflux.statsChanged';
  readonly key?: unknown;
}

/** Why a command finds no runtime: it could not start, or this actor was restored from a persisted snapshot (the runtime is not persisted). */
export type NeuroFluxNoRuntimeReason = 'startFailed' | 'restored';

/**
 * NeuroFlux as an actor of a user's system: the chart of an embedded runtime's life.
 *
 * `starting` starts the runtime (its stores and transports may take a while); commands that
 * arrive meanwhile wait in `pending`, in order, and run as soon as it is `running`. A runtime
 * that cannot start (bad options, a store that does not open) is `failed`: it refuses every
 * command instead of stopping, so a bad input never stops or throws into the parent.
 * Stopping the actor (its parent stops, or leaves the invoking state) stops the runtime.
 * `restored` is where a persisted snapshot comes back (`getPersistedSnapshot` of the logic
 * writes it so: live options and the runtime are not persisted): it refuses every command too.
 * Any other event is refused (`refuseUnknown`), except crashes and finishes of its own
 * component actors and the runtime's own `statsChanged` (guards, provided from `src/`).
 *
 * Generic over the stats and input (options) types so that this file stays pure (the
 * runtime's types live in `src/`); `src/runtime/neuroFluxLogic.ts` provides every effect.
 */
export function neuroFluxMachineOf<TStats, TInput = unknown>() {
  return setup({
    types: {
      input: {} as TInput,
      context: {} as {
        /** As given: checked by the runtime when it is created. */
        readonly options: TInput;
        /** The runtime's name (inspectors read it from the root's context). */
        readonly name: string;
        /** Component actors that crashed into this root (their own supervisors missed them). */
        crashes: number;
        /** The orchestrator's stats, read again whenever the runtime says they changed. */
        stats: TStats | null;
        /** Commands received while `starting`, run in order once `running`. */
        pending: readonly NeuroFluxCommand[];
      },
      // Component actors are created with this actor as parent (not spawned): their crashes arrive as events.
      events: {} as
        | NeuroFluxCommand
        | NeuroFluxStatsChangedEvent
        | { readonly type: `xstate.error.actor.${string}`; readonly error: unknown }
        | { readonly type: `xstate.done.actor.${string}` },
    },
    actors: {
      /** Creates the runtime rooted at this actor and starts it. */
      startRuntime: fromPromise<void>(async () => {}),
    },
    actions: {
      /** Runs one command on the running runtime; a refused one is told to the parent. */
      runCommand: (_, _params: { command: NeuroFluxCommand }) => {},
      /** Tells the parent that a command was refused (the runtime is not running). */
      refuseCommand: (_, _params: { command: NeuroFluxCommand; why: NeuroFluxNoRuntimeReason }) => {},
      /** Tells the parent that an event is none of the commands (or an internal one forged from outside). */
      refuseEvent: () => {},
      /** Tells the parent why the runtime could not start. */
      reportStartFailure: (_, _params: { error: unknown }) => {},
      /** Reads the orchestrator's stats into the context. */
      refreshStats: () => {},
      /** Keeps a command received while `starting`, after those before it. */
      queueCommand: assign({ pending: ({ context, event }) => [...context.pending, event as NeuroFluxCommand] }),
    },
    guards: {
      /** The event was sent by one of this actor's own child actors (not forged by the parent). */
      fromChildActor: () => false,
      /** The event was sent by this actor's runtime. */
      fromRuntime: () => false,
    },
  }).createMachine({
    id: 'neuroflux',
    context: ({ input }) => ({
      options: input,
      name: nameIn(input),
      crashes: 0,
      stats: null,
      pending: [],
    }),
    initial: 'starting',
    // Component actors handle their children's crashes; anything that still reaches the
    // root is counted rather than stopping the runtime (and the user's system with it).
    on: {
      'xstate.error.actor.*': [{ guard: 'fromChildActor', actions: assign({ crashes: ({ context }) => context.crashes + 1 }) }, { actions: 'refuseEvent' }],
      // A component actor that reached its final state: nothing to do.
      'xstate.done.actor.*': [{ guard: 'fromChildActor' }, { actions: 'refuseEvent' }],
      'neuroflux.statsChanged': [{ guard: 'fromRuntime', actions: 'refreshStats' }, { actions: 'refuseEvent' }],
      '*': { actions: 'refuseEvent' },
    },
    states: {
      starting: {
        invoke: {
          id: 'runtime',
          src: 'startRuntime',
          onDone: 'running',
          onError: { target: 'failed', actions: { type: 'reportStartFailure', params: ({ event }) => ({ error: event.error }) } },
        },
        // Not dropped: a parent that registers agents and submits right after spawning must
        // not race with the runtime's start.
        on: {
          'neuroflux.registerAgent': { actions: 'queueCommand' },
          'neuroflux.submitWorkflow': { actions: 'queueCommand' },
          'neuroflux.cancelTask': { actions: 'queueCommand' },
        },
      },
      running: {
        entry: [
          'refreshStats',
          enqueueActions(({ context, enqueue }) => {
            for (const command of context.pending) enqueue({ type: 'runCommand', params: { command } });
            enqueue.assign({ pending: [] });
          }),
        ],
        on: {
          'neuroflux.registerAgent': { actions: { type: 'runCommand', params: ({ event }) => ({ command: event }) } },
          'neuroflux.submitWorkflow': { actions: { type: 'runCommand', params: ({ event }) => ({ command: event }) } },
          'neuroflux.cancelTask': { actions: { type: 'runCommand', params: ({ event }) => ({ command: event }) } },
        },
      },
      failed: {
        entry: enqueueActions(({ context, enqueue }) => {
          for (const command of context.pending) enqueue({ type: 'refuseCommand', params: { command, why: 'startFailed' as const } });
          enqueue.assign({ pending: [] });
        }),
        on: {
          'neuroflux.registerAgent': { actions: { type: 'refuseCommand', params: ({ event }) => ({ command: event, why: 'startFailed' as const }) } },
          'neuroflux.submitWorkflow': { actions: { type: 'refuseCommand', params: ({ event }) => ({ command: event, why: 'startFailed' as const }) } },
          'neuroflux.cancelTask': { actions: { type: 'refuseCommand', params: ({ event }) => ({ command: event, why: 'startFailed' as const }) } },
        },
      },
      // Only entered from a persisted snapshot (never by a transition).
      restored: {
        on: {
          'neuroflux.registerAgent': { actions: { type: 'refuseCommand', params: ({ event }) => ({ command: event, why: 'restored' as const }) } },
          'neuroflux.submitWorkflow': { actions: { type: 'refuseCommand', params: ({ event }) => ({ command: event, why: 'restored' as const }) } },
          'neuroflux.cancelTask': { actions: { type: 'refuseCommand', params: ({ event }) => ({ command: event, why: 'restored' as const }) } },
        },
      },
    },
  });
}

/** The `name` option when it is a string (the runtime refuses other values when it starts). */
function nameIn(input: unknown): string {
  const name = typeof input === 'object' && input !== null ? (input as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : 'neuroflux';
}

/** The chart, for diagrams and model checking (the runtime's types are `unknown` here). */
export const neuroFluxMachine = neuroFluxMachineOf<unknown>();
export type NeuroFluxMachine = typeof neuroFluxMachine;
