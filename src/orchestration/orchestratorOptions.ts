import { z } from 'zod';
import type { CommunicationBus } from '../bus/communicationBus';
import { idRecordSchema } from '../idRecord';
import { RetentionOptionsSchema, type RetentionOptions } from '../kernel/recordRetention';
import type { SnapshotStore } from '../store/snapshotStore';
import type { Balancer, BuiltInBalancerName } from './balancers';
import type { TaskExecutor } from './taskExecutor';

/** Options of a {@link TaskOrchestrator}. */
export interface TaskOrchestratorOptions {
  /** The bus agents are reached through (the orchestrator registers itself on it). */
  bus: CommunicationBus;
  /** The orchestrator's own id on the bus. Default `orchestrator`. */
  orchestratorId?: string;
  /** How agents are chosen: a built-in name or your own balancer. Default `default`. */
  balancer?: BuiltInBalancerName | 'swarm' | (string & {}) | Balancer;
  /** More balancers that tasks may name in their `balancer` field. */
  balancers?: readonly Balancer[];
  /** The window of the guide's recent-performance score and of `getAgentTaskHistory`. Default 24 h. */
  historyWindowHours?: number;
  /** An agent host is presumed dead after this many of its heartbeat intervals without one (default 3). */
  missedHeartbeats?: number;
  /**
   * `active` (default) takes tasks at once; `standby` takes none until `activate()` (a
   * candidate waiting for the leader lease); `disabled` never (a process that only hosts
   * agents). Submissions to a standby or disabled orchestrator throw `StandbyError`.
   */
  role?: 'active' | 'standby' | 'disabled';
  /**
   * Where task records are persisted (memory, file or NATS KV store). `restore()` (called by
   * `neuroflux.start()`) loads them: finished tasks stay finished, the others run again.
   */
  store?: SnapshotStore;
  /** The key of this orchestrator's state in the store. Default `orchestrator`. */
  storeKey?: string;
  /**
   * Finished tasks leave the state rewritten on every change: each this many of them are
   * written once, under a key of their own (`<storeKey>.archive.…`). Default 256.
   */
  archiveSegmentSize?: number;
  /**
   * How many finished task records stay in memory, and for how long (0: no limit). Default
   * 10 000 records, 1 h. A record let go is read back from the store's archive by
   * `findTask` and `waitForTask` (with `store`); without a store it is gone.
   */
  retention?: RetentionOptions;
  /**
   * How long `stop()` waits for the store to take what is still unwritten, ms. Past it the
   * orchestrator stops anyway and logs a warning: a store that never answers (a network
   * partition, a hung server) does not hold the shutdown forever, at the cost of the changes
   * it had not taken. Default 30 000.
   */
  storeFlushTimeoutMs?: number;
}

/** @internal */
export const OrchestratorOptionsSchema = z.object({
  orchestratorId: z.string().min(1).default('orchestrator'),
  storeKey: z.string().min(1).default('orchestrator'),
  archiveSegmentSize: z.number().int().positive().default(256),
  retention: RetentionOptionsSchema,
  historyWindowHours: z.number().positive().default(24),
  missedHeartbeats: z.number().int().positive().default(3),
  role: z.enum(['active', 'standby', 'disabled']).default('active'),
  storeFlushTimeoutMs: z.number().positive().max(2_147_483_647).default(30_000),
});

/** How an agent joins the orchestrator. */
export interface OrchestratorAgentOptions {
  capabilities: string[];
  /** Tasks the agent runs at once. Default 5. */
  maxConcurrentTasks?: number;
  /** Runs tasks in this process. Without it the agent gets `task_assignment` commands over the bus. */
  execute?: TaskExecutor;
  /** Per task type multiplier of the default score (default 1). */
  specializations?: Record<string, number>;
}

/** @internal */
export const AgentOptionsSchema = z.object({
  capabilities: z.array(z.string().min(1)),
  maxConcurrentTasks: z.number().int().positive().default(5),
  execute: z.custom<TaskExecutor>((v) => typeof v === 'function', 'must be a function').optional(),
  // Keyed by task types: z.record would drop a type named `__proto__`.
  specializations: idRecordSchema(z.number().nonnegative()).default({}),
});
