import type { TaskRecord } from './taskTypes';

/** Shared by every record without dependencies (or capabilities). */
const EMPTY_LIST: string[] = [];

/**
 * Records live as long as the orchestrator: equal capability lists and retry policies (most
 * tasks share a few) are stored once, which keeps a finished record under 1 KiB (the
 * `memory per finished task record` line of `bench/orchestrator.ts`: 873 bytes). Bounded:
 * past 10 000 distinct lists (1 000 policies) new ones are kept as given.
 * @internal
 */
export class RecordInterning {
  private readonly lists = new Map<string, string[]>();
  private readonly policies = new Map<string, TaskRecord['retryPolicy']>();

  list(list: string[]): string[] {
    if (list.length === 0) return EMPTY_LIST;
    const key = list.join('\u0000');
    let shared = this.lists.get(key);
    if (!shared) {
      if (this.lists.size >= 10_000) return list;
      this.lists.set(key, (shared = list));
    }
    return shared;
  }

  policy(policy: TaskRecord['retryPolicy']): TaskRecord['retryPolicy'] {
    const key = `${policy.maxRetries}|${policy.backoffFactor}|${policy.initialDelay}|${policy.retryOnFailure}`;
    let shared = this.policies.get(key);
    if (!shared) {
      if (this.policies.size >= 1_000) return policy;
      this.policies.set(key, (shared = policy));
    }
    return shared;
  }
}
