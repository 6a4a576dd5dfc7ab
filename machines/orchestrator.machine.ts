import { assign, setup } from 'xstate';

/** Counters the orchestrator actor keeps (the records themselves are indexed in `src/`). */
export interface OrchestratorMachineContext {
  tasksSubmitted: number;
  tasksFinished: number;
  schedulingRounds: number;
  registeredAgents: number;
}

/** Events of the orchestrator actor. */
export type OrchestratorMachineEvent =
  | { type: 'TASKS_SUBMITTED'; count: number }
  /** Tasks became ready or agents freed slots since the last round. */
  | { type: 'SCHEDULING_REQUESTED' }
  | { type: 'TASKS_FINISHED'; taskIds: readonly string[] }
  | { type: 'AGENT_REGISTERED'; agentId: string }
  | { type: 'AGENT_UNREGISTERED'; agentId: string }
  | { type: 'ORCHESTRATOR_STOPPED' };

/**
 * The task orchestrator. It is the parent of the task actors' supervisor shards, and reacts to
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
  },
  actions: {
    /** Injected: assign ready tasks to agents. */
    runBalancer: () => {},
    /** Injected: stop finished task actors, keeping their compact records. */
    releaseTasks: (_, _params: { taskIds: readonly string[] }) => {},
  },
}).createMachine({
  id: 'orchestrator',
  context: { tasksSubmitted: 0, tasksFinished: 0, schedulingRounds: 0, registeredAgents: 0 },
  initial: 'running',
  states: {
    running: {
      on: {
        TASKS_SUBMITTED: { actions: assign({ tasksSubmitted: ({ context, event }) => context.tasksSubmitted + event.count }) },
        SCHEDULING_REQUESTED: {
          actions: [assign({ schedulingRounds: ({ context }) => context.schedulingRounds + 1 }), 'runBalancer'],
        },
        TASKS_FINISHED: {
          actions: [
            assign({ tasksFinished: ({ context, event }) => context.tasksFinished + event.taskIds.length }),
            { type: 'releaseTasks', params: ({ event }) => ({ taskIds: event.taskIds }) },
          ],
        },
        AGENT_REGISTERED: { actions: assign({ registeredAgents: ({ context }) => context.registeredAgents + 1 }) },
        AGENT_UNREGISTERED: { actions: assign({ registeredAgents: ({ context }) => context.registeredAgents - 1 }) },
        ORCHESTRATOR_STOPPED: 'stopped',
        // Shards supervise the task actors; a shard crash is recorded, never escalated.
        'xstate.error.actor.*': {},
      },
    },
    stopped: { type: 'final' },
  },
});

export type OrchestratorMachine = typeof orchestratorMachine;
