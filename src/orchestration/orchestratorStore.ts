import { SnapshotWriter, type SnapshotWriterProblem, type SnapshotWriterStats } from '../store/snapshotWriter';
import type { SnapshotStore } from '../store/snapshotStore';
import type { NeuroFluxClock } from '../kernel/clock';
import { FINAL_STATES, type TaskRecord } from './taskTypes';
import { PersistedOrchestratorSchema, PersistedTaskSchema, type PersistedOrchestrator, type PersistedTask } from './orchestratorPersistence';

/** What a task looks like to the store: its record and the name of the balancer that places it. */
export interface StoredTaskEntry {
  readonly record: TaskRecord;
  readonly chooser: { readonly name: string };
}

/** What the store asks of the task table when it restores (the facade implements it). */
export interface RestoreTarget<E extends StoredTaskEntry> {
  /** Adds a stored task unless it is known (false then); one not finished is pushed to `live`, to run again. */
  restoreTask(stored: PersistedTask, live: E[]): boolean;
  /** Creates the actors of the restored tasks that run again. */
  spawn(live: E[]): void;
  /** A restored task that is final (now) joins the retention (only after the live ones pinned their dependencies). */
  retainIfFinished(taskId: string, completedAt: number | null, now: number): void;
}

/** Options of an {@link OrchestratorStore}. @internal */
export interface OrchestratorStoreOptions<E extends StoredTaskEntry> {
  readonly store: SnapshotStore;
  readonly key: string;
  readonly archiveSegmentSize: number;
  readonly clock: NeuroFluxClock;
  readonly target: RestoreTarget<E>;
  /** Another orchestrator restored from the same key: it is the active one now. */
  readonly onFenced: () => void;
  readonly onProblem: (problem: SnapshotWriterProblem) => void;
}

/**
 * The orchestrator's persistence: what is written (the tasks not finished; finished ones go
 * to the writer's archive once), the takeover and restore of the stored state, and the
 * archive lookup of a finished task that retention let go. The facade tells it of a task's
 * life (`track`, `changed`, `finished`): plain method calls on the hot path, as before the
 * split (no allocation per call but the archive item of a finish, which the writer keeps
 * anyway). @internal
 */
export class OrchestratorStore<E extends StoredTaskEntry> {
  /** Tasks not final yet: what each write of the state carries (finished ones are archived). */
  private readonly unfinished = new Set<E>();
  private readonly writer: SnapshotWriter<PersistedOrchestrator, PersistedTask>;
  private readonly clock: NeuroFluxClock;
  private readonly target: RestoreTarget<E>;
  private restored = false;
  /** Tasks the last restore loaded (what `activate()` resolves with). */
  tasksRestored = 0;

  constructor(options: OrchestratorStoreOptions<E>) {
    this.clock = options.clock;
    this.target = options.target;
    this.writer = new SnapshotWriter({
      store: options.store,
      key: options.key,
      schema: PersistedOrchestratorSchema,
      snapshot: () => this.exportState(),
      archive: { itemSchema: PersistedTaskSchema, segmentSize: options.archiveSegmentSize },
      // Tasks may finish before `restore()`: their changes are written once the key is ours.
      loadFirst: true,
      name: 'orchestrator state',
      onFenced: options.onFenced,
      onProblem: options.onProblem,
    });
  }

  /** A task not final yet is known (submitted): written with the state from now on. */
  track(entry: E): void {
    this.unfinished.add(entry);
  }

  /** A task that will never be (its actor could not be created). */
  forget(entry: E): void {
    this.unfinished.delete(entry);
  }

  /** Something changed: the state is written again (coalesced by the writer). */
  changed(): void {
    this.writer.markDirty();
  }

  /** A task finished: it will not change again, out of the rewritten state into the archive. */
  finished(entry: E): void {
    this.unfinished.delete(entry);
    this.writer.archive({ record: entry.record, balancer: entry.chooser.name });
  }

  /** Makes the store's key ours and loads what it holds (`cancelled` aborts a takeover the orchestrator no longer wants). */
  takeOver(cancelled?: () => Error | undefined): Promise<PersistedOrchestrator | undefined> {
    return this.writer.takeOver(cancelled);
  }

  /** Takes over the key and restores what it holds; returns how many tasks were loaded (0 when restored before). */
  async loadAndRestore(): Promise<number> {
    if (this.restored) return 0;
    return (this.tasksRestored = this.restore(await this.writer.takeOver()));
  }

  /**
   * Restores a loaded state (once): finished tasks keep their outcome, the others run again.
   * Returns how many tasks it loaded.
   */
  restore(state: PersistedOrchestrator | undefined): number {
    if (this.restored) return (this.tasksRestored = 0);
    this.restored = true;
    if (!state) {
      this.writer.markDirty(); // claim the key
      return 0;
    }
    const live: E[] = [];
    // Taken: what retention lets go must not stay referenced by the writer.
    const archived = this.writer.takeArchived();
    for (const stored of archived) this.target.restoreTask(stored, live);
    for (const stored of state.tasks) {
      // A finished task in a document from before the archive moves to the archive now.
      if (this.target.restoreTask(stored, live) && FINAL_STATES.has(stored.record.state)) this.writer.archive(stored);
    }
    if (live.length > 0) this.target.spawn(live);
    // Only now: the restored tasks that will run have pinned what they depend on.
    const now = this.clock.now();
    for (const { record } of [...archived, ...state.tasks]) this.target.retainIfFinished(record.taskId, record.completedAt, now);
    this.writer.markDirty();
    return (this.tasksRestored = archived.length + state.tasks.length);
  }

  /** A finished task from the archive (a store read per archive segment searched, newest first). */
  async findArchived(taskId: string): Promise<TaskRecord | undefined> {
    const stored = await this.writer.findArchived((task) => task.record.taskId === taskId);
    return stored?.record;
  }

  /** Writes what is still unwritten. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  stats(): SnapshotWriterStats {
    return this.writer.stats();
  }

  /** The tasks not finished: finished ones are in the writer's archive. */
  private exportState(): PersistedOrchestrator {
    const tasks: PersistedOrchestrator['tasks'] = [];
    for (const entry of this.unfinished) tasks.push({ record: entry.record, balancer: entry.chooser.name });
    return { version: 1, savedAt: this.clock.now(), tasks };
  }
}
