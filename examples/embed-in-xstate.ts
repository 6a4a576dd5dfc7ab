/**
 * NeuroFlux inside your own XState machine: a trading desk invokes `neuroFluxLogic`, gives it
 * agents and a workflow as events, and hears of each finished task and of the workflow's end.
 * The desk's final state stops NeuroFlux with everything it owns.
 */
import { assign, createActor, sendTo, setup, toPromise } from 'xstate';
import { neuroFluxLogic, type NeuroFluxParentEvent, type TaskRecord } from '../src';

export const tradingDeskMachine = setup({
  types: {
    context: {} as { finished: string[]; records: readonly TaskRecord[]; refusal: string | null },
    events: {} as NeuroFluxParentEvent,
    output: {} as { finished: string[]; records: readonly TaskRecord[]; refusal: string | null },
  },
  actors: { neuroflux: neuroFluxLogic },
}).createMachine({
  id: 'tradingDesk',
  context: { finished: [], records: [], refusal: null },
  // Its agents, tasks and conflicts join this system: an `inspect` given to createActor sees them.
  invoke: { id: 'nf', src: 'neuroflux', input: { name: 'trading-desk' } },
  // Sent at once: NeuroFlux queues them while it starts.
  entry: [
    sendTo('nf', { type: 'neuroflux.registerAgent', agentId: 'analyst', capabilities: ['technical_analysis'], execute: async () => ({ signal: 'BUY', confidence: 0.8 }) }),
    sendTo('nf', {
      type: 'neuroflux.registerAgent',
      agentId: 'risk',
      capabilities: ['risk_assessment'],
      execute: async (_task: unknown, { dependencyResults }: { dependencyResults: Readonly<Record<string, unknown>> }) => ({
        approved: (dependencyResults['analysis'] as { confidence: number }).confidence > 0.7,
        maxQuantity: 800,
      }),
    }),
    sendTo('nf', {
      type: 'neuroflux.registerAgent',
      agentId: 'trader',
      capabilities: ['trade_execution'],
      execute: async (_task: unknown, { dependencyResults }: { dependencyResults: Readonly<Record<string, unknown>> }) => {
        const risk = dependencyResults['risk'] as { approved: boolean; maxQuantity: number };
        return risk.approved ? { status: 'filled', quantity: risk.maxQuantity } : { status: 'skipped' };
      },
    }),
    sendTo('nf', {
      type: 'neuroflux.submitWorkflow',
      workflowId: 'eth-trade',
      tasks: [
        { taskId: 'analysis', requiredCapabilities: ['technical_analysis'], payload: { symbol: 'ETH/USD' } },
        { taskId: 'risk', dependencies: ['analysis'], requiredCapabilities: ['risk_assessment'] },
        { taskId: 'trade', dependencies: ['risk'], requiredCapabilities: ['trade_execution'] },
      ],
    }),
  ],
  initial: 'trading',
  states: {
    trading: {
      on: {
        'neuroflux.taskFinished': { actions: assign({ finished: ({ context, event }) => [...context.finished, `${event.record.taskId}:${event.record.status}`] }) },
        'neuroflux.workflowFinished': { target: 'done', actions: assign({ records: ({ event }) => event.records }) },
        // A command NeuroFlux refused (a bad task, an unknown id...): the error names the field.
        'neuroflux.rejected': { target: 'done', actions: assign({ refusal: ({ event }) => event.error.message }) },
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => ({ finished: context.finished, records: context.records, refusal: context.refusal }),
});

export async function runEmbedInXState(): Promise<{ finished: string[]; records: readonly TaskRecord[]; refusal: string | null }> {
  const desk = createActor(tradingDeskMachine).start();
  // Done once the workflow is: the desk's final state stops NeuroFlux with it.
  return toPromise(desk);
}

if (require.main === module) {
  void runEmbedInXState().then(({ finished, records }) => {
    console.log('told, task by task:', finished.join(', '));
    console.log('trade:', records.at(-1)?.result);
  });
}
