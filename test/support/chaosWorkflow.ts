import type { TaskInput } from '../../src';
import { nextRandom } from '../../src/swarm/model/seededRandom';

/** Tasks per DAG layer: one root fanning out, then narrowing to one sink (20 tasks). */
const LAYERS = [1, 6, 6, 4, 2, 1] as const;

/** Tasks in one chaos DAG. */
export const CHAOS_DAG_SIZE = LAYERS.reduce((a, b) => a + b, 0);

/**
 * DAG `dag` of the chaos run (tasks `d<dag>-<n>`, for the `compute` workers of
 * examples/multi-process/host.ts): each task depends on two of the layer before. One task in
 * ten fails its first attempt and one in thirty its first two (the retry policy allows five
 * retries, so the host and leader losses that time an attempt out still leave room).
 */
export function chaosDag(dag: number): TaskInput[] {
  const tasks: TaskInput[] = [];
  let previous: string[] = [];
  let n = 0;
  for (const width of LAYERS) {
    const layer: string[] = [];
    for (let j = 0; j < width; j++, n++) {
      const taskId = `d${dag}-${n}`;
      // The same draw in every process: a restarted leader resubmits the same DAG.
      const r = nextRandom(dag * CHAOS_DAG_SIZE + n).value;
      const dependencies = previous.length === 0 ? [] : [...new Set([previous[j % previous.length] as string, previous[(j + 1) % previous.length] as string])];
      tasks.push({
        taskId,
        dependencies,
        requiredCapabilities: ['compute'],
        timeoutSeconds: 20,
        retryPolicy: { maxRetries: 5, initialDelay: 0.1, backoffFactor: 2, retryOnFailure: true },
        payload: { n: 1, workMs: 10 + Math.floor(r * 30), failAttempts: r < 0.033 ? 2 : r < 0.1 ? 1 : 0 },
      });
      layer.push(taskId);
    }
    previous = layer;
  }
  return tasks;
}

/** Every task id of a chaos run of `dags` DAGs. */
export function chaosTaskIds(dags: number): string[] {
  return Array.from({ length: dags }, (_, d) => Array.from({ length: CHAOS_DAG_SIZE }, (_, n) => `d${d}-${n}`)).flat();
}
