import { z } from 'zod';
import { ValidationError } from '../errors';
import { RevisionMismatchError, type SnapshotStore } from '../store/snapshotStore';
import { RetryPolicySchema, TaskPriority, TaskStatus, type TaskRecord } from './taskTypes';

const priorities = Object.values(TaskPriority) as [TaskPriority, ...TaskPriority[]];
const statuses = Object.values(TaskStatus) as [TaskStatus, ...TaskStatus[]];
const states = ['waiting', 'queued', 'assigned', 'running', 'retrying', 'completed', 'failed', 'timedOut', 'cancelled'] as const;

/** A persisted task record, validated when loaded: a store is outside input like any other. */
const PersistedRecordSchema = z
  .object({
    taskId: z.string().min(1),
    name: z.string(),
    description: z.string(),
    taskType: z.string().min(1),
    priority: z.enum(priorities),
    payload: z.unknown().optional(),
    dependencies: z.array(z.string().min(1)),
    requiredCapabilities: z.array(z.string().min(1)),
    estimatedDuration: z.number().positive(),
    timeoutSeconds: z.number().positive(),
    retryPolicy: RetryPolicySchema,
    onDependencyFailure: z.enum(['fail', 'ignore', 'skip']),
    status: z.enum(statuses),
    state: z.enum(states),
    assignedAgent: z.string().nullable(),
    createdAt: z.number(),
    startedAt: z.number().nullable(),
    completedAt: z.number().nullable(),
    retryCount: z.number().int().nonnegative(),
    // Absent in documents written before it existed.
    retryAt: z.number().nullable().default(null),
    // JSON drops `undefined`: a task without result comes back without the field.
    result: z.unknown().optional(),
    error: z.string().nullable(),
    reason: z.string().nullable(),
    progress: z.number(),
  })
  .transform((r) => r as TaskRecord);

/** What the orchestrator writes to its store. */
export const PersistedOrchestratorSchema = z.object({
  version: z.literal(1),
  savedAt: z.number(),
  tasks: z.array(z.object({ record: PersistedRecordSchema, balancer: z.string().nullable() })),
});
export type PersistedOrchestrator = z.output<typeof PersistedOrchestratorSchema>;

/**
 * Writes the orchestrator's task records to a {@link SnapshotStore}: at most one write in
 * flight, coalescing every change of a tick into the next write, each a compare-and-set
 * on the revision it last saw. A write that finds another revision means another
 * orchestrator restored from the same key since: this one is fenced and stops writing.
 * @internal
 */
export class OrchestratorPersistence {
  private revision = 0;
  private dirty = false;
  private saving: Promise<void> | undefined;
  private fencedBy: RevisionMismatchError | undefined;
  saveErrors = 0;
  saves = 0;

  constructor(
    private readonly store: SnapshotStore,
    private readonly key: string,
    private readonly snapshot: () => PersistedOrchestrator,
    private readonly onFenced: (error: RevisionMismatchError) => void,
  ) {}

  get fenced(): boolean {
    return this.fencedBy !== undefined;
  }

  /** Loads and validates the stored state (and takes its revision: the next write fences the previous writer). */
  async load(): Promise<PersistedOrchestrator | undefined> {
    const stored = await this.store.load(this.key);
    if (!stored) return undefined;
    const parsed = PersistedOrchestratorSchema.safeParse(stored.value);
    if (!parsed.success) throw ValidationError.fromZod(`orchestrator state '${this.key}'`, parsed.error);
    this.revision = stored.revision;
    return parsed.data;
  }

  /** Something changed: write it soon. */
  markDirty(): void {
    if (this.fencedBy) return;
    this.dirty = true;
    this.saving ??= this.saveLoop();
  }

  /** Resolves once every change marked so far is written (or writing failed). */
  async flush(): Promise<void> {
    while (this.saving) await this.saving;
  }

  private async saveLoop(): Promise<void> {
    await undefined; // every change of this tick goes into one write
    try {
      while (this.dirty && !this.fencedBy) {
        this.dirty = false;
        try {
          this.revision = await this.store.save(this.key, this.snapshot(), this.revision);
          this.saves++;
        } catch (error) {
          if (error instanceof RevisionMismatchError) {
            this.fencedBy = error;
            this.onFenced(error);
          } else {
            // Keep the change for the next attempt; a store that stays down is visible in stats.
            this.saveErrors++;
            this.dirty = true;
            return;
          }
        }
      }
    } finally {
      this.saving = undefined;
    }
  }
}
