import { assign, enqueueActions, setup, type AnyStateMachine } from 'xstate';
import type { Message } from '../src/bus/message';

/** @internal */
export interface AgentMachineContext {
  readonly agentId: string;
  /** Messages handed over and not yet reported settled. */
  inFlight: number;
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
  /** (Re)starts the user machine that runs as this agent's behaviour. */
  | { type: 'BEHAVIOUR_ASSIGNED'; logic: AnyStateMachine; input: unknown }
  | { type: 'WENT_OFFLINE' }
  | { type: 'CAME_ONLINE' };

/**
 * One registered agent. The bus delivers batches from the agent's priority mailbox;
 * `processMessages` (provided by the bus) runs the agent's behaviour on them and the
 * outcome comes back as `MESSAGES_SETTLED`. Offline agents receive nothing; their
 * mailbox keeps filling up to its capacity.
 */
export const agentMachine = setup({
  types: {
    context: {} as AgentMachineContext,
    input: {} as { agentId: string },
    events: {} as AgentMachineEvent,
  },
  actions: {
    /** Injected by the bus: hands the batch to the agent's behaviour. */
    processMessages: (_, _params: { messages: readonly Message[] }) => {},
    recordDelivery: assign(({ context }, params: { count: number }) => ({
      inFlight: context.inFlight + params.count,
      delivered: context.delivered + params.count,
    })),
    recordSettlement: assign(({ context }, params: Settlement) => ({
      inFlight: context.inFlight - params.handled - params.failed - (params.returned ?? 0),
      handled: context.handled + params.handled,
      failed: context.failed + params.failed,
    })),
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
    settlesAll: ({ context }, params: Settlement) =>
      context.inFlight - params.handled - params.failed - (params.returned ?? 0) <= 0,
    hasWorkInFlight: ({ context }) => context.inFlight > 0,
  },
}).createMachine({
  id: 'agent',
  context: ({ input }) => ({ agentId: input.agentId, inFlight: 0, delivered: 0, handled: 0, failed: 0, behaviourCrashes: 0 }),
  initial: 'idle',
  on: {
    // Supervision: handling the crash keeps it from escalating to the agent itself; the
    // bus has already put the batch back and assigned a fresh behaviour.
    'xstate.error.actor.behaviour': { actions: 'recordBehaviourCrash' },
    BEHAVIOUR_ASSIGNED: {
      actions: { type: 'assignBehaviour', params: ({ event }) => ({ logic: event.logic, input: event.input }) },
    },
    MESSAGES_DELIVERED: {
      target: '.processing',
      actions: [
        { type: 'recordDelivery', params: ({ event }) => ({ count: event.messages.length }) },
        { type: 'processMessages', params: ({ event }) => ({ messages: event.messages }) },
      ],
    },
  },
  states: {
    idle: {
      on: { WENT_OFFLINE: 'offline' },
    },
    processing: {
      on: {
        WENT_OFFLINE: 'offline',
        MESSAGES_SETTLED: [
          {
            guard: { type: 'settlesAll', params: ({ event }) => event },
            target: 'idle',
            actions: { type: 'recordSettlement', params: ({ event }) => event },
          },
          { actions: { type: 'recordSettlement', params: ({ event }) => event } },
        ],
      },
    },
    offline: {
      on: {
        // Work handed over before going offline still finishes.
        MESSAGES_SETTLED: { actions: { type: 'recordSettlement', params: ({ event }) => event } },
        CAME_ONLINE: [{ guard: 'hasWorkInFlight', target: 'processing' }, { target: 'idle' }],
      },
    },
  },
});

export type AgentMachine = typeof agentMachine;
