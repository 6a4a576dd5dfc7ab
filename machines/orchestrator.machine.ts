import { assign, fromPromise, setup } from 'xstate';

/** How an orchestrator starts: live at once, waiting for `activate()` (leader election), or never. */
export type OrchestratorRole = 'active' | 'standby' | 'disabled';

/** Input of the orchestrator actor. */
export interface OrchestratorMachineInput {
  role: OrchestratorRole;
}

/** What the orchestrator actor keeps: its role, counters (the records themselves are indexed in `src/`). */
export interface OrchestratorMachineContext {
  role: OrchestratorRole;
  tasksSubmitted: number;
  tasksFinished: number;
  schedulingRounds: number;
  registeredAgents: number;
  /** Why the last takeover failed (the orchestrator went back to `standby`); null when none did. */
  activationError: unknown;
}

/** Events of the orchestrator actor. */
export type OrchestratorMachineEvent =
  | { type: 'TASKS_SUBMITTED'; count: number }
  /** Tasks became ready or agents freed slots since the last round. */
  | { type: 'SCHEDULING_REQUESTED' }
  | { type: 'TASKS_FINISHED'; taskIds: readonly string[] }
  | { type: 'AGENT_REGISTERED'; agentId: string }
  | { type: 'AGENT_UNREGISTERED'; agentId: string }
  /** A standby is asked to lead: take the stored state over, then go live. */
  | { type: 'ACTIVATION_REQUESTED' }
  /** `stop()`, a fenced store, or the runtime ending. */
  | { type: 'ORCHESTRATOR_STOPPED' };

/**
 * The task orchestrator. Its lifecycle is the chart: `standby` (a candidate waiting for the
 * leader lease, or a `disabled` process that only hosts agents) → `activating` (the stored
 * state is taken over: an invoked actor injected from `src/`) → `active` (results,
 * presence and submissions are taken) → `stopping` (intake halted, the store flushed) →
 * `stopped`. The facade reads these states (`snapshot.matches(...)`), and keeps no flag
 * beside them. Lifecycle transitions happen a few times per run, never per task.
 *
 * While active it is the parent of the task actors' supervisor shards, and reacts to
 * readiness: one `SCHEDULING_REQUESTED` per burst of tasks becoming ready or agents freeing
 * slots runs the balancer (no periodic tick); one `TASKS_FINISHED` per burst stops the
 * finished task actors. The balancer, the agent index and the task records are injected
 * from `src/orchestration`, where they are indexed so that a round costs O(log agents) per
 * assignment instead of a copy of every record.
 */
export const orchestratorMachine = setup({
  types: {
    context: {} as OrchestratorMachineContext,
    events: {} as OrchestratorMachineEvent,
    input: {} as OrchestratorMachineInput,
  },
  actors: {
    /** Injected: make the store's key ours and load what it holds (the output is handed to `restoreTasks`). */
    takeOver: fromPromise<unknown>(async () => undefined),
    /** Injected: write what is still unwritten. */
    flushStore: fromPromise<void>(async () => undefined),
  },
  actions: {
    /** Injected: register the orchestrator's bus agent (results and presence reach it from now on). */
    goLive: () => {},
    /** Injected: create the tasks the takeover loaded. */
    restoreTasks: (_, _params: { state: unknown }) => {},
    /** Injected: take no more work (queued spawns dropped, `waitForAgents` callers rejected). */
    haltIntake: () => {},
    /** Injected: answer task waiters, abort running work, stop task actors, leave the bus. */
    releaseResources: () => {},
    /** Injected: assign ready tasks to agents. */
    runBalancer: () => {},
    /** Injected: stop finished task actors, keeping their compact records. */
    releaseTasks: (_, _params: { taskIds: readonly string[] }) => {},
    /** Injected: say that the store did not answer the flush in time (what it had not written may be lost). */
    reportFlushAbandoned: () => {},
  },
  delays: {
    /** How long `stopping` waits for the store's flush (injected: the `storeFlushTimeoutMs` option). */
    storeFlushTimeout: 30_000,
  },
  guards: {
    startsActive: ({ context }) => context.role === 'active',
    mayActivate: ({ context }) => context.role === 'standby',
  },
}).createMachine({
  id: 'orchestrator',
  context: ({ input }) => ({
    role: input.role,
    tasksSubmitted: 0,
    tasksFinished: 0,
    schedulingRounds: 0,
    registeredAgents: 0,
    activationError: null,
  }),
  initial: 'standby',
  on: {
    TASKS_SUBMITTED: { actions: assign({ tasksSubmitted: ({ context, event }) => context.tasksSubmitted + event.count }) },
    TASKS_FINISHED: {
      actions: [
        assign({ tasksFinished: ({ context, event }) => context.tasksFinished + event.taskIds.length }),
        { type: 'releaseTasks', params: ({ event }) => ({ taskIds: event.taskIds }) },
      ],
    },
    AGENT_REGISTERED: { actions: assign({ registeredAgents: ({ context }) => context.registeredAgents + 1 }) },
    AGENT_UNREGISTERED: { actions: assign({ registeredAgents: ({ context }) => context.registeredAgents - 1 }) },
    ORCHESTRATOR_STOPPED: '.stopping',
    // Shards supervise the task actors; a shard crash is recorded, never escalated.
    'xstate.error.actor.*': {},
  },
  states: {
    standby: {
      always: { guard: 'startsActive', target: 'active', actions: 'goLive' },
      on: { ACTIVATION_REQUESTED: { guard: 'mayActivate', target: 'activating' } },
    },
    activating: {
      invoke: {
        id: 'takeOver',
        src: 'takeOver',
        // Live first, then the tasks, in one step: no result arrives between the two.
        onDone: {
          target: 'active',
          actions: ['goLive', { type: 'restoreTasks', params: ({ event }) => ({ state: event.output }) }],
        },
        // E.g. the store was unreachable: back to standby, the takeover may be tried again.
        onError: { target: 'standby', actions: assign({ activationError: ({ event }) => event.error }) },
      },
    },
    active: {
      on: {
        SCHEDULING_REQUESTED: {
          actions: [assign({ schedulingRounds: ({ context }) => context.schedulingRounds + 1 }), 'runBalancer'],
        },
      },
    },
    stopping: {
      entry: 'haltIntake',
      on: { ORCHESTRATOR_STOPPED: {} },
      invoke: { id: 'flushStore', src: 'flushStore', onDone: 'stopped', onError: 'stopped' },
      // A store that never answers (a partition, a hung server) must not hold `stop()` forever.
      after: { storeFlushTimeout: { target: 'stopped', actions: 'reportFlushAbandoned' } },
    },
    stopped: { type: 'final', entry: 'releaseResources' },
  },
});

export type OrchestratorMachine = typeof orchestratorMachine;
