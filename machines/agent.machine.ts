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

type LoadEvent = Extract<AgentMachineEvent, { type: 'MESSAGES_DELIVERED' | 'MESSAGES_SETTLED' | 'TASK_LOAD_CHANGED' }>;

/**
 * The load figures after `event`: one computation for the guards that pick the next state
 * and the actions that record it. Counts never go below zero: a settlement the agent did
 * not see delivered (a hostile count, a report after a restart) cannot leave it reading
 * idle under work, and the orchestrator's task count is absolute.
 */
function loadAfter(context: AgentMachineContext, event: LoadEvent): { inFlight: number; taskLoad: number; load: number; capacity: number } {
  let { inFlight, taskLoad, capacity } = context;
  if (event.type === 'MESSAGES_DELIVERED') inFlight += event.messages.length;
  else if (event.type === 'MESSAGES_SETTLED') inFlight = Math.max(0, inFlight - count(event.handled) - count(event.failed) - count(event.returned));
  else {
    taskLoad = count(event.taskLoad);
    capacity = count(event.capacity) || context.concurrency;
  }
  return { inFlight, taskLoad, load: inFlight + taskLoad, capacity };
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
 *
 * The load event picks its target by guard (one microstep per event, as the former
 * idle/processing chart took): eventless transitions re-sorting after the fact took two
 * or three microsteps per batch and cost the bus's direct path about half its throughput
 * (`npm run bench -- bus`, batchSize 1).
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
    /** Records the load after a delivery, settlement or task report, and the message counters. */
    recordLoad: assign(({ context, event }) => {
      const e = event as LoadEvent;
      const after = loadAfter(context, e);
      if (e.type === 'MESSAGES_DELIVERED') return { ...after, delivered: context.delivered + e.messages.length };
      if (e.type === 'MESSAGES_SETTLED') return { ...after, handled: context.handled + count(e.handled), failed: context.failed + count(e.failed) };
      return after;
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
    /** After this load event no slot is free. */
    fillsUp: ({ context, event }) => {
      const after = loadAfter(context, event as LoadEvent);
      return after.load >= after.capacity;
    },
    /** After this load event nothing runs. */
    emptiesOut: ({ context, event }) => loadAfter(context, event as LoadEvent).load === 0,
    hasLoad: ({ context }) => context.load > 0,
    atCapacity: ({ context }) => context.load >= context.capacity,
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
  // Paused and offline agents count load too (targetless here); `online` overrides these
  // with transitions that also pick idle/busy/saturated.
  on: {
    // Supervision: handling the crash keeps it from escalating to the agent itself; the
    // bus has already put the batch back and assigned a fresh behaviour.
    'xstate.error.actor.behaviour': { actions: 'recordBehaviourCrash' },
    BEHAVIOUR_ASSIGNED: {
      actions: { type: 'assignBehaviour', params: ({ event }) => ({ logic: event.logic, input: event.input }) },
    },
    MESSAGES_DELIVERED: {
      actions: ['recordLoad', { type: 'processMessages', params: ({ event }) => ({ messages: event.messages }) }],
    },
    MESSAGES_SETTLED: { actions: 'recordLoad' },
    TASK_LOAD_CHANGED: { actions: 'recordLoad' },
    AGENT_PAUSED: { actions: { type: 'recordPause', params: { paused: true } } },
    AGENT_RESUMED: { actions: { type: 'recordPause', params: { paused: false } } },
    WENT_OFFLINE: '.offline',
  },
  states: {
    online: {
      initial: 'idle',
      on: {
        MESSAGES_DELIVERED: [
          { guard: 'fillsUp', target: '.saturated', actions: ['recordLoad', { type: 'processMessages', params: ({ event }) => ({ messages: event.messages }) }] },
          { target: '.busy', actions: ['recordLoad', { type: 'processMessages', params: ({ event }) => ({ messages: event.messages }) }] },
        ],
        MESSAGES_SETTLED: [
          { guard: 'emptiesOut', target: '.idle', actions: 'recordLoad' },
          { guard: 'fillsUp', target: '.saturated', actions: 'recordLoad' },
          { target: '.busy', actions: 'recordLoad' },
        ],
        TASK_LOAD_CHANGED: [
          { guard: 'emptiesOut', target: '.idle', actions: 'recordLoad' },
          { guard: 'fillsUp', target: '.saturated', actions: 'recordLoad' },
          { target: '.busy', actions: 'recordLoad' },
        ],
        AGENT_PAUSED: { target: 'paused', actions: { type: 'recordPause', params: { paused: true } } },
      },
      states: { idle: {}, busy: {}, saturated: {} },
    },
    paused: {
      on: {
        AGENT_RESUMED: [
          { guard: 'atCapacity', target: 'online.saturated', actions: { type: 'recordPause', params: { paused: false } } },
          { guard: 'hasLoad', target: 'online.busy', actions: { type: 'recordPause', params: { paused: false } } },
          { target: 'online', actions: { type: 'recordPause', params: { paused: false } } },
        ],
      },
    },
    offline: {
      on: {
        WENT_OFFLINE: {},
        CAME_ONLINE: [
          { guard: 'isPaused', target: 'paused' },
          { guard: 'atCapacity', target: 'online.saturated' },
          { guard: 'hasLoad', target: 'online.busy' },
          { target: 'online' },
        ],
      },
    },
  },
});

export type AgentMachine = typeof agentMachine;
