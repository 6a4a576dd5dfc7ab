import type { Message } from '../bus/message';
import { messageOrigin } from '../bus/messageOrigin';
import type { HostRegistry } from './hostRegistry';
import { TaskProgressPayloadSchema, TaskResultPayloadSchema, TaskStartedPayloadSchema, TaskTopic, type ResultSource, type TaskResultPayload } from './taskProtocol';

/**
 * The orchestrator's attempts as the result protocol sees them: what a report is checked
 * against, and where a believed report goes.
 * @internal
 */
export interface ReportedAttempts {
  /** The current attempt of a task assigned to `agentId`, if it is active. */
  currentAttempt(taskId: string, agentId: string): number | undefined;
  /** False when a report names another dispatch than the task's current one. */
  currentDispatch(taskId: string, dispatch: string | undefined): boolean;
  /** A result (its attempt and dispatch are checked there, as for in-process results); see `ResultSource`. */
  acceptResult(outcome: TaskResultPayload, agentId: string, source: ResultSource): void;
  markStarted(taskId: string, attempt: number, agentId: string): void;
  reportProgress(taskId: string, progress: number): void;
}

/** What the protocol refused or found late, for `getStats()`. @internal */
export interface RemoteReportCounts {
  lateReports: number;
  invalidResults: number;
  readonly refusedResults: { noToken: number; wrongHost: number };
}

/**
 * The messages to the orchestrator's own bus agent: `task_result`, `task_started` and
 * `task_progress` from agents elsewhere (validated with zod, checked for the dispatch's token
 * and the host's identity) and hosts' `agent_presence` (handed to the host registry). A bad
 * frame is counted, never thrown into the bus.
 * @internal
 */
export class RemoteReports {
  readonly counts: RemoteReportCounts = { lateReports: 0, invalidResults: 0, refusedResults: { noToken: 0, wrongHost: 0 } };

  constructor(
    private readonly hosts: HostRegistry,
    private readonly attempts: ReportedAttempts,
  ) {}

  onMessage(message: Message): void {
    if (message.topic === TaskTopic.RESULT) {
      const parsed = TaskResultPayloadSchema.safeParse(message.payload);
      if (!parsed.success) {
        this.counts.invalidResults++;
        return;
      }
      if (this.reportAllowed(message, parsed.data.dispatch)) {
        this.attempts.acceptResult(parsed.data, message.senderId, messageOrigin(message).kind === 'local' ? 'sender' : 'frame');
        this.hosts.resultArrived(message.senderId, parsed.data.taskId);
      }
    } else if (message.topic === TaskTopic.STARTED) {
      const parsed = TaskStartedPayloadSchema.safeParse(message.payload);
      if (!parsed.success) {
        this.counts.invalidResults++;
        return;
      }
      const current = this.attempts.currentAttempt(parsed.data.taskId, message.senderId);
      if (!this.reportAllowed(message, parsed.data.dispatch)) return;
      if (current !== undefined && this.attempts.currentDispatch(parsed.data.taskId, parsed.data.dispatch)) {
        this.attempts.markStarted(parsed.data.taskId, parsed.data.attempt ?? current, message.senderId);
      } else this.counts.lateReports++;
    } else if (message.topic === TaskTopic.PROGRESS) {
      const parsed = TaskProgressPayloadSchema.safeParse(message.payload);
      if (!parsed.success) {
        this.counts.invalidResults++;
        return;
      }
      const { taskId, attempt, dispatch } = parsed.data;
      if (!this.reportAllowed(message, dispatch)) return;
      if (this.attempts.currentAttempt(taskId, message.senderId) === attempt && this.attempts.currentDispatch(taskId, dispatch)) {
        this.attempts.reportProgress(parsed.data.taskId, parsed.data.progress);
      } else this.counts.lateReports++;
    } else if (message.topic === TaskTopic.PRESENCE) {
      this.hosts.onPresence(message);
    }
  }

  /**
   * Whether a report about a task may be believed. In-process reports are (their tokens are
   * checked with the result). One from the network must carry the dispatch's token, and
   * when the agent belongs to a host whose presence came under a NATS identity, it must have
   * been published under that identity too: the identity is read from the subject by the
   * transport (`messageOrigin`), which NATS permissions bind to the host's user; the sender
   * id in the message is only a claim.
   */
  private reportAllowed(message: Message, dispatch: string | undefined): boolean {
    const origin = messageOrigin(message);
    if (origin.kind === 'local') return true;
    if (dispatch === undefined) {
      this.counts.refusedResults.noToken++;
      return false;
    }
    const identity = this.hosts.identityOf(message.senderId);
    if (identity !== undefined && (origin.kind !== 'remote' || origin.identity !== identity)) {
      this.counts.refusedResults.wrongHost++;
      return false;
    }
    return true;
  }
}
