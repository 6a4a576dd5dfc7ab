/**
 * The outcome batches the runtime sends the swarm actor (`TASK_OUTCOME_BATCHES_OBSERVED`, one
 * event per flush) during the orchestrator bench's 10 000-task layered DAG on 1 000 agents:
 * what the learning profiles replay.
 */
import { createNeuroFlux } from '../../src';
import { layeredDag } from '../workloads';

/** Runs the DAG once and returns each flush's batches, in order. */
export async function recordFlushes(): Promise<unknown[][]> {
  const nf = createNeuroFlux({ bus: { maxQueueSize: 100_000 } });
  for (let i = 0; i < 1000; i++) nf.orchestrator.registerAgent(`agent${i}`, { capabilities: ['work'], maxConcurrentTasks: 5, execute: () => undefined });
  const flushes: unknown[][] = [];
  const send = nf.swarm.actor.send.bind(nf.swarm.actor);
  nf.swarm.actor.send = (event) => {
    if (event.type === 'TASK_OUTCOME_BATCHES_OBSERVED') flushes.push([...event.batches]);
    send(event);
  };
  await nf.start();
  const tasks = layeredDag(10_000, 100);
  await nf.orchestrator.waitForWorkflow(nf.orchestrator.submitWorkflow({ tasks }).map((s) => s.taskId));
  await nf.stop();
  return flushes;
}
