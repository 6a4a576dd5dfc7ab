import { taskMachine } from '../../machines/task.machine';
import { timerDelay, type NeuroFluxClock } from '../kernel/clock';
import type { TaskDispatcher } from './taskDispatcher';
import type { TaskScheduler } from './taskScheduler';
import type { TaskTable } from './taskTable';
import type { TaskState } from './taskTypes';

/** What the task chart's effects reach: the table, the scheduler, the dispatcher and the clock. @internal */
export interface TaskActorEffects {
  readonly table: TaskTable;
  readonly scheduler: TaskScheduler;
  readonly dispatcher: TaskDispatcher;
  readonly clock: NeuroFluxClock;
}

/**
 * The task chart with its effects provided, once per orchestrator (not per actor, which would
 * copy the machine): a ready task waits in its pool's queue, an assignment is dispatched, a
 * run is aborted, an agent released, and every transition reported to the task table. The
 * actions call the modules directly (captured once here): one method call per effect, no
 * closure or allocation per task beyond what XState makes for the action.
 * @internal
 */
export function taskActorLogic({ table, scheduler, dispatcher, clock }: TaskActorEffects) {
  const tasks = table.tasks;
  return taskMachine.provide({
    actions: {
      requestAgent: ({ context }) => {
        const entry = tasks.get(context.taskId);
        if (entry) scheduler.enqueue(entry);
      },
      dispatchToAgent: ({ context }, params) => dispatcher.dispatch(context.taskId, params.agentId, params.attempt),
      abortWork: ({ context }, params) => dispatcher.abortWork(context.taskId, params.agentId, params.attempt),
      releaseAgent: ({ context, event }, params) => dispatcher.releaseAgent(context, params.agentId, params.outcome, event.type === 'EXECUTION_FAILED' ? event.error : 'timed out'),
      reportTransition: ({ context }, params: { state: TaskState }) => table.onTransition(context, params.state),
    },
    delays: {
      // Remaining time to the absolute deadline: a restored task re-arms only what is left.
      taskTimeout: ({ context }) => timerDelay((context.deadline ?? clock.now() + context.timeoutMs) - clock.now()),
      // A runaway backoff series is capped (MAX_DELAY_MS); long delays are re-armed by the runtime's clock.
      retryBackoff: ({ context }) => timerDelay((context.retryAt ?? clock.now()) - clock.now()),
    },
  });
}
