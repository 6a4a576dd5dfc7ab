/**
 * Ready tasks waiting for an agent (state `queued`), counted per required capability as
 * they enter and leave the state. A task requiring one capability is counted at O(1): reading
 * the depth or the oldest wait of a capability is never a scan of those tasks. A task
 * requiring several capabilities counts under each of them only when the caller says some
 * agent can serve them all (`servable`): a task that needs `['compute', 'gpu']` while no agent
 * has both is stalled on a missing capability, and more `compute` hosts would not run it.
 * @internal
 */
export class WaitingTasks {
  /** Every waiting task: since when, and the capabilities it counts under. */
  private readonly tasks = new Map<string, { readonly since: number; readonly capabilities: readonly string[] }>();
  /** Per capability, the single-capability waiting tasks in the order they started waiting (a Map keeps insertion order). */
  private readonly single = new Map<string, Map<string, number>>();
  /** Per capability, the waiting tasks that require it among others. */
  private readonly multi = new Map<string, Map<string, number>>();

  get size(): number {
    return this.tasks.size;
  }

  /** The task started waiting at `now` (a task already waiting keeps its start). */
  enter(taskId: string, capabilities: readonly string[], now: number): void {
    if (this.tasks.has(taskId)) return;
    const unique = capabilities.length > 1 ? [...new Set(capabilities)] : capabilities;
    this.tasks.set(taskId, { since: now, capabilities: unique });
    const index = unique.length > 1 ? this.multi : this.single;
    for (const capability of unique) {
      let waiting = index.get(capability);
      if (!waiting) index.set(capability, (waiting = new Map<string, number>()));
      waiting.set(taskId, now);
    }
  }

  /** The task is no longer waiting (assigned, cancelled, failed...). No-op when it was not. */
  leave(taskId: string): void {
    const task = this.tasks.get(taskId);
    if (!task) return;
    this.tasks.delete(taskId);
    const index = task.capabilities.length > 1 ? this.multi : this.single;
    for (const capability of task.capabilities) {
      const waiting = index.get(capability);
      waiting?.delete(taskId);
      if (waiting?.size === 0) index.delete(capability);
    }
  }

  /**
   * Tasks waiting for an agent with `capability`, and when the longest-waiting of them
   * started waiting (undefined when none waits). Tasks of several capabilities count only
   * if `servable(theirCapabilities)`.
   */
  figures(capability: string, servable: (capabilities: readonly string[]) => boolean): { depth: number; oldestSince: number | undefined } {
    const single = this.single.get(capability);
    let depth = single?.size ?? 0;
    // Entries are added in clock order, so the first one is the oldest.
    let oldestSince: number | undefined;
    if (single)
      for (const since of single.values()) {
        oldestSince = since;
        break;
      }
    const multi = this.multi.get(capability);
    if (multi) {
      const verdicts = new Map<readonly string[], boolean>();
      for (const [taskId, since] of multi) {
        const capabilities = this.tasks.get(taskId)?.capabilities ?? [];
        let ok = verdicts.get(capabilities);
        if (ok === undefined) verdicts.set(capabilities, (ok = servable(capabilities)));
        if (!ok) continue;
        depth++;
        if (oldestSince === undefined || since < oldestSince) oldestSince = since;
      }
    }
    return { depth, oldestSince };
  }

  clear(): void {
    this.tasks.clear();
    this.single.clear();
    this.multi.clear();
  }
}
