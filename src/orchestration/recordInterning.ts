import { deepFreezeJson } from '../jsonValue';
import type { TaskRecord } from './taskTypes';
import { compositeKey } from '../compositeKey';

/** Shared by every record without dependencies (or capabilities). */
const EMPTY_LIST: readonly string[] = Object.freeze([]);

/**
 * Records live as long as the orchestrator: equal capability lists and retry policies (most
 * tasks share a few) are stored once, which keeps a finished record under 1 KiB (the
 * `memory per finished task record` line of `bench/orchestrator.ts`: 873 bytes). Bounded:
 * past 10 000 distinct lists (1 000 policies) new ones are kept as given.
 *
 * What it returns is frozen: one list or policy is shared by many records, and records reach
 * users (`getTask`, `waitForTask`, `events$`) and executors (`task.dependencies`) as shallow
 * copies. A caller's `record.dependencies.push(...)` (or `.sort()`) changed every task with
 * the same list, and a next submission threw a TypeError from inside the orchestrator
 * (test/recordSharing.test.ts).
 * @internal
 */
export class RecordInterning {
  private readonly lists = new Map<string, readonly string[]>();
  private readonly policies = new Map<string, TaskRecord['retryPolicy']>();

  list(list: readonly string[]): readonly string[] {
    if (list.length === 0) return EMPTY_LIST;
    const key = compositeKey(list);
    let shared = this.lists.get(key);
    if (!shared) {
      shared = Object.freeze(list);
      if (this.lists.size < 10_000) this.lists.set(key, shared);
    }
    return shared;
  }

  policy(policy: TaskRecord['retryPolicy']): TaskRecord['retryPolicy'] {
    const key = `${policy.maxRetries}|${policy.backoffFactor}|${policy.initialDelay}|${policy.retryOnFailure}`;
    let shared = this.policies.get(key);
    if (!shared) {
      shared = Object.freeze(policy);
      if (this.policies.size < 1_000) this.policies.set(key, shared);
    }
    return shared;
  }
}

/**
 * A stored record's lists and retry policy, frozen as {@link RecordInterning}'s are (a
 * restored record's own, not shared; frozen so that what users and executors are given
 * behaves the same before and after a restart).
 * @internal
 */
export function freezeRecordParts(record: TaskRecord): void {
  Object.freeze(record.dependencies);
  Object.freeze(record.requiredCapabilities);
  Object.freeze(record.retryPolicy);
  deepFreezeJson(record.result);
}
