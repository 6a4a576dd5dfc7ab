/** Workloads shared by the benchmarks. */
import type { TaskInput } from '../src';

/**
 * A layered DAG of `n` tasks, `width` per layer, each depending on 1–3 tasks of the layer
 * before (seeded, so every run gets the same graph).
 */
export function layeredDag(n: number, width: number, extra: Partial<TaskInput> = {}): TaskInput[] {
  const tasks: TaskInput[] = [];
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / width);
    const dependencies: string[] = [];
    if (layer > 0) {
      const count = 1 + Math.floor(random() * 3);
      for (let d = 0; d < count; d++) {
        const dep = `t${(layer - 1) * width + Math.floor(random() * width)}`;
        if (!dependencies.includes(dep)) dependencies.push(dep);
      }
    }
    tasks.push({ ...extra, taskId: `t${i}`, requiredCapabilities: ['work'], dependencies });
  }
  return tasks;
}
