import type { TaskInput } from '../../src';

/** 12 independent tasks of 300 ms for the `compute` agents of examples/multi-process/host.ts. */
export function failoverWorkflow(): TaskInput[] {
  return Array.from({ length: 12 }, (_, i) => ({
    taskId: `t${i}`,
    requiredCapabilities: ['compute'],
    timeoutSeconds: 60,
    payload: { n: i, workMs: 300 },
  }));
}
