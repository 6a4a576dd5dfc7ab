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
  /** When a write starts after a change (default: the next turn of the event loop); tests pass a manual one. */
  readonly scheduleWrite?: (write: () => void) => void;
}

/**
 * The orchestrator's persistence: what is written, the takeover and restore of the stored
 * state, and the archive lookup of a finished task that retention let go.
 *
 * Layout under the store key `<key>` (see docs/orchestration.md, "Persistence"):
 * - `<key>`: the head, written compare-and-set on every write (the fence): a small state
 *   (`version: 2`), the archive's segment names and tail, and the open tasks this write
 *   changed;
 * - `<key>.records.<encoded task id>`: one key per open task, written after the head that
 *   carries its change, deleted once the task finished (it is in the archive then);
 * - `<key>.archive.<writer>.<n>`: finished tasks, write-once segments.
 * So a write costs the tasks that changed since the last one, not every open task. A head
 * of version 1 (every open task in the head) still restores.
 *
 * The facade tells it of a task's life (`track`, `changed`, `finished`): plain method calls
 * on the hot path (a Set insertion per change; no allocation but the archive item of a
 * finish, which the writer keeps anyway). @internal
 */
export class OrchestratorStore<E extends StoredTaskEntry> {
  /** Tasks not final yet, by id: each under a record key of its own (finished ones are archived). */
  private readonly unfinished = new Map<string, E>();
  private readonly writer: SnapshotWriter<PersistedOrchestrator, PersistedTask, PersistedTask>;
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
      records: { itemSchema: PersistedTaskSchema, current: (taskId) => this.storedTask(taskId) },
      ...(options.scheduleWrite && { scheduleWrite: options.scheduleWrite }),
      // Tasks may finish before `restore()`: their changes are written once the key is ours.
      loadFirst: true,
      name: 'orchestrator state',
      onFenced: options.onFenced,
      onProblem: options.onProblem,
    });
  }

  /** A task not final yet is known (submitted or restored): written to its record key with the next write. */
  track(entry: E): void {
    this.unfinished.set(entry.record.taskId, entry);
    this.writer.recordChanged(entry.record.taskId);
  }

  /** A task that will never be (its actor could not be created): its record key goes. */
  forget(entry: E): void {
    if (this.unfinished.get(entry.record.taskId) === entry) this.unfinished.delete(entry.record.taskId);
    this.writer.recordChanged(entry.record.taskId);
  }

  /**
   * Something changed: written with the next write (coalesced by the writer). A task's
   * record that changed must be named (`entry`): only the records named since the last
   * write are written (`track` and `finished` name theirs).
   */
  changed(entry?: E): void {
    if (entry !== undefined && this.unfinished.get(entry.record.taskId) === entry) this.writer.recordChanged(entry.record.taskId);
    else this.writer.markDirty();
  }

  /** A task finished: it will not change again, out of its record key into the archive (in the same write). */
  finished(entry: E): void {
    if (this.unfinished.get(entry.record.taskId) === entry) this.unfinished.delete(entry.record.taskId);
    this.writer.recordChanged(entry.record.taskId);
    this.writer.archive({ record: entry.record, balancer: entry.chooser.name });
  }

  /** Makes the store's key ours and loads what it holds (`cancelled` aborts a takeover the orchestrator no longer wants). */
  takeOver(cancelled?: () => Error | undefined): Promise<PersistedOrchestrator | undefined> {
    return this.writer.takeOver(cancelled);
  }

  /**
   * Takes over the key and restores what it holds; returns how many tasks were loaded (0 when
   * restored before). `cancelled` (checked once the load answers, before the key is claimed):
   * an orchestrator stopped meanwhile must not take the key from the one that runs now.
   */
  async loadAndRestore(cancelled?: () => Error | undefined): Promise<number> {
    if (this.restored) return 0;
    return (this.tasksRestored = this.restore(await this.writer.takeOver(cancelled)));
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
    // Open tasks: in their record keys (version 2), or in the head itself (version 1).
    const open = [...('tasks' in state ? state.tasks : []), ...this.writer.takeRecords()];
    for (const stored of open) {
      // A finished task in a document from before the archive moves to the archive now.
      if (this.target.restoreTask(stored, live) && FINAL_STATES.has(stored.record.state)) this.writer.archive(stored);
      // Its record key is rewritten (restored to run again), or deleted (finished, or archived already).
      this.writer.recordChanged(stored.record.taskId);
    }
    if (live.length > 0) this.target.spawn(live);
    // Only now: the restored tasks that will run have pinned what they depend on.
    const now = this.clock.now();
    for (const { record } of [...archived, ...open]) this.target.retainIfFinished(record.taskId, record.completedAt, now);
    this.writer.markDirty();
    return (this.tasksRestored = archived.length + open.length);
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

  /** The head's state: open tasks are in their record keys, finished ones in the writer's archive. */
  private exportState(): PersistedOrchestrator {
    return { version: 2, savedAt: this.clock.now() };
  }

  /** What the record key of an open task holds; undefined once it finished or was forgotten (its key is deleted). */
  private storedTask(taskId: string): PersistedTask | undefined {
    const entry = this.unfinished.get(taskId);
    return entry && { record: entry.record, balancer: entry.chooser.name };
  }
}
