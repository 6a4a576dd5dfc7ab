import { Subject, type Observable } from 'rxjs';
import type { SnapshotStore } from '../store/snapshotStore';
import { SnapshotWriter, type SnapshotWriterProblem, type SnapshotWriterStats } from '../store/snapshotWriter';
import { PersistedConflictEngineSchema, PersistedFinishedConflictSchema, type PersistedConflictEngine, type PersistedFinishedConflict } from './conflictPersistence';
import type { FinishedConflictArchive } from './finishedConflicts';

/** What happened to the engine's store: another engine took its key over, or a write had a problem. @internal */
export type ConflictStateSavingEvent = { readonly type: 'fenced' } | { readonly type: 'problem'; readonly problem: SnapshotWriterProblem };

/** What the engine's state saving is made with (from the engine's options). @internal */
export interface ConflictStateSavingOptions {
  readonly store: SnapshotStore;
  readonly storeKey: string;
  readonly archiveSegmentSize: number;
  /** The engine's state as it is now (the writer's snapshot). */
  readonly capture: () => PersistedConflictEngine;
}

/**
 * The conflict engine's state in its store: nothing is written before the key is taken over
 * (`restore()`), then every change is written (a tick's changes together) until the engine
 * stops, when the state is frozen as it was. Finished records go to the writer's archive.
 * Fencing (another engine took the key over) and store problems come out on `events$`.
 * @internal
 */
export class ConflictStateSaving {
  readonly events$: Observable<ConflictStateSavingEvent>;
  private readonly eventSubject = new Subject<ConflictStateSavingEvent>();
  private readonly writer: SnapshotWriter<PersistedConflictEngine, PersistedFinishedConflict>;
  /** True from the take-over until the engine stops: before, a write would overwrite the stored state unread. */
  private saving = false;
  private takingOver = false;
  /** The state to write once the engine stops (it must not record its own teardown). */
  private frozen: PersistedConflictEngine | undefined;

  constructor(private readonly options: ConflictStateSavingOptions) {
    this.events$ = this.eventSubject.asObservable();
    this.writer = new SnapshotWriter({
      store: options.store,
      key: options.storeKey,
      schema: PersistedConflictEngineSchema,
      name: 'conflict engine state',
      snapshot: () => this.frozen ?? options.capture(),
      archive: { itemSchema: PersistedFinishedConflictSchema, segmentSize: options.archiveSegmentSize },
      onFenced: () => this.eventSubject.next({ type: 'fenced' }),
      onProblem: (problem) => this.eventSubject.next({ type: 'problem', problem }),
    });
  }

  /** Where finished records go once they never change again. */
  get archive(): FinishedConflictArchive {
    return this.writer;
  }

  /**
   * Claims the key and loads what it holds: the stored state and the archived finished
   * conflicts. Null when already taken over (or being taken over). Claimed before any
   * conflict resumes: a writer that loaded this key before (a deposed leader) is fenced,
   * and its late write cannot fence this engine.
   *
   * @param cancelled Checked after the load: an error to throw instead of claiming.
   */
  async takeOver(
    cancelled: () => Error | undefined,
  ): Promise<{ readonly state: PersistedConflictEngine | undefined; readonly archived: readonly PersistedFinishedConflict[] } | null> {
    if (this.takingOver || this.saving) return null;
    this.takingOver = true;
    let state: PersistedConflictEngine | undefined;
    try {
      state = await this.writer.takeOver(cancelled);
    } finally {
      this.takingOver = false;
    }
    const error = cancelled();
    if (error) throw error;
    this.saving = true;
    return { state, archived: state ? this.writer.takeArchived() : [] };
  }

  /** Something saved changed: write it (with the rest of this tick's changes). */
  changed(): void {
    if (this.saving) this.writer.markDirty();
  }

  /** From now on, writes (a pending one, a retry) carry the state as it is now, and nothing new is marked. */
  freeze(): void {
    if (!this.saving) return;
    this.frozen = this.options.capture();
    this.saving = false;
  }

  /** Resolves once every change so far is written (or its write failed). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** A finished record let go from memory, read back from the archive. */
  findArchived(match: (item: PersistedFinishedConflict) => boolean): Promise<PersistedFinishedConflict | undefined> {
    return this.writer.findArchived(match);
  }

  stats(): SnapshotWriterStats {
    return this.writer.stats();
  }
}
