import { produce, type Draft } from 'immer';
import { assign, raise, setup } from 'xstate';
import { adaptTopology } from '../src/swarm/model/adaptation';
import { setConnectionStrength } from '../src/swarm/model/connection';
import { planKnowledgeTransfers, shareKnowledge } from '../src/swarm/model/knowledgeSharing';
import { detectAndAmplify, runCycle } from '../src/swarm/model/networkCycle';
import { learnFromConsensus, learnFromTasks, type TaskOutcomeBatch } from '../src/swarm/model/outcomeLearning';
import type { NeuronSettings } from '../src/swarm/model/neuron';
import { propagate } from '../src/swarm/model/propagation';
import { addNeuron, connect, connectionOf, disconnect, initialSwarmState, removeNeuron } from '../src/swarm/model/swarmState';
import type { ConsensusOutcome, KnowledgeTransfer, SwarmEvent, SwarmMachineInput, SwarmState, TaskOutcome } from '../src/swarm/model/swarmTypes';

/**
 * Applies `recipe` to a draft of the context at the event's time. Time never goes
 * backwards: an event older than the latest one seen happens "now", so decay and
 * refractory periods never see a negative span.
 */
function updateAt(context: SwarmState, time: number | undefined, recipe: (draft: Draft<SwarmState>, now: number) => void): SwarmState {
  return produce(context, (draft) => {
    const now = Math.max(draft.now, time ?? draft.now);
    draft.now = now;
    recipe(draft, now);
  });
}

/** The time of an event: its `at`, never before the latest time seen. */
function timeOf(context: SwarmState, time: number | undefined): number {
  return Math.max(context.now, time ?? context.now);
}

type Timed = { at?: number };

/**
 * The swarm supervisor: owns the network (neurons, directed connections, histories) and
 * learns from what happens in the runtime. Every transition is pure: time comes from
 * the events' `at` (the facade stamps `clock.now()`), randomness from the seeded
 * generator in the context, and the only effect, delivering knowledge transfers over
 * the bus, is the injected `deliverKnowledgeTransfers` action.
 *
 * `idle`: the network is built and learns, but cycles run only on a `CYCLE` event.
 * `running`: every `rules.cycleIntervalMs` the machine asks for a cycle
 * (`requestCycle`) and the `CYCLE` that answers runs it (decay, topology adaptation,
 * patterns) and restarts the period; a manual `CYCLE` restarts it too.
 */
export const swarmMachine = setup({
  types: {
    context: {} as SwarmState,
    input: {} as SwarmMachineInput,
    events: {} as SwarmEvent,
  },
  actions: {
    /** Injected by the facade: sends the planned transfers over the bus. */
    deliverKnowledgeTransfers: (_, _params: { transfers: readonly KnowledgeTransfer[] }) => {},
    recordTime: assign(({ context }, params: Timed) => updateAt(context, params.at, () => {})),
    startCycleTimer: assign(({ context }) =>
      produce(context, (draft) => {
        draft.timerStartedAt = draft.now;
      }),
    ),
    addAgent: assign(({ context }, params: Timed & { agentId: string } & NeuronSettings) =>
      updateAt(context, params.at, (draft) => {
        addNeuron(draft, params.agentId, params);
      }),
    ),
    removeAgent: assign(({ context }, params: Timed & { agentId: string }) =>
      updateAt(context, params.at, (draft) => {
        removeNeuron(draft, params.agentId);
      }),
    ),
    connectAgents: assign(({ context }, params: Timed & { source: string; target: string; initialStrength?: number }) =>
      updateAt(context, params.at, (draft, now) => {
        connect(draft, params.source, params.target, params.initialStrength, now);
      }),
    ),
    disconnectAgents: assign(({ context }, params: Timed & { source: string; target: string }) =>
      updateAt(context, params.at, (draft) => {
        disconnect(draft, params.source, params.target);
      }),
    ),
    adjustStrength: assign(({ context }, params: Timed & { connectionId: string; strength: number }) =>
      updateAt(context, params.at, (draft, now) => {
        const connection = connectionOf(draft, params.connectionId);
        if (connection) setConnectionStrength(connection, params.strength, now);
      }),
    ),
    propagateSignal: assign(({ context }, params: Timed & { source: string; signal: number; maxLayers?: number }) =>
      updateAt(context, params.at, (draft, now) => {
        propagate(draft, params.source, params.signal, params.maxLayers ?? draft.rules.maxLayers, now);
      }),
    ),
    shareKnowledge: assign(({ context }, params: Timed & { source: string; key: string; value: unknown; targets?: readonly string[] }) =>
      updateAt(context, params.at, (draft) => {
        shareKnowledge(draft, params.source, params.key, params.value, params.targets);
      }),
    ),
    adaptTopology: assign(({ context }, params: Timed) =>
      updateAt(context, params.at, (draft, now) => {
        adaptTopology(draft, now);
      }),
    ),
    detectPatterns: assign(({ context }, params: Timed) => {
      const timed = updateAt(context, params.at, () => {});
      return detectAndAmplify(timed, timed.now);
    }),
    planKnowledgeTransfers: assign(({ context }, params: Timed) =>
      updateAt(context, params.at, (draft, now) => {
        planKnowledgeTransfers(draft, now);
      }),
    ),
    // Task outcomes skip immer: a copy-on-write working copy learns the same values (the
    // machine-level A/B in docs/benchmarks.md; 36 % of the 10 000-task DAG run was immer here).
    learnFromTask: assign(({ context }, params: { outcome: TaskOutcome; success: boolean }) => learnFromTasks(context, [{ outcomes: [params], at: params.outcome.at }])),
    learnFromTasks: assign(({ context }, params: { batches: readonly TaskOutcomeBatch[] }) => learnFromTasks(context, params.batches)),
    learnFromConsensus: assign(({ context }, params: { outcome: ConsensusOutcome }) =>
      updateAt(context, params.outcome.at, (draft, now) => {
        learnFromConsensus(draft, params.outcome, now);
      }),
    ),
    runCycle: assign(({ context }, params: Timed) => {
      const now = timeOf(context, params.at);
      return runCycle({ ...context, now }, now);
    }),
    /**
     * The cycle is due. A delayed transition carries no time, so the default raises
     * `CYCLE` at the due time (timer start + interval); the facade injects one that sends
     * `CYCLE` stamped with its clock, which stays right when a timer fires late.
     */
    requestCycle: raise(({ context }) => ({
      type: 'CYCLE' as const,
      at: (context.timerStartedAt ?? context.now) + context.rules.cycleIntervalMs,
    })),
  },
  delays: {
    cycleInterval: ({ context }) => context.rules.cycleIntervalMs,
  },
}).createMachine({
  id: 'swarm',
  context: ({ input }) => initialSwarmState(input),
  initial: 'idle',
  on: {
    AGENT_ADDED: { actions: { type: 'addAgent', params: ({ event }) => event } },
    AGENT_REMOVED: { actions: { type: 'removeAgent', params: ({ event }) => event } },
    CONNECTION_CREATED: { actions: { type: 'connectAgents', params: ({ event }) => event } },
    CONNECTION_REMOVED: { actions: { type: 'disconnectAgents', params: ({ event }) => event } },
    CONNECTION_STRENGTH_ADJUSTED: { actions: { type: 'adjustStrength', params: ({ event }) => event } },
    SIGNAL: { actions: { type: 'propagateSignal', params: ({ event }) => event } },
    KNOWLEDGE_SHARED: { actions: { type: 'shareKnowledge', params: ({ event }) => event } },
    TOPOLOGY_ADAPTATION_REQUESTED: { actions: { type: 'adaptTopology', params: ({ event }) => event } },
    PATTERN_DETECTION_REQUESTED: { actions: { type: 'detectPatterns', params: ({ event }) => event } },
    KNOWLEDGE_SHARING_REQUESTED: {
      actions: [
        { type: 'planKnowledgeTransfers', params: ({ event }) => event },
        // Params are resolved after the plan is assigned, so they carry this plan.
        { type: 'deliverKnowledgeTransfers', params: ({ context }) => ({ transfers: context.lastTransfers }) },
      ],
    },
    TASK_COMPLETED: { actions: { type: 'learnFromTask', params: ({ event }) => ({ outcome: event, success: true }) } },
    TASK_FAILED: { actions: { type: 'learnFromTask', params: ({ event }) => ({ outcome: event, success: false }) } },
    TASK_OUTCOMES_OBSERVED: { actions: { type: 'learnFromTasks', params: ({ event }) => ({ batches: [event] }) } },
    // The event's own `at` is the time of each batch that has none (what `at` means on every event).
    TASK_OUTCOME_BATCHES_OBSERVED: {
      actions: {
        type: 'learnFromTasks',
        params: ({ event }) => ({
          batches: event.at === undefined ? event.batches : event.batches.map((batch) => (batch.at === undefined ? { ...batch, at: event.at } : batch)),
        }),
      },
    },
    CONSENSUS_OUTCOME: { actions: { type: 'learnFromConsensus', params: ({ event }) => ({ outcome: event }) } },
  },
  states: {
    idle: {
      on: {
        NETWORK_STARTED: { target: 'running', actions: { type: 'recordTime', params: ({ event }) => event } },
        CYCLE: { actions: { type: 'runCycle', params: ({ event }) => event } },
      },
    },
    running: {
      entry: 'startCycleTimer',
      after: {
        cycleInterval: { actions: 'requestCycle' },
      },
      on: {
        CYCLE: { target: 'running', reenter: true, actions: { type: 'runCycle', params: ({ event }) => event } },
      },
    },
  },
});

export type SwarmMachine = typeof swarmMachine;
