import { assign, enqueueActions, setup, type AnyStateMachine } from 'xstate';
import type { Message } from '../src/bus/model/message';

/** @internal */
export interface AgentMachineContext {
  readonly agentId: string;
  /** Slots of the bus's handler: the `concurrency` the agent was registered with. */
  readonly concurrency: number;
  /**
   * Work the agent takes at once: the `maxConcurrentTasks` of the orchestrator that runs
   * tasks on it here, else its bus `concurrency`. `saturated` means `load >= capacity`.
   */
  capacity: number;
  /** Bus messages handed over and not yet reported settled. */
  inFlight: number;
  /** Tasks an orchestrator of this process runs on the agent's executor (it reports them). */
  taskLoad: number;
  /** `inFlight + taskLoad`: what `idle` / `busy` / `saturated` reflect. */
  load: number;
  /** Paused by the orchestrator: no new tasks (bus messages are still delivered). */
  paused: boolean;
  delivered: number;
  handled: number;
  failed: number;
  behaviourCrashes: number;
}

type Settlement = { handled: number; failed: number; returned?: number };

/** Events an agent actor understands. */
export type AgentMachineEvent =
  /** The bus hands over a batch of messages, most urgent first. */
  | { type: 'MESSAGES_DELIVERED'; messages: readonly Message[] }
  /**
   * The behaviour finished `handled + failed` of the in-flight messages; `returned` went
   * back to the mailbox unprocessed (the behaviour crashed before reaching them).
   */
  | { type: 'MESSAGES_SETTLED'; handled: number; failed: number; returned?: number }
  /**
   * The orchestrator's count of tasks it runs on this agent now (an absolute figure, so a
   * lost or repeated report cannot leave the load off for good). `capacity` is its
   * `maxConcurrentTasks`; without it the capacity goes back to the bus `concurrency`.
   */
  | { type: 'TASK_LOAD_CHANGED'; taskLoad: number; capacity?: number }
  /** The orchestrator stopped giving the agent new tasks (`pauseAgent`). */
  | { type: 'AGENT_PAUSED' }
  /** The orchestrator gives the agent tasks again (`resumeAgent`). */
  | { type: 'AGENT_RESUMED' }
  /** (Re)starts the user machine that runs as this agent's behaviour. */
  | { type: 'BEHAVIOUR_ASSIGNED'; logic: AnyStateMachine; input: unknown }
  | { type: 'WENT_OFFLINE' }
  | { type: 'CAME_ONLINE' };

/** A count from outside: a finite non-negative integer, anything else counts as 0. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * One registered agent. The bus delivers batches from the agent's priority mailbox;
 * `processMessages` (provided by the bus) runs the agent's behaviour on them and the
 * outcome comes back as `MESSAGES_SETTLED`. An orchestrator that runs tasks on the agent
 * in this process reports its task count (`TASK_LOAD_CHANGED`) and pauses.
 *
 * `online` shows the agent's work: `idle` (nothing running), `busy` (some slots used),
 * `saturated` (`load >= capacity`), where load counts messages being handled and tasks
 * running. `paused`: the orchestrator gives it no new task, messages still arrive.
 * `offline` agents receive nothing; their mailbox keeps filling up to its capacity. Load
 * is counted in every state (work handed over before going offline still finishes).
 */
export const agentMachine = setup({
  types: {
    context: {} as AgentMachineContext,
    input: {} as { agentId: string; capacity?: number },
    events: {} as AgentMachineEvent,
  },
  actions: {
    /** Injected by the bus: hands the batch to the agent's behaviour. */
    processMessages: (_, _params: { messages: readonly Message[] }) => {},
    recordDelivery: assign(({ context }, params: { count: number }) => ({
      inFlight: context.inFlight + params.count,
      load: context.inFlight + params.count + context.taskLoad,
      delivered: context.delivered + params.count,
    })),
    recordSettlement: assign(({ context }, params: Settlement) => {
      // Never below zero: a settlement the agent did not see delivered (a report after a
      // restart, a hostile count) must not leave the agent reading idle under work.
      const inFlight = Math.max(0, context.inFlight - count(params.handled) - count(params.failed) - count(params.returned));
      return {
        inFlight,
        load: inFlight + context.taskLoad,
        handled: context.handled + count(params.handled),
        failed: context.failed + count(params.failed),
      };
    }),
    recordTaskLoad: assign(({ context }, params: { taskLoad: number; capacity?: number }) => {
      const taskLoad = count(params.taskLoad);
      const capacity = count(params.capacity);
      return { taskLoad, load: context.inFlight + taskLoad, capacity: capacity > 0 ? capacity : context.concurrency };
    }),
    recordPause: assign((_, params: { paused: boolean }) => ({ paused: params.paused })),
    recordBehaviourCrash: assign(({ context }) => ({ behaviourCrashes: context.behaviourCrashes + 1 })),
    /** Supervision: a crashed behaviour is replaced by a fresh one. */
    assignBehaviour: enqueueActions(({ enqueue }, params: { logic: AnyStateMachine; input: unknown }) => {
      enqueue.stopChild('behaviour');
      enqueue.assign(({ spawn }) => {
        // XState's types refuse an `id` with inline logic; the runtime honours it.
        const spawnInline = spawn as unknown as (logic: AnyStateMachine, options: { id: string; input: unknown }) => unknown;
        spawnInline(params.logic, { id: 'behaviour', input: params.input });
        return {};
      });
    }),
  },
  guards: {
    hasLoad: ({ context }) => context.load > 0,
    hasNoLoad: ({ context }) => context.load <= 0,
    atCapacity: ({ context }) => context.load >= context.capacity,
    belowCapacity: ({ context }) => context.load < context.capacity,
    isPaused: ({ context }) => context.paused,
  },
}).createMachine({
  id: 'agent',
  context: ({ input }) => {
    const concurrency = Math.max(1, count(input.capacity));
    return {
      agentId: input.agentId,
      concurrency,
      capacity: concurrency,
      inFlight: 0,
      taskLoad: 0,
      load: 0,
      paused: false,
      delivered: 0,
      handled: 0,
      failed: 0,
      behaviourCrashes: 0,
    };
  },
  initial: 'online',
  // Load events change the context in every state; inside `online`, eventless
  // transitions then pick idle/busy/saturated (a guard or two per event, no extra event).
  // Measured against the former idle/processing chart, bus delivery in CPU time, 21
  // interleaved rounds: this chart 1.01× direct and 1.16× batched (median of paired
  // rounds; same code against itself ±3 %); guarded targets on each load event instead of
  // eventless re-sorting measured 0.83× and 0.80×.
  on: {
    // Supervision: handling the crash keeps it from escalating to the agent itself; the
    // bus has already put the batch back and assigned a fresh behaviour.
    'xstate.error.actor.behaviour': { actions: 'recordBehaviourCrash' },
    BEHAVIOUR_ASSIGNED: {
      actions: { type: 'assignBehaviour', params: ({ event }) => ({ logic: event.logic, input: event.input }) },
    },
    MESSAGES_DELIVERED: {
      actions: [
        { type: 'recordDelivery', params: ({ event }) => ({ count: event.messages.length }) },
        { type: 'processMessages', params: ({ event }) => ({ messages: event.messages }) },
      ],
    },
    MESSAGES_SETTLED: { actions: { type: 'recordSettlement', params: ({ event }) => event } },
    TASK_LOAD_CHANGED: { actions: { type: 'recordTaskLoad', params: ({ event }) => event } },
    AGENT_PAUSED: { actions: { type: 'recordPause', params: { paused: true } } },
    AGENT_RESUMED: { actions: { type: 'recordPause', params: { paused: false } } },
    WENT_OFFLINE: '.offline',
  },
  states: {
    online: {
      initial: 'idle',
      on: { AGENT_PAUSED: { target: 'paused', actions: { type: 'recordPause', params: { paused: true } } } },
      states: {
        // Straight to the state that fits: a batch that fills every slot is one microstep.
        idle: {
          always: [
            { guard: 'atCapacity', target: 'saturated' },
            { guard: 'hasLoad', target: 'busy' },
          ],
        },
        busy: {
          always: [
            { guard: 'atCapacity', target: 'saturated' },
            { guard: 'hasNoLoad', target: 'idle' },
          ],
        },
        saturated: {
          always: [
            { guard: 'hasNoLoad', target: 'idle' },
            { guard: 'belowCapacity', target: 'busy' },
          ],
        },
      },
    },
    paused: {
      on: { AGENT_RESUMED: { target: 'online', actions: { type: 'recordPause', params: { paused: false } } } },
    },
    offline: {
      on: {
        WENT_OFFLINE: {},
        CAME_ONLINE: [{ guard: 'isPaused', target: 'paused' }, { target: 'online' }],
      },
    },
  },
});

export type AgentMachine = typeof agentMachine;
