/**
 * Ready tasks waiting for an agent (state `queued`), counted per required capability as
 * they enter and leave the state: reading the depth or the oldest wait of a capability is
 * O(1) (amortised), never a scan of the tasks. A task requiring several capabilities counts
 * under each of them.
 * @internal
 */
export class WaitingTasks {
  /** Every waiting task: since when, and the capabilities it counts under. */
  private readonly tasks = new Map<string, { readonly since: number; readonly capabilities: readonly string[] }>();
  /** Per capability, the waiting tasks in the order they started waiting (a Map keeps insertion order). */
  private readonly byCapability = new Map<string, Map<string, number>>();

  get size(): number {
    return this.tasks.size;
  }

  /** The task started waiting at `now` (a task already waiting keeps its start). */
  enter(taskId: string, capabilities: readonly string[], now: number): void {
    if (this.tasks.has(taskId)) return;
    const unique = capabilities.length > 1 ? [...new Set(capabilities)] : capabilities;
    this.tasks.set(taskId, { since: now, capabilities: unique });
    for (const capability of unique) {
      let waiting = this.byCapability.get(capability);
      if (!waiting) this.byCapability.set(capability, (waiting = new Map()));
      waiting.set(taskId, now);
    }
  }

  /** The task is no longer waiting (assigned, cancelled, failed...). No-op when it was not. */
  leave(taskId: string): void {
    const task = this.tasks.get(taskId);
    if (!task) return;
    this.tasks.delete(taskId);
    for (const capability of task.capabilities) {
      const waiting = this.byCapability.get(capability);
      waiting?.delete(taskId);
      if (waiting?.size === 0) this.byCapability.delete(capability);
    }
  }

  /** Tasks waiting for an agent with `capability`. */
  depth(capability: string): number {
    return this.byCapability.get(capability)?.size ?? 0;
  }

  /**
   * When the longest-waiting task of `capability` started waiting, or undefined when none
   * waits. Entries are added in clock order, so the first one is the oldest.
   */
  oldestSince(capability: string): number | undefined {
    const waiting = this.byCapability.get(capability);
    if (!waiting) return undefined;
    for (const since of waiting.values()) return since;
    return undefined;
  }

  clear(): void {
    this.tasks.clear();
    this.byCapability.clear();
  }
}
